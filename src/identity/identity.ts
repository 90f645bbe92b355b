// The mock's local Entra, one per engine: the tenants, apps and users of every loaded scenario's
// `identity:` section, the signing key, the refresh tokens it handed out, and the permission usage
// it saw. The token endpoint (token-endpoint.ts) and the Graph-side check (gate.ts) both use it.
import { seededGuid } from '../engine/collections/store.js';
import { createRng, hashString, type Rng } from '../engine/random.js';
import type { CompiledScenario } from '../scenario/compiled.js';
import type { PermissionsModeName } from '../scenario/schema.js';
import type { IdentityAppEntry, IdentityTenantEntry, IdentityUserEntry } from './compile.js';
import { SigningKey } from './keys.js';
import { PermissionUsage } from './usage.js';

export type PermissionsMode = PermissionsModeName;

export interface RegisteredApp extends IdentityAppEntry {
  /** the app's service principal object id (the oid of its app-only tokens) */
  readonly objectId: string;
  readonly tokenLifetime: number;
}

export interface RefreshGrant {
  readonly clientId: string;
  readonly username: string;
  readonly scopes: readonly string[];
}

/** The tenant names every Entra answers for besides the tenants' own ids and domains. */
export const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);

const MAX_REFRESH_TOKENS = 10_000;

export class Identity {
  readonly key = new SigningKey();
  readonly usage = new PermissionUsage();
  private readonly flag?: PermissionsMode;
  private tenantList: IdentityTenantEntry[] = [];
  private apps = new Map<string, RegisteredApp>();
  private users = new Map<string, IdentityUserEntry & { tokenLifetime: number }>();
  private readonly refresh = new Map<string, RefreshGrant>();
  private rng: Rng;
  /** true once a scenario (or --permissions) asks for permission checks: the engine asks only then */
  private checking = false;
  /** --permissions, else the strictest mode a loaded scenario asks for (the report shows it) */
  private strictest: PermissionsMode = 'off';

  constructor(opts: { permissions?: PermissionsMode; seed?: number } = {}) {
    this.flag = opts.permissions;
    this.rng = createRng(opts.seed ?? 0, 'identity');
    this.strictest = this.flag ?? 'off';
    this.checking = this.strictest !== 'off';
  }

  /** Rebuilds the registry from the loaded scenarios (a later scenario's client id wins). */
  load(scenarios: readonly CompiledScenario[]): void {
    const tenants = new Map<string, IdentityTenantEntry>();
    const apps = new Map<string, RegisteredApp>();
    const users = new Map<string, IdentityUserEntry & { tokenLifetime: number }>();
    for (const s of scenarios) {
      const id = s.identity;
      if (!id) continue;
      for (const t of id.tenants) tenants.set(t.id, t);
      for (const a of id.apps) {
        apps.set(a.clientId, {
          ...a,
          objectId: seededGuid(createRng(hashString(a.clientId), 'service-principal')),
          tokenLifetime: id.tokenLifetime,
        });
      }
      for (const u of id.users) users.set(u.username, { ...u, tokenLifetime: id.tokenLifetime });
    }
    if (scenarios.some((s) => s.identity)) this.key.prepare();
    this.tenantList = [...tenants.values()];
    this.apps = apps;
    this.users = users;
    const modes = new Set(scenarios.map((s) => s.permissions));
    this.strictest = this.flag ?? (modes.has('enforce') ? 'enforce' : modes.has('report') ? 'report' : 'off');
    this.checking = this.strictest !== 'off';
  }

  /** --permissions, else the strictest `permissions:` of the loaded scenarios */
  get mode(): PermissionsMode {
    return this.strictest;
  }

  /** --permissions, else the route's scenario's `permissions:`, else off. */
  modeFor(scenario: CompiledScenario): PermissionsMode {
    return this.flag ?? scenario.permissions ?? 'off';
  }

  /** false: no scenario and no flag checks permissions, so Graph requests skip the check entirely */
  get checksPermissions(): boolean {
    return this.checking;
  }

  /** The tenant a path segment names (id or domain, any case), or undefined. */
  tenant(ref: string): IdentityTenantEntry | undefined {
    const l = ref.toLowerCase();
    return this.tenantList.find((t) => t.id === l || t.domain === l);
  }

  app(clientId: string): RegisteredApp | undefined {
    return this.apps.get(clientId.toLowerCase());
  }

  /** The app's display name for a report, if the mock knows the client. */
  appName(clientId: string): string | undefined {
    return this.apps.get(clientId.toLowerCase())?.name;
  }

  user(username: string): (IdentityUserEntry & { tokenLifetime: number }) | undefined {
    return this.users.get(username.toLowerCase());
  }

  /** A fresh id from the identity's seeded stream (token ids, refresh tokens). */
  guid(): string {
    return seededGuid(this.rng);
  }

  issueRefreshToken(grant: RefreshGrant): string {
    // opaque, like Entra's; two GUIDs from the seeded stream so a test run repeats with its seed
    const token = `1.M365MOCK.${this.guid()}${this.guid()}`.replace(/-/g, '');
    if (this.refresh.size >= MAX_REFRESH_TOKENS) this.refresh.delete(this.refresh.keys().next().value!);
    this.refresh.set(token, grant);
    return token;
  }

  redeemRefreshToken(token: string): RefreshGrant | undefined {
    return this.refresh.get(token);
  }

  /** POST /__admin/reset: the usage seen and the refresh tokens go; the key and registry stay. */
  reset(): void {
    this.usage.clear();
    this.refresh.clear();
  }
}
