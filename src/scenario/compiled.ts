// What a scenario becomes after loading: plain data prepared for the hot path (constant bodies
// serialized once, headers merged once, conditions turned into predicates).
import type { CompiledEnvelope } from '../graph/envelope.js';
import type { CompiledIdentity } from '../identity/compile.js';
import type {
  CollectionSpec,
  FaultSpec,
  LatencySpec,
  OperationSpec,
  OutageSpec,
  PermissionsModeName,
  RouteSpec,
  SurfaceModeName,
  ThrottleSpec,
  WorkloadName,
} from './schema.js';

export interface CompiledResponse {
  readonly status: number;
  /** constant headers: Graph's standard ones merged with the scripted ones (lower-case names) */
  readonly headers: Readonly<Record<string, string>>;
  /** a constant body (success bodies, explicit error bodies, files), serialized once */
  readonly body?: Buffer;
  /**
   * the body as a string: compiled from `body` when small and ASCII (the same bytes, no copy per
   * request); engine answers (collections) put their JSON text here too, which may hold any character
   */
  readonly text?: string;
  /** `text` is known to be ASCII (set where it is compiled): the wire may send it as latin1 */
  readonly ascii?: boolean;
  /** the Graph error envelope, for an error status scripted without a body */
  readonly envelope?: CompiledEnvelope;
  readonly retryAfter?: number;
  /** Location header; a relative value is resolved against the request's origin */
  readonly location?: string;
}

/** A request as the condition predicates see it. */
export interface ConditionInput {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
  /** ms since the scenario was loaded */
  readonly elapsedMs: number;
}

export interface CompiledRoute {
  /** unique across loaded scenarios: `${scenario}/${id}` */
  readonly key: string;
  readonly id: string;
  readonly scenario: CompiledScenario;
  readonly method: string;
  readonly path: string;
  readonly workload: WorkloadName;
  readonly when?: (req: ConditionInput) => boolean;
  responses: CompiledResponse[];
  loop: boolean;
  /** the route as written (after defaults); the admin API shows and patches it */
  spec: RouteSpec;
  throttle?: ThrottleSpec & { name: string };
  cost?: number;
  faults?: readonly FaultSpec[];
  latency?: LatencySpec;
  collection?: CollectionSpec & { items?: Record<string, unknown>[] };
  operation?: OperationSpec;
  /** answered from Graph's model (src/surface/) after the route's throttle, faults and latency */
  surface?: true;
  /** accepts non-JSON request bodies (file content uploads) */
  readonly acceptsBinary: boolean;
}

export interface CompiledOutage extends OutageSpec {
  readonly test: (path: string) => boolean;
}

export interface CompiledScenario {
  readonly name: string;
  readonly description?: string;
  readonly file?: string;
  readonly seed: number;
  readonly auth: 'off' | 'optional' | 'required';
  readonly workload: WorkloadName;
  readonly routes: CompiledRoute[];
  readonly throttles: ReadonlyMap<string, ThrottleSpec & { name: string }>;
  readonly faults?: readonly FaultSpec[];
  readonly latency?: LatencySpec;
  readonly outages: readonly CompiledOutage[];
  /** `surface:` as written: a scenario that sets it owns the answers for paths no route matches */
  readonly surface?: SurfaceModeName;
  /** `identity:`: the tenants, apps and users this scenario's token endpoint knows (src/identity/) */
  readonly identity?: CompiledIdentity;
  /** `permissions:` as written; --permissions overrides it */
  readonly permissions?: PermissionsModeName;
  /** epoch ms; `when.window` and outage windows count from here */
  loadedAt: number;
}
