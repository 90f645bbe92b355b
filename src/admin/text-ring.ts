// A ring of bytes for the journal's per-request text (URL, ids, headers). Keeping those strings as
// JavaScript references would keep every request's objects alive for 10,000 requests: each survives
// the young-generation collection and is copied into the old one, which made the journal cost more
// than the engine (bench/engine-micro.mjs). Written here, they are bytes outside the JS heap, and the
// strings the request brought die young. Entries are contiguous; an entry is readable until the
// cursor has come round and overwritten it.

/** Longest entry written: longer strings are cut by the caller, so this bounds a single record. */
const MAX_STRING_BYTES = 0xffff;

export class TextRing {
  // utf8Write: Buffer's own binding, without write()'s argument and encoding dispatch
  private readonly bytes: Buffer & { utf8Write(s: string, offset: number, length: number): number };
  /** times the cursor went back to the front, and where it is now: position = lap × size + at */
  private lap = 0;
  private at = 0;
  /** where the current entry must end */
  private limit = 0;

  /**
   * `size` bytes, allocated and written once: resident from the start, so the ring is part of the
   * memory a fresh mock shows and does not grow into it (its 10,000 entries are fixed-size by design)
   */
  constructor(
    readonly size: number,
    private readonly maxEntry: number,
  ) {
    this.bytes = Buffer.allocUnsafeSlow(size).fill(0) as TextRing['bytes'];
  }

  /** Starts an entry of at most maxEntry bytes; answers its position (for `read` and `readable`). */
  begin(): number {
    if (this.at + this.maxEntry > this.size) {
      this.lap++; // start again at the front: entries are contiguous
      this.at = 0;
    }
    this.limit = this.at + this.maxEntry;
    return this.lap * this.size + this.at;
  }

  /** Bytes the current entry may still take. */
  room(): number {
    return this.limit - this.at;
  }

  /**
   * Appends a string (UTF-8, two-byte length first), cut to what the entry has room for. ASCII is
   * copied by a plain loop: for the short strings of a request that beats a call into Buffer's C++
   * (~100 ns each, nine a request); the first non-ASCII character hands the rest to utf8Write.
   */
  put(s: string): void {
    const room = this.limit - this.at - 2;
    if (room < 0) return; // callers check room(); a full entry drops the rest
    const b = this.bytes;
    const at = this.at + 2;
    const max = s.length < room ? s.length : room;
    let n = 0;
    while (n < max) {
      const c = s.charCodeAt(n);
      if (c > 0x7f) break;
      b[at + n] = c;
      n++;
    }
    if (n < max) n += b.utf8Write(s.slice(n), at + n, Math.min(room, MAX_STRING_BYTES) - n);
    b[at - 2] = n & 0xff;
    b[at - 1] = n >>> 8;
    this.at = at + n;
  }

  /** True while the entry that began at `start` has not been overwritten. */
  readable(start: number): boolean {
    return this.lap * this.size + this.at - start <= this.size;
  }

  /** The strings of the entry that began at `start`, in the order they were put. */
  read(start: number, count: number): string[] {
    const out: string[] = [];
    let at = start % this.size;
    for (let i = 0; i < count; i++) {
      const n = this.bytes[at]! | (this.bytes[at + 1]! << 8);
      out.push(this.bytes.toString('utf8', at + 2, at + 2 + n));
      at += n + 2;
    }
    return out;
  }
}
