// The limits that keep hostile or broken clients from crashing, hanging or exhausting the mock
// (DESIGN §4b), in one place so the server, the engine, $batch and the docs agree on the numbers.

export const LIMITS = {
  /** request line + headers; larger → 431 (Node's parser); the URL limit below is checked first */
  maxHeaderBytes: 32 * 1024,
  /** the request URL (path + query); longer → 414 */
  maxUrlLength: 16 * 1024,
  /** nesting of a JSON request body; deeper → 400 (JSON.stringify of a deeper value could overflow the stack) */
  maxJsonDepth: 64,
  /** a client that has not sent its headers after this long gets a 408 and is closed */
  headersTimeoutMs: 10_000,
  /** a request (headers and body) not complete after this long gets a 408 and is closed */
  requestTimeoutMs: 30_000,
  /** after a 413 the socket keeps reading (and dropping) the unread body this long, so the client sees the answer */
  lingerMs: 2_000,
  /** how often Node checks the two timeouts above */
  timeoutCheckMs: 1_000,
  /** JSON values (objects, arrays, scalars) in one request body; more → 400 (parsing builds them all) */
  maxJsonNodes: 200_000,
  /** entities clients wrote (POST/PATCH), JSON bytes, in one session; more → 400 quotaLimitReached */
  maxSessionStoredBytes: 16 * 1024 * 1024,
  /** …and in all sessions together; more → the least recently used sessions holding writes are evicted */
  maxStoredBytes: 32 * 1024 * 1024,
  /**
   * a scenario sent while the mock serves (admin API, in-process loadScenario, --watch) longer than
   * this is read as JSON only: the yaml parser allocates ~1 KB per byte of input
   */
  maxRuntimeYamlBytes: 64 * 1024,
  /** `$filter` expression length and parenthesis/operator nesting */
  maxFilterLength: 4096,
  maxFilterDepth: 32,
  /**
   * the old generation grows at most this many percent over what the last full collection left
   * before the next one (heap-growth.ts; V8 alone lets it grow up to 300 % under a burst)
   */
  heapGrowingPercent: 100,
  /**
   * full V8 collections once the event loop has been quiet quietMs after the heap grew by
   * growthBytes, until the young generation is back under youngBytes and the unused committed heap
   * under slackBytes, at most maxRuns (idle-compaction.ts): V8's own memory reducer may wait minutes
   * — then one glibc malloc_trim(0) where dist/native/malloc.node was built (malloc-trim.ts)
   */
  idleCompaction: {
    quietMs: 5_000,
    /** how often a timer samples the event loop's utilization and the heap size */
    sampleMs: 1_000,
    /** quiet: the loop busy less than this share of a sample */
    maxBusy: 0.02,
    growthBytes: 16 * 1024 * 1024,
    youngBytes: 4 * 1024 * 1024,
    slackBytes: 8 * 1024 * 1024,
    maxRuns: 4,
  },
} as const;

/**
 * Why a JSON request body is refused before it is parsed: 'depth' (nested deeper than maxJsonDepth)
 * or 'nodes' (more than maxJsonNodes values: `[{},{},…]` in 4 MB is over a million objects, ~70 MB
 * of heap for one request).
 */
export function jsonLimitExceeded(text: string): 'depth' | 'nodes' | undefined {
  return jsonScan(text, LIMITS.maxJsonDepth, LIMITS.maxJsonNodes);
}

/** True when the JSON text nests arrays/objects deeper than `max`. */
export function jsonTooDeep(text: string, max: number = LIMITS.maxJsonDepth): boolean {
  return jsonScan(text, max, Number.POSITIVE_INFINITY) === 'depth';
}

/**
 * One linear scan that skips strings: no recursion, so hostile input cannot overflow the stack here
 * either; none at all for a text too short to break either limit (each level needs a bracket, each
 * value after the first in a container a comma).
 */
function jsonScan(text: string, maxDepth: number, maxNodes: number): 'depth' | 'nodes' | undefined {
  if (text.length <= maxDepth && text.length <= maxNodes) return undefined;
  let depth = 0;
  let nodes = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return 'depth';
      if (++nodes > maxNodes) return 'nodes';
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    else if (c === 44 /* , */ && ++nodes > maxNodes) return 'nodes';
  }
  return undefined;
}

/** The first OData system query option ($top, $filter, …) given more than once, if any. */
export function repeatedQueryOption(
  query: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  for (const k in query) {
    if (k.charCodeAt(0) === 36 /* $ */ && Array.isArray(query[k])) return k;
  }
  return undefined;
}

/** What Node accepts in a header value (anything else throws ERR_INVALID_CHAR at write time). */
export const SAFE_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** An RFC 7230 token: what Node accepts as a header name. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/** Framing headers the server computes itself: a scenario that sets them would corrupt the response. */
export const RESERVED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'content-length',
  'transfer-encoding',
  'trailer',
  'upgrade',
  'te',
]);

/** Why a scripted response header cannot be sent as is, or undefined when it can. */
export function responseHeaderProblem(name: string, value: string): string | undefined {
  if (!HEADER_NAME.test(name)) return `header name '${name.slice(0, 100)}' is not an HTTP token`;
  if (RESERVED_RESPONSE_HEADERS.has(name.toLowerCase())) {
    return `header '${name}' is set by the server and cannot be scripted`;
  }
  if (!SAFE_HEADER_VALUE.test(value)) {
    return `header '${name}' has a character that cannot be sent in an HTTP header (control or non-Latin-1)`;
  }
  return undefined;
}
