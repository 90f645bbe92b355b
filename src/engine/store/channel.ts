// The admin channel: replicas sharing a Redis and prefix tell each other about admin calls over
// Redis pub/sub (channel `<prefix>admin`). Publishing goes over the store's own connection (no
// offline queue: with Redis away a publish fails at once and the caller keeps the change for later);
// receiving needs a second connection in subscriber mode, which ioredis reconnects and re-subscribes
// by itself. Pub/sub keeps nothing, so changes also go to a capped stream (`<prefix>admin:log`, one
// script with the publish): a replica whose connection was lost reads the entries after the last id it
// saw once it is back, holding live messages until then so the order stays the senders' order.
import type { Redis } from 'ioredis';
import type { RedisStore } from './redis.js';

/** One message on the channel: who sent it, what to do, with what. */
export interface ChannelMessage {
  origin: string;
  op: string;
  args: Record<string, unknown>;
}

/** the largest message published (a scenario's text travels in one); bigger ones are not sent */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** what publish() says: sent, too large to send ever, or not taken now (Redis away: try again later) */
export type PublishOutcome = 'sent' | 'too-large' | 'unavailable';

/** the wait before a failed catch-up read is tried again */
const CATCH_UP_RETRY_MS = 250;

export class AdminChannel {
  readonly name: string;
  /** the newest logged change seen (live or read back); undefined until known */
  private lastId: string | undefined;
  /** the subscriber lost its connection: live messages wait in `held` until the log is read */
  private lost = false;
  private held: Array<{ id: string | undefined; m: ChannelMessage }> = [];
  private closed = false;
  /** called once the channel is back after a lost connection (missed changes applied) */
  onBack: (() => void) | undefined;

  private constructor(
    private readonly store: RedisStore,
    private readonly subscriber: Redis,
    private readonly onMessage: (m: ChannelMessage) => void,
  ) {
    this.name = `${store.prefix}admin`;
  }

  /** Subscribes (waiting at most the store's connect timeout; ioredis keeps trying after that). */
  static async open(store: RedisStore, onMessage: (m: ChannelMessage) => void): Promise<AdminChannel> {
    const subscriber = store.client.duplicate({ lazyConnect: true, enableOfflineQueue: true });
    const channel = new AdminChannel(store, subscriber, onMessage);
    subscriber.on('error', () => {}); // the store's status says Redis is away; this one reconnects too
    subscriber.on('message', (name: string, text: string) => {
      if (name === channel.name) channel.receive(text);
    });
    subscriber.on('close', () => {
      channel.lost = true;
    });
    subscriber.on('ready', () => {
      if (channel.lost) void channel.catchUp();
    });
    try {
      channel.lastId = await store.lastAdminChange();
      await subscriber.connect();
      await subscriber.subscribe(channel.name);
      channel.lost = false;
    } catch {
      // Redis went away between the store's connect and here: autoResubscribe covers the reconnect,
      // and the 'ready' after it reads the log as after any lost connection
    }
    return channel;
  }

  /** Sends a message to the replicas that listen now (the scenarios hash); never throws. */
  async publish(m: ChannelMessage): Promise<PublishOutcome> {
    const text = JSON.stringify(m);
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) return 'too-large';
    try {
      await this.store.client.publish(this.name, text);
      return 'sent';
    } catch {
      return 'unavailable';
    }
  }

  /** Sends an admin change: logged, so a replica cut off now reads it when it is back; never throws. */
  async publishChange(m: ChannelMessage): Promise<PublishOutcome> {
    const text = JSON.stringify(m);
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) return 'too-large';
    try {
      await this.store.logAdminChange(text);
      return 'sent';
    } catch {
      return 'unavailable';
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscriber.disconnect();
  }

  private receive(text: string): void {
    // a logged change comes as "<stream id>\n<JSON>"; the hash announcements as plain JSON
    const nl = text.indexOf('\n');
    const id = nl > 0 && STREAM_ID.test(text.slice(0, nl)) ? text.slice(0, nl) : undefined;
    const m = parseMessage(id === undefined ? text : text.slice(nl + 1));
    if (!m) return;
    if (this.lost) this.held.push({ id, m });
    else this.deliver(id, m);
  }

  /** Hands a message on once: a logged change at or before the last id seen was delivered already. */
  private deliver(id: string | undefined, m: ChannelMessage): void {
    if (id !== undefined) {
      if (this.lastId !== undefined && compareIds(id, this.lastId) <= 0) return;
      this.lastId = id;
    }
    this.onMessage(m);
  }

  /** Back after a lost connection: the changes logged since the last one seen, then those held. */
  private async catchUp(): Promise<void> {
    while (!this.closed) {
      try {
        const rows = this.lastId === undefined ? [] : await this.store.adminChangesAfter(this.lastId);
        if (this.lastId === undefined) this.lastId = await this.store.lastAdminChange();
        for (const [id, text] of rows) {
          const m = parseMessage(text);
          if (m) this.deliver(id, m);
          else this.lastId = id;
        }
        break;
      } catch {
        // the store's own connection may come back a moment after this one
        await new Promise((r) => setTimeout(r, CATCH_UP_RETRY_MS).unref());
      }
    }
    const held = this.held;
    this.held = [];
    this.lost = false;
    for (const h of held) this.deliver(h.id, h.m);
    this.onBack?.();
  }
}

/** a Redis stream id: milliseconds-sequence */
const STREAM_ID = /^\d+-\d+$/;

/** Orders two stream ids (ms, then sequence). */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

/** A message as sent by a replica, or undefined for anything else on the channel. */
function parseMessage(text: string): ChannelMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Partial<ChannelMessage>;
  if (typeof m.origin !== 'string' || typeof m.op !== 'string') return undefined;
  if (typeof m.args !== 'object' || m.args === null || Array.isArray(m.args)) return undefined;
  return m as ChannelMessage;
}
