// The headers every Graph response carries (graph-facts §0, §5), built once; only the correlation ids
// change per response. Node's http server adds `Date` itself (cached per second).
export const ODATA_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
export const ERROR_JSON = 'application/json';

export const AGS_DIAGNOSTIC =
  '{"ServerInfo":{"DataCenter":"West US 2","Slice":"E","Ring":"1","ScaleUnit":"000","RoleInstance":"MWH0EPF00000000"}}';

export const WWW_AUTHENTICATE =
  'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

/** Constant headers for a status class; callers copy them into the reply and add request-id & co. */
export function baseHeaders(status: number, hasJsonBody: boolean): Record<string, string> {
  const h: Record<string, string> = {
    'cache-control': 'no-cache',
    'strict-transport-security': 'max-age=31536000',
    'x-ms-ags-diagnostic': AGS_DIAGNOSTIC,
  };
  if (status < 400) {
    h['odata-version'] = '4.0';
    if (hasJsonBody) h['content-type'] = ODATA_JSON;
  } else {
    if (hasJsonBody) h['content-type'] = ERROR_JSON;
    if (status === 401) {
      h['www-authenticate'] = WWW_AUTHENTICATE;
      delete h['cache-control'];
    }
  }
  return h;
}

let cachedSecond = 0;
let cachedDate = '';
/** `innerError.date`: UTC, second precision, no offset (e.g. 2025-02-13T10:17:05). */
export function graphDate(now = Date.now()): string {
  const sec = Math.floor(now / 1000);
  if (sec !== cachedSecond) {
    cachedSecond = sec;
    cachedDate = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  return cachedDate;
}

/** A client-request-id is echoed only if it is a sane single token; otherwise Graph-style the request-id. */
export function clientRequestId(header: string | string[] | undefined, requestId: string): string {
  const v = Array.isArray(header) ? header[0] : header;
  if (v && v.length <= 128 && /^[A-Za-z0-9._:{}-]+$/.test(v)) return v;
  return requestId;
}
