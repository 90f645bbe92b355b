// The retry-compliance report: what the client did under throttling, read from the journal. A
// "chain" is one client's repeated calls to the same method + URL that starts with a 429/503 and
// ends at the first answer that is not one (recovered), or at the last throttled answer if the
// client never came back (gave up). Each retry is timed against the Retry-After it was given.
import type { PermissionReport } from '../identity/usage.js';
import type { JournalEntry } from './journal.js';
import type { NearMiss } from './near-miss.js';

/** a retry that arrives this close to the deadline still counts as on time (clock granularity) */
export const EARLY_TOLERANCE_MS = 25;
/** a chain whose Retry-After elapsed this long ago with no retry has given up */
export const GIVE_UP_AFTER_MS = 1000;

export interface Attempt {
  id: number;
  time: number;
  status: number;
  /** Retry-After as sent (seconds or HTTP-date), null when the answer had none */
  retryAfter: string | null;
  /** ms between the previous throttled answer and this request (null on the first) */
  waitedMs: number | null;
  /** ms the previous answer asked the client to wait */
  askedMs: number | null;
  early: boolean;
  retryAttempt: string | null;
  fault: string | null;
}

export type ChainOutcome = 'recovered' | 'failed' | 'gave-up' | 'waiting';

export interface RetryChain {
  client: string;
  session: string;
  routeId: string | null;
  scenario: string | null;
  method: string;
  url: string;
  attempts: Attempt[];
  throttled: number;
  retries: number;
  earlyRetries: number;
  outcome: ChainOutcome;
}

export interface RouteSummary {
  client: string;
  session: string;
  routeId: string | null;
  scenario: string | null;
  requests: number;
  sent429: number;
  sent503: number;
  /** distinct Retry-After values advertised (the first MAX_DISTINCT) */
  retryAfter: string[];
  retries: number;
  earlyRetries: number;
  waitedMs: { min: number; avg: number; max: number } | null;
  /** distinct Retry-Attempt request header values seen (the first MAX_DISTINCT) */
  retryAttempts: string[];
  chains: number;
  recovered: number;
  gaveUp: number;
  waiting: number;
}

export interface UnmatchedSummary {
  method: string;
  path: string;
  session: string;
  count: number;
  lastStatus: number;
  nearest: NearMiss[];
}

export interface RetryReport {
  generatedAt: string;
  totals: {
    requests: number;
    throttled: number;
    chains: number;
    retries: number;
    earlyRetries: number;
    gaveUp: number;
    recovered: number;
    unmatched: number;
    /** no early retry and no chain given up */
    compliant: boolean;
  };
  routes: RouteSummary[];
  chains: RetryChain[];
  unmatched: UnmatchedSummary[];
  /** with `permissions: report | enforce`: what each client's token covered (identity/usage.ts) */
  permissions?: PermissionReport;
}

const isThrottled = (status: number) => status === 429 || status === 503;

/** distinct values a route summary lists (a client can send a new Retry-Attempt value every time) */
export const MAX_DISTINCT = 20;

function addDistinct(list: string[], v: string): void {
  if (list.length < MAX_DISTINCT && !list.includes(v)) list.push(v);
}

/** The client a request came from: the token's app (and tenant), else the caller's address. */
export function clientKey(e: Pick<JournalEntry, 'headers' | 'ip'>): string {
  const claims = e.headers.authorization;
  if (claims && typeof claims === 'object') {
    const c = claims as Record<string, unknown>;
    const app = c.appid ?? c.azp;
    if (typeof app === 'string' && app)
      return typeof c.tid === 'string' ? `app:${app}@${c.tid}` : `app:${app}`;
    if (typeof c.oid === 'string') return `user:${c.oid}`;
  }
  return `ip:${e.ip}`;
}

/** Retry-After (seconds or HTTP-date) → ms from `sentAt`. */
export function retryAfterMs(value: string | null, sentAt: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - sentAt);
}

const first = (v: unknown): string | null =>
  v === undefined || v === null ? null : Array.isArray(v) ? String(v[0]) : String(v);

