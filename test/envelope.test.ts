// The error envelope compiler and the per-workload code tables (unit level: no server needed).
import t from 'tap';
import { compileEnvelope, renderEnvelope } from '../src/graph/envelope.js';
import { clientRequestId, graphDate } from '../src/graph/headers.js';
import { defaultErrorText } from '../src/graph/status-codes.js';
import type { WorkloadName } from '../src/scenario/schema.js';
import { GRAPH_DATE } from './helpers/mock.js';

const STATUSES = [
  400, 401, 402, 403, 404, 405, 406, 409, 410, 412, 413, 415, 416, 422, 423, 424, 429, 500, 501, 502, 503,
  504, 507, 509,
];
const WORKLOADS: WorkloadName[] = ['generic', 'directory', 'outlook', 'onedrive'];
const values = {
  date: '2025-02-13T10:17:06',
  requestId: '93b6f17e-c05d-4f45-ad2a-6665c708d8a0',
  clientRequestId: 'e70c5c1b-8b47-68c0-3171-3d22f5e0bd54',
  resourceId: '62375ab9-6b52-47ed-826b-58e47e0e304c',
};
const render = (status: number, workload: WorkloadName, override?: Parameters<typeof compileEnvelope>[2]) =>
  JSON.parse(renderEnvelope(compileEnvelope(status, workload, override), values));

t.test('every documented status has a real code and message in every workload', async (t) => {
  for (const w of WORKLOADS) {
    for (const s of STATUSES) {
      const body = render(s, w);
      t.match(body.error.code, /^[A-Za-z_]+$/, `${w} ${s} code`);
      t.ok(body.error.message.length > 5, `${w} ${s} message`);
      t.same(
        [
          body.error.innerError.date,
          body.error.innerError['request-id'],
          body.error.innerError['client-request-id'],
        ],
        [values.date, values.requestId, values.clientRequestId],
      );
    }
  }
});

t.test('vocabulary per workload follows graph-facts', async (t) => {
  const code = (s: number, w: WorkloadName) => defaultErrorText(s, w).code;
  t.same(
    WORKLOADS.map((w) => code(404, w)),
    ['itemNotFound', 'Request_ResourceNotFound', 'ErrorItemNotFound', 'itemNotFound'],
  );
  t.same(
    WORKLOADS.map((w) => code(403, w)),
    ['accessDenied', 'Authorization_RequestDenied', 'ErrorAccessDenied', 'accessDenied'],
  );
  t.same(
    WORKLOADS.map((w) => code(429, w)),
    ['TooManyRequests', 'TooManyRequests', 'ApplicationThrottled', 'activityLimitReached'],
  );
  t.same(
    WORKLOADS.map((w) => code(410, w)),
    ['resyncRequired', 'resyncRequired', 'SyncStateNotFound', 'resyncRequired'],
  );
  for (const w of WORKLOADS) {
    t.same(defaultErrorText(401, w), {
      code: 'InvalidAuthenticationToken',
      message: 'Access token is empty.',
    });
    t.same(defaultErrorText(405, w), {
      code: 'Request_BadRequest',
      message: 'Specified HTTP method is not allowed for the request target.',
    });
  }
  t.equal(code(409, 'directory'), 'Directory_ConcurrencyViolation');
  t.equal(code(500, 'outlook'), 'ErrorInternalServerTransientError');
  t.equal(code(503, 'generic'), 'serviceNotAvailable');
  t.equal(code(507, 'onedrive'), 'quotaLimitReached');
});

t.test('the directory 404 names the resource; the id is escaped into valid JSON', async (t) => {
  t.equal(
    render(404, 'directory').error.message,
    "Resource '62375ab9-6b52-47ed-826b-58e47e0e304c' does not exist or one of its queried reference-property objects are not present.",
  );
  const env = compileEnvelope(404, 'directory', undefined);
  const hostile = renderEnvelope(env, { ...values, resourceId: 'a"b\\c\n</script>' });
  t.match(JSON.parse(hostile).error.message, /^Resource 'a"b\\c\n<\/script>' does not exist/);
});

t.test('real nested innerError members come before the correlation members', async (t) => {
  const spo = render(429, 'onedrive');
  t.same(Object.keys(spo.error.innerError), [
    'code',
    'innerError',
    'date',
    'request-id',
    'client-request-id',
  ]);
  t.same(spo.error.innerError.innerError, { code: 'quota' });
  const generic = render(429, 'generic');
  t.same([generic.error.innerError.code, generic.error.innerError.status], ['429', '429']);
  t.equal(render(410, 'onedrive').error.innerError.code, 'resyncChangesApplyDifferences');
  t.notOk('code' in render(404, 'generic').error.innerError, 'no nesting where Graph has none');
});

