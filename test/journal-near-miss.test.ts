// Near-miss ranking: method + path segments, parameters and wildcards, :version only for Graph versions.
import t from 'tap';
import { nearestRoutes, segmentDistance } from '../src/admin/near-miss.js';
import { compileScenarios } from '../src/index.js';

const [scenario] = compileScenarios([
  {
    name: 'n',
    routes: [
      { id: 'me', path: '/:version/me', response: { body: {} } },
      { id: 'user', path: '/v1.0/users/:id', response: { body: {} } },
      { id: 'post-users', method: 'POST', path: '/v1.0/users', response: { status: 201, body: {} } },
      { id: 'drives', path: '/v1.0/drives/*', response: { body: {} } },
      { id: 'messages', path: '/v1.0/me/messages', response: { body: {} } },
    ],
  },
]);
const routes = scenario!.routes;
const ids = (method: string, path: string, max?: number) =>
  nearestRoutes(method, path, routes, max).map((n) => n.routeId);

t.test('ranks by method and segment distance', async (t) => {
  t.equal(ids('GET', '/v1.0/user/42')[0], 'user', 'a typo in a literal segment');
  t.equal(ids('GET', '/v1.0/Me/Messages')[0], 'messages', 'case differences are near');
  t.equal(ids('GET', '/v2.0/me')[0], 'me', ':version matches other versions only loosely');
  t.equal(ids('GET', '/v1.0/drives/x/items/y')[0], 'drives', 'a trailing wildcard swallows the rest');
  t.equal(ids('GET', '/v1.0/users')[0], 'post-users', 'same path, other method');
  t.equal(ids('GET', '/v1.0/users/1/manager')[0], 'user', 'one segment too many');
  t.equal(ids('GET', '/v1.0/groups/1')[0], 'user', 'a different word costs a whole segment');
  const exact = nearestRoutes('GET', '/v1.0/users/1', routes, 1)[0]!;
  t.equal(exact.distance, 0);
  t.equal(nearestRoutes('DELETE', '/v1.0/users/1', routes, 1)[0]!.distance, 0.5, 'a wrong method costs half');
});

t.test('segmentDistance: insertions and deletions cost 1, params match anything', async (t) => {
  t.equal(segmentDistance(['v1.0', 'users', '42'], ['v1.0', 'users', ':id']), 0);
  t.equal(segmentDistance(['v1.0', 'users'], ['v1.0', 'users', ':id']), 1);
  t.equal(segmentDistance(['v1.0', 'users', '1', 'x'], ['v1.0', 'users', ':id']), 1);
  t.equal(
    segmentDistance(['a'.repeat(500)], ['b'.repeat(500)]),
    1,
    'long segments are not compared letter by letter',
  );
});
