// Every status Graph documents, scripted in a scenario file and answered over real HTTP: the status,
// Graph's standard headers, and the error envelope with the code real Graph uses in that workload.
import t, { type Test } from 'tap';
import { ERROR_JSON, ODATA_JSON, WWW_AUTHENTICATE } from '../src/graph/headers.js';
import { GRAPH_DATE, GUID, getJson, startMock, tempScenarioDir } from './helpers/mock.js';

const SEED_STATUSES = [200, 201, 202, 204, 400, 401, 403, 404, 405, 406, 410, 415, 429, 500, 501, 503];
const MORE_STATUSES = [402, 409, 412, 413, 416, 422, 423, 424, 502, 504, 507, 509];

/** code real Graph sends with no scripted body (graph-facts §2.4, §3.1, §6, §10) */
const GENERIC_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'InvalidAuthenticationToken',
  402: 'paymentRequired',
  403: 'accessDenied',
  404: 'itemNotFound',
  405: 'Request_BadRequest',
  406: 'notSupported',
  409: 'nameAlreadyExists',
  410: 'resyncRequired',
  412: 'resourceModified',
  413: 'invalidRequest',
  415: 'invalidRequest',
  416: 'invalidRange',
  422: 'invalidRequest',
  423: 'resourceLocked',
  424: 'failedDependency',
  429: 'TooManyRequests',
  500: 'generalException',
  501: 'notSupported',
  502: 'BadGateway',
  503: 'serviceNotAvailable',
  504: 'GatewayTimeout',
  507: 'quotaLimitReached',
  509: 'activityLimitReached',
};

const yamlRoutes = [...SEED_STATUSES, ...MORE_STATUSES]
  .map((s) => {
    const body = s < 300 && s !== 204 && s !== 202 ? `, body: { id: "item-${s}" }` : '';
    return `  - { id: s${s}, method: "*", path: /v1.0/status/${s}, response: { status: ${s}${body} } }`;
  })
  .join('\n');

const scenario = `
name: statuses
routes:
${yamlRoutes}
  - { id: dir-404, path: /v1.0/users/:id, workload: directory, response: { status: 404 } }
  - { id: outlook-404, path: /v1.0/me/messages/:id, workload: outlook, response: { status: 404 } }
  - { id: drive-404, path: /v1.0/me/drive/items/:id, workload: onedrive, response: { status: 404 } }
  - { id: drive-429, path: /v1.0/me/drive/root/children, workload: onedrive, response: { status: 429, retryAfter: 41 } }
  - id: delta-410
    path: /v1.0/me/drive/root/delta
    workload: onedrive
    response: { status: 410, location: /v1.0/me/drive/root/delta }
  - id: dir-403
    path: /v1.0/directoryRoles
    workload: directory
    response: { status: 403 }
  - id: odata-501
    path: /v1.0/sites/root/lists
    response:
      status: 501
      error:
        code: "501"
        message: Unsupported functionality
        target: query
        details:
          - { code: "301", target: $search, message: $search query option not supported }
        innererror: { trace: [], context: {} }
  - id: pinned
    path: /v1.0/pinned
    response:
      status: 400
      error:
        code: Request_BadRequest
        message: Property classification has an invalid value.
        details: [ { target: classification, code: InvalidValue } ]
        innerError: { request-id: 20567d85-74c6-49c8-a59a-5775863335f1 }
  - id: nested-override
    path: /v1.0/nested
    workload: onedrive
    response: { status: 429, error: { innerError: { code: throttledRequest, innerError: { code: quota } } } }
  - id: created
    method: POST
    path: /v1.0/groups
    response: { status: 201, body: { id: 7058b418-4c15-49f7-b9b5-3630a16f4c75, displayName: Library Assist } }
  - id: seq
    path: /v1.0/sites/:siteId
    responses:
      - { status: 503, retryAfter: 5 }
      - { status: 503, retryAfter: 5 }
      - { status: 200, body: { id: site } }
  - id: cycle
    path: /v1.0/me/mailFolders/inbox/messages
    loop: true
    responses:
      - { status: 429, retryAfter: 2, workload: outlook }
      - { status: 200, body: { value: [] } }
`;

/** The headers every Graph response carries, success or error. */
function standardHeaders(t: Test, h: Headers, label: string) {
  t.match(h.get('request-id'), GUID, `${label}: request-id is a GUID`);
  t.ok(h.get('client-request-id'), `${label}: client-request-id`);
  t.ok(h.get('date') && !Number.isNaN(Date.parse(h.get('date')!)), `${label}: Date`);
  t.equal(h.get('strict-transport-security'), 'max-age=31536000', `${label}: HSTS`);
  const diag = JSON.parse(h.get('x-ms-ags-diagnostic') ?? 'null');
  t.ok(diag?.ServerInfo?.DataCenter, `${label}: x-ms-ags-diagnostic names a data center`);
}

