import t from 'tap';
import { GRAPH_DATE, GUID, getJson, startMock } from './helpers/mock.js';

t.test('serves a scripted 200 and a Graph 404 envelope for an unmatched path', async (t) => {
  const mock = await startMock(t, {
    scenarios: [{ name: 's', routes: [{ id: 'me', path: '/:version/me', response: { body: { id: 'x' } } }] }],
  });
  const ok = await getJson(`${mock.url}/v1.0/me`);
  t.equal(ok.status, 200);
  t.same(ok.body, { id: 'x' });
  t.equal(ok.headers.get('odata-version'), '4.0');
  // a user id the tenant does not have: Graph's model knows the path, the data does not
  const miss = await getJson(`${mock.url}/v1.0/users/nothing`, { headers: { 'client-request-id': 'abc-1' } });
  t.equal(miss.status, 404);
  t.equal(miss.headers.get('content-type'), 'application/json');
  t.match(miss.body.error.innerError['request-id'], GUID);
  t.equal(miss.body.error.innerError['request-id'], miss.headers.get('request-id'));
  t.equal(miss.body.error.innerError['client-request-id'], 'abc-1');
  t.match(miss.body.error.innerError.date, GRAPH_DATE);
});
