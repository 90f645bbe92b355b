// What each client did with its permissions: every Graph call checked against the map, grouped by
// client (appid) and call (method + the map's template). The report derives from it: the
// least-privileged permissions that would cover every call, the calls the token did not cover,
// and the permissions the client held but never needed (GET /__admin/permissions).
import type { Grant } from './permission-map.js';

export type TokenKind = 'delegated' | 'application';

interface CallRecord {
  method: string;
  /** the map's template, or the request path when the map has none */
  template: string;
  grant: Grant | null;
  count: number;
  /** calls whose token granted none of the permissions the map lists */
  denied: number;
  kinds: Set<TokenKind>;
}

interface ClientRecord {
  appid: string;
  calls: Map<string, CallRecord>;
  /** every permission its tokens carried (scp and roles), as spelled in the token */
  held: Map<TokenKind, Set<string>>;
}

export interface PermissionCallView {
  method: string;
  path: string;
  count: number;
  /** false when at least one call's token granted none of the permissions listed */
  covered: boolean;
  /** null: Graph's permission map has no entry for this method + path */
  delegated: string[] | null;
  application: string[] | null;
}

export interface PermissionClientView {
  appid: string;
  name?: string;
  tokenKinds: TokenKind[];
  calls: number;
  /** least-privileged permissions that together cover every call the map knows (greedy, see below) */
  leastPrivileged: { delegated: string[]; application: string[] };
  /** calls no delegated / no application permission can make (e.g. /me with an app-only token) */
  notPossible: { delegated: string[]; application: string[] };
  /** calls the client's token did not cover, with the least permission that would have */
  uncovered: Array<{ method: string; path: string; count: number; needs: string[] }>;
  /** permissions the client's tokens carried that no call it made needed */
  unused: string[];
  /** calls the map has no entry for (not checked) */
  notInMap: Array<{ method: string; path: string; count: number }>;
  requests: PermissionCallView[];
}

export interface PermissionReport {
  mode: 'off' | 'report' | 'enforce';
  clients: PermissionClientView[];
}

const MAX_CLIENTS = 1000;
const MAX_CALLS_PER_CLIENT = 2000;

export class PermissionUsage {
  private readonly clients = new Map<string, ClientRecord>();

  record(
    appid: string,
    method: string,
    path: string,
    grant: Grant | null,
    kind: TokenKind,
    held: readonly string[],
    covered: boolean,
  ): void {
    let c = this.clients.get(appid);
    if (!c) {
      if (this.clients.size >= MAX_CLIENTS) return; // bounded: a flood of made-up appids cannot grow it
      c = { appid, calls: new Map(), held: new Map() };
      this.clients.set(appid, c);
    }
    let set = c.held.get(kind);
    if (!set) {
      set = new Set();
      c.held.set(kind, set);
    }
    for (const p of held) set.add(p);
    const template = grant?.template ?? path;
    const key = `${method} ${template}`;
    let call = c.calls.get(key);
    if (!call) {
      if (c.calls.size >= MAX_CALLS_PER_CLIENT) return;
      call = { method, template, grant, count: 0, denied: 0, kinds: new Set() };
      c.calls.set(key, call);
    }
    call.count++;
    call.kinds.add(kind);
    if (!covered) call.denied++;
  }

  clear(): void {
    this.clients.clear();
  }

  report(mode: PermissionReport['mode'], nameOf: (appid: string) => string | undefined): PermissionReport {
    return { mode, clients: [...this.clients.values()].map((c) => view(c, nameOf(c.appid))) };
  }
}

function view(c: ClientRecord, name: string | undefined): PermissionClientView {
  const calls = [...c.calls.values()];
  const mapped = calls.filter((x) => x.grant !== null);
  const lower = (xs: Iterable<string>) => new Set([...xs].map((x) => x.toLowerCase()));
  const needed = lower(mapped.flatMap((x) => [...x.grant!.delegated, ...x.grant!.application]));
  const held = [...new Set([...(c.held.get('delegated') ?? []), ...(c.held.get('application') ?? [])])];
  return {
    appid: c.appid,
    ...(name !== undefined ? { name } : {}),
    tokenKinds: (['delegated', 'application'] as const).filter((k) => c.held.has(k)),
    calls: calls.reduce((n, x) => n + x.count, 0),
    leastPrivileged: {
      delegated: cover(mapped.map((x) => x.grant!.delegated)),
      application: cover(mapped.map((x) => x.grant!.application)),
    },
    notPossible: {
      delegated: mapped.filter((x) => x.grant!.delegated.length === 0).map(label),
      application: mapped.filter((x) => x.grant!.application.length === 0).map(label),
    },
    uncovered: mapped
      .filter((x) => x.denied > 0)
      .map((x) => ({
        method: x.method,
        path: x.template,
        count: x.denied,
        needs: needs(x),
      })),
    unused: held.filter((p) => !needed.has(p.toLowerCase())).sort(),
    notInMap: calls
      .filter((x) => x.grant === null)
      .map((x) => ({ method: x.method, path: x.template, count: x.count })),
    requests: calls.map((x) => ({
      method: x.method,
      path: x.template,
      count: x.count,
      covered: x.denied === 0,
      delegated: x.grant ? [...x.grant.delegated] : null,
      application: x.grant ? [...x.grant.application] : null,
    })),
  };
}

function label(x: CallRecord): string {
  return `${x.method} ${x.template}`;
}

/** The least permission of the kind the calls were made with (application first when both). */
function needs(x: CallRecord): string[] {
  const g = x.grant!;
  const list = x.kinds.has('application') ? g.application : g.delegated;
  return list.slice(0, 1);
}

/**
 * A small set of permissions covering every call, each as little privileged as the map allows: each
 * call not yet covered adds its least-privileged permission; then any permission whose calls the
 * others all cover is dropped. (Least privilege matters more than the fewest names: one broad
 * permission covering everything is never preferred over two narrow ones.)
 */
export function cover(lists: ReadonlyArray<readonly string[]>): string[] {
  const usable = lists.filter((l) => l.length > 0);
  const chosen: string[] = [];
  for (const l of usable) {
    if (l.some((p) => chosen.includes(p))) continue;
    chosen.push(l[0]!);
  }
  for (let i = chosen.length - 1; i >= 0; i--) {
    const others = chosen.filter((_, j) => j !== i);
    if (usable.every((l) => l.some((p) => others.includes(p)))) chosen.splice(i, 1);
  }
  return chosen;
}
