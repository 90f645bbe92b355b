// One collection's in-memory state for one scenario × session: entities in insertion order, their
// versions (for @odata.etag) and a change log (for delta). Seed entities are shared read-only with
// the compiled scenario; a write replaces the stored object, never mutates it. With a shared store
// the same class holds a snapshot: the seed with the writes Redis returned laid over it (fromWrites).
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
  /** the weak ETag of version `tagVersion` (etagOf), kept so reads do not hash again */
  tag?: string;
  tagVersion?: number;
}

/** Each state gets a fresh epoch: delta tokens from before a reset or an expiry no longer fit. */
let epochs = 0;

/** One client-written entity as a shared store returns it (the seed stays in the compiled scenario). */
export interface WrittenItem {
  key: string;
  entity: Entity;
  version: number;
  changedSeq: number;
  bytes: number;
  /** 0: a seed entity updated in place; n > 0: the n-th created (its place in insertion order) */
  ord: number;
}

/** What a shared store read: the change counter, the token epoch, its clock and the writes. */
export interface CollectionSnapshot {
  seq: number;
  epoch: number;
  now: number;
  written: WrittenItem[];
  /** key → seq of its deletion */
  removed: Map<string, number>;
}

/** A seed entity's key: its key property, or its place when it has none. */
export function seedKey(e: Entity, keyName: string, i: number): string {
  const v = e[keyName];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : `item-${i}`;
}

/** A seed's entities by key (deleted or not), once per seed. */
export function seedIndex(seed: readonly Entity[], keyName: string): Map<string, Entity> {
  let index = seedIndexes.get(seed);
  if (!index) {
    index = new Map();
    for (let i = 0; i < seed.length; i++) {
      const key = seedKey(seed[i]!, keyName, i);
      if (!index.has(key)) index.set(key, seed[i]!);
    }
    seedIndexes.set(seed, index);
  }
  return index;
}
const seedIndexes = new WeakMap<readonly Entity[], Map<string, Entity>>();

export class CollectionState {
  epoch = ++epochs;
  /** the clock of a snapshot's read (the shared store's); undefined: live state, Date.now() */
  readAt?: number;
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
      const key = seedKey(e, keyName, i);
      if (!this.items.has(key)) this.items.set(key, { key, entity: e, version: 1, changedSeq: 0, bytes: 0 });
    });
  }

  /**
   * The state a shared store holds: seed entities in place (updated ones replaced, deleted or
   * re-created ones left out), then the created ones in creation order — the order live state keeps.
   */
  static fromWrites(seed: readonly Entity[], keyName: string, snap: CollectionSnapshot): CollectionState {
    const st = new CollectionState([], keyName);
    st.epoch = snap.epoch;
    st.seq = snap.seq;
    st.readAt = snap.now;
    const written = new Map(snap.written.map((w) => [w.key, w]));
    seed.forEach((e, i) => {
      const key = seedKey(e, keyName, i);
      if (st.items.has(key)) return;
      const w = written.get(key);
      if (w) {
        if (w.ord === 0) st.items.set(key, stored(w));
      } else if (!snap.removed.has(key)) {
        st.items.set(key, { key, entity: e, version: 1, changedSeq: 0, bytes: 0 });
      }
    });
    const created = snap.written.filter((w) => w.ord > 0).sort((a, b) => a.ord - b.ord);
    for (const w of created) st.items.set(w.key, stored(w));
    for (const [key, seq] of snap.removed) st.removed.set(key, seq);
    return st;
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

function stored(w: WrittenItem): Stored {
  return { key: w.key, entity: w.entity, version: w.version, changedSeq: w.changedSeq, bytes: w.bytes };
}

/** A weak ETag that changes with every update of the entity. */
export function etagOf(s: Stored): string {
  // made once per version: every read of an entity names it
  if (s.tag !== undefined && s.tagVersion === s.version) return s.tag;
  const h = hashString(`${s.key}#${s.version}`).toString(16).padStart(8, '0');
  const tag = `W/"${Buffer.from(`${h}${s.version.toString(16)}`).toString('base64')}"`;
  s.tag = tag;
  s.tagVersion = s.version;
  return tag;
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
