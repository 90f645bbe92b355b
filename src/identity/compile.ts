// A scenario's `identity:` section → the plain data the token endpoint and the permission check use.
// Everything that could go wrong at request time is found here: unknown tenants, duplicate client
// ids or usernames, permission names Graph does not have (with a did-you-mean).
import { parseDuration } from '../scenario/duration.js';
import type { IdentitySpec } from '../scenario/schema.js';
import { editDistance } from '../text/edit-distance.js';
import { permissionNames } from './permission-map.js';

export interface IdentityTenantEntry {
  readonly id: string;
  readonly domain?: string;
}

export interface IdentityAppEntry {
  readonly clientId: string;
  readonly name: string;
  readonly tenantId: string;
  readonly secrets: readonly string[];
  /** app roles, as the map spells them */
  readonly application: readonly string[];
  /** consented delegated scopes, as the map spells them */
  readonly delegated: readonly string[];
}

export interface IdentityUserEntry {
  readonly username: string;
  readonly password: string;
  readonly id: string;
  readonly displayName: string;
  readonly tenantId: string;
}

export interface CompiledIdentity {
  readonly tenants: readonly IdentityTenantEntry[];
  readonly apps: readonly IdentityAppEntry[];
  readonly users: readonly IdentityUserEntry[];
  /** seconds an access token lives */
  readonly tokenLifetime: number;
}

export const DEFAULT_TOKEN_LIFETIME = 3599;

type Problem = (path: (string | number)[], message: string) => void;

/** guid from the scenario's seeded generator: a tenant or user nobody named keeps its id run to run */
export function compileIdentity(spec: IdentitySpec, problem: Problem, guid: () => string): CompiledIdentity {
  const tenants: IdentityTenantEntry[] = (spec.tenants ?? []).map((t) => ({
    id: t.id.toLowerCase(),
    domain: t.domain?.toLowerCase(),
  }));
  if (tenants.length === 0) tenants.push({ id: guid() });
  const tenantOf = (ref: string | undefined, at: (string | number)[]): string => {
    if (ref === undefined) return tenants[0]!.id;
    const l = ref.toLowerCase();
    const t = tenants.find((x) => x.id === l || x.domain === l);
    if (!t) problem(at, `unknown tenant '${ref}'; declare it under identity.tenants`);
    return t?.id ?? tenants[0]!.id;
  };

  const seenClients = new Set<string>();
  const apps = (spec.apps ?? []).map((a, i): IdentityAppEntry => {
    const at = ['identity', 'apps', i];
    const clientId = a.clientId.toLowerCase();
    if (seenClients.has(clientId)) problem([...at, 'clientId'], `duplicate clientId '${a.clientId}'`);
    seenClients.add(clientId);
    const secrets = [...(a.secret !== undefined ? [a.secret] : []), ...(a.secrets ?? [])];
    const names = (list: string[] | undefined, kind: 'application' | 'delegated') =>
      (list ?? []).map((n, j) => permissionName(n, [...at, 'permissions', kind, j], problem));
    return {
      clientId,
      name: a.name ?? `app-${clientId.slice(0, 8)}`,
      tenantId: tenantOf(a.tenant, [...at, 'tenant']),
      secrets,
      application: names(a.permissions?.application, 'application'),
      delegated: names(a.permissions?.delegated, 'delegated'),
    };
  });

  const seenUsers = new Set<string>();
  const users = (spec.users ?? []).map((u, i): IdentityUserEntry => {
    const at = ['identity', 'users', i];
    const username = u.username.toLowerCase();
    if (seenUsers.has(username)) problem([...at, 'username'], `duplicate username '${u.username}'`);
    seenUsers.add(username);
    return {
      username,
      password: u.password,
      id: u.id?.toLowerCase() ?? guid(),
      displayName: u.displayName ?? u.username,
      tenantId: tenantOf(u.tenant, [...at, 'tenant']),
    };
  });

  let tokenLifetime = DEFAULT_TOKEN_LIFETIME;
  if (spec.tokenLifetime !== undefined) {
    const ms = parseDuration(spec.tokenLifetime);
    if (ms < 1000 || ms > 86_400_000) problem(['identity', 'tokenLifetime'], 'must be between 1s and 24h');
    else tokenLifetime = Math.floor(ms / 1000);
  }
  return { tenants, apps, users, tokenLifetime };
}

/** The map's spelling of a permission name, or a problem naming the nearest ones. */
function permissionName(name: string, at: (string | number)[], problem: Problem): string {
  const known = permissionNames();
  const hit = known.get(name.toLowerCase());
  if (hit) return hit;
  let best: string[] = [];
  let bestD = 4;
  for (const n of known.values()) {
    const d = editDistance(name.toLowerCase(), n.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = [n];
    } else if (d === bestD && best.length < 3) best.push(n);
  }
  const hint = best.length ? ` (did you mean ${best.map((b) => `'${b}'`).join(' or ')}?)` : '';
  problem(at, `'${name}' is not a Microsoft Graph permission${hint}`);
  return name;
}
