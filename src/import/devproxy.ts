// Microsoft Dev Proxy files → one m365-mock scenario (the same ScenarioFile model scenario/ loads).
// Formats as documented on learn.microsoft.com (Dev Proxy technical reference: MockResponsePlugin,
// GenericRandomErrorPlugin, GraphRandomErrorPlugin, LatencyPlugin) and in the dotnet/dev-proxy JSON
// schemas (mockresponseplugin.mocksfile.schema.json, genericrandomerrorplugin.errorsfile.schema.json):
//   mocks file:   { mocks: [{ request: { url, method, nth, bodyFragment }, response: { statusCode, headers: [{name,value}], body } }] }
//   errors file:  { errors: [{ request: { url, method, bodyFragment }, responses: [{ statusCode, headers, body }] }] }
//   devproxyrc:   { plugins: [{ name, configSection }], <section>: { mocksFile | errorsFile | allowedErrors, rate, retryAfterInSeconds } }
// Every field without an equivalent produces one warning line naming the file and the field.
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import type { ScenarioToWrite } from '../record/write.js';
import type { FaultSpec, ResponseSpec, RouteSpec, ScenarioFile } from '../scenario/schema.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON of a foreign format, checked field by field where it is read
type Json = any;

export interface ImportResult {
  scenario: ScenarioToWrite;
  warnings: string[];
}

interface DevProxyHeader {
  name?: unknown;
  value?: unknown;
}
interface DevProxyResponse {
  statusCode?: unknown;
  headers?: unknown;
  body?: unknown;
  [k: string]: unknown;
}
interface DevProxyRequest {
  url?: unknown;
  method?: unknown;
  nth?: unknown;
  bodyFragment?: unknown;
  [k: string]: unknown;
}

const SAFE_HEADER = /^[\t\x20-\x7e\x80-\xff]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const METHOD = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$/;
const GRAPH_HOSTS = new Set([
  'graph.microsoft.com',
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'microsoftgraph.chinacloudapi.cn',
]);
/** GraphRandomErrorPlugin's documented defaults */
const GRAPH_DEFAULT_ERRORS = [429, 500, 502, 503, 504, 507];
const DEFAULT_RATE = 50;
const DEFAULT_RETRY_AFTER = 5;

export class ImportError extends Error {}

interface Pattern {
  path: string;
  query?: Record<
    string,
    string | { startsWith?: string; endsWith?: string; contains?: string; present?: boolean }
  >;
  /** the Dev Proxy URL pattern as a regex over the path, to find the routes an errors entry covers */
  test: RegExp;
  host: string;
}

export class DevProxyImporter {
  readonly warnings: string[] = [];
  private readonly routes: RouteSpec[] = [];
  private readonly scenarioFaults: FaultSpec[] = [];
  private readonly data: { path: string; bytes: Buffer }[] = [];
  private readonly hostsWarned = new Set<string>();
  private latency: ScenarioFile['latency'];
  private readonly pendingErrors: { file: string; entry: Json; rate: number; retryAfter: number }[] = [];
  private readonly pendingGraph: { file: string; statuses: number[]; rate: number; retryAfter: number }[] =
    [];
  private retryAfter = DEFAULT_RETRY_AFTER;

  private warn(file: string, where: string, message: string): void {
    this.warnings.push(`${basename(file)}: ${where}: ${message}`);
  }

  addFile(file: string): void {
    let value: Json;
    try {
      value = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new ImportError(`${file}: not readable JSON (${(err as Error).message.split('\n')[0]})`);
    }
    if (!value || typeof value !== 'object') throw new ImportError(`${file}: not a Dev Proxy file`);
    if (Array.isArray(value.mocks)) this.addMocks(file, value);
    else if (Array.isArray(value.errors))
      this.pendingErrors.push(
        ...value.errors.map((entry: Json) => ({
          file,
          entry,
          rate: DEFAULT_RATE,
          retryAfter: this.retryAfter,
        })),
      );
    else if (Array.isArray(value.plugins)) this.addConfig(file, value);
    else if (Array.isArray(value.allowedErrors) || value.rate !== undefined)
      this.addGraphErrors(file, value, 'graphRandomErrorPlugin');
    else
      throw new ImportError(
        `${file}: neither a mocks file (mocks), an errors file (errors) nor a Dev Proxy configuration (plugins)`,
      );
  }

