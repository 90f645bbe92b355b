// Kiota @microsoft/msgraph-sdk 1.0.0-preview.90 (+ msgraph-sdk-users) against the mock over http and https.
import t from 'tap';
import { startMock } from '../helpers/mock.js';
import { overHttps, SCENARIOS } from './https.js';
import { kiotaSuite } from './kiota-suite.js';

t.test('over http', async (t) => {
  const mock = await startMock(t, { scenarios: SCENARIOS });
  await kiotaSuite(t, { url: mock.url, tls: false });
  // the journal saw what the SDK sent: its retries after 429 and 503 reached the mock
  for (const routeId of ['r429', 'r503']) {
    const statuses = mock.requests({ routeId }).map((e) => e.status);
    t.ok(
      statuses.includes(200) && statuses.some((s) => s === 429 || s === 503),
      `${routeId}: ${statuses.join(' → ')}`,
    );
  }
  t.ok(mock.requests({ routeId: 'users' }).length > 0, 'the Kiota SDK listed users through the mock');
});

t.test('over https', async (t) => {
  await overHttps(t, 'kiota');
});
