// The journal shared by replicas (--state redis://…): every replica appends what its own journal
// records to one capped Redis Stream, `<prefix>journal`, and the admin calls that read the journal
// (requests, count, unmatched, report) read the stream, so any replica sees every replica's traffic.
// Writing is batched off the hot path: the journal's onEntry hook only counts; a flush every
// FLUSH_MS, or as soon as FLUSH_ENTRIES are waiting, materializes the new entries (Journal.after)
// and sends them as one pipeline of XADD … MAXLEN ~ <journal size>. Redis away: the batch is dropped
// and counted, never retried, and no Graph request waits. Resets: a full one deletes the stream; a
// session's is a cut time (`<prefix>journal:cleared`, per session) applied when reading, because a
// stream cannot delete by field. Both cuts also hide entries other replicas flush late.
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { StateUnavailableError } from '../engine/store/store.js';
import { entryFilter, type Journal, type JournalEntry, type JournalFilter } from './journal.js';

export const FLUSH_MS = 50;
export const FLUSH_ENTRIES = 200;
/** entries per XREVRANGE page when reading */
const PAGE = 1000;
/** the cut of a full reset, in the cleared hash (a session cannot be named '' → '*' is safe enough) */
const ALL = '*';

/** A journal entry as the stream holds it: which replica answered it. */
export type StreamEntry = JournalEntry & { replica: string };

/** Where an answer was read from: the shared stream, or this replica's journal (Redis away). */
export type JournalSource = 'shared' | 'local';

export interface JournalRead<T> {
  value: T;
  source: JournalSource;
}

let instances = 0;

export class JournalStream {
  readonly key: string;
  private readonly clearedKey: string;
  /** host:pid, and /n for a second mock in the same process (tests run three) */
  readonly replica: string;
  private sent = 0;
  private waiting = 0;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly stop: () => void;
  /** entries written to the stream, dropped (Redis away or failing), and flushes sent */
  readonly stats = { streamed: 0, dropped: 0, roundTrips: 0 };

  constructor(
    private readonly journal: Journal,
    private readonly client: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}journal`;
    this.clearedKey = `${prefix}journal:cleared`;
    const n = ++instances;
    this.replica = `${hostname()}:${process.pid}${n > 1 ? `/${n}` : ''}`;
    this.sent = journal.lastId;
    this.stop = journal.onEntry(this.entered);
  }

  /** The hook on the hot path: a counter and, at most once per batch, a timer. */
  private readonly entered = (): void => {
    if (++this.waiting >= FLUSH_ENTRIES) {
      if (this.soon === undefined) this.soon = setImmediate(this.flush);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.flush, FLUSH_MS);
      this.timer.unref();
    }
  };

  /** Sends what was recorded since the last flush; one batch in flight at a time. */
  private readonly flush = (): void => {
    clearTimeout(this.timer);
    clearImmediate(this.soon);
    this.timer = undefined;
    this.soon = undefined;
    if (this.inFlight) {
      // the next batch goes when this one is answered (a slow Redis sets the pace, not the traffic)
      this.timer = setTimeout(this.flush, FLUSH_MS);
      this.timer.unref();
      return;
    }
    const entries = this.journal.after(this.sent, this.journal.size);
    this.sent = this.journal.lastId;
    this.waiting = 0;
    if (entries.length === 0) return;
    if (this.client.status !== 'ready') {
      this.stats.dropped += entries.length;
      return;
    }
    const p = this.client.pipeline();
    const max = String(this.journal.size);
    for (const e of entries) {
      p.xadd(this.key, 'MAXLEN', '~', max, '*', 'e', JSON.stringify({ ...e, replica: this.replica }));
    }
    this.stats.roundTrips++;
    this.inFlight = p.exec().then(
      (results) => {
        const failed = results?.filter(([err]) => err).length ?? entries.length;
        this.stats.dropped += failed;
        this.stats.streamed += entries.length - failed;
      },
      () => {
        this.stats.dropped += entries.length;
      },
    );
    this.inFlight.finally(() => {
      this.inFlight = undefined;
    });
  };

  /** Entries of every replica matching the filter, oldest first, at most `limit` of the newest. */
  async list(filter: JournalFilter = {}, opts: { bodies?: boolean } = {}): Promise<StreamEntry[]> {
    const test = entryFilter<JournalEntry>(filter, (e) => e.path);
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    const cleared = (await this.command(() => this.client.hgetall(this.clearedKey))) as Record<
      string,
      string
    >;
    const cutAll = Number(cleared[ALL] ?? 0);
    const out: StreamEntry[] = [];
    let end = '+';
    for (;;) {
      const page = (await this.command(() =>
        this.client.xrevrange(this.key, end, '-', 'COUNT', PAGE),
      )) as Array<[string, string[]]>;
      for (const [, fields] of page) {
        const e = parseEntry(fields);
        if (!e) continue;
        const cut = Math.max(cutAll, Number(cleared[e.session] ?? 0));
        if (e.time < cut || !test(e)) continue;
        if (opts.bodies === false) e.body = null;
        out.push(e);
      }
      if (page.length < PAGE || out.length >= limit) break;
      end = `(${page[page.length - 1]![0]}`;
    }
    // stream order is flush order: replicas' batches interleave, so order by arrival
    out.sort((a, b) => a.time - b.time);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  /** Forgets every replica's entries (DEL), or one session's (a cut time read by list). */
  async clear(opts: { session?: string } = {}): Promise<void> {
    const now = String(Date.now());
    this.stats.roundTrips++;
    const m = this.client.multi();
    if (opts.session === undefined) m.del(this.key, this.clearedKey).hset(this.clearedKey, ALL, now);
    else m.hset(this.clearedKey, opts.session, now);
    await this.command(() => m.exec());
  }

  /** 'shared' while Redis answers; the admin calls fall back to the local journal otherwise */
  get available(): boolean {
    return this.client.status === 'ready';
  }

  /** Sends what is waiting and stops listening (the store closes the connection). */
  async close(): Promise<void> {
    this.stop();
    await this.inFlight;
    this.flush();
    await this.inFlight;
  }

  private async command<T>(f: () => Promise<T>): Promise<T> {
    this.stats.roundTrips++;
    try {
      return await f();
    } catch (err) {
      throw new StateUnavailableError(`journal stream: ${String((err as Error).message).split('\n')[0]}`);
    }
  }
}

/**
 * Reads through the stream when there is one and Redis answers, else the local journal; says which.
 * A failed read (Redis lost mid-call) falls back too: the admin API keeps answering.
 */
export async function readJournal<T>(
  stream: JournalStream | undefined,
  shared: (s: JournalStream) => Promise<T>,
  local: () => T,
): Promise<JournalRead<T>> {
  if (stream?.available) {
    try {
      return { value: await shared(stream), source: 'shared' };
    } catch (err) {
      if (!(err instanceof StateUnavailableError)) throw err;
    }
  }
  return { value: local(), source: 'local' };
}

function parseEntry(fields: string[]): StreamEntry | undefined {
  const i = fields.indexOf('e');
  if (i === -1 || i + 1 >= fields.length) return undefined;
  try {
    const e = JSON.parse(fields[i + 1]!) as StreamEntry;
    return typeof e === 'object' && e !== null && typeof e.time === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}
