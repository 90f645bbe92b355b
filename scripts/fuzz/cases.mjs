// What the fuzzer sends, by category. Each generator takes the seeded rng and returns one case:
// { label, chunks (Buffers/strings, numbers = pauses), methods (to read HEAD answers), expect:
// 'answer' (a complete request: the server must answer) | 'any' (the server may just close),
// halfClose?, abortAfterMs? }. Everything is derived from the rng: same seed, same cases.
import { request } from './wire.mjs';

const GRAPH_PATHS = [
  '/v1.0/me',
  '/beta/me',
  '/v1.0/users',
  '/v1.0/users/6e7b768e-07e2-4810-8459-485f84f8f204',
  '/v1.0/groups',
  '/v1.0/me/messages',
  '/v1.0/me/mailFolders',
  '/v1.0/me/events',
  '/v1.0/me/drive/root/children',
  '/v1.0/me/drive/root/delta',
  '/v1.0/sites/root',
  '/v1.0/sites/root/lists',
  '/v1.0/organization',
  '/v1.0/fuzz/echo',
  '/v1.0/fuzz/fail',
  '/v1.0/nothing/here',
  '/v2.0/me',
  '/',
];
const COLLECTIONS = [
  '/v1.0/users',
  '/v1.0/groups',
  '/v1.0/me/messages',
  '/v1.0/me/events',
  '/v1.0/sites/root/lists',
];
const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;odata.metadata=minimal',
];
const LISTENER = 'http://127.0.0.1:9'; // a URL that must never be contacted (the outbound test owns a real one)

const any = (label, chunks, opts = {}) => ({ label, chunks, expect: 'any', methods: [], ...opts });
const answer = (label, chunks, opts = {}) => ({ label, chunks, expect: 'answer', methods: [], ...opts });
const req = (label, method, target, opts = {}) =>
  answer(label, [request(method, target, opts)], { methods: [method] });

