// What never reaches disk: tokens and secrets in bodies and query strings, the bearer tokens clients
// sent, paging/delta tokens (replaced by stable placeholders so the recorded paging still links up),
// and any extra JSON paths named with --redact. The upstream's origin is replaced by the replay origin.

export const REDACTED = 'REDACTED';

/** JSON members whose value is a secret wherever they appear (compared in lower case). */
const SECRET_KEYS: ReadonlySet<string> = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'client_assertion',
  'assertion',
  'password',
  'passwordprofile',
  'secrettext',
  'code_verifier',
  'device_code',
  'user_code',
  'token',
  'sastoken',
]);

/** Query parameters that carry secrets. */
const SECRET_QUERY: ReadonlySet<string> = new Set([
  'access_token',
  'client_secret',
  'code',
  'sig',
  'token',
  'refresh_token',
  'id_token',
  'password',
]);

/** Paging and change-tracking tokens: opaque state of the upstream, replaced by stable placeholders. */
const PAGING_QUERY = /^\$?(skiptoken|deltatoken)$/i;
const PAGING_IN_LINK = /([?&]\$?(?:skiptoken|deltatoken)=)([^&#]*)/gi;
const LINK_KEYS: ReadonlySet<string> = new Set([
  '@odata.nextlink',
  '@odata.deltalink',
  'nextlink',
  'deltalink',
]);
const JWT = /^eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

export interface RedactOptions {
  /** the upstream's origin (scheme://host[:port]) as it appears in bodies and headers */
  upstreamOrigin: string;
  /** what replaces it in the written scenario */
  replayOrigin: string;
  /** dotted JSON paths (`value.*.mobilePhone`, `$.id`) redacted in every body */
  paths?: readonly string[];
}

export class Redactor {
  private readonly tokens = new Map<string, string>();
  private readonly secrets = new Set<string>();
  private readonly paths: string[][];

  constructor(private readonly opts: RedactOptions) {
    this.paths = (opts.paths ?? []).map((p) =>
      p
        .replace(/^\$\.?/, '')
        .split('.')
        .filter(Boolean),
    );
  }

  /** A secret the recorder saw (a bearer token, a cookie): any occurrence in written text is replaced. */
  addSecret(value: string): void {
    if (value.length >= 8) this.secrets.add(value);
  }

  /** The placeholder of a paging token: the same token always gets the same one. */
  pagingToken(value: string): string {
    let p = this.tokens.get(value);
    if (!p) {
      p = `redacted-${this.tokens.size + 1}`;
      this.tokens.set(value, p);
    }
    return p;
  }

  queryValue(name: string, value: string): string {
    if (PAGING_QUERY.test(name)) return this.pagingToken(value);
    if (SECRET_QUERY.has(name.toLowerCase()) || JWT.test(value)) return REDACTED;
    return this.text(value);
  }

  /** Free text: secrets out, the upstream origin swapped for the replay origin. */
  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    if (this.opts.upstreamOrigin && out.includes(this.opts.upstreamOrigin))
      out = out.split(this.opts.upstreamOrigin).join(this.opts.replayOrigin);
    return out;
  }

  /** A URL (nextLink, Location): paging tokens → placeholders, secret query values → REDACTED. */
  link(url: string): string {
    const withTokens = url.replace(PAGING_IN_LINK, (_m, prefix: string, raw: string) => {
      let v = raw;
      try {
        v = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        /* keep raw */
      }
      return prefix + this.pagingToken(v);
    });
    const secretsOut = withTokens.replace(/([?&])([^=&#]+)=([^&#]*)/g, (m, sep: string, k: string) =>
      SECRET_QUERY.has(k.toLowerCase()) ? `${sep}${k}=${REDACTED}` : m,
    );
    return this.text(secretsOut);
  }

  /** A JSON value, copied with every secret replaced. */
  json(value: unknown): unknown {
    const out = this.walk(value, undefined);
    for (const p of this.paths) redactPath(out, p, 0);
    return out;
  }

  private walk(v: unknown, key: string | undefined): unknown {
    const k = key?.toLowerCase();
    if (k !== undefined && SECRET_KEYS.has(k) && v !== null && v !== '') return REDACTED;
    if (typeof v === 'string') {
      if (JWT.test(v)) return REDACTED;
      return k !== undefined && LINK_KEYS.has(k) ? this.link(v) : this.text(v);
    }
    if (Array.isArray(v)) return v.map((x) => this.walk(x, undefined));
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [name, x] of Object.entries(v)) o[name] = this.walk(x, name);
      return o;
    }
    return v;
  }
}

function redactPath(node: unknown, path: string[], i: number): void {
  if (!node || typeof node !== 'object' || i >= path.length) return;
  const seg = path[i]!;
  const last = i === path.length - 1;
  const o = node as Record<string, unknown>;
  const keys = seg === '*' ? Object.keys(o) : Object.hasOwn(o, seg) ? [seg] : [];
  for (const k of keys) {
    if (last) o[k] = REDACTED;
    else redactPath(o[k], path, i + 1);
  }
}
