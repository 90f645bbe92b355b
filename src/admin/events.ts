// The dashboard's live feed: GET /__admin/events, Server-Sent Events of new journal entries, limiter
// key changes, scenario loads and patches, outages and resets (docs/dashboard.md lists the payloads).
// While no stream is open nothing here runs: the journal has no listener, no timer is set.
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MockEngine } from '../engine/engine.js';
import type { Journal } from './journal.js';
import { throttleState } from './state.js';

export type DashboardEventName = 'hello' | 'journal' | 'throttles' | 'scenarios' | 'outages' | 'reset';

/** a comment line this often keeps proxies and the page's stall detection from closing an idle stream */
export const HEARTBEAT_MS = 15_000;
/** new entries are sent together, at most this often: a burst of 1,000 requests is a few events */
const FLUSH_MS = 50;
/** newest entries one journal event carries; an older overflow is counted in `skipped` */
const MAX_BATCH = 2_000;
/** a reader this far behind is cut off (it reconnects and reloads) rather than buffered without end */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** how often an open stream looks for scenarios loaded behind the admin API's back (--watch) */
const WATCH_MS = 1_000;

export interface EventHubOptions {
  engine: MockEngine;
  journal?: Journal;
  readonly?: boolean;
}

export class EventHub {
  private readonly streams = new Set<ServerResponse>();
  private stopListening: (() => void) | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private sentId = 0;
  private lastThrottles = '';
  private lastScenarios: readonly object[] = [];

  constructor(private readonly opts: EventHubOptions) {}

  get open(): number {
    return this.streams.size;
  }

  /** GET /__admin/events: the stream stays open until the page goes or the server closes. */
  readonly handle = (req: FastifyRequest, reply: FastifyReply): void => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    if (this.streams.size === 0) this.start();
    this.streams.add(res);
    req.raw.socket.setTimeout(0);
    // the response closes when the page goes away (or the socket breaks)
    res.on('close', () => this.drop(res));
    const { journal, engine, readonly } = this.opts;
    write(res, 'hello', {
      lastId: journal?.lastId ?? 0,
      journalSize: journal?.size ?? 0,
      readonly: readonly === true,
      heartbeatMs: HEARTBEAT_MS,
      throttles: throttleState(engine),
    });
  };

  /** Sends one event to every open stream (the admin calls that change the mock call this). */
  emit(name: DashboardEventName, data: unknown): void {
    if (this.streams.size === 0) return;
    if (name === 'scenarios') this.lastScenarios = this.opts.engine.scenarios;
    const frame = encode(name, data);
    for (const res of this.streams) this.send(res, frame);
  }

  /** After a reset or a route patch: limiter keys may have gone or changed. */
  throttlesChanged(): void {
    if (this.streams.size > 0) this.sendThrottles();
  }

  /** Ends every stream (the server is closing: an open stream must not hold close() up). */
  close(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
    this.stop();
  }

  private start(): void {
    const { journal, engine } = this.opts;
    this.sentId = journal?.lastId ?? 0;
    this.lastThrottles = JSON.stringify(throttleState(engine));
    this.lastScenarios = engine.scenarios;
    if (journal?.enabled) this.stopListening = journal.onEntry(this.entryRecorded);
    this.heartbeat = setInterval(() => {
      for (const res of this.streams) this.send(res, ': heartbeat\n\n');
    }, HEARTBEAT_MS).unref();
    this.watcher = setInterval(() => {
      // the engine makes a new list whenever a scenario is loaded or unloaded
      if (engine.scenarios !== this.lastScenarios) this.emit('scenarios', { reason: 'reload' });
    }, WATCH_MS).unref();
  }

  private stop(): void {
    this.stopListening?.();
    this.stopListening = undefined;
    clearTimeout(this.flushTimer);
    clearInterval(this.heartbeat);
    clearInterval(this.watcher);
    this.flushTimer = this.heartbeat = this.watcher = undefined;
  }

  private drop(res: ServerResponse): void {
    if (!this.streams.delete(res)) return;
    if (!res.writableEnded) res.end();
    if (this.streams.size === 0) this.stop();
  }

  private send(res: ServerResponse, frame: string): void {
    if (res.writableLength > MAX_BUFFERED) {
      this.drop(res);
      return;
    }
    res.write(frame);
  }

  private readonly entryRecorded = (): void => {
    this.flushTimer ??= setTimeout(this.flush, FLUSH_MS).unref();
  };

  private readonly flush = (): void => {
    this.flushTimer = undefined;
    const journal = this.opts.journal;
    if (!journal || this.streams.size === 0) return;
    const newest = journal.lastId;
    const entries = journal.after(this.sentId, MAX_BATCH);
    const skipped = Math.max(0, newest - this.sentId - entries.length);
    this.sentId = newest;
    if (entries.length) this.emit('journal', { entries, skipped });
    this.sendThrottles();
  };

  /** only when a key changed: refills between requests the page works out from resetAt */
  private sendThrottles(): void {
    const throttles = throttleState(this.opts.engine);
    const text = JSON.stringify(throttles);
    if (text === this.lastThrottles) return;
    this.lastThrottles = text;
    this.emit('throttles', { throttles });
  }
}

function encode(name: DashboardEventName, data: unknown): string {
  // JSON has no raw newlines, so one data line carries the whole payload
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

function write(res: ServerResponse, name: DashboardEventName, data: unknown): void {
  res.write(encode(name, data));
}
