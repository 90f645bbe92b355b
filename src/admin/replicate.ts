// Admin calls on one replica apply to all (replicas sharing a Redis and prefix, or --workers N).
// The replica that gets the call applies it as before, then tells the others over the admin channel
// (engine/store/channel.ts); they apply the same change locally and ignore their own messages. A
// replica that lost Redis reads what it missed from the channel's log when it is back, and sends the
// changes it made meanwhile (kept in `pending`) after that.
// Each replica also announces its scenarios hash (on start, after every change, every 10 s), so
// health can say when the replicas do not all serve the same scenarios.
import { hostname } from 'node:os';
import type { MockEngine } from '../engine/engine.js';
import type { OutageRequest } from '../engine/outage.js';
import { AdminChannel, type ChannelMessage } from '../engine/store/channel.js';
import { isRedisStore } from '../engine/store/open.js';
import type { StateStore } from '../engine/store/store.js';
import { loadScenarioTextGuarded } from '../scenario/guarded-load.js';
import type { ServerLog } from '../server.js';
import type { Journal } from './journal.js';
import { patchRoute, type RoutePatchBody } from './patch.js';
import { resetLocal, scenariosHash } from './state.js';

/** A change an admin call made, as the other replicas replay it. */
export type AdminChange =
  | { op: 'reset'; args: { session?: string } }
  | { op: 'load'; args: { text: string } }
  | { op: 'unload'; args: { name: string } }
  | { op: 'patch'; args: { id: string; patch: RoutePatchBody } }
  | { op: 'outage.start'; args: { id: string; outage: OutageRequest } }
  | { op: 'outage.stop'; args: { id?: string } };

/** how often a replica says its hash even when nothing changed */
export const HASH_INTERVAL_MS = 10_000;
/** admin changes kept while Redis is away (each is small but for a scenario's text) */
const MAX_PENDING = 64;
/** a replica not heard of for this long no longer counts */
export const PEER_TTL_MS = 3 * HASH_INTERVAL_MS + 5_000;

let opened = 0;

export interface ReplicationOptions {
  engine: MockEngine;
  journal?: Journal;
  seed?: number;
  log?: ServerLog;
}

export class Replication {
  /** host:pid:n — unique per replica without a random draw (several may share a process in tests) */
  readonly id = `${hostname()}:${process.pid}:${++opened}`;
  private channel?: AdminChannel;
  private readonly peers = new Map<string, { hash: string; until: number }>();
  private readonly timer: NodeJS.Timeout;
  private readonly opts: ReplicationOptions;
  /** changes made while Redis was away, oldest first */
  private readonly pending: AdminChange[] = [];
  private flushing = false;

  private constructor(opts: ReplicationOptions) {
    this.opts = opts;
    this.timer = setInterval(() => {
      this.announce(false);
      if (this.pending.length > 0) void this.flush();
    }, HASH_INTERVAL_MS);
    this.timer.unref();
  }

  /** On a shared store (Redis): subscribes and says hello; otherwise there is no one to tell. */
  static async open(store: StateStore, opts: ReplicationOptions): Promise<Replication | undefined> {
    if (!isRedisStore(store)) return undefined;
    const r = new Replication(opts);
    r.channel = await AdminChannel.open(store, (m) => r.receive(m));
    r.channel.onBack = () => {
      r.announce(true);
      void r.flush();
    };
    r.announce(true);
    return r;
  }

  /**
   * Tells the other replicas about a change this one has made (fire and forget). With Redis away the
   * change is kept and sent once the channel is back, after the changes this replica missed.
   */
  tell(change: AdminChange): void {
    if (this.pending.length > 0) this.keep(change);
    else void this.sendChange(change);
    this.announce(false);
  }

  private async sendChange(change: AdminChange): Promise<boolean> {
    const out = this.channel
      ? await this.channel.publishChange({
          origin: this.id,
          op: change.op,
          args: change.args as Record<string, unknown>,
        })
      : 'unavailable';
    if (out === 'unavailable') this.keep(change);
    else if (out === 'too-large')
      this.opts.log?.info(
        { op: change.op },
        'admin change not sent to the other replicas (the message is over 1 MiB)',
      );
    return out === 'sent';
  }

  /** keeps a change to send later; the oldest go first past MAX_PENDING */
  private keep(change: AdminChange): void {
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.opts.log?.info({ op: change.op }, 'admin changes kept while Redis is away: the oldest dropped');
    }
    this.pending.push(change);
  }

  /** Sends the kept changes in order (the channel is back, or the hash timer ticked). */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const change = this.pending.shift()!;
        if (!(await this.sendChange(change))) break; // kept again at the end: stop until next time
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Whether every replica heard of lately serves the scenarios this one does (same hash), and how
   * many there are (this one included).
   */
  consistency(): { replicas: number; scenariosConsistent: boolean } {
    const now = Date.now();
    const mine = scenariosHash(this.opts.engine);
    let consistent = true;
    for (const [id, p] of this.peers) {
      if (p.until <= now) this.peers.delete(id);
      else if (p.hash !== mine) consistent = false;
    }
    return { replicas: this.peers.size + 1, scenariosConsistent: consistent };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.channel?.close();
  }

  /** `ask`: the others answer with theirs (a replica that just started learns them at once) */
  private announce(ask: boolean): void {
    void this.channel?.publish({
      origin: this.id,
      op: 'hash',
      args: { hash: scenariosHash(this.opts.engine), ask },
    });
  }

  private receive(m: ChannelMessage): void {
    if (m.origin === this.id) return;
    if (m.op === 'hash') {
      if (typeof m.args.hash !== 'string') return;
      const known = this.peers.has(m.origin);
      this.peers.set(m.origin, { hash: m.args.hash, until: Date.now() + PEER_TTL_MS });
      if (m.args.ask === true || !known) this.announce(false);
      return;
    }
    try {
      if (this.apply(m)) this.announce(false);
    } catch (err) {
      // a message this replica cannot replay (another version, a hand-written PUBLISH) changes nothing
      this.opts.log?.error({ err, op: m.op, origin: m.origin }, 'admin change from another replica failed');
    }
  }

  /** Replays one change; false when it did not apply here (unknown op, route or scenario). */
  private apply(m: ChannelMessage): boolean {
    const { engine, journal } = this.opts;
    const a = m.args;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    switch (m.op) {
      case 'reset':
        // the shared store was reset once by the replica that got the call; these are the local parts
        resetLocal(engine, journal, str(a.session));
        return true;
      case 'load': {
        const r = loadScenarioTextGuarded(String(a.text ?? ''), {
          label: 'another replica',
          seedOverride: this.opts.seed,
        });
        if (!r.ok) return false;
        engine.load(r.scenarios, { forgetShared: false });
        return true;
      }
      case 'unload':
        return engine.unload(String(a.name), { forgetShared: false });
      case 'patch': {
        const route = engine.route(String(a.id));
        if (!route || typeof a.patch !== 'object' || a.patch === null) return false;
        return patchRoute(engine, route, a.patch as RoutePatchBody).ok;
      }
      case 'outage.start':
        if (typeof a.outage !== 'object' || a.outage === null || typeof a.id !== 'string') return false;
        engine.startOutage(a.outage as OutageRequest, a.id);
        return true;
      case 'outage.stop':
        return engine.stopOutage(str(a.id)) > 0;
      default:
        return false;
    }
  }
}