  /** devproxyrc.json: the plugins' sections name the mocks/errors files and the error rates. */
  private addConfig(file: string, rc: Json): void {
    const dir = dirname(file);
    for (const [i, p] of (rc.plugins as Json[]).entries()) {
      if (p?.enabled === false) continue;
      const section = typeof p?.configSection === 'string' ? (rc[p.configSection] ?? {}) : {};
      switch (p?.name) {
        case 'MockResponsePlugin':
        case 'GraphMockResponsePlugin': {
          const mocksFile = resolve(
            dir,
            typeof section.mocksFile === 'string' ? section.mocksFile : 'mocks.json',
          );
          this.addFile(mocksFile);
          if (section.blockUnmockedRequests)
            this.warn(
              file,
              `${p.configSection}.blockUnmockedRequests`,
              'no equivalent (unmatched requests get Graph 404/400 answers)',
            );
          break;
        }
        case 'GenericRandomErrorPlugin': {
          const rate = typeof section.rate === 'number' ? section.rate : DEFAULT_RATE;
          const retryAfter =
            typeof section.retryAfterInSeconds === 'number'
              ? section.retryAfterInSeconds
              : DEFAULT_RETRY_AFTER;
          const errorsFile = resolve(
            dir,
            typeof section.errorsFile === 'string' ? section.errorsFile : 'errors.json',
          );
          let errors: Json;
          try {
            errors = JSON.parse(readFileSync(errorsFile, 'utf8').replace(/^\uFEFF/, ''));
          } catch (err) {
            throw new ImportError(
              `${errorsFile}: not readable JSON (${(err as Error).message.split('\n')[0]})`,
            );
          }
          for (const entry of Array.isArray(errors?.errors) ? errors.errors : [])
            this.pendingErrors.push({ file: errorsFile, entry, rate, retryAfter });
          break;
        }
        case 'GraphRandomErrorPlugin':
          this.addGraphErrors(file, section, p.configSection);
          break;
        case 'LatencyPlugin': {
          const min = Number(section.minMs ?? 0);
          const max = Number(section.maxMs ?? 5000);
          if (Number.isFinite(min) && Number.isFinite(max) && min >= 0 && max >= min && max <= 600000)
            this.latency = { uniform: [min, max] };
          break;
        }
        default:
          this.warn(file, `plugins[${i}] ${String(p?.name)}`, 'plugin has no equivalent, ignored');
      }
    }
    if (rc.urlsToWatch !== undefined)
      this.warn(file, 'urlsToWatch', 'no equivalent: the mock answers every request it receives');
  }

  private addGraphErrors(file: string, section: Json, name: string): void {
    const statuses = Array.isArray(section.allowedErrors)
      ? section.allowedErrors.filter(
          (s: unknown) => Number.isInteger(s) && (s as number) >= 400 && (s as number) <= 599,
        )
      : GRAPH_DEFAULT_ERRORS;
    const rate = typeof section.rate === 'number' ? section.rate : DEFAULT_RATE;
    const retryAfter =
      typeof section.retryAfterInSeconds === 'number' ? section.retryAfterInSeconds : DEFAULT_RETRY_AFTER;
    this.pendingGraph.push({ file: `${file} (${name})`, statuses, rate, retryAfter });
  }

  private addMocks(file: string, value: Json): void {
    // mocks with the same method + URL + bodyFragment are one route; `nth` picks an item of its sequence
    const groups = new Map<
      string,
      { request: DevProxyRequest; mocks: { nth?: number; response: DevProxyResponse; at: string }[] }
    >();
    (value.mocks as Json[]).forEach((m, i) => {
      const at = `mocks[${i}]`;
      const request: DevProxyRequest = m?.request ?? {};
      if (typeof request.url !== 'string') {
        this.warn(file, `${at}.request.url`, 'missing, mock skipped');
        return;
      }
      for (const k of Object.keys(request))
        if (!['url', 'method', 'nth', 'bodyFragment'].includes(k))
          this.warn(file, `${at}.request.${k}`, 'no equivalent, ignored');
      const method = typeof request.method === 'string' ? request.method.toUpperCase() : 'GET';
      const key = `${method} ${request.url} ${String(request.bodyFragment ?? '')}`;
      let g = groups.get(key);
      if (!g) {
        g = { request: { ...request, method }, mocks: [] };
        groups.set(key, g);
      }
      const nth =
        Number.isInteger(request.nth) && (request.nth as number) >= 1 ? (request.nth as number) : undefined;
      g.mocks.push({ nth, response: m?.response ?? {}, at });
    });
    for (const g of groups.values()) this.addMockGroup(file, g.request, g.mocks);
  }

