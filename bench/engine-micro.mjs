// Engine cost in isolation: MockEngine.handle (and the journal) on one scripted route, no HTTP.
//   node bench/engine-micro.mjs [scenario.yaml] [path] [n]
import { Journal } from '../dist/admin/journal.js';
import { MockEngine } from '../dist/engine/engine.js';
import { loadScenarioPaths } from '../dist/scenario/load.js';

const [file = 'bench/scenario.yaml', path = '/v1.0/me', n = '1000000'] = process.argv.slice(2);
const loaded = loadScenarioPaths([file]);
if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
const engine = new MockEngine();
engine.load(loaded.scenarios);
const journal = new Journal();
const headers = { host: '127.0.0.1:4365', 'user-agent': 'autocannon', accept: '*/*' };
const request = () => ({
  method: 'GET',
  url: path,
  path,
  query: {},
  headers: { ...headers },
  body: undefined,
  ip: '127.0.0.1',
  origin: 'http://127.0.0.1:4365',
  session: '',
  bodyBytes: undefined,
});
for (const withJournal of [false, true, false, true]) {
  const N = Number(n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const req = request();
    const d = engine.handle(req);
    if (withJournal) journal.observe(req, d, 0.1);
  }
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${withJournal ? 'engine + journal' : 'engine'}: ${(ns / 1000).toFixed(2)} µs per request`);
}
