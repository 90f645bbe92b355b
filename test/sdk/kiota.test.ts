// Kiota @microsoft/msgraph-sdk 1.0.0-preview.90 (+ msgraph-sdk-users) against the mock over http and https.
import t from 'tap';
import { startMock } from '../helpers/mock.js';
import { overHttps, SCENARIOS } from './https.js';
import { kiotaSuite } from './kiota-suite.js';

t.test('over http', async (t) => {
  const mock = await startMock(t, { scenarios: SCENARIOS });
  await kiotaSuite(t, { url: mock.url, tls: false });
});

t.test('over https', async (t) => {
  await overHttps(t, 'kiota');
});