// ---------------------------------------------------------------- raw protocol
const protocol = [
  (r) => any('garbage request line', [Buffer.concat([r.bytes(r.range(1, 200)), Buffer.from('\r\n\r\n')])]),
  (r) => any('printable garbage', [`${r.text(r.range(1, 80), 'ABC /\\:.%?&=HTTP1 \t')}\r\n\r\n`]),
  (r) =>
    any('invalid method', [
      `${r.pick(['G ET', 'GET\0', 'get', 'FOO', 'M'.repeat(r.range(1, 300)), '', 'P@ST', 'PRI'])} /v1.0/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    ]),
  (r) =>
    req(
      'unknown verb',
      r.pick(['PROPFIND', 'MKCOL', 'PURGE', 'SEARCH', 'TRACE', 'LOCK', 'REPORT']),
      r.pick(GRAPH_PATHS),
    ),
  (r) =>
    any('huge header', [
      request('GET', '/v1.0/me', { headers: { 'X-Big': 'b'.repeat(r.range(20_000, 70_000)) } }),
    ]),
  (r) => {
    const headers = {};
    for (let i = 0, n = r.range(50, 3000); i < n; i++) headers[`X-H${i}`] = r.text(r.range(0, 20));
    return any('many headers', [request('GET', r.pick(GRAPH_PATHS), { headers })], { methods: ['GET'] });
  },
  (r) =>
    any(
      'bad Content-Length',
      [
        `POST /v1.0/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${r.pick(['abc', '-1', '1e3', '0x10', '99999999999999999999', '5, 6', ' ', '1 2'])}\r\nConnection: close\r\n\r\n{}`,
      ],
      { halfClose: true },
    ),
  (_r) =>
    any(
      'two Content-Lengths',
      [
        'POST /v1.0/users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 4\r\nConnection: close\r\n\r\n{}{}',
      ],
      {
        halfClose: true,
      },
    ),
  (_r) =>
    any(
      'Content-Length and chunked',
      [
        'POST /v1.0/users HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      ],
      { halfClose: true },
    ),
  (r) =>
    any(
      'Content-Length larger than the body',
      [
        request('POST', '/v1.0/users', {
          headers: { 'Content-Type': 'application/json', 'Content-Length': String(r.range(10, 5000)) },
          body: '{"a":1}',
        }),
      ],
      {
        halfClose: true,
      },
    ),
  (r) => {
    const bad = r.pick([
      'zz\r\n{}\r\n0\r\n\r\n',
      '2\r\n{}0\r\n\r\n',
      '2;ext=' + 'x'.repeat(r.range(1, 9000)) + '\r\n{}\r\n0\r\n\r\n',
      '-1\r\n\r\n',
      '2\r\n{}\r\n',
      'FFFFFFFFFFFFFFFF\r\nab\r\n',
      '2\n{}\n0\n\n',
      '0\r\nX-Trailer: \0\r\n\r\n',
    ]);
    return any(
      'broken chunked body',
      [
        `POST /v1.0/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${bad}`,
      ],
      { halfClose: true },
    );
  },
  (r) =>
    any('CR/LF injection in a header', [
      `GET /v1.0/me HTTP/1.1\r\nHost: x\r\nX-A: ${r.pick(['a\rb', 'a\nSet-Cookie: x=1', 'a\r\n\r\nGET /__admin/reset HTTP/1.1', '\r'])}\r\nConnection: close\r\n\r\n`,
    ]),
  (_r) => any('bare LF line endings', ['GET /v1.0/me HTTP/1.1\nHost: x\nConnection: close\n\n']),
  (_r) =>
    any('obsolete line folding', [
      'GET /v1.0/me HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\nConnection: close\r\n\r\n',
    ]),
  (_r) => any('space before colon', ['GET /v1.0/me HTTP/1.1\r\nHost : x\r\nConnection: close\r\n\r\n']),
  (r) =>
    any('NUL bytes', [
      r.pick([
        'GET /v1.0/m\0e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        'GET /v1.0/me HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\nConnection: close\r\n\r\n',
        'GET /v1.0/me HTTP/1.1\r\nHost: x\r\nX\0A: b\r\nConnection: close\r\n\r\n',
        'GET /v1.0/me?$top=\0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      ]),
    ]),
  (r) =>
    any('overlong URL', [request('GET', `/v1.0/${'a'.repeat(r.range(8_000, 40_000))}`)], {
      methods: ['GET'],
    }),
  (r) =>
    any('overlong query', [request('GET', `/v1.0/users?$filter=${'x'.repeat(r.range(4_000, 40_000))}`)], {
      methods: ['GET'],
    }),
  (r) =>
    req(
      'bad percent-encoding',
      r.pick(['GET', 'POST', 'DELETE']),
      r.pick([
        '/v1.0/%',
        '/v1.0/%zz',
        '/v1.0/users/%E0%A4%A',
        '/v1.0/%00',
        '/v1.0/users?%=1',
        '/v1.0/users?$filter=%',
        '/v1.0/%C0%AF',
        '/__admin/requests?limit=%ff',
        '/v1.0/users/%2F..%2F',
      ]),
    ),
  (r) =>
    any(
      'HTTP/1.0',
      [`GET ${r.pick(GRAPH_PATHS)} HTTP/1.0\r\n${r.chance(0.5) ? 'Connection: keep-alive\r\n' : ''}\r\n`],
      { methods: ['GET'], halfClose: true },
    ),
  (r) =>
    any('odd HTTP version', [
      `GET /v1.0/me ${r.pick(['HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1.1', 'HTTPS/1.1', '', 'HTTP/0.9'])}\r\nHost: x\r\nConnection: close\r\n\r\n`,
    ]),
  (r) => {
    const n = r.range(2, 8);
    const parts = [];
    const methods = [];
    for (let i = 0; i < n; i++) {
      const m = r.pick(['GET', 'GET', 'HEAD', 'DELETE']);
      methods.push(m);
      parts.push(request(m, r.pick(GRAPH_PATHS), { close: i === n - 1 }));
    }
    return answer('pipelined requests', [Buffer.concat(parts)], { methods });
  },
  (r) => {
    const full = request('GET', r.pick(GRAPH_PATHS), { headers: { 'X-Slow': r.text(40) } });
    const cut = r.range(1, full.length - 1);
    return any(
      'slow partial request',
      [full.subarray(0, cut), r.range(5, 40), full.subarray(cut, cut + r.range(0, 5))],
      {
        abortAfterMs: r.range(50, 150),
      },
    );
  },
  (r) => any('connect and close', [], { abortAfterMs: r.range(1, 30) }),
  (_r) =>
    req('Expect: 100-continue', 'POST', '/v1.0/users', {
      headers: { Expect: '100-continue', 'Content-Type': 'application/json' },
      body: '{"displayName":"x"}',
    }),
  (_r) =>
    req('unmet Expect', 'POST', '/v1.0/users', {
      headers: { Expect: 'teapot', 'Content-Type': 'application/json' },
      body: '{}',
    }),
  (r) =>
    req('hostile Host', 'POST', '/v1.0/users', {
      headers: {
        Host: r.pick(['evil.test/<x>', 'a b', '', 'x'.repeat(500), '[::1', '127.0.0.1:99999']),
        'Content-Type': 'application/json',
      },
      body: '{"displayName":"h"}',
    }),
  (_r) => req('absolute-form target', 'GET', `${LISTENER}/v1.0/me`),
  (r) =>
    any('asterisk and authority targets', [
      r.pick([
        'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        'CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      ]),
    ]),
  (r) =>
    req('odd standard headers', r.pick(['GET', 'POST']), r.pick(GRAPH_PATHS), {
      headers: {
        Accept: r.pick(['text/html', '*/*;q=0', 'application/xml', '', ',,,', 'application/json;q=abc']),
        Authorization: r.pick([
          'Bearer',
          'Bearer a.b.c',
          'Basic xyz',
          'Bearer ' + 'e'.repeat(r.range(1, 4000)),
          'Bearer eyJhbGciOiJub25lIn0.eyJleHAiOiJ4In0.',
        ]),
        'x-mock-session': r.pick([
          '__proto__',
          'constructor',
          's'.repeat(r.range(100, 4000)),
          '\x7f',
          r.text(8),
        ]),
        'client-request-id': r.pick(['', 'x'.repeat(r.range(1, 5000)), '"><script>', r.text(36)]),
        'If-Match': r.pick(['*', 'W/"x"', '"', '']),
        ConsistencyLevel: r.pick(['eventual', 'x', '']),
      },
    }),
];

// ---------------------------------------------------------------- JSON bodies
function deepJson(r) {
  const depth = r.pick([r.range(10, 70), r.range(60, 200), r.range(1000, 100_000)]);
  const open = r.chance(0.5) ? '[' : '{"a":';
  const close = open === '[' ? ']' : '}';
  return open.repeat(depth) + (r.chance(0.1) ? '' : '1') + close.repeat(r.chance(0.2) ? depth - 1 : depth);
}

function malformedJson(r) {
  const valid = JSON.stringify({ displayName: r.text(10), nested: { list: [1, 2, 3], s: 'x' } });
  switch (r.int(8)) {
    case 0:
      return valid.slice(0, r.range(0, valid.length - 1));
    case 1:
      return valid.replace(/"/g, r.pick(["'", '', '\\']));
    case 2:
      return `${valid}${r.pick([',', '}', 'garbage', '\0', '\uFEFF'])}`;
    case 3:
      return r.pick([
        'NaN',
        'undefined',
        '{a:1}',
        '[1,]',
        '{"a":1,}',
        '1e99999',
        '"\\ud800"',
        '\uFEFF{}',
        'nul',
        '{"a":01}',
      ]);
    case 4:
      return r.bytes(r.range(1, 200));
    case 5:
      return `{"${r.pick(['__proto__', 'constructor'])}":{"polluted":true,"prototype":{"polluted":true}}}`;
    case 6:
      return `{"s":"${'x'.repeat(r.range(100_000, 3_000_000))}"}`;
    default:
      return JSON.stringify(Array.from({ length: r.range(1, 50_000) }, (_, i) => i));
  }
}

const json = [
  (r) =>
    req('malformed JSON', r.pick(['POST', 'PATCH', 'PUT']), r.pick(COLLECTIONS), {
      headers: { 'Content-Type': r.pick(JSON_TYPES) },
      body: malformedJson(r),
    }),
  (r) =>
    req(
      'deep JSON',
      r.pick(['POST', 'PATCH']),
      r.pick([...COLLECTIONS, '/v1.0/$batch', '/__admin/scenarios', '/__admin/requests/count']),
      { headers: { 'Content-Type': 'application/json' }, body: deepJson(r) },
    ),
  (r) =>
    req(
      'prototype keys in JSON',
      r.pick(['POST', 'PATCH']),
      r.pick([
        ...COLLECTIONS,
        '/v1.0/users/6e7b768e-07e2-4810-8459-485f84f8f204',
        '/__admin/requests/count',
        '/v1.0/$batch',
      ]),
      {
        headers: { 'Content-Type': 'application/json' },
        body: r.pick([
          '{"__proto__":{"polluted":true}}',
          '{"constructor":{"prototype":{"polluted":true}}}',
          '{"a":{"__proto__":{"polluted":1}}}',
          '[{"__proto__":{"polluted":1}}]',
          '{"\\u005f_proto__":{"polluted":1}}',
        ]),
      },
    ),
  (r) =>
    req(
      'wrong Content-Type',
      r.pick(['POST', 'PATCH', 'PUT']),
      r.pick([...COLLECTIONS, '/v1.0/me/drive/root/children', '/__admin/scenarios']),
      {
        headers: {
          'Content-Type': r.pick([
            'text/plain',
            'application/xml',
            'multipart/form-data; boundary=x',
            'application/json; charset=utf-16',
            'application/jsonx',
            '',
            ';;;',
            'application/x-www-form-urlencoded',
            'application/yaml',
            '*/*',
          ]),
        },
        body: r.chance(0.5) ? '{"displayName":"x"}' : r.bytes(r.range(0, 300)),
      },
    ),
  (r) =>
    req('empty body', r.pick(['POST', 'PATCH', 'PUT', 'DELETE']), r.pick(COLLECTIONS), {
      headers: { 'Content-Type': 'application/json' },
      body: '',
    }),
  (r) =>
    req('body over the limit', 'POST', r.pick(COLLECTIONS), {
      headers: { 'Content-Type': 'application/json' },
      body: `{"s":"${'x'.repeat(4 * 1024 * 1024 + r.range(1, 1000))}"}`,
    }),
  (r) =>
    req('odd but valid JSON', r.pick(['POST', 'PATCH']), r.pick(COLLECTIONS), {
      headers: { 'Content-Type': 'application/json' },
      body: r.pick([
        'null',
        '1',
        '"s"',
        '[]',
        'true',
        '{}',
        '{"id":null}',
        '{"id":{"a":1}}',
        '{"id":"../../etc"}',
        '{"displayName":"\\u0000"}',
        `{"id":"${'i'.repeat(r.range(1, 9000))}"}`,
      ]),
    }),
];

// ---------------------------------------------------------------- $batch
function batchItem(r, i) {
  const item = {
    id: String(i + 1),
    method: r.pick(['GET', 'GET', 'POST', 'PATCH', 'DELETE']),
    url: r.pick([
      '/me',
      '/users?$top=2',
      'users',
      '/v1.0/groups',
      '/me/messages',
      '/nothing',
      '/users/6e7b768e-07e2-4810-8459-485f84f8f204',
    ]),
  };
  if (item.method !== 'GET' && item.method !== 'DELETE') {
    item.headers = { 'Content-Type': 'application/json' };
    item.body = { displayName: `b${i}` };
  }
  return item;
}

const MUTATIONS = [
  (r, b) => (b.requests[0].url = r.pick(['/$batch', '/v1.0/$batch', '$batch', '/%24batch', '/beta/$BATCH'])),
  (r, b) =>
    (b.requests[0].url = r.pick([
      `${LISTENER}/v1.0/me`,
      '//127.0.0.1:9/x',
      'https://graph.microsoft.com/v1.0/me',
      'file:///etc/passwd',
      'javascript:alert(1)',
      '\\\\host\\share',
      'http:/x',
    ])),
  (r, b) =>
    (b.requests[0].url = r.pick([
      '/__admin/reset',
      '/__admin/scenarios',
      '/v1.0/__admin/health',
      '/%5f%5fadmin/requests',
      '/../__admin/reset',
      '/v1.0/../../__admin',
    ])),
  (r, b) =>
    (b.requests[0].method = r.pick([
      'CONNECT',
      'TRACE',
      'HEAD',
      'OPTIONS',
      'FOO',
      '',
      'get',
      42,
      null,
      'G\r\nET',
    ])),
  (r, b) =>
    (b.requests[0].headers = {
      [r.pick(['X-A', 'Content-Type', 'bad name', '', 'X\0'])]: r.pick([
        'a\r\nb',
        'a\nb',
        'a\0b',
        42,
        null,
        { x: 1 },
        'ok',
        'x'.repeat(9000),
      ]),
    }),
  (r, b) => (b.requests[0].headers = r.pick([[], 'x', null, 42])),
  (r, b) =>
    (b.requests.at(-1).dependsOn = r.pick([
      '1',
      1,
      [1],
      [null],
      {},
      ['nope'],
      [b.requests.at(-1).id],
      ['__proto__'],
    ])),
  (r, b) => {
    if (b.requests.length < 2) b.requests.push(batchItem(r, 1));
    b.requests[0].dependsOn = [b.requests[1].id];
    b.requests[1].dependsOn = [b.requests[0].id];
  },
  (r, b) => {
    while (b.requests.length <= 20 + r.int(30)) b.requests.push(batchItem(r, b.requests.length));
  },
  (r, b) =>
    b.requests.push({
      ...b.requests[0],
      id: r.chance(0.5) ? b.requests[0].id : b.requests[0].id.toUpperCase(),
    }),
  (r, b) =>
    (b.requests[0].id = r.pick([
      '',
      null,
      7,
      'i'.repeat(r.range(129, 5000)),
      '__proto__',
      'constructor',
      { a: 1 },
    ])),
  (r, b) => (b.requests[r.int(b.requests.length)] = r.pick([null, 'x', 1, [], { id: 'z' }])),
  (_r, b) => {
    b.requests[0].body = { a: 1 };
    delete b.requests[0].headers;
  },
  (r, b) =>
    (b.requests[0].url = r.pick([
      '',
      null,
      5,
      '/users/..',
      '/users/%2e%2e/%2e%2e',
      '/users?$top=1&$top=2',
      '/users?$filter=' + '('.repeat(r.range(10, 300)),
      '/me\0',
      '/me ',
      `/${'u'.repeat(r.range(8000, 9000))}`,
      '/users/%zz',
    ])),
  (r, b) => (b.requests = r.pick([[], null, {}, 'x', undefined])),
  (r, b) => {
    b.requests[0].body = r.pick(['not json', '', [1, 2], 'eyJ4IjoxfQ==', null]);
    b.requests[0].headers = {
      'Content-Type': r.pick(['application/json', 'text/plain', 'application/octet-stream']),
    };
  },
];

const batch = [
  (r) => {
    const b = { requests: Array.from({ length: r.range(1, 6) }, (_, i) => batchItem(r, i)) };
    for (let i = 0, n = r.range(0, 3); i < n; i++) {
      try {
        r.pick(MUTATIONS)(r, b);
      } catch {
        // an earlier mutation broke the shape this one expects: the batch is already hostile enough
      }
    }
    const body = r.chance(0.05) ? JSON.stringify(b).slice(0, r.range(1, 50)) : JSON.stringify(b);
    return req(
      '$batch mutation',
      'POST',
      r.pick(['/v1.0/$batch', '/beta/$batch', '/v1.0/%24batch', '/v1.0/$batch/']),
      {
        headers: {
          'Content-Type': 'application/json',
          ...(r.chance(0.3) ? { 'x-mock-session': r.pick(['__proto__', r.text(5)]) } : {}),
        },
        body,
      },
    );
  },
  (r) => req('$batch wrong method', r.pick(['GET', 'PUT', 'DELETE', 'PATCH']), '/v1.0/$batch'),
  (r) =>
    req('$batch not JSON', 'POST', '/v1.0/$batch', {
      headers: {
        'Content-Type': r.pick(['text/plain', 'application/xml', 'multipart/mixed; boundary=batch_1']),
      },
      body: '--batch_1\r\nGET /v1.0/me HTTP/1.1\r\n\r\n--batch_1--',
    }),
];

// ---------------------------------------------------------------- OData query abuse
function filterExpr(r) {
  switch (r.int(7)) {
    case 0:
      return `${'('.repeat(r.range(1, 400))}displayName eq 'a'${')'.repeat(r.range(0, 400))}`;
    case 1:
      return Array.from({ length: r.range(2, 300) }, (_, i) => `displayName eq '${i}'`).join(
        r.pick([' and ', ' or ']),
      );
    case 2:
      return `displayName eq '${'x'.repeat(r.range(1, 12_000))}'`;
    case 3:
      return r.pick([
        "displayName eq 'unterminated",
        "startswith(displayName,'A'",
        'not not not',
        "displayName eq ''''",
        'a/b/c/d eq 1',
        'any(x:x eq 1)',
        "displayName in ('a','b')",
        "endswith(mail,'@x')",
        'id eq 6e7b768e-07e2-4810-8459-485f84f8f204',
        'displayName eq null',
        '1 eq 1',
        "constructor eq 'x'",
        "__proto__ eq 'x'",
        "displayName eq 'a' and",
        'eq eq eq',
        "contains(displayName,'\\u0000')",
      ]);
    case 4:
      return r.text(r.range(1, 200), 'abcdefg ()\'",eqnotandor/$@*?:-_0123456789');
    case 5:
      return `not(${'not('.repeat(r.range(1, 200))}displayName eq 'a'${')'.repeat(r.range(1, 201))}`;
    default:
      return `startswith(displayName,'${r.text(r.range(0, 5))}')`;
  }
}

const enc = (s) => (typeof s === 'string' ? encodeURIComponent(s) : s);

const odata = [
  (r) => {
    const opts = [];
    for (let i = 0, n = r.range(1, 5); i < n; i++) {
      const k = r.pick([
        '$top',
        '$skip',
        '$filter',
        '$orderby',
        '$select',
        '$count',
        '$search',
        '$skiptoken',
        '$expand',
        '$format',
        '$deltatoken',
        '$foo',
        'top',
        '$TOP',
        '$ top',
        '$',
      ]);
      let v;
      switch (k) {
        case '$top':
        case '$skip':
        case '$TOP':
          v = r.pick([
            '-1',
            '0',
            '1',
            '999',
            '1e3',
            '99999999999999999999',
            'abc',
            '',
            '1.5',
            ' 2',
            '0x10',
            'NaN',
            'Infinity',
          ]);
          break;
        case '$filter':
          v = filterExpr(r);
          break;
        case '$orderby':
          v = r.pick([
            'displayName',
            'displayName desc',
            'displayName sideways',
            'a,b,c,d,e,f',
            ',',
            'x'.repeat(r.range(1, 5000)),
            'constructor',
            '__proto__ desc',
          ]);
          break;
        case '$select':
          v = Array.from({ length: r.range(1, 500) }, () =>
            r.pick(['id', 'displayName', 'mail', '__proto__', 'constructor', r.text(4), '']),
          ).join(',');
          break;
        case '$skiptoken':
        case '$deltatoken':
          v = r.pick([
            '',
            'abc',
            'eyJ4IjoxfQ',
            Buffer.from('{"__proto__":{"polluted":1}}').toString('base64url'),
            Buffer.from(JSON.stringify({ o: -1, s: 1e308 })).toString('base64url'),
            r.text(r.range(1, 3000)),
            '%%%',
          ]);
          break;
        default:
          v = r.pick(['true', 'false', 'x', '', '"quoted"', '*']);
      }
      opts.push(`${enc(k)}=${r.chance(0.9) ? enc(v) : v}`);
    }
    if (r.chance(0.2)) opts.push(opts[0]); // repeated option
    const path = r.pick([
      ...COLLECTIONS,
      '/v1.0/me/drive/root/delta',
      '/v1.0/users/$count',
      '/v1.0/me',
      '/v1.0/groups/c1f94766-9366-4d50-bd50-566b36ebda96/members',
    ]);
    return req('OData query abuse', r.pick(['GET', 'GET', 'GET', 'HEAD']), `${path}?${opts.join('&')}`, {
      headers: r.chance(0.5) ? { ConsistencyLevel: 'eventual' } : {},
    });
  },
  (r) =>
    req(
      'entity ids',
      r.pick(['GET', 'PATCH', 'DELETE']),
      `${r.pick(COLLECTIONS)}/${r.pick(['%00', '..', '%2e%2e', "'", 'x'.repeat(r.range(900, 2000)), '__proto__', 'constructor', 'hasOwnProperty', '$count', 'delta()', "('a')", '%E2%80%AE'])}`,
      {
        headers: { 'Content-Type': 'application/json', 'If-Match': r.pick(['*', 'W/"1"', 'garbage']) },
        body: r.chance(0.5) ? '{"displayName":"z"}' : undefined,
      },
    ),
];

// ---------------------------------------------------------------- path traversal
const traversal = [
  (r) =>
    req(
      'path traversal',
      r.pick(['GET', 'POST', 'DELETE']),
      r.pick([
        '/v1.0/../../etc/passwd',
        '/v1.0/%2e%2e/%2e%2e/etc/passwd',
        '/v1.0/..%2f..%2fetc%2fpasswd',
        '/__admin/../v1.0/me',
        '/__admin/%2e%2e/%2e%2e/etc/passwd',
        '//etc/passwd',
        '/v1.0//users',
        '/v1.0/users/..\\..\\windows\\win.ini',
        '/v1.0/me/drive/root:/../../secret.txt:/content',
        '/scenarios/data/users.json',
        '/../package.json',
        '/__admin/tls/ca.pem/../../../etc/passwd',
        '/v1.0/%252e%252e/%252e%252e/',
        '/%c0%ae%c0%ae/%c0%ae%c0%ae/',
        '/v1.0/users;/../../',
        `/v1.0/${'../'.repeat(r.range(1, 200))}etc/passwd`,
      ]),
    ),
  (r) =>
    req(
      'doubled absolute URL',
      'GET',
      r.pick([
        `/v1.0/${LISTENER}/v1.0/users`,
        '/v1.0/http://evil.test/v1.0/users?$top=1',
        '/beta/https://127.0.0.1:9/beta/me',
        '/v1.0/http:/x',
        '/v1.0/http://',
        '/v1.0/file:///etc/passwd',
      ]),
    ),
  (r) =>
    req(
      'monitor URLs',
      'GET',
      `/_api/v2.0/monitor/${r.pick(['', '..', '%2e%2e', '__proto__', 'x'.repeat(r.range(1, 3000)), 'a/b/c', '%zz'])}`,
    ),
];

// ---------------------------------------------------------------- admin API abuse
function yamlBomb(r) {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  const levels = r.range(3, 9);
  for (let i = 1; i < levels; i++) {
    const p = String.fromCharCode(96 + i);
    const c = String.fromCharCode(97 + i);
    lines.push(`${c}: &${c} [${Array(9).fill(`*${p}`).join(',')}]`);
  }
  return `${lines.join('\n')}\nroutes: [{ path: /v1.0/bomb, response: { body: *${String.fromCharCode(96 + levels)} } }]\n`;
}

function scenarioText(r) {
  const name = `fz${r.int(5)}`;
  switch (r.int(9)) {
    case 0:
      return yamlBomb(r);
    case 1:
      return `name: ${name}\n${r.pick(['__proto__', 'constructor', 'prototype'])}: { polluted: true }\nroutes: [{ path: /v1.0/fz, response: { status: 200 } }]\n`;
    case 2:
      return `name: ${name}\nroutes:\n  - path: /v1.0/fz\n    response: { bodyFile: ${r.pick(['/etc/passwd', '../../../../etc/passwd', 'data/users.json', '..\\\\..\\\\x', '/proc/self/environ', 'file:///etc/passwd', `${LISTENER}/x`])} }\n`;
    case 3:
      return `name: ${name}\nroutes:\n  - path: /v1.0/fz\n    collection: { itemsFile: ${r.pick(['/etc/passwd', '../package.json', `${LISTENER}/users.json`])} }\n`;
    case 4: {
      const routes = Array.from(
        { length: r.range(100, 1500) },
        (_, i) => `  - { id: r${i}, path: /v1.0/fzbig/${i}, response: { status: 200, body: { i: ${i} } } }`,
      );
      return `name: ${name}\nroutes:\n${routes.join('\n')}\n`;
    }
    case 5:
      return `name: ${name}\nroutes: [{ path: /v1.0/fz, response: { status: ${r.pick([0, 99, 101, 600, -1, '"x"', 1e10])}, headers: { ${r.pick(['"x-a": "a\\r\\nb"', '"bad name": v', 'content-length: "1"', '"x-b": "\\u20ac"', 'x-c: ok'])} } } }]\n`;
    case 6:
      return r.pick([
        '',
        '---\n---\n',
        ':',
        '{',
        '[1,2',
        'routes: !!js/function "x"',
        'routes: !!binary aGk=',
        '%YAML 9.9\n---\n',
        `name: ${name}\nroutes: *x\n`,
        'a: b\na: c\n',
        '\0\0\0',
        `name: ${'n'.repeat(500)}\nroutes: []\n`,
      ]);
    case 7:
      return JSON.stringify({
        name,
        routes: [
          {
            path: r.pick([
              '/v1.0/fz/:id',
              '/v1.0/fz/*',
              '/:a/:b/:c',
              '/v1.0/(.*)',
              '/v1.0/fz/:id(^\\d+$)',
              'no-slash',
              '/v1.0/fz/' + ':p'.repeat(50),
            ]),
            response: { status: 200 },
          },
        ],
      });
    default:
      return `name: ${name}\nroutes:\n  - path: /v1.0/fz${r.int(3)}\n    response: { status: ${r.pick([200, 404, 429, 503])}, body: { ok: true } }\n`;
  }
}

const admin = [
  (r) =>
    req('POST /__admin/scenarios', 'POST', '/__admin/scenarios', {
      headers: {
        'Content-Type': r.pick([
          'application/yaml',
          'application/json',
          'text/yaml',
          'application/x-yaml',
          'text/plain',
        ]),
      },
      body: scenarioText(r),
    }),
  (r) =>
    req(
      'DELETE /__admin/scenarios',
      'DELETE',
      `/__admin/scenarios/${r.pick(['fz0', 'fz1', 'nope', '__proto__', 'constructor', '%zz', 'x'.repeat(r.range(1, 2000)), '..%2f..'])}`,
    ),
  (r) =>
    req(
      'PATCH /__admin/routes',
      'PATCH',
      `/__admin/routes/${r.pick(['fuzz-echo', 'nope', '__proto__', 'me', '%00'])}`,
      {
        headers: { 'Content-Type': 'application/json' },
        body: r.pick([
          '{"response":{"status":600}}',
          '{"response":{"headers":{"x":"a\\r\\nb"}}}',
          '{"response":{"bodyFile":"/etc/passwd"}}',
          '{"faults":"x"}',
          '{"__proto__":{"polluted":1}}',
          '{"latency":{"fixed":-1}}',
          '{"responses":[]}',
          '[]',
          'null',
          '{"response":{"status":418}}',
          `{"throttle":"${r.text(5)}"}`,
        ]),
      },
    ),
  (r) =>
    req(
      'GET /__admin/requests',
      'GET',
      `/__admin/requests${r.pick(['', '/unmatched'])}?${r.pick(['limit=-1', 'limit=abc', 'limit=1e9', 'limit=99999999999999999999', 'limit=1&limit=2', 'status=abc', 'method=%00', 'path=' + 'p'.repeat(r.range(1, 5000)), 'session=__proto__', 'limit='])}`,
    ),
  (r) =>
    req('POST /__admin/requests/count', 'POST', '/__admin/requests/count', {
      headers: { 'Content-Type': 'application/json' },
      body: r.pick([
        '{}',
        '{"status":"x"}',
        '{"method":{"$ne":1}}',
        '[]',
        'null',
        '{"path":"' + 'x'.repeat(r.range(1, 9000)) + '"}',
        '{"routeId":null}',
        '{"constructor":{"prototype":{"polluted":1}}}',
      ]),
    }),
  (r) =>
    req(
      'POST /__admin/reset',
      'POST',
      `/__admin/reset${r.pick(['', '?session=__proto__', '?session=' + 's'.repeat(r.range(1, 3000)), '?session=a&session=b'])}`,
    ),
  (r) =>
    req(
      'GET /__admin/report',
      'GET',
      `/__admin/report?format=${r.pick(['json', 'junit', 'xml', '', '%00', '__proto__'])}`,
    ),
  (r) =>
    req(
      'admin reads',
      r.pick(['GET', 'HEAD', 'OPTIONS']),
      r.pick([
        '/__admin/scenarios',
        '/__admin/throttles',
        '/__admin/docs/json',
        '/__admin/tls/ca.pem',
        '/__admin/health',
        '/__admin/nothing',
        '/__admin',
        '/__admin/',
      ]),
    ),
  (r) =>
    req('admin with a bad token', 'GET', '/__admin/requests', {
      headers: {
        Authorization: r.pick([
          'Bearer ',
          'Bearer x',
          'Basic eA==',
          'Bearer ' + 't'.repeat(r.range(1, 5000)),
        ]),
      },
    }),
];

export const CATEGORIES = { protocol, json, batch, odata, traversal, admin };

/** How often each category is drawn (protocol abuse is the widest surface). */
export const WEIGHTS = { protocol: 30, json: 15, batch: 15, odata: 15, traversal: 10, admin: 15 };

/** The scenario the fuzzer serves next to the built-in tenant: an echo route and a scripted 500. */
export const FUZZ_SCENARIO = {
  name: 'fuzz',
  routes: [
    {
      id: 'fuzz-echo',
      method: '*',
      path: '/:version/fuzz/echo',
      response: { status: 200, body: { ok: true } },
    },
    { id: 'fuzz-fail', path: '/:version/fuzz/fail', response: { status: 500 } },
  ],
};
