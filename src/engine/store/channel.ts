// The admin channel: replicas sharing a Redis and prefix tell each other about admin calls over
// Redis pub/sub (channel `<prefix>admin`). Publishing goes over the store's own connection (no
// offline queue: with Redis away a publish fails at once and the caller shrugs); receiving needs a
// second connection in subscriber mode, which ioredis reconnects and re-subscribes by itself.
// Messages sent while a replica was cut off are not replayed (pub/sub keeps nothing).
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

export class AdminChannel {
  readonly name: string;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;

  private constructor(publisher: Redis, subscriber: Redis, name: string) {
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.name = name;
  }

  /** Subscribes (waiting at most the store's connect timeout; ioredis keeps trying after that). */
  static async open(store: RedisStore, onMessage: (m: ChannelMessage) => void): Promise<AdminChannel> {
    const name = `${store.prefix}admin`;
    const subscriber = store.client.duplicate({ lazyConnect: true, enableOfflineQueue: true });
    subscriber.on('error', () => {}); // the store's status says Redis is away; this one reconnects too
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== name) return;
      const m = parseMessage(text);
      if (m) onMessage(m);
    });
    const channel = new AdminChannel(store.client, subscriber, name);
    try {
      await subscriber.connect();
      await subscriber.subscribe(name);
    } catch {
      // Redis went away between the store's connect and here: autoResubscribe covers the reconnect
    }
    return channel;
  }

  /** Sends one message; false when it was too large or Redis did not take it (never throws). */
  async publish(m: ChannelMessage): Promise<boolean> {
    const text = JSON.stringify(m);
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) return false;
    try {
      await this.publisher.publish(this.name, text);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
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
