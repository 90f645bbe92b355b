// A ring of bytes for the journal's per-request text (URL, ids, headers). Keeping those strings as
// JavaScript references would keep every request's objects alive for 10,000 requests: each survives
// the young-generation collection and is copied into the old one, which made the journal cost more
// than the engine (bench/engine-micro.mjs). Written here, they are bytes outside the JS heap, and the
// strings the request brought die young.
//
// Writing is batched: `put` only joins the string onto a pending text (one cons-string node) and notes
// its length (UTF-16 units) in a lengths ring; every ~20 kB of pending text goes into the byte ring
// with one utf8Write (a chunk). Copying each request's strings byte by byte in JavaScript cost ~4,500
// instructions a request (charCodeAt on the parser's strings), and a Buffer call per string or per
// entry costs more in the binding than the copy. A chunk is decoded whole when read and cut by the
// lengths: UTF-8 keeps UTF-16 lengths (a lone surrogate comes back as one U+FFFD), so they stay
// valid. Reads (the admin API) flush what is pending first.

/** Conservative bytes a string takes: 3 UTF-8 bytes a UTF-16 unit at most, 2 for its length. */
const bytesFor = (units: number) => 3 * units + 2;
/** Flush once the pending text may take this many bytes (~20 kB of ASCII; less in a small ring). */
const CHUNK_BYTES = 64 * 1024;

export class TextRing {
  // utf8Write: Buffer's own binding, without write()'s argument and encoding dispatch
  private readonly bytes: Buffer & { utf8Write(s: string, offset: number, length: number): number };
  /** times the cursor went back to the front, and where it is now: position = lap × size + at */
  private lap = 0;
  private at = 0;

  /** UTF-16 length of every string put, by its global index (a power-of-two ring) */
  private readonly lens: Uint16Array;
  private readonly lensMask: number;
  /** strings put so far: the next string's global index */
  private strings = 0;

  /** text not yet in the byte ring, its strings from `pendingFrom`, its conservative byte size */
  private pending = '';
  private pendingFrom = 0;
  private pendingBytes = 0;
  /** conservative bytes the current entry has taken */
  private entryBytes = 0;
  /** bytes of pending text that start a flush */
  private readonly chunkBytes: number;

  // chunks in the byte ring, a ring of `chunkCap` by sequence number: first string's index (a chunk
  // ends where the next begins), global byte position and byte length
  private readonly chunkCap: number;
  private readonly chunkFirst: Float64Array;
  private readonly chunkPos: Float64Array;
  private readonly chunkLen: Float64Array;
  private chunks = 0;
  /** the last chunk decoded (reads go through entries in order): its sequence number, text, offsets */
  private cached = -1;
  private cachedText = '';
  private cachedOffsets: Uint32Array = new Uint32Array(0);

  /**
   * `size` bytes, allocated and written once: resident from the start, so the ring is part of the
   * memory a fresh mock shows and does not grow into it (its 10,000 entries are fixed-size by design).
   * `entries`: how many entries may be live at once (the journal's slots): chunk records kept for them.
   */
  constructor(
    readonly size: number,
    private readonly maxEntry: number,
    entries = 1024,
  ) {
    if (maxEntry > bytesFor(0xffff)) throw new RangeError('entry limit beyond 16-bit lengths');
    this.chunkBytes = Math.max(maxEntry, Math.min(CHUNK_BYTES, size >> 2));
    if (size < 2 * this.chunkBytes) throw new RangeError('text ring smaller than two entries');
    this.bytes = Buffer.allocUnsafeSlow(size).fill(0) as TextRing['bytes'];
    // ~16 strings an entry on average before lengths, rather than bytes, limit what stays readable
    let n = 1024;
    while (n < entries * 16) n *= 2;
    this.lens = new Uint16Array(n);
    this.lensMask = n - 1;
    // every chunk holds at least one entry, so the newest `entries` entries span at most that many
    this.chunkCap = entries + 1;
    this.chunkFirst = new Float64Array(this.chunkCap);
    this.chunkPos = new Float64Array(this.chunkCap);
    this.chunkLen = new Float64Array(this.chunkCap);
  }

  /** Starts an entry of at most maxEntry bytes; answers its handle (for `read` and `readable`). */
  begin(): number {
    if (this.pendingBytes + this.maxEntry > this.chunkBytes) this.flush();
    this.entryBytes = 0;
    return this.strings;
  }

