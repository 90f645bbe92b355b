// Errors the request itself causes, answered the way real Graph answers them (DESIGN §3, issue 3
// point 4): unmatched 404, unknown segment 400, 405, 401 (none / garbage / expired), 400 bad JSON,
// 406, 415, 413 — each a Graph envelope whose request-id matches the header.
import { request as httpRequest } from 'node:http';
import t, { type Test } from 'tap';
import type { Decision } from '../src/engine/types.js';
import { WWW_AUTHENTICATE } from '../src/graph/headers.js';
import { GRAPH_DATE, GUID, getJson, startMock } from './helpers/mock.js';

const scenario = {
  name: 'calendar',
  auth: 'required' as const,
  routes: [
    { id: 'me', path: '/:version/me', response: { body: { id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd' } } },
    { id: 'update-me', method: 'PATCH', path: '/:version/me', response: { status: 204 } },
    {
      id: 'send-mail',
      method: 'POST',
      path: '/:version/me/sendMail',
      workload: 'outlook' as const,
      response: { status: 202 },
    },
  ],
};

/** An unsigned JWT (signatures are never checked): header.payload.signature in base64url. */
function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}
const now = () => Math.floor(Date.now() / 1000);
const valid = `Bearer ${jwt({ aud: 'https://graph.microsoft.com', tid: 'dcd219dd', oid: '87d349ed', exp: now() + 3600 })}`;
const expired = `Bearer ${jwt({ aud: 'https://graph.microsoft.com', exp: now() - 60 })}`;

/** A Graph envelope with a request-id that matches the header, and nothing that looks like a stack. */
function envelope(
  t: Test,
  res: { status: number; headers: Headers; body: any; text: string },
  status: number,
) {
  t.equal(res.status, status);
  t.equal(res.headers.get('content-type'), 'application/json');
  t.same(Object.keys(res.body?.error ?? {}), ['code', 'message', 'innerError']);
  t.match(res.headers.get('request-id'), GUID);
  t.equal(res.body.error.innerError['request-id'], res.headers.get('request-id'));
  t.match(res.body.error.innerError.date, GRAPH_DATE);
  t.notMatch(res.text, /\bat .+:\d+:\d+|Error:|FST_/, 'no stack trace or framework code');
  return res.body.error as { code: string; message: string };
}

async function setup(t: Test, bodyLimit?: number, surface?: 'off') {
  const mock = await startMock(t, { scenarios: [scenario], bodyLimit, surface });
  const decisions: Decision[] = [];
  mock.context.observers.push((_req, d) => decisions.push(d));
  return { mock, decisions };
}

t.test('no route, surface off: Graph 404, recorded as unmatched', async (t) => {
  const { mock, decisions } = await setup(t, undefined, 'off');
  const res = await getJson(`${mock.url}/v1.0/me/nothing-here`, { headers: { authorization: valid } });
  const e = envelope(t, res, 404);
  t.equal(e.code, 'Request_ResourceNotFound');
  t.match(e.message, /^Resource 'nothing-here' does not exist/);
  t.equal(decisions.at(-1)?.unmatched, true);
  t.equal(decisions.at(-1)?.routeId, null);
});

t.test('unknown first segment: 400 "Resource not found for the segment"', async (t) => {
  const { mock, decisions } = await setup(t);
  const e = envelope(t, await getJson(`${mock.url}/v1.0/mee`), 400);
  t.same([e.code, e.message], ['BadRequest', "Resource not found for the segment 'mee'."]);
  t.equal(decisions.at(-1)?.unmatched, true);
});

t.test('no version, or a wrong one: 400 "Invalid version."', async (t) => {
  const { mock, decisions } = await setup(t);
  for (const path of ['/me', '/v2.0/me', '/v1.0None?$top=1']) {
    const e = envelope(t, await getJson(`${mock.url}${path}`, { headers: { authorization: valid } }), 400);
    t.same([e.code, e.message], ['BadRequest', 'Invalid version.'], path);
    t.equal(decisions.at(-1)?.unmatched, true);
  }
});

t.test('known path, wrong method: 405', async (t) => {
  const { mock } = await setup(t);
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const e = envelope(
      t,
      await getJson(`${mock.url}/v1.0/me`, { method, headers: { authorization: valid } }),
      405,
    );
    t.same(
      [e.code, e.message],
      ['Request_BadRequest', 'Specified HTTP method is not allowed for the request target.'],
    );
  }
  // a method Fastify has no route for still gets Graph's answer
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(`${mock.url}/v1.0/me`, { method: 'PROPFIND' }, (r) => {
      let body = '';
      r.on('data', (c) => (body += c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(res.status, 405);
  t.equal(JSON.parse(res.body).error.code, 'Request_BadRequest');
});

t.test('auth: required — no token, a garbage token, an expired JWT, a good JWT', async (t) => {
  const { mock } = await setup(t);
  const none = await getJson(`${mock.url}/v1.0/me`);
  t.same(envelope(t, none, 401), {
    code: 'InvalidAuthenticationToken',
    message: 'Access token is empty.',
    innerError: none.body.error.innerError,
  });
  t.equal(none.headers.get('www-authenticate'), WWW_AUTHENTICATE);
  t.match(none.headers.get('www-authenticate'), /client_id="00000003-0000-0000-c000-000000000000"/);

  for (const garbage of ['Bearer not-a-jwt', 'Bearer a.b.c', `Bearer ${'x'.repeat(3000)}`]) {
    const res = await getJson(`${mock.url}/v1.0/me`, { headers: { authorization: garbage } });
    const e = envelope(t, res, 401);
    t.same(
      [e.code, e.message],
      ['InvalidAuthenticationToken', 'CompactToken parsing failed with error code: 80049217'],
    );
    t.equal(res.headers.get('www-authenticate'), WWW_AUTHENTICATE);
  }
  const basic = await getJson(`${mock.url}/v1.0/me`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
  t.equal(envelope(t, basic, 401).message, 'Access token is empty.', 'a non-bearer scheme is no token');

  const old = await getJson(`${mock.url}/v1.0/me`, { headers: { authorization: expired } });
  t.same(
    [envelope(t, old, 401).code, old.body.error.message],
    ['InvalidAuthenticationToken', 'Access token has expired.'],
  );
  t.equal(old.headers.get('www-authenticate'), WWW_AUTHENTICATE);

  const ok = await getJson(`${mock.url}/v1.0/me`, { headers: { authorization: valid } });
  t.equal(ok.status, 200);
  t.same(ok.body, { id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd' });
});

t.test('malformed JSON body: 400', async (t) => {
  const { mock } = await setup(t);
  for (const body of ['{"mobilePhone":', '{bad json}', '[1,2', '']) {
    const res = await getJson(`${mock.url}/v1.0/me`, {
      method: 'PATCH',
      headers: { authorization: valid, 'content-type': 'application/json' },
      body,
    });
    const e = envelope(t, res, 400);
    t.equal(e.code, 'BadRequest', `body ${JSON.stringify(body)}`);
  }
  const good = await fetch(`${mock.url}/v1.0/me`, {
    method: 'PATCH',
    headers: { authorization: valid, 'content-type': 'application/json' },
    body: '{"mobilePhone":"+1 425 555 0109"}',
  });
  t.equal(good.status, 204);
});

t.test('Accept it cannot produce: 406; JSON-compatible Accepts are fine', async (t) => {
  const { mock } = await setup(t);
  for (const accept of ['application/xml', 'text/html', 'image/png']) {
    const res = await getJson(`${mock.url}/v1.0/me`, { headers: { authorization: valid, accept } });
    t.equal(envelope(t, res, 406).code, 'notSupported', accept);
  }
  for (const accept of [
    'application/json',
    '*/*',
    'application/json;odata.metadata=minimal',
    'text/html, */*;q=0.1',
  ]) {
    t.equal(
      (await fetch(`${mock.url}/v1.0/me`, { headers: { authorization: valid, accept } })).status,
      200,
      accept,
    );
  }
});

t.test('body Content-Type it cannot read: 415', async (t) => {
  const { mock } = await setup(t);
  for (const [type, body] of [
    ['text/plain', 'hello'],
    ['application/xml', '<message/>'],
    ['application/x-www-form-urlencoded', 'a=b'],
  ] as const) {
    const res = await getJson(`${mock.url}/v1.0/me/sendMail`, {
      method: 'POST',
      headers: { authorization: valid, 'content-type': type },
      body,
    });
    t.equal(envelope(t, res, 415).code, 'invalidRequest', type);
  }
  const json = await fetch(`${mock.url}/v1.0/me/sendMail`, {
    method: 'POST',
    headers: { authorization: valid, 'content-type': 'application/json; charset=utf-8' },
    body: '{"message":{"subject":"Lunch"}}',
  });
  t.equal(json.status, 202);
});

t.test('oversized body: 413, and the server keeps serving', async (t) => {
  const { mock } = await setup(t, 64 * 1024);
  const res = await getJson(`${mock.url}/v1.0/me/sendMail`, {
    method: 'POST',
    headers: { authorization: valid, 'content-type': 'application/json' },
    body: JSON.stringify({ message: { body: 'x'.repeat(200 * 1024) } }),
  });
  const e = envelope(t, res, 413);
  t.same([e.code, e.message], ['invalidRequest', 'The request size exceeds the maximum limit.']);
  t.equal((await fetch(`${mock.url}/v1.0/me`, { headers: { authorization: valid } })).status, 200);
});
