// @microsoft/microsoft-graph-client 3.0.7 against the mock over http and over https (tls: true).
import t from 'tap';
import { startMock } from '../helpers/mock.js';
import { graphClientSuite } from './graph-client-suite.js';
import { overHttps, SCENARIOS } from './https.js';

t.test('over http', async (t) => {
  const mock = await startMock(t, { scenarios: SCENARIOS });
  await graphClientSuite(t, { url: mock.url, tls: false });
});

t.test('over https: the bearer token arrives', async (t) => {
  await overHttps(t, 'graph-client');
});
