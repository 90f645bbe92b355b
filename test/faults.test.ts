// Fault injection through real sockets: each transport fault as a Node HTTP client sees it, status
// faults with Graph bodies, fault order, seeded determinism and the probability over many requests.
import http from 'node:http';
import https from 'node:https';
import t from 'tap';
import type { Decision, GraphRequest } from '../src/engine/types.js';
import type { FaultSpec, ScenarioFile } from '../src/index.js';
import { getJson, startMock } from './helpers/mock.js';

const body = {
  value: Array.from({ length: 20 }, (_, i) => ({ id: `item-${i}`, subject: `Message ${i}` })),
};

function faulty(faults: FaultSpec[], seed = 7): ScenarioFile {
  return {
    name: 'faulty',
    seed,
    routes: [{ id: 'messages', path: '/v1.0/me/messages', faults, response: { status: 200, body } }],
  };
}

interface RawResult {
  status?: number;
  headers?: http.IncomingHttpHeaders;
  received: string;
  error?: NodeJS.ErrnoException;
  timedOut?: boolean;
}

/** One GET on a fresh socket, reporting what the client saw: status, bytes, error, timeout. */
function rawGet(url: string, timeoutMs = 2000, ca?: string): Promise<RawResult> {
  return new Promise((resolve) => {
    const out: RawResult = { received: '' };
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { agent: false, ca }, (res) => {
      out.status = res.statusCode;
      out.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        out.received += c;
      });
      res.on('error', (err) => {
        out.error ??= err;
        resolve(out);
      });
      res.on('end', () => resolve(out));
      res.on('close', () => resolve(out));
    });
    req.setTimeout(timeoutMs, () => {
      out.timedOut = true;
      req.destroy(new Error('client timeout'));
    });
    req.on('error', (err) => {
      out.error ??= err;
      resolve(out);
    });
  });
}

t.test('transport faults as a real client socket sees them', async (t) => {
  const mock = await startMock(t, {
    scenarios: [
      {
        name: 'transport',
        routes: (['reset', 'empty', 'malformed-chunk', 'truncate', 'hang'] as const).map((transport) => ({
          id: transport,
          path: `/v1.0/${transport}`,
          faults: [{ probability: 1, transport }],
          response: { status: 200, body },
        })),
      },
    ],
  });
  const seen: Array<string | undefined> = [];
  mock.context.observers.push((_req: GraphRequest, d: Decision) => {
    seen.push(d.fault);
  });

  const reset = await rawGet(`${mock.url}/v1.0/reset`);
  t.equal(reset.status, undefined, 'reset: no response');
  t.equal(reset.error?.code, 'ECONNRESET', 'reset: the client sees ECONNRESET (TCP RST)');

  const empty = await rawGet(`${mock.url}/v1.0/empty`);
  t.equal(empty.status, undefined, 'empty: no response');
  t.equal(empty.error?.message, 'socket hang up', 'empty: closed with zero bytes → socket hang up');

  const chunk = await rawGet(`${mock.url}/v1.0/malformed-chunk`);
  t.ok(chunk.error, 'malformed-chunk: the client fails');
  t.match(
    chunk.error?.code ?? '',
    /HPE_INVALID_CHUNK_SIZE|ECONNRESET/,
    `malformed-chunk: ${chunk.error?.code}`,
  );

  const cut = await rawGet(`${mock.url}/v1.0/truncate`);
  t.equal(cut.status, 200, 'truncate: 200 headers arrive');
  const length = Number(cut.headers?.['content-length']);
  t.equal(length, Buffer.byteLength(JSON.stringify(body)), 'announcing the whole body');
  t.ok(
    cut.received.length > 0 && cut.received.length < length,
    `got ${cut.received.length} of ${length} bytes`,
  );
  t.throws(() => JSON.parse(cut.received), 'the JSON is truncated');
  t.ok(cut.error, `truncate: the body ends in an error (${cut.error?.message})`);

  const started = Date.now();
  const hang = await rawGet(`${mock.url}/v1.0/hang`, 400);
  t.ok(hang.timedOut, 'hang: only the client timeout ends it');
  t.ok(Date.now() - started >= 390, 'after the timeout, not before');
  t.same(seen, ['reset', 'empty', 'malformed-chunk', 'truncate', 'hang'], 'each recorded as its fault');

  // the server keeps serving afterwards
  const r = await getJson(`${mock.url}/v1.0/nothing-here`);
  t.equal(r.status, 400);
});

t.test('over TLS too: reset, empty and truncate break the connection the same way', async (t) => {
  const mock = await startMock(t, {
    tls: true,
    scenarios: [
      {
        name: 'tls-transport',
        routes: (['reset', 'empty', 'truncate'] as const).map((transport) => ({
          id: transport,
          path: `/v1.0/${transport}`,
          faults: [{ probability: 1, transport }],
          response: { status: 200, body },
        })),
      },
    ],
  });
  const reset = await rawGet(`${mock.url}/v1.0/reset`, 2000, mock.ca);
  t.equal(reset.error?.code, 'ECONNRESET', 'reset: ECONNRESET under TLS');
  const empty = await rawGet(`${mock.url}/v1.0/empty`, 2000, mock.ca);
  t.equal(empty.error?.message, 'socket hang up');
  const cut = await rawGet(`${mock.url}/v1.0/truncate`, 2000, mock.ca);
  t.equal(cut.status, 200);
  t.ok(cut.error && cut.received.length < Number(cut.headers?.['content-length']), 'truncated');
  t.equal((await rawGet(`${mock.url}/v1.0/nothing`, 2000, mock.ca)).status, 400, 'still serving');
});