  private addMockGroup(
    file: string,
    request: DevProxyRequest,
    mocks: { nth?: number; response: DevProxyResponse; at: string }[],
  ): void {
    const at = mocks[0]!.at;
    const method = String(request.method);
    if (!METHOD.test(method)) {
      this.warn(file, `${at}.request.method`, `'${method}' is not a method the mock serves, mock skipped`);
      return;
    }
    const pattern = this.pattern(file, `${at}.request.url`, String(request.url));
    if (request.bodyFragment !== undefined)
      this.warn(
        file,
        `${at}.request.bodyFragment`,
        'no equivalent (the mock matches JSON body paths, not raw text): the route answers any body',
      );
    const route: RouteSpec = { id: this.routeId(method, pattern.path), method, path: pattern.path };
    if (pattern.query) route.when = { query: pattern.query };
    const plain = mocks.find((m) => m.nth === undefined);
    const maxNth = Math.max(0, ...mocks.map((m) => m.nth ?? 0));
    const convert = (m: { response: DevProxyResponse; at: string }) => this.response(file, m.at, m.response);
    if (maxNth === 0) {
      route.response = convert(plain!);
      if (mocks.length > 1)
        this.warn(
          file,
          `${mocks[1]!.at}`,
          'duplicate of an earlier mock for the same request: never reached in Dev Proxy either, skipped',
        );
    } else {
      // call k gets the first mock in file order that applies to it (Dev Proxy's first-match rule)
      const seq: ResponseSpec[] = [];
      const missing: string[] = [];
      for (let k = 1; k <= maxNth + 1; k++) {
        const m = mocks.find((x) => x.nth === undefined || x.nth === k);
        if (m) seq.push(convert(m));
        else {
          missing.push(k === maxNth + 1 ? `${k} and later` : String(k));
          seq.push({ status: 404 });
        }
      }
      if (missing.length)
        this.warn(
          file,
          `${at}.request.nth`,
          `calls ${missing.join(', ')} have no mock: Dev Proxy passes them to the real API; here they get a 404`,
        );
      route.responses = seq;
    }
    this.routes.push(route);
  }

  private routeId(method: string, path: string): string {
    const base =
      `${method.toLowerCase()}-${path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`.slice(0, 110) ||
      'route';
    let id = base;
    for (let n = 2; this.routes.some((r) => r.id === id); n++) id = `${base}-${n}`;
    return id;
  }

