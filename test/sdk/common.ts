// Shared by the SDK compatibility suite (test/sdk/): the target mock, the test token, Graph's error
// codes, per-test sessions, and the journal read back through the admin API.
import type { Test } from 'tap';

export type { Test };

export interface Target {
  /** http(s)://127.0.0.1:PORT of a mock serving test/sdk/fixtures/sdk.yaml */
  url: string;
  tls: boolean;
}

export const FIXTURES = new URL('./fixtures/', import.meta.url);

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const GRAPH_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;

/** An unsigned access token with the claims the mock decodes into the journal. */
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
export const APP_ID = 'a8f1c2d3-0000-4000-8000-00000000c0de';
export const TOKEN = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
  aud: 'https://graph.microsoft.com',
  tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  appid: APP_ID,
  oid: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
  exp: Math.floor(Date.now() / 1000) + 3600,
})}.c2ln`;

/** Graph's code for each scripted error status (graph-facts §2; 404 in the directory vocabulary). */
export const ERROR_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'InvalidAuthenticationToken',
  403: 'accessDenied',
  404: 'Request_ResourceNotFound',
  429: 'TooManyRequests',
  503: 'serviceNotAvailable',
};

let sessions = 0;
export const newSession = (name: string) => `sdk-${process.pid}-${name}-${++sessions}`;

interface Seen {
  time: number;
  path: string;
  status: number;
  headers: Record<string, unknown>;
}

/** What the mock answered in one session, oldest first (GET /__admin/requests). */
export async function journal(target: Target, session: string): Promise<Seen[]> {
  const res = await fetch(`${target.url}/__admin/requests?session=${encodeURIComponent(session)}`);
  const body = (await res.json()) as { requests: Seen[] };
  return body.requests;
}

/** Over https the Graph JS SDK attaches the token (customHosts); over http it keeps it to itself. */
export function expectToken(t: Test, target: Target, seen: Seen | undefined, sdkSendsOnHttp: boolean) {
  const auth = seen?.headers.authorization as { appid?: string } | string | undefined;
  if (target.tls || sdkSendsOnHttp) {
    t.equal(
      typeof auth === 'object' ? auth.appid : auth,
      APP_ID,
      'the bearer token arrived (journal shows its claims)',
    );
  } else {
    t.equal(auth, undefined, 'the SDK sent no bearer token to a plain-http host');
  }
}
