// --workers N through the real CLI: one port, N processes answering (health names the pid), one
// readiness line; stateful scenarios refused with exit 2 on the in-memory store (identity: whatever the
// store); throttles and collections shared across workers through a real redis-server; SIGTERM stops
// every worker.
import { join } from 'node:path';
import t from 'tap';
import { runCli, startCli } from './helpers/cli.js';
import { tempScenarioDir } from './helpers/mock.js';
import { redisServerPath, startRedis } from './helpers/redis.js';

const stateless = `name: plain
routes:
  - id: me
    path: /v1.0/me
    response: { status: 200, body: { id: "1" } }
`;
const throttled = `name: limited
throttles:
  fw: { algorithm: fixed-window, limit: 6, window: 1h, earlyRetry: ignore }
routes:
  - id: users
    path: /v1.0/users
    throttle: fw
    response: { status: 200, body: { value: [] } }
`;

const people = `name: people
routes:
  - id: users
    path: /v1.0/users
    workload: directory
    collection: { items: [{ id: "u1", displayName: "Adele" }] }
`;

/** `n` requests, each on its own connection, so the primary hands them to different workers. */
async function spread(url: string, path: string, n: number): Promise<Response[]> {
  const out: Response[] = [];
  for (let i = 0; i < n; i++) out.push(await fetch(url + path, { headers: { connection: 'close' } }));
  return out;
}

t.test('stateless scenario: two workers answer on one port; SIGTERM stops both', async (t) => {
  const dir = tempScenarioDir({ 'plain.yaml': stateless });
  const cli = await startCli(t, ['--workers', '2', '--port', '0', '--scenario', dir]);
  t.same(cli.scenarios, ['plain'], 'one readiness line, as a single process prints it');
  t.equal(cli.stdout().match(/listening on/g)?.length, 1, 'printed once, by the primary');
  const pids = new Set<number>();
  for (const r of await spread(cli.url, '/__admin/health', 24)) {
    const body = (await r.json()) as { pid: number; status: string };
    t.equal(body.status, 'ok');
    pids.add(body.pid);
  }
  t.equal(pids.size, 2, `requests reached both workers (pids ${[...pids].join(', ')})`);
  t.notOk(pids.has(cli.proc.pid!), 'the primary itself serves nothing');
  const me = await fetch(`${cli.url}/v1.0/me`);
  t.equal(me.status, 200);
  t.same(await me.json(), { id: '1' });
  cli.proc.kill('SIGTERM');
  const exit = await cli.exited;
  t.equal(exit.code, 0, 'stopped cleanly');
  for (const pid of pids) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    t.notOk(alive, `worker ${pid} is gone`);
  }
});

t.test('stateful scenarios on the in-memory store are refused with exit 2 and the reason', async (t) => {
  const dir = tempScenarioDir({ 'limited.yaml': throttled });
  const r = await runCli(['--workers', '2', '--port', '0', '--scenario', dir]);
  t.equal(r.code, 2);
  t.match(r.stderr, /--workers 2: these routes keep state per process: limited\/users \(throttle\)/);
  t.match(r.stderr, /--state redis:\/\//, 'says how to fix it');
  t.equal(r.stdout, '', 'never said it was listening');

  const builtins = await runCli(['--workers', '3', '--port', '0']);
  t.equal(builtins.code, 2, 'the built-in scenarios hold collections and operations');
  t.match(builtins.stderr, /\(collection\)|\(long-running operation\)/);
  t.match(builtins.stderr, /--state redis:\/\//, 'collections are shared with --state redis');
});

t.test('identity: is refused for N > 1 even with --state redis (refused before connecting)', async (t) => {
  const r = await runCli(['--workers', '2', '--port', '0', '--state', 'redis://127.0.0.1:1/0']);
  t.equal(r.code, 2);
  t.match(r.stderr, /tenant\/identity \(identity\)/);
  t.notMatch(r.stderr, /\(collection\)/, 'collections are no longer refused with a shared store');
  t.match(r.stderr, /not shared between workers: run one worker/);
});

t.test('an invalid scenario: the workers say why and the primary exits 2', async (t) => {
  const dir = tempScenarioDir({ 'bad.yaml': 'name: bad\nroutes:\n  - id: x\n    path: 12\n' });
  const r = await runCli(['--workers', '2', '--port', '0', '--scenario', dir]);
  t.equal(r.code, 2);
  t.match(r.stderr, /bad\.yaml:\d+:\d+/, 'file:line:col from the loader');
});

t.test(
  'throttles shared across workers through redis: exactly `limit` admitted over both',
  { skip: redisServerPath() ? false : 'redis-server is not installed (apt-get install redis-server)' },
  async (t) => {
    const redis = await startRedis(t);
    const dir = tempScenarioDir({ 'limited.yaml': throttled });
    const cli = await startCli(t, [
      '--workers',
      '2',
      '--port',
      '0',
      '--scenario',
      join(dir, 'limited.yaml'),
      '--state',
      redis.url,
      '--state-prefix',
      `workers-${process.pid}:`,
    ]);
    const answers = await spread(cli.url, '/v1.0/users', 20);
    const statuses = answers.map((r) => r.status);
    t.equal(statuses.filter((s) => s === 200).length, 6, `6 admitted in all: ${statuses.join(' ')}`);
    t.equal(statuses.filter((s) => s === 429).length, 14);
    const pids = new Set<number>();
    for (const r of await spread(cli.url, '/__admin/health', 16))
      pids.add(((await r.json()) as { pid: number }).pid);
    t.equal(pids.size, 2, 'both workers served');
    cli.proc.kill('SIGTERM');
    t.equal((await cli.exited).code, 0);
  },
);

t.test(
  'collections shared across workers through redis: a POST on one worker is listed by both',
  { skip: redisServerPath() ? false : 'redis-server is not installed (apt-get install redis-server)' },
  async (t) => {
    const redis = await startRedis(t);
    const dir = tempScenarioDir({ 'people.yaml': people });
    const cli = await startCli(t, [
      '--workers',
      '2',
      '--port',
      '0',
      '--scenario',
      join(dir, 'people.yaml'),
      '--state',
      redis.url,
      '--state-prefix',
      `workers-coll-${process.pid}:`,
    ]);
    const created = await fetch(`${cli.url}/v1.0/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ displayName: 'Bianca' }),
    });
    t.equal(created.status, 201);
    const pids = new Set<number>();
    for (const r of await spread(cli.url, '/v1.0/users', 12)) {
      const body = (await r.json()) as { value: Array<{ displayName: string }> };
      t.same(
        body.value.map((u) => u.displayName),
        ['Adele', 'Bianca'],
      );
    }
    for (const r of await spread(cli.url, '/__admin/health', 16))
      pids.add(((await r.json()) as { pid: number }).pid);
    t.equal(pids.size, 2, 'both workers served');
    cli.proc.kill('SIGTERM');
    t.equal((await cli.exited).code, 0);
  },
);
