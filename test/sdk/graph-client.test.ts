// @microsoft/microsoft-graph-client 3.0.7 against the mock over http and over https (tls: true).
import t from 'tap';
import { startMock } from '../helpers/mock.js';
import { graphClientSuite } from './graph-client-suite.js';
import { overHttps, SCENARIOS } from './https.js';

t.test('over http', async (t) => {
  const mock = await startMock(t, { scenarios: SCENARIOS });
  await graphClientSuite(t, { url: mock.url, tls: false });
  // the journal saw what the SDK sent: its retries after 429 and 503 reached the mock
  for (const routeId of ['r429', 'r503']) {
    const statuses = mock.requests({ routeId }).map((e) => e.status);
    t.ok(
      statuses.includes(200) && statuses.some((s) => s === 429 || s === 503),
      `${routeId}: ${statuses.join(' → ')}`,
    );
  }
  t.ok(mock.requests({ routeId: 'users' }).length > 0, 'the Graph JS SDK listed users through the mock');
});

t.test('over https: the bearer token arrives', async (t) => {
  await overHttps(t, 'graph-client');
});