t.test('a hanging request is closed when the server stops', async (t) => {
  const mock = await startMock(t, { scenarios: [faulty([{ probability: 1, transport: 'hang' }])] });
  const pending = rawGet(`${mock.url}/v1.0/me/messages`, 10_000);
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await mock.close();
  const res = await pending;
  t.notOk(res.timedOut, 'closed by the server, not by the client timeout');
  t.ok(res.error, `the client sees the close (${res.error?.message})`);
  t.ok(Date.now() - started < 5000, 'close() does not wait for the hanging request');
});

t.test(
  'status faults answer the Graph envelope; faults are tried in order, route before scenario',
  async (t) => {
    const mock = await startMock(t, {
      scenarios: [
        {
          name: 'status-faults',
          faults: [{ probability: 1, status: 503 }],
          routes: [
            {
              id: 'first-wins',
              path: '/v1.0/a',
              faults: [
                { probability: 0, status: 400 },
                { probability: 1, status: 429, headers: { 'x-ms-throttle-information': 'CPULimitExceeded' } },
                { probability: 1, status: 500 },
              ],
              response: { status: 200, body },
            },
            { id: 'scenario-wide', path: '/v1.0/b', response: { status: 200, body } },
            {
              id: 'custom',
              path: '/v1.0/c',
              workload: 'onedrive',
              faults: [
                { probability: 1, status: 507, error: { code: 'quotaLimitReached', message: 'Full.' } },
              ],
              response: { status: 200, body },
            },
          ],
        },
      ],
    });
    const a = await getJson(`${mock.url}/v1.0/a`);
    t.equal(a.status, 429);
    t.equal(a.headers.get('retry-after'), '10');
    t.equal(a.headers.get('x-ms-throttle-information'), 'CPULimitExceeded');
    t.equal(a.body.error.code, 'TooManyRequests');
    t.equal(a.body.error.innerError['request-id'], a.headers.get('request-id'));

    const b = await getJson(`${mock.url}/v1.0/b`);
    t.equal(b.status, 503);
    t.equal(b.headers.get('retry-after'), '5');
    t.equal(b.headers.get('content-type'), 'application/json');

    const c = await getJson(`${mock.url}/v1.0/c`);
    t.equal(c.status, 507);
    t.same([c.body.error.code, c.body.error.message], ['quotaLimitReached', 'Full.']);
  },
);

/** The status sequence of `n` sequential requests to a fresh server. */
async function statuses(t: Tap, scenario: ScenarioFile, n: number, session?: string): Promise<number[]> {
  const mock = await startMock(t, { scenarios: [scenario] });
  const out: number[] = [];
  const init = session ? { headers: { 'x-mock-session': session } } : {};
  for (let i = 0; i < n; i++) out.push((await getJson(`${mock.url}/v1.0/me/messages`, init)).status);
  await mock.close();
  return out;
}
type Tap = { teardown(fn: () => unknown): void };

t.test('seeded: same seed and order ⇒ same outcomes; another seed ⇒ others', async (t) => {
  const faults: FaultSpec[] = [
    { probability: 0.3, status: 500 },
    { probability: 0.3, status: 503 },
  ];
  const a = await statuses(t, faulty(faults, 42), 40);
  const b = await statuses(t, faulty(faults, 42), 40);
  const c = await statuses(t, faulty(faults, 43), 40);
  t.same(a, b, 'seed 42 twice: identical');
  t.not(a.join(), c.join(), 'seed 43: a different sequence');
  t.ok(a.includes(200) && a.includes(500) && a.includes(503), `a mix: ${a.join(' ')}`);

  const s1 = await statuses(t, faulty(faults, 42), 40, 'test-1');
  const s2 = await statuses(t, faulty(faults, 42), 40, 'test-1');
  t.same(s1, s2, 'a session has its own seeded stream, the same on every run');
  t.not(s1.join(), a.join(), 'derived from the seed and the session id');

  // --seed overrides the scenario's
  const mock = await startMock(t, { scenarios: [faulty(faults, 1)], seed: 42 });
  const o: number[] = [];
  for (let i = 0; i < 40; i++) o.push((await getJson(`${mock.url}/v1.0/me/messages`)).status);
  t.same(o, a, 'the seed option replaces the scenario seed');
  // a reset restarts the stream
  mock.reset();
  const again: number[] = [];
  for (let i = 0; i < 40; i++) again.push((await getJson(`${mock.url}/v1.0/me/messages`)).status);
  t.same(again, a, 'after a reset the same sequence again');
});

t.test('a status fault needs an error status: refused at load with its location', async (t) => {
  await t.rejects(
    startMock(t, {
      scenarios: [
        'name: f\nroutes:\n  - id: a\n    path: /v1.0/a\n    faults: [ { probability: 1, status: 200 } ]\n    response: { status: 200 }\n',
      ],
    }),
    /:5:\d+.*expected a 4xx or 5xx status, got 200/,
  );
});