t.test('every documented status, from a scenario file', async (t) => {
  const mock = await startMock(t, { scenarios: [tempScenarioDir({ 'statuses.yaml': scenario })] });

  for (const status of [...SEED_STATUSES, ...MORE_STATUSES]) {
    const method = status === 201 || status === 202 ? 'POST' : 'GET';
    const res = await fetch(`${mock.url}/v1.0/status/${status}`, {
      method,
      headers: { 'client-request-id': `crid-${status}` },
    });
    const text = await res.text();
    const h = res.headers;
    t.equal(res.status, status, `${status}: status`);
    standardHeaders(t, h, String(status));
    t.equal(h.get('client-request-id'), `crid-${status}`, `${status}: client-request-id echoed`);

    if (status === 204) {
      t.equal(text, '', '204: no body');
      t.equal(h.get('content-type'), null, '204: no Content-Type');
      t.equal(h.get('odata-version'), '4.0');
      continue;
    }
    if (status < 400) {
      t.equal(h.get('odata-version'), '4.0', `${status}: OData-Version`);
      if (status === 202) {
        t.equal(text, '', '202: no body');
      } else {
        t.equal(h.get('content-type'), ODATA_JSON, `${status}: OData JSON content type`);
        t.same(JSON.parse(text), { id: `item-${status}` });
      }
      if (status === 201 || status === 202) t.match(h.get('location'), /^http:\/\/127\.0\.0\.1:\d+\/v1\.0\//);
      continue;
    }

    t.equal(h.get('content-type'), ERROR_JSON, `${status}: errors are exactly application/json`);
    t.equal(h.get('odata-version'), null, `${status}: no OData-Version on errors`);
    const body = JSON.parse(text);
    t.same(Object.keys(body), ['error'], `${status}: a single "error" member`);
    t.same(Object.keys(body.error), ['code', 'message', 'innerError'], `${status}: envelope members`);
    t.equal(body.error.code, GENERIC_CODES[status], `${status}: code`);
    t.ok(body.error.message.length > 10, `${status}: a message`);
    const inner = body.error.innerError;
    t.equal(inner['request-id'], h.get('request-id'), `${status}: body request-id == header`);
    t.equal(inner['client-request-id'], `crid-${status}`);
    t.match(inner.date, GRAPH_DATE, `${status}: innerError.date is UTC, seconds, no offset`);
    t.ok(Math.abs(Date.parse(`${inner.date}Z`) - Date.now()) < 5000, `${status}: date is now`);
    if (status === 429 || status === 503) t.match(h.get('retry-after'), /^\d+$/, `${status}: Retry-After`);
    else t.equal(h.get('retry-after'), null);
    if (status === 401) t.equal(h.get('www-authenticate'), WWW_AUTHENTICATE);
    if (status === 429) {
      // throttling.md's sample: the status repeated inside innerError
      t.same([inner.code, inner.message, inner.status], ['429', 'Please retry after', '429']);
    }
  }
});

t.test('the workload picks the vocabulary', async (t) => {
  const mock = await startMock(t, { scenarios: [tempScenarioDir({ 'statuses.yaml': scenario })] });
  const dir = await getJson(`${mock.url}/v1.0/users/62375ab9-6b52-47ed-826b-58e47e0e304c`);
  t.equal(dir.body.error.code, 'Request_ResourceNotFound');
  t.equal(
    dir.body.error.message,
    "Resource '62375ab9-6b52-47ed-826b-58e47e0e304c' does not exist or one of its queried reference-property objects are not present.",
  );
  const mail = await getJson(`${mock.url}/v1.0/me/messages/AAMkAD`);
  t.same(
    [mail.body.error.code, mail.body.error.message],
    ['ErrorItemNotFound', 'The specified object was not found in the store.'],
  );
  const file = await getJson(`${mock.url}/v1.0/me/drive/items/01BYE5RZ`);
  t.same(
    [file.body.error.code, file.body.error.message],
    ['itemNotFound', 'The resource could not be found.'],
  );

  const forbidden = await getJson(`${mock.url}/v1.0/directoryRoles`);
  t.same(
    [forbidden.body.error.code, forbidden.body.error.message],
    ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'],
  );

  // the real OneDrive/SharePoint 429: nested throttledRequest → quota, then the correlation members
  const spo = await getJson(`${mock.url}/v1.0/me/drive/root/children`);
  t.equal(spo.status, 429);
  t.equal(spo.headers.get('retry-after'), '41');
  t.equal(spo.body.error.code, 'activityLimitReached');
  t.equal(spo.body.error.message, 'The request has been throttled');
  t.same(Object.keys(spo.body.error.innerError), [
    'code',
    'innerError',
    'date',
    'request-id',
    'client-request-id',
  ]);
  t.same(spo.body.error.innerError.innerError, { code: 'quota' });
  t.equal(spo.body.error.innerError.code, 'throttledRequest');

  // an expired delta token: 410, resyncRequired with the detailed code nested, Location restarts delta
  const gone = await getJson(`${mock.url}/v1.0/me/drive/root/delta?token=abc`);
  t.equal(gone.status, 410);
  t.equal(gone.body.error.code, 'resyncRequired');
  t.equal(gone.body.error.innerError.code, 'resyncChangesApplyDifferences');
  t.equal(gone.headers.get('location'), `${mock.url}/v1.0/me/drive/root/delta`);
});

t.test("the seed document's OData example, reproduced exactly through error:", async (t) => {
  const mock = await startMock(t, { scenarios: [tempScenarioDir({ 'statuses.yaml': scenario })] });
  const res = await getJson(`${mock.url}/v1.0/sites/root/lists?$search=budget`);
  t.equal(res.status, 501);
  t.equal(res.headers.get('content-type'), 'application/json');
  // o365-http-status-codes.md "Response example", with the […] / {…} placeholders as [] / {}
  const seed = {
    error: {
      code: '501',
      message: 'Unsupported functionality',
      target: 'query',
      details: [{ code: '301', target: '$search', message: '$search query option not supported' }],
      innererror: { trace: [], context: {} },
    },
  };
  t.same(res.body, seed);
  t.equal(res.text, JSON.stringify(seed), 'same members in the same order');
  t.match(res.headers.get('request-id'), GUID, 'the header still carries a request-id');
});

t.test(
  'error overrides merge into the envelope; a pinned request-id is repeated in the header',
  async (t) => {
    const mock = await startMock(t, { scenarios: [tempScenarioDir({ 'statuses.yaml': scenario })] });
    const pinned = await getJson(`${mock.url}/v1.0/pinned`, { headers: { 'client-request-id': 'mine' } });
    t.equal(pinned.headers.get('request-id'), '20567d85-74c6-49c8-a59a-5775863335f1');
    t.same(pinned.body.error.details, [{ target: 'classification', code: 'InvalidValue' }]);
    t.equal(pinned.body.error.innerError['request-id'], '20567d85-74c6-49c8-a59a-5775863335f1');
    t.equal(pinned.body.error.innerError['client-request-id'], 'mine');
    t.match(pinned.body.error.innerError.date, GRAPH_DATE);

    const nested = await getJson(`${mock.url}/v1.0/nested`);
    t.equal(nested.body.error.code, 'activityLimitReached', 'default code kept');
    t.same(nested.body.error.innerError.innerError, { code: 'quota' });
    t.equal(nested.body.error.innerError['request-id'], nested.headers.get('request-id'));
  },
);

t.test('client-request-id: echoed when sent, else the request-id', async (t) => {
  const mock = await startMock(t, { scenarios: [tempScenarioDir({ 'statuses.yaml': scenario })] });
  const crid = 'e70c5c1b-8b47-68c0-3171-3d22f5e0bd54';
  const echoed = await getJson(`${mock.url}/v1.0/status/200`, { headers: { 'client-request-id': crid } });
  t.equal(echoed.headers.get('client-request-id'), crid);
  const own = await getJson(`${mock.url}/v1.0/status/404`);
  t.equal(own.headers.get('client-request-id'), own.headers.get('request-id'));
  t.equal(own.body.error.innerError['client-request-id'], own.headers.get('request-id'));
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++)
    ids.add((await fetch(`${mock.url}/v1.0/status/200`)).headers.get('request-id')!);
  t.equal(ids.size, 5, 'a fresh request-id per response');
});

