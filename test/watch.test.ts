// --watch: good → broken → fixed while a client keeps calling; no request fails in between, the
// broken edit is logged with file:line:col, and other scenarios keep their state.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { getJson, startMock, tempScenarioDir } from './helpers/mock.js';

const wYaml = (v: number) =>
  `name: w\nroutes:\n  - id: w\n    path: /v1.0/w\n    response: { body: { v: ${v} } }\n`;
const seqYaml =
  'name: counter\nroutes:\n  - id: c\n    path: /v1.0/c\n    responses: [ { body: { n: 1 } }, { body: { n: 2 } }, { body: { n: 3 } } ]\n';

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('good → broken → fixed with no failed request in between', async (t) => {
  const dir = tempScenarioDir({ 'w.yaml': wYaml(1), 'counter.yaml': seqYaml });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const logs: any[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => logs.push(JSON.parse(s)) });
  const mock = await startMock(t, { scenarios: [dir], watch: true, logger });

  t.equal((await getJson(`${mock.url}/v1.0/c`)).body.n, 1);
  t.equal((await getJson(`${mock.url}/v1.0/c`)).body.n, 2);

  // a client calling all the time
  const seen: Array<{ status: number; v?: number }> = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        const r = await getJson(`${mock.url}/v1.0/w`);
        seen.push({ status: r.status, v: r.body?.v });
      } catch {
        seen.push({ status: 0 });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const latest = () => seen[seen.length - 1]?.v;

  writeFileSync(join(dir, 'w.yaml'), wYaml(2));
  await until(() => latest() === 2, 'the edit to be served');

  writeFileSync(
    join(dir, 'w.yaml'),
    'name: w\nroutes:\n  - id: w\n    path: /v1.0/w\n    respons: { body: { v: 9 } }\n',
  );
  await until(() => logs.some((l) => l.level === 50), 'the broken edit to be logged');
  const err = logs.find((l) => l.level === 50);
  t.match(err.msg, /the last good version keeps serving/);
  t.match(err.issues[0], /w\.yaml:5:5: unknown field 'respons'/);
  const before = seen.length;
  await until(() => seen.length > before + 5, 'more requests after the broken edit');
  t.equal(latest(), 2, 'the last good version keeps serving');

  writeFileSync(join(dir, 'w.yaml'), wYaml(3));
  await until(() => latest() === 3, 'the fix to be served');
  polling = false;
  await poller;

  t.ok(seen.length > 10, `${seen.length} requests during the edits`);
  t.same(
    seen.filter((s) => s.status !== 200),
    [],
    'no request failed',
  );
  t.same(
    [...new Set(seen.map((s) => s.v))],
    [1, 2, 3].filter((v) => seen.some((s) => s.v === v)),
  );
  t.equal((await getJson(`${mock.url}/v1.0/c`)).body.n, 3, 'the untouched scenario kept its sequence state');
  t.ok(logs.some((l) => l.msg === 'scenario loaded' && l.scenario === 'w'));
});

t.test('a new file is loaded, a removed one unloaded; an unchanged save keeps state', async (t) => {
  const dir = tempScenarioDir({ 'counter.yaml': seqYaml });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const mock = await startMock(t, { scenarios: [dir], watch: true });
  t.equal((await getJson(`${mock.url}/v1.0/c`)).body.n, 1);

  writeFileSync(join(dir, 'counter.yaml'), seqYaml); // same text: no reload
  writeFileSync(join(dir, 'w.yaml'), wYaml(1));
  await until(async () => (await getJson(`${mock.url}/v1.0/w`)).status === 200, 'the new file');
  t.equal((await getJson(`${mock.url}/v1.0/c`)).body.n, 2, 'an unchanged save does not restart the scenario');
  t.same(mock.scenarios().sort(), ['counter', 'w']);

  rmSync(join(dir, 'w.yaml'));
  await until(() => !mock.scenarios().includes('w'), 'the removed file to be unloaded');
  t.not((await getJson(`${mock.url}/v1.0/w`)).status, 200);
});