  /** Bytes the current entry may still take (counted at 3 a character). */
  room(): number {
    return this.maxEntry - this.entryBytes;
  }

  /** Appends a string, cut to what the entry has room for; a full entry drops it. */
  put(s: string): void {
    const room = this.maxEntry - this.entryBytes;
    if (room < 2) return;
    let n = s.length;
    if (bytesFor(n) > room) {
      n = Math.floor((room - 2) / 3);
      s = s.slice(0, n);
    }
    // a high surrogate last would pair with a low one starting the next string in the joined text
    if (n > 0 && (s.charCodeAt(n - 1) & 0xfc00) === 0xd800) s = `${s.slice(0, n - 1)}\ufffd`;
    this.pending += s;
    this.lens[this.strings & this.lensMask] = n;
    this.strings++;
    this.entryBytes += bytesFor(n);
    this.pendingBytes += bytesFor(n);
  }

  /** True while the entry of this handle has not been overwritten. */
  readable(handle: number): boolean {
    return this.liveChunk(handle) >= 0;
  }

  /** The strings of the entry of this handle, in the order they were put; undefined once overwritten. */
  read(handle: number, count: number): string[] | undefined {
    const c = this.liveChunk(handle);
    if (c < 0) return undefined;
    if (this.cached !== c) this.decode(c);
    const offsets = this.cachedOffsets;
    const first = this.chunkFirst[c % this.chunkCap]!;
    const end = Math.min(handle + count, this.chunkEnd(c));
    const out: string[] = [];
    for (let i = handle; i < end; i++) {
      out.push(this.cachedText.slice(offsets[i - first]!, offsets[i - first + 1]!));
    }
    return out;
  }

  /** Sequence number of the chunk holding this entry (what is pending is written first); -1: overwritten. */
  private liveChunk(handle: number): number {
    if (handle >= this.pendingFrom) this.flush();
    if (this.strings - handle > this.lens.length) return -1; // its lengths were overwritten
    const c = this.chunkOf(handle);
    const bytesKept =
      c >= 0 && this.lap * this.size + this.at - this.chunkPos[c % this.chunkCap]! <= this.size;
    return bytesKept ? c : -1;
  }

  /** Index after the last string of chunk `c`: where the next chunk (or the pending text) begins. */
  private chunkEnd(c: number): number {
    return c + 1 < this.chunks ? this.chunkFirst[(c + 1) % this.chunkCap]! : this.pendingFrom;
  }

  /** The pending text into the byte ring as one chunk. */
  private flush(): void {
    if (this.strings === this.pendingFrom) return;
    if (this.at + this.pendingBytes > this.size) {
      this.lap++; // start again at the front: a chunk is contiguous
      this.at = 0;
    }
    const c = this.chunks++ % this.chunkCap;
    const n = this.bytes.utf8Write(this.pending, this.at, this.pendingBytes);
    this.chunkFirst[c] = this.pendingFrom;
    this.chunkPos[c] = this.lap * this.size + this.at;
    this.chunkLen[c] = n;
    this.at += n;
    this.pending = '';
    this.pendingFrom = this.strings;
    this.pendingBytes = 0;
  }

  /** Sequence number of the chunk holding the string with this index; -1 when no longer recorded. */
  private chunkOf(index: number): number {
    let lo = Math.max(0, this.chunks - this.chunkCap);
    let hi = this.chunks - 1;
    if (hi < lo || index < this.chunkFirst[lo % this.chunkCap]!) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunkFirst[mid % this.chunkCap]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Decodes chunk `c` whole and notes where each of its strings starts. */
  private decode(c: number): void {
    const i = c % this.chunkCap;
    const at = this.chunkPos[i]! % this.size;
    this.cachedText = this.bytes.toString('utf8', at, at + this.chunkLen[i]!);
    const first = this.chunkFirst[i]!;
    const count = this.chunkEnd(c) - first;
    const offsets = new Uint32Array(count + 1);
    for (let k = 0; k < count; k++) offsets[k + 1] = offsets[k]! + this.lens[(first + k) & this.lensMask]!;
    this.cachedOffsets = offsets;
    this.cached = c;
  }
}