t.test('201 Location points at the created entity', async (t) => {
  const mock = await startMock(t, { scenarios: [tempScenarioDir({ 'statuses.yaml': scenario })] });
  const res = await getJson(`${mock.url}/v1.0/groups`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ displayName: 'Library Assist' }),
  });
  t.equal(res.status, 201);
  t.equal(res.headers.get('location'), `${mock.url}/v1.0/groups/7058b418-4c15-49f7-b9b5-3630a16f4c75`);
  t.equal(res.headers.get('content-type'), ODATA_JSON);
});

t.test('sequences: 503, 503, then 200 repeats; loop: true cycles; each session counts alone', async (t) => {
  const mock = await startMock(t, { scenarios: [tempScenarioDir({ 'statuses.yaml': scenario })] });
  const site = (session?: string) =>
    fetch(`${mock.url}/v1.0/sites/contoso.sharepoint.com`, {
      headers: session ? { 'x-mock-session': session } : {},
    }).then(async (r) => ({
      status: r.status,
      retryAfter: r.headers.get('retry-after'),
      body: await r.text(),
    }));
  const seen = [];
  for (let i = 0; i < 5; i++) seen.push(await site());
  t.same(
    seen.map((s) => s.status),
    [503, 503, 200, 200, 200],
  );
  t.same(
    seen.map((s) => s.retryAfter),
    ['5', '5', null, null, null],
  );
  t.same(JSON.parse(seen[2]!.body), { id: 'site' });
  t.equal((await site('other-test')).status, 503, 'another session starts at the beginning');

  const cycle = [];
  for (let i = 0; i < 5; i++)
    cycle.push((await fetch(`${mock.url}/v1.0/me/mailFolders/inbox/messages`)).status);
  t.same(cycle, [429, 200, 429, 200, 429]);

  mock.reset();
  t.equal((await site()).status, 503, 'reset restarts the sequence');
});