export function buildReport(
  entries: readonly JournalEntry[],
  nearest: (method: string, path: string) => NearMiss[],
  now = Date.now(),
): RetryReport {
  const open = new Map<string, RetryChain & { lastSentAt: number; lastAskedMs: number | null }>();
  const chains: RetryChain[] = [];
  const rows = new Map<string, RouteSummary & { waits: number[] }>();
  const unmatched = new Map<string, UnmatchedSummary>();
  let throttledTotal = 0;

  const row = (e: JournalEntry, client: string) => {
    const k = `${client}\u0000${e.session}\u0000${e.routeId ?? ''}`;
    let r = rows.get(k);
    if (!r) {
      r = {
        client,
        session: e.session,
        routeId: e.routeId,
        scenario: e.scenario,
        requests: 0,
        sent429: 0,
        sent503: 0,
        retryAfter: [],
        retries: 0,
        earlyRetries: 0,
        waitedMs: null,
        retryAttempts: [],
        chains: 0,
        recovered: 0,
        gaveUp: 0,
        waiting: 0,
        waits: [],
      };
      rows.set(k, r);
    }
    return r;
  };

  for (const e of entries) {
    if (e.unmatched) {
      const k = `${e.method} ${e.path}\u0000${e.session}`;
      const u = unmatched.get(k);
      if (u) {
        u.count++;
        u.lastStatus = e.status;
      } else
        unmatched.set(k, {
          method: e.method,
          path: e.path,
          session: e.session,
          count: 1,
          lastStatus: e.status,
          nearest: [],
        });
      continue;
    }
    if (e.method === 'POST' && /\/\$batch$/.test(e.path)) continue; // its items are journaled on their own
    const client = clientKey(e);
    const r = row(e, client);
    r.requests++;
    const throttled = isThrottled(e.status);
    if (e.status === 429) r.sent429++;
    if (e.status === 503) r.sent503++;
    if (throttled) throttledTotal++;
    if (e.retryAfter !== null && throttled) addDistinct(r.retryAfter, e.retryAfter);
    const retryAttempt = first(e.headers['retry-attempt']);
    if (retryAttempt !== null) addDistinct(r.retryAttempts, retryAttempt);

    const key = `${client}\u0000${e.session}\u0000${e.method}\u0000${e.url}`;
    const chain = open.get(key);
    const sentAt = e.time + e.durationMs;
    const attempt: Attempt = {
      id: e.id,
      time: e.time,
      status: e.status,
      retryAfter: throttled ? e.retryAfter : null,
      waitedMs: null,
      askedMs: null,
      early: false,
      retryAttempt,
      fault: e.fault,
    };
    if (chain) {
      attempt.waitedMs = Math.max(0, Math.round(e.time - chain.lastSentAt));
      attempt.askedMs = chain.lastAskedMs;
      attempt.early = chain.lastAskedMs !== null && attempt.waitedMs + EARLY_TOLERANCE_MS < chain.lastAskedMs;
      chain.attempts.push(attempt);
      chain.retries++;
      r.retries++;
      r.waits.push(attempt.waitedMs);
      if (attempt.early) {
        chain.earlyRetries++;
        r.earlyRetries++;
      }
      if (throttled) {
        chain.throttled++;
        chain.lastSentAt = sentAt;
        chain.lastAskedMs = retryAfterMs(e.retryAfter, sentAt);
      } else {
        chain.outcome = e.status < 400 ? 'recovered' : 'failed';
        open.delete(key);
      }
    } else if (throttled) {
      const c = {
        client,
        session: e.session,
        routeId: e.routeId,
        scenario: e.scenario,
        method: e.method,
        url: e.url,
        attempts: [attempt],
        throttled: 1,
        retries: 0,
        earlyRetries: 0,
        outcome: 'waiting' as ChainOutcome,
        lastSentAt: sentAt,
        lastAskedMs: retryAfterMs(e.retryAfter, sentAt),
      };
      open.set(key, c);
      chains.push(c);
      r.chains++;
    }
  }

  // chains still open: given up once the last Retry-After has long passed
  for (const c of open.values()) {
    const deadline = c.lastSentAt + (c.lastAskedMs ?? 0) + GIVE_UP_AFTER_MS;
    c.outcome = now >= deadline ? 'gave-up' : 'waiting';
  }

  const cleanChains: RetryChain[] = chains.map((c) => {
    const {
      lastSentAt: _a,
      lastAskedMs: _b,
      ...rest
    } = c as RetryChain & {
      lastSentAt: number;
      lastAskedMs: number | null;
    };
    const r = rows.get(`${c.client}\u0000${c.session}\u0000${c.routeId ?? ''}`)!;
    if (c.outcome === 'recovered') r.recovered++;
    else if (c.outcome === 'gave-up') r.gaveUp++;
    else if (c.outcome === 'waiting') r.waiting++;
    return rest;
  });

  const routes: RouteSummary[] = [...rows.values()].map(({ waits, ...r }) => ({
    ...r,
    waitedMs: waits.length ? spreadOf(waits) : null,
  }));
  const unmatchedList = [...unmatched.values()].map((u) => ({ ...u, nearest: nearest(u.method, u.path) }));
  const sum = (f: (r: RouteSummary) => number) => routes.reduce((a, r) => a + f(r), 0);
  const earlyRetries = sum((r) => r.earlyRetries);
  const gaveUp = sum((r) => r.gaveUp);
  return {
    generatedAt: new Date(now).toISOString(),
    totals: {
      requests: sum((r) => r.requests),
      throttled: throttledTotal,
      chains: cleanChains.length,
      retries: sum((r) => r.retries),
      earlyRetries,
      gaveUp,
      recovered: sum((r) => r.recovered),
      unmatched: unmatchedList.reduce((a, u) => a + u.count, 0),
      compliant: earlyRetries === 0 && gaveUp === 0,
    },
    routes,
    chains: cleanChains,
    unmatched: unmatchedList,
  };
}

