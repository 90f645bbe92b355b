// A ring of bytes for the journal's per-request text (URL, ids, headers). Keeping those strings as
// JavaScript references would keep every request's objects alive for 10,000 requests: each survives
// the young-generation collection and is copied into the old one, which made the journal cost more
// than the engine (bench/engine-micro.mjs). Written here, they are bytes outside the JS heap, and the
// strings the request brought die young. Entries are contiguous; an entry is readable until the
// cursor has come round and overwritten it.

/** Longest entry written: longer strings are cut by the caller, so this bounds a single record. */
const MAX_STRING_BYTES = 0xffff;

export class TextRing {
  // utf8Write: Buffer's own binding, without write()'s argument and encoding dispatch (~3× faster here)
  private readonly bytes: Buffer & { utf8Write(s: string, offset: number, length: number): number };
  /** bytes written since the start, including the gaps left when an entry would not fit at the end */
  private pos = 0;
  private entryStart = 0;

  /** `size` bytes, allocated once (pages become resident as the cursor first reaches them) */
  constructor(
    readonly size: number,
    private readonly maxEntry: number,
  ) {
    this.bytes = Buffer.allocUnsafeSlow(size) as TextRing['bytes'];
  }

  /** Starts an entry of at most maxEntry bytes; answers its position (for `text` and `readable`). */
  begin(): number {
    const phys = this.pos % this.size;
    if (phys + this.maxEntry > this.size) this.pos += this.size - phys; // start again at the front
    this.entryStart = this.pos;
    return this.pos;
  }

  /** Bytes the current entry may still take. */
  room(): number {
    return this.maxEntry - (this.pos - this.entryStart);
  }

  /** Appends a string (UTF-8, length-prefixed), cut to what the entry has room for. */
  put(s: string): void {
    const room = Math.min(MAX_STRING_BYTES, this.room() - 2);
    if (room < 0) return; // callers check room(); a full entry drops the rest
    const at = (this.pos % this.size) + 2;
    const n = s.length === 0 ? 0 : this.bytes.utf8Write(s, at, room);
    this.bytes.writeUInt16LE(n, at - 2);
    this.pos += n + 2;
  }

  /** True while the entry that began at `start` has not been overwritten. */
  readable(start: number): boolean {
    return this.pos - start <= this.size;
  }

  /** The strings of the entry that began at `start`, in the order they were put. */
  read(start: number, count: number): string[] {
    const out: string[] = [];
    let at = start % this.size;
    for (let i = 0; i < count; i++) {
      const n = this.bytes.readUInt16LE(at);
      out.push(this.bytes.toString('utf8', at + 2, at + 2 + n));
      at += n + 2;
    }
    return out;
  }
}
