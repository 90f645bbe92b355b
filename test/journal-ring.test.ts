// The journal's byte ring (unit): text survives until the cursor comes round, entries rebuild with
// their headers (arrays, redactions, claims), and a journal of large requests keeps what fits.
import t from 'tap';
import { CAPS, Journal } from '../src/admin/journal.js';
import { TextRing } from '../src/admin/text-ring.js';
import type { Decision, GraphRequest } from '../src/engine/types.js';
import { jwt } from './helpers/jwt.js';

function request(url: string, headers: GraphRequest['headers'] = {}, session = ''): GraphRequest {
  const q = url.indexOf('?');
  return {
    method: 'GET',
    url,
    path: q === -1 ? url : url.slice(0, q),
    query: {},
    headers,
    body: undefined,
    ip: '127.0.0.1',
    origin: 'http://127.0.0.1',
    session,
  };
}

const decision = (status: number, requestId: string, retryAfter?: string): Decision => ({
  status,
  headers: retryAfter ? { 'retry-after': retryAfter } : {},
  requestId,
  clientRequestId: requestId,
  delayMs: 0,
  routeId: 'r',
  scenario: 's',
});

t.test('TextRing: strings back in order; overwritten entries are no longer readable', async (t) => {
  const ring = new TextRing(1024, 256);
  const first = ring.begin();
  ring.put('héllo ✓');
  ring.put('');
  ring.put('third');
  t.same(ring.read(first, 3), ['héllo ✓', '', 'third']);
  t.ok(ring.readable(first));
  const later: number[] = [];
  for (let i = 0; i < 20; i++) {
    later.push(ring.begin());
    ring.put('x'.repeat(80));
  }
  t.notOk(ring.readable(first), 'the cursor came round');
  const last = later[later.length - 1]!;
  t.ok(ring.readable(last));
  t.same(ring.read(last, 1), ['x'.repeat(80)]);
  const big = ring.begin();
  ring.put('y'.repeat(1000));
  t.equal(
    ring.read(big, 1)![0]!.length,
    84,
    'cut to the entry limit, at 3 bytes a character and 2 for the length',
  );
});

t.test('TextRing: batched chunks read back exactly, whatever the text, or say they are gone', async (t) => {
  // a model of what was put, against a small ring whose chunks, lengths and chunk records all wrap
  let seed = 7;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const alphabet = ['a', 'é', '✓', '😀', '\ud800', '\udc00', '\u0000', '\n', 'z'];
  const text = () => {
    let s = '';
    for (let i = rnd(40); i > 0; i--) s += alphabet[rnd(alphabet.length)];
    return s;
  };
  const ring = new TextRing(16 * 1024, 1024, 16);
  const model: Array<{ handle: number; strings: string[] }> = [];
  let checked = 0;
  let gone = 0;
  for (let e = 0; e < 2000; e++) {
    const handle = ring.begin();
    const strings: string[] = [];
    for (let i = 1 + rnd(6); i > 0; i--) {
      const s = text();
      ring.put(s);
      // what UTF-8 gives back: a lone surrogate (or half of a pair cut apart) as U+FFFD
      strings.push(Buffer.from(s, 'utf8').toString('utf8'));
    }
    model.push({ handle, strings });
    if (rnd(5) === 0) {
      // read some recent and some old entries, pending ones included
      for (const m of [
        model[model.length - 1]!,
        model[rnd(model.length)]!,
        model[Math.max(0, model.length - 16)]!,
      ]) {
        if (ring.readable(m.handle)) {
          t.same(ring.read(m.handle, m.strings.length), m.strings);
          checked++;
        } else gone++;
      }
    }
  }
  const recent = model.slice(-16);
  for (const m of recent)
    t.same(ring.read(m.handle, m.strings.length), m.strings, 'the newest 16 entries stay readable');
  t.ok(checked > 300 && gone > 100, `read back ${checked} entries, ${gone} overwritten`);
});

t.test('Journal: entries rebuilt from the ring with headers, claims, query and ids', async (t) => {
  const j = new Journal(10);
  const token = jwt({ tid: 't1', appid: 'a1', exp: Math.floor(Date.now() / 1000) + 3600 });
  j.observe(
    request('/v1.0/users?$top=5&$select=id', {
      authorization: `Bearer ${token}`,
      cookie: 'secret=1',
      'x-many': ['one', 'two'],
      'user-agent': 'u'.repeat(5000),
    }),
    decision(429, 'rid-1', '7'),
    1.234,
  );
  const [e] = j.list();
  t.equal(e!.url, '/v1.0/users?$top=5&$select=id');
  t.equal(e!.path, '/v1.0/users');
  t.same(e!.query, { $top: '5', $select: 'id' });
  t.equal(e!.requestId, 'rid-1');
  t.equal(e!.retryAfter, '7');
  t.equal(e!.status, 429);
  t.same((e!.headers.authorization as Record<string, unknown>).tid, 't1', 'claims, never the token');
  t.notMatch(JSON.stringify(e), token);
  t.equal(e!.headers.cookie, '<redacted>');
  t.same(e!.headers['x-many'], ['one', 'two']);
  t.equal((e!.headers['user-agent'] as string).length, CAPS.headerValue + 1, 'capped with an ellipsis');
  t.equal(e!.durationMs, 1.23);
});

t.test('Journal: the ring keeps the newest N; sessions filter and clear', async (t) => {
  const j = new Journal(5);
  for (let i = 0; i < 12; i++)
    j.observe(request(`/v1.0/n/${i}`, {}, i % 2 ? 'odd' : ''), decision(200, `r${i}`), 0);
  t.same(
    j.list().map((e) => e.url),
    ['/v1.0/n/7', '/v1.0/n/8', '/v1.0/n/9', '/v1.0/n/10', '/v1.0/n/11'],
  );
  t.equal(j.count({ session: 'odd' }), 3);
  t.same(
    j.list({ path: '/v1.0/n/1*' }).map((e) => e.url),
    ['/v1.0/n/10', '/v1.0/n/11'],
  );
  j.clear({ session: 'odd' });
  t.same(
    j.list().map((e) => e.url),
    ['/v1.0/n/8', '/v1.0/n/10'],
  );
});

t.test('Journal: requests with huge headers keep what the text ring holds, never more', async (t) => {
  const j = new Journal(4);
  const wide: Record<string, string> = {};
  for (let i = 0; i < 40; i++) wide[`x-h${i}`] = 'v'.repeat(1024);
  for (let i = 0; i < 20; i++) j.observe(request(`/v1.0/big/${i}`, wide), decision(200, `r${i}`), 0);
  const list = j.list();
  t.ok(list.length >= 1 && list.length <= 4, `${list.length} readable entries`);
  t.equal(list[list.length - 1]!.url, '/v1.0/big/19', 'the newest is always there');
  t.ok(Object.keys(list[0]!.headers).length <= CAPS.headers);
});