t.test('error overrides: merged, dropped or replaced', async (t) => {
  const merged = render(400, 'directory', {
    code: 'Request_BadRequest',
    message: 'Another object with the same value for property mailNickname already exists.',
    details: [{ target: 'mailNickname', code: 'ObjectConflict' }],
    innerError: { code: 'ObjectConflict' },
  });
  t.same(Object.keys(merged.error), ['code', 'message', 'details', 'innerError']);
  t.same(merged.error.details, [{ target: 'mailNickname', code: 'ObjectConflict' }]);
  t.same(merged.error.innerError, {
    code: 'ObjectConflict',
    date: values.date,
    'request-id': values.requestId,
    'client-request-id': values.clientRequestId,
  });

  const ownCode = render(429, 'onedrive', { code: 'TooManyRequests' });
  t.same(
    Object.keys(ownCode.error.innerError),
    ['date', 'request-id', 'client-request-id'],
    'a scripted code drops the default nesting',
  );

  const dropped = compileEnvelope(500, 'generic', { innerError: null });
  t.equal(dropped.carriesRequestId, false);
  t.same(Object.keys(JSON.parse(renderEnvelope(dropped, values)).error), ['code', 'message']);

  const odata = compileEnvelope(501, 'generic', {
    code: '501',
    message: 'Unsupported functionality',
    target: 'query',
    details: [{ code: '301', target: '$search', message: '$search query option not supported' }],
    innererror: { trace: [], context: {} },
  });
  t.equal(odata.carriesRequestId, false);
  t.equal(
    renderEnvelope(odata, values),
    '{"error":{"code":"501","message":"Unsupported functionality","target":"query","details":[{"code":"301","target":"$search","message":"$search query option not supported"}],"innererror":{"trace":[],"context":{}}}}',
  );

  const pinned = compileEnvelope(404, 'generic', {
    innerError: { 'request-id': 'fe2491f9-53e7-407c-9a08-b92b2bf6722b', date: '2018-05-11T17:06:22' },
  });
  t.equal(pinned.fixedRequestId, 'fe2491f9-53e7-407c-9a08-b92b2bf6722b');
  t.same(JSON.parse(renderEnvelope(pinned, values)).error.innerError, {
    date: '2018-05-11T17:06:22',
    'request-id': 'fe2491f9-53e7-407c-9a08-b92b2bf6722b',
    'client-request-id': values.clientRequestId,
  });
});

t.test('statuses Graph does not document fall back to the SDK chaos handler style', async (t) => {
  t.same(defaultErrorText(418), { code: 'ClientError', message: 'Client Error' });
  t.same(defaultErrorText(599), { code: 'ServerError', message: 'Server Error' });
  t.same(defaultErrorText(431), { code: 'invalidRequest', message: 'The request headers are too large.' });
});

t.test('innerError.date: UTC, second precision, no offset', async (t) => {
  t.equal(graphDate(Date.UTC(2025, 1, 13, 10, 17, 6, 999)), '2025-02-13T10:17:06');
  t.match(graphDate(), GRAPH_DATE);
});

t.test(
  'client-request-id: a sane client value is echoed, anything else becomes the request-id',
  async (t) => {
    t.equal(
      clientRequestId('e70c5c1b-8b47-68c0-3171-3d22f5e0bd54', 'rid'),
      'e70c5c1b-8b47-68c0-3171-3d22f5e0bd54',
    );
    t.equal(clientRequestId(['first', 'second'], 'rid'), 'first');
    t.equal(clientRequestId(undefined, 'rid'), 'rid');
    t.equal(clientRequestId('', 'rid'), 'rid');
    t.equal(clientRequestId('a b', 'rid'), 'rid');
    t.equal(clientRequestId('x'.repeat(129), 'rid'), 'rid');
    t.equal(clientRequestId('"><script>', 'rid'), 'rid');
  },
);

t.test('what the wire may send unchecked: ASCII renderings, header-safe pinned ids', async (t) => {
  t.equal(compileEnvelope(429, 'generic', undefined).ascii, true, 'the default envelope is ASCII');
  t.equal(
    compileEnvelope(400, 'generic', { message: 'Données invalides' }).ascii,
    false,
    'a non-ASCII message',
  );
  t.equal(
    compileEnvelope(404, 'generic', { message: "Resource '{id}' does not exist" }).ascii,
    false,
    'a decoded resource id may be anything',
  );
  // the pinned id is repeated in the request-id header: one a header cannot carry is not pinned there
  const bad = compileEnvelope(404, 'generic', { innerError: { 'request-id': 'a\r\nset-cookie: x' } });
  t.equal(bad.fixedRequestId, undefined);
  t.match(
    renderEnvelope(bad, { date: 'd', requestId: 'r', clientRequestId: 'c', resourceId: '' }),
    /a\\r\\nset-cookie/,
  );
  const spaced = compileEnvelope(404, 'generic', { innerError: { 'request-id': 'my id 1' } });
  t.equal(spaced.fixedRequestId, 'my id 1');
});