/**
 * JUnit XML: one testsuite per client and session, one testcase per throttled chain — failing when
 * the client retried before Retry-After elapsed or never retried; a chain still inside its
 * Retry-After is skipped. Unmatched requests are listed as skipped testcases of their own suite.
 */
export function reportToJunit(report: RetryReport): string {
  const suites = new Map<string, RetryChain[]>();
  for (const c of report.chains) {
    const k = c.session ? `${c.client} (session ${c.session})` : c.client;
    const list = suites.get(k);
    if (list) list.push(c);
    else suites.set(k, [c]);
  }
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failures = report.chains.filter(failureOf).length;
  out.push(
    `<testsuites name="m365-mock retry compliance" tests="${report.chains.length + report.unmatched.length}" failures="${failures}" timestamp="${report.generatedAt}">`,
  );
  for (const [name, chains] of suites) {
    const f = chains.filter(failureOf).length;
    const skipped = chains.filter((c) => c.outcome === 'waiting').length;
    out.push(
      `  <testsuite name="${xml(name)}" tests="${chains.length}" failures="${f}" errors="0" skipped="${skipped}">`,
    );
    for (const c of chains) {
      const started = c.attempts[0]!.time;
      const last = c.attempts[c.attempts.length - 1]!.time;
      const name = `${c.method} ${c.url} throttled at ${new Date(started).toISOString()} (${c.throttled}× ${[
        ...new Set(c.attempts.filter((a) => a.status === 429 || a.status === 503).map((a) => a.status)),
      ].join('/')}, ${c.retries} retr${c.retries === 1 ? 'y' : 'ies'}, ${c.outcome})`;
      out.push(
        `    <testcase classname="${xml(c.routeId ?? 'unmatched')}" name="${xml(name)}" time="${((last - started) / 1000).toFixed(3)}">`,
      );
      const failure = failureOf(c);
      if (failure) out.push(`      <failure type="${failure.type}" message="${xml(failure.message)}"/>`);
      else if (c.outcome === 'waiting')
        out.push('      <skipped message="the client is still inside the Retry-After it was given"/>');
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  if (report.unmatched.length) {
    out.push(
      `  <testsuite name="unmatched requests" tests="${report.unmatched.length}" failures="0" errors="0" skipped="${report.unmatched.length}">`,
    );
    for (const u of report.unmatched) {
      const hint = u.nearest[0] ? `; nearest route: ${u.nearest[0].method} ${u.nearest[0].path}` : '';
      out.push(`    <testcase classname="unmatched" name="${xml(`${u.method} ${u.path}`)}" time="0">`);
      out.push(`      <skipped message="${xml(`no route matched (${u.count}×, ${u.lastStatus})${hint}`)}"/>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  if (report.permissions?.clients.length) out.push(...permissionSuite(report.permissions));
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** One test case per client: it fails when a call's token lacked every permission the map lists. */
function permissionSuite(p: PermissionReport): string[] {
  const failed = p.clients.filter((c) => c.uncovered.length > 0).length;
  const out = [
    `  <testsuite name="permissions (${p.mode})" tests="${p.clients.length}" failures="${failed}" errors="0" skipped="0">`,
  ];
  for (const c of p.clients) {
    const least = [...new Set([...c.leastPrivileged.delegated, ...c.leastPrivileged.application])];
    out.push(
      `    <testcase classname="permissions" name="${xml(`${c.name ?? c.appid} (${c.calls} calls; least privileged: ${least.join(', ') || 'none'})`)}" time="0">`,
    );
    if (c.uncovered.length) {
      const what = c.uncovered.map(
        (u) => `${u.method} ${u.path} needs ${u.needs.join(' or ') || 'a permission'}`,
      );
      out.push(`      <failure type="insufficient-privileges" message="${xml(what.join('; '))}"/>`);
    }
    out.push('    </testcase>');
  }
  out.push('  </testsuite>');
  return out;
}

function failureOf(c: RetryChain): { type: string; message: string } | undefined {
  if (c.earlyRetries > 0) {
    const early = c.attempts.filter((a) => a.early);
    const worst = early.reduce((a, b) => ((a.waitedMs ?? 0) <= (b.waitedMs ?? 0) ? a : b));
    return {
      type: 'early-retry',
      message: `${c.earlyRetries} retr${c.earlyRetries === 1 ? 'y' : 'ies'} before Retry-After elapsed (waited ${worst.waitedMs} ms of ${worst.askedMs} ms asked)`,
    };
  }
  if (c.outcome === 'gave-up') {
    const last = c.attempts[c.attempts.length - 1]!;
    return {
      type: 'gave-up',
      message: `never retried after a ${last.status} with Retry-After ${last.retryAfter ?? '(none)'}`,
    };
  }
  return undefined;
}

/** Text for an XML attribute: escaped, and without characters XML 1.0 cannot carry. */
function xml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;');
}

/** min / avg / max in one pass (Math.min(...xs) overflows the stack past ~100,000 values: a large journal) */
function spreadOf(xs: readonly number[]): { min: number; avg: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  return { min, avg: Math.round(sum / xs.length), max };
}
