// One collection's in-memory state for one scenario × session: entities in insertion order, their
// versions (for @odata.etag) and a change log (for delta). Seed entities are shared read-only with
// the compiled scenario; a write replaces the stored object, never mutates it.
import { hashString, type Rng } from '../random.js';

export type Entity = Record<string, unknown>;

export interface Stored {
  readonly key: string;
  entity: Entity;
  version: number;
  /** the change counter value of this entity's last create/update */
  changedSeq: number;
  /** JSON bytes a client wrote into it, counted against its session (0 for seed entities) */
  bytes: number;
}

/** Each state gets a fresh epoch: delta tokens from before a reset or an expiry no longer fit. */
let epochs = 0;

export class CollectionState {
  epoch = ++epochs;
  /** change counter: every create, update and delete takes the next value */
  seq = 0;
  readonly items = new Map<string, Stored>();
  /** key → seq of its deletion */
  readonly removed = new Map<string, number>();

  constructor(
    seed: readonly Entity[],
    readonly keyName: string,
  ) {
    seed.forEach((e, i) => {
      const v = e[keyName];
      const key = typeof v === 'string' || typeof v === 'number' ? String(v) : `item-${i}`;
      if (!this.items.has(key)) this.items.set(key, { key, entity: e, version: 1, changedSeq: 0, bytes: 0 });
    });
  }

  /** Makes every delta token issued so far stale (admin API: "expire delta tokens"). */
  expireTokens(): void {
    this.epoch = ++epochs;
  }

  get(key: string): Stored | undefined {
    return this.items.get(key);
  }

  create(key: string, entity: Entity, bytes = 0): Stored {
    const s: Stored = { key, entity, version: 1, changedSeq: ++this.seq, bytes };
    this.items.set(key, s);
    this.removed.delete(key);
    return s;
  }

  /** The entity `patch` would make (not stored yet: its size is checked first). */
  patched(s: Stored, patch: Entity): Entity {
    const next: Entity = { ...s.entity };
    for (const [k, v] of Object.entries(patch)) {
      if (k === this.keyName || k.startsWith('@odata.')) continue;
      next[k] = v;
    }
    return next;
  }

  update(s: Stored, next: Entity, bytes = s.bytes): void {
    s.entity = next;
    s.bytes = bytes;
    s.version++;
    s.changedSeq = ++this.seq;
  }

  delete(s: Stored): void {
    this.items.delete(s.key);
    this.removed.set(s.key, ++this.seq);
  }
}

/** A weak ETag that changes with every update of the entity. */
export function etagOf(s: Stored): string {
  const h = hashString(`${s.key}#${s.version}`).toString(16).padStart(8, '0');
  return `W/"${Buffer.from(`${h}${s.version.toString(16)}`).toString('base64')}"`;
}

/** A GUID (version-4 layout) from the seeded stream, so ids repeat with the seed. */
export function seededGuid(rng: Rng): string {
  let hex = '';
  for (let i = 0; i < 16; i++) {
    let b = Math.floor(rng.next() * 256);
    if (i === 6) b = (b & 0x0f) | 0x40;
    if (i === 8) b = (b & 0x3f) | 0x80;
    hex += b.toString(16).padStart(2, '0');
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