  /** A Dev Proxy URL (absolute, `*` = any characters) → a route path and query conditions. */
  private pattern(file: string, where: string, url: string): Pattern {
    const m = /^(?:(https?|\*):\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?/i.exec(url)!;
    const host = (m[2] ?? '').toLowerCase();
    if (host && !host.includes('*') && !GRAPH_HOSTS.has(host) && !this.hostsWarned.has(host)) {
      this.hostsWarned.add(host);
      this.warn(
        file,
        where,
        `host '${host}' has no equivalent: its paths are served on the mock's own origin`,
      );
    }
    const rawPath = m[3] || '/';
    const test = new RegExp(
      `^${rawPath
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    const segs = rawPath.split('/').slice(1);
    const out: string[] = [];
    let p = 0;
    let approx = false;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      if (!s.includes('*')) {
        out.push(s.replace(/:/g, '::'));
        continue;
      }
      if (s === '*' && i < segs.length - 1) {
        out.push(`:p${++p}`);
        continue;
      }
      if (s !== '*') approx = true;
      out.push('*'); // a wildcard ends the path (find-my-way)
      break;
    }
    if (approx)
      this.warn(
        file,
        where,
        `'*' inside a path segment has no exact equivalent: matched as '${`/${out.join('/')}`}'`,
      );
    const path = `/${out.join('/')}`;
    let query: Pattern['query'];
    if (m[4]) {
      query = {};
      for (const [k, v] of new URLSearchParams(m[4])) {
        if (!v.includes('*')) query[k] = v;
        else if (v === '*') query[k] = { present: true };
        else {
          const parts = v.split('*');
          if (parts.length === 2 && parts[1] === '') query[k] = { startsWith: parts[0]! };
          else if (parts.length === 2 && parts[0] === '') query[k] = { endsWith: parts[1]! };
          else if (parts.length === 3 && parts[0] === '' && parts[2] === '')
            query[k] = { contains: parts[1]! };
          else {
            query[k] = { startsWith: parts[0]! };
            this.warn(
              file,
              where,
              `query '${k}=${v}' has no exact equivalent: matched as starting with '${parts[0]}'`,
            );
          }
        }
      }
    }
    return { path, query, test, host };
  }

  private headers(
    file: string,
    where: string,
    raw: unknown,
  ): { headers: Record<string, string>; retryAfter?: number; location?: string } {
    const headers: Record<string, string> = {};
    let retryAfter: number | undefined;
    let location: string | undefined;
    if (raw === undefined) return { headers };
    if (!Array.isArray(raw)) {
      this.warn(file, where, 'not an array of {name, value}, ignored');
      return { headers };
    }
    raw.forEach((h: DevProxyHeader, i) => {
      const name = typeof h?.name === 'string' ? h.name.toLowerCase() : '';
      const value = h?.value === undefined || h?.value === null ? '' : String(h.value);
      if (!HEADER_NAME.test(name) || !SAFE_HEADER.test(value) || value.length > 8192) {
        this.warn(file, `${where}[${i}]`, 'not a valid header name/value, ignored');
        return;
      }
      if (name === 'retry-after') {
        retryAfter =
          value === '@dynamic'
            ? this.retryAfter
            : /^\d+$/.test(value)
              ? Math.min(86400, Number(value))
              : undefined;
        if (retryAfter === undefined)
          this.warn(file, `${where}[${i}]`, `Retry-After '${value}' is not a number of seconds, ignored`);
        return;
      }
      if (name === 'location') {
        if (/^[\x21-\x7e]*$/.test(value)) location = value;
        return;
      }
      if (
        [
          'content-length',
          'transfer-encoding',
          'connection',
          'date',
          'request-id',
          'client-request-id',
        ].includes(name)
      )
        return;
      if (headers[name] !== undefined) {
        this.warn(file, `${where}[${i}]`, `repeated header '${name}' joined into one`);
        headers[name] = `${headers[name]}, ${value}`;
      } else headers[name] = value;
    });
    return { headers, retryAfter, location };
  }

  private response(file: string, at: string, r: DevProxyResponse): ResponseSpec {
    const out: ResponseSpec = {};
    for (const k of Object.keys(r))
      if (!['statusCode', 'headers', 'body'].includes(k))
        this.warn(file, `${at}.response.${k}`, 'no equivalent, ignored');
    const status = r.statusCode === undefined ? 200 : Number(r.statusCode);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      this.warn(
        file,
        `${at}.response.statusCode`,
        `'${String(r.statusCode)}' is not a status the mock can send, 200 used`,
      );
    } else if (status !== 200) out.status = status;
    const { headers, retryAfter, location } = this.headers(file, `${at}.response.headers`, r.headers);
    if (retryAfter !== undefined) out.retryAfter = retryAfter;
    if (location !== undefined) out.location = location;
    const noBody = status === 204 || status === 304;
    if (r.body !== undefined && r.body !== null && noBody)
      this.warn(file, `${at}.response.body`, `a ${status} has no body, ignored`);
    else if (typeof r.body === 'string' && r.body.startsWith('@') && !r.body.startsWith('@request.')) {
      const ref = resolve(dirname(file), r.body.slice(1));
      try {
        const bytes = readFileSync(ref);
        const ext = extname(ref).toLowerCase() || '.bin';
        const path = `data/${basename(ref, extname(ref)).replace(/[^A-Za-z0-9_.-]/g, '_')}-${this.data.length + 1}${ext}`;
        this.data.push({ path, bytes });
        out.bodyFile = path;
      } catch {
        this.warn(file, `${at}.response.body`, `cannot read '${r.body.slice(1)}', no body`);
      }
    } else if (r.body !== undefined && r.body !== null) {
      if (JSON.stringify(r.body).includes('"@request.'))
        this.warn(
          file,
          `${at}.response.body`,
          '@request.body.* placeholders have no equivalent: sent as literal text',
        );
      out.body = r.body;
    }
    if (
      headers['content-type'] &&
      /^application\/json\b/i.test(headers['content-type']) &&
      typeof out.body !== 'string'
    )
      delete headers['content-type'];
    if (Object.keys(headers).length) out.headers = headers;
    return out;
  }

  /** Dev Proxy fails `rate` % of requests with one of n errors picked at random; faults are tried in order. */
  private faultsFor(rate: number, n: number): number[] {
    const r = Math.min(1, Math.max(0, rate / 100));
    const each = r / n;
    // fault i fires with p_i · Π(1 − p_j<i) = r/n, so each error keeps Dev Proxy's share
    return Array.from({ length: n }, (_, i) => Math.min(1, Number((each / (1 - i * each)).toFixed(6))));
  }

  private errorFault(
    file: string,
    at: string,
    resp: DevProxyResponse,
    probability: number,
    retryAfter: number,
  ): FaultSpec | undefined {
    const status = Number(resp?.statusCode);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      this.warn(file, `${at}.statusCode`, `'${String(resp?.statusCode)}' is not an error status, skipped`);
      return undefined;
    }
    const f: FaultSpec = { probability, status };
    const saved = this.retryAfter;
    this.retryAfter = retryAfter;
    const h = this.headers(file, `${at}.headers`, resp.headers);
    this.retryAfter = saved;
    if (Object.keys(h.headers).length) f.headers = h.headers;
    if (h.retryAfter !== undefined) f.retryAfter = h.retryAfter;
    else if (status === 429 || status === 503) f.retryAfter = retryAfter;
    const body = resp.body as Json;
    if (
      body &&
      typeof body === 'object' &&
      body.error &&
      typeof body.error === 'object' &&
      typeof body.error.code === 'string'
    ) {
      f.error = {
        code: body.error.code,
        ...(typeof body.error.message === 'string' ? { message: body.error.message } : {}),
      };
    } else if (body !== undefined && body !== null) {
      this.warn(
        file,
        `${at}.body`,
        `a fault carries no body of its own: the Graph error envelope for ${status} is sent instead`,
      );
    }
    return f;
  }

  /** Builds the scenario; errors entries attach to the routes their URL covers (all of them: scenario-wide). */
  build(name: string, seed: number): ImportResult {
    const samplePath = (p: string) => p.replace(/\/:[^/]+/g, '/x').replace(/::/g, ':');
    for (const { file, entry, rate, retryAfter } of this.pendingErrors) {
      const at = `errors[${basename(file)}]`;
      const url = typeof entry?.request?.url === 'string' ? entry.request.url : undefined;
      const responses: DevProxyResponse[] = Array.isArray(entry?.responses) ? entry.responses : [];
      if (!url || responses.length === 0) {
        this.warn(file, at, 'an errors entry needs request.url and responses, skipped');
        continue;
      }
      if (entry.request.method !== undefined)
        this.warn(file, `${at}.request.method`, 'no equivalent: the faults apply to every method');
      if (entry.request.bodyFragment !== undefined)
        this.warn(file, `${at}.request.bodyFragment`, 'no equivalent, ignored');
      const probs = this.faultsFor(rate, responses.length);
      const faults = responses
        .map((resp, i) => this.errorFault(file, `${at}.responses[${i}]`, resp, probs[i]!, retryAfter))
        .filter((f): f is FaultSpec => f !== undefined);
      const p = this.pattern(file, `${at}.request.url`, url);
      const covered = this.routes.filter((r) => p.test.test(samplePath(r.path)));
      if (p.path === '/*' || (this.routes.length > 0 && covered.length === this.routes.length))
        this.scenarioFaults.push(...faults);
      else if (covered.length) for (const r of covered) r.faults = [...(r.faults ?? []), ...faults];
      else
        this.warn(
          file,
          `${at}.request.url`,
          `'${url}' covers no mocked route: its errors apply only to routes imported with it, skipped`,
        );
    }
    for (const g of this.pendingGraph) {
      const probs = this.faultsFor(g.rate, g.statuses.length);
      g.statuses.forEach((status, i) => {
        const f: FaultSpec = { probability: probs[i]!, status };
        if (status === 429 || status === 503) f.retryAfter = g.retryAfter;
        this.scenarioFaults.push(f);
      });
    }
    if (this.routes.length === 0 && this.scenarioFaults.length) {
      // faults belong to a scenario's routes: with no mocks, one catch-all route carries them
      this.routes.push({ id: 'devproxy-errors', method: '*', path: '/*', response: { status: 404 } });
      this.warnings.push(
        'no mocks imported: the errors apply to a catch-all route that answers 404 when no error is drawn (Dev Proxy would pass the request on)',
      );
    }
    const spec: ScenarioFile = {
      name,
      description: 'Imported from Dev Proxy files by m365-mock import devproxy',
      seed,
      ...(this.latency ? { latency: this.latency } : {}),
      ...(this.scenarioFaults.length ? { faults: this.scenarioFaults } : {}),
      routes: this.routes,
    };
    return {
      scenario: {
        file: `${name}.yaml`,
        spec,
        data: this.data,
        header: ['imported by m365-mock import devproxy'],
      },
      warnings: this.warnings,
    };
  }
}

export function importDevProxy(
  files: readonly string[],
  opts: { name?: string; seed?: number } = {},
): ImportResult {
  const imp = new DevProxyImporter();
  for (const f of files) imp.addFile(resolve(f));
  const name = (opts.name ?? `devproxy-${basename(files[0] ?? 'mocks', extname(files[0] ?? ''))}`).replace(
    /[^A-Za-z0-9_.-]/g,
    '-',
  );
  return imp.build(name, opts.seed ?? 1);
}
