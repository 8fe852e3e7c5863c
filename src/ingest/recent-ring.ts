/**
 * The latest lines as raw bytes in one preallocated buffer. Keeping a string per line
 * alive for `capacity` lines made every young-generation collection copy (then
 * promote) megabytes of text during a catch-up; bytes in a Buffer cost the collector
 * nothing, and a line is decoded only if it is still here when the ring is drained.
 * Lines are noted per line but copied once per chunk (one memcpy of the chunk's tail
 * instead of a call per line), so `endChunk` must run before the chunk's buffer is
 * reused. The byte budget also bounds memory when lines are huge: the oldest give way.
 */
export interface RingEntry {
  ts: number;
  level: string;
  logger: string;
  file: string;
  text: string;
}

export class RecentRing {
  private bytes: Buffer;
  /** What `bytes` may grow to. */
  private readonly budget: number;
  /** Virtual (ever-growing) byte offset of each entry; physical = virtual % bytes.length. */
  private readonly vStart: Float64Array;
  private readonly len: Int32Array;
  private readonly ts: Float64Array;
  private readonly level: (string | undefined)[];
  private readonly logger: (string | undefined)[];
  private readonly file: (string | undefined)[];
  private next = 0;
  private size = 0;
  /** Lines noted in the current chunk, not copied yet. */
  private pending = 0;
  private vEnd = 0;

  /**
   * `capacity` lines at most, in a byte budget of ~1 KiB a line (1–32 MiB), never less
   * than `minBytes` (the longest line the tailer delivers, so every line fits). The
   * buffer starts at 2 MiB and doubles only while the latest `capacity` lines do not fit.
   */
  constructor(capacity: number, minBytes = 0, byteBudget = Math.max(minBytes, Math.min(32 << 20, Math.max(1 << 20, capacity * 1024)))) {
    const n = Math.max(0, capacity);
    this.budget = n > 0 ? byteBudget : 0;
    this.bytes = Buffer.allocUnsafe(Math.min(this.budget, Math.max(minBytes, 2 << 20)));
    this.vStart = new Float64Array(n);
    this.len = new Int32Array(n);
    this.ts = new Float64Array(n);
    this.level = new Array(n);
    this.logger = new Array(n);
    this.file = new Array(n);
  }

  get length(): number {
    return this.size;
  }

  /** Notes `buf[start, end)` of the current chunk as the newest line; kept at `endChunk(buf)`. */
  push(start: number, end: number, ts: number, level: string, logger: string, file: string): void {
    const n = this.len.length;
    if (n === 0) return;
    const i = this.next;
    this.vStart[i] = start;
    this.len[i] = end - start;
    this.ts[i] = ts;
    this.level[i] = level;
    this.logger[i] = logger;
    this.file[i] = file;
    this.next = i + 1 === n ? 0 : i + 1;
    if (this.pending < n) this.pending++;
  }

  /** Copies the lines noted since the last call out of `buf`, which is about to be reused. */
  endChunk(buf: Buffer): void {
    let k = this.pending;
    if (k === 0) return;
    this.pending = 0;
    const n = this.len.length;
    const last = (this.next - 1 + n) % n;
    const end = this.vStart[last]! + this.len[last]!;
    let first = (this.next - k + n) % n;
    // The older kept lines: those whose slots this chunk's lines did not take.
    let older = Math.min(this.size, n - k);
    const need = end - this.vStart[first]! + (older > 0 ? this.vEnd - this.vStart[(first - older + n) % n]! : 0);
    if (need > this.bytes.length && this.bytes.length < this.budget) this.grow(first, older, Math.min(this.budget, Math.max(2 * this.bytes.length, need)));
    // Only a chunk bigger than the byte budget sheds lines here (the budget is sized to
    // avoid it); the kept lines must stay contiguous, so the older ones go too.
    while (k > 0 && end - this.vStart[first]! > this.bytes.length) {
      this.level[first] = this.logger[first] = this.file[first] = undefined;
      first = first + 1 === n ? 0 : first + 1;
      k--;
      older = 0;
    }
    if (k === 0) {
      this.size = 0;
      return;
    }
    this.place(buf, first, k, older, this.vStart[first]!, end);
  }

  /** Copies chunk bytes [start, end) holding the `k` lines from slot `first` on; `older` lines before them stay if they fit. */
  private place(buf: Buffer, first: number, k: number, older: number, start: number, end: number): void {
    const n = this.len.length;
    const C = this.bytes.length;
    const l = end - start;
    let v = this.vEnd;
    const p = v % C;
    if (p + l > C) v += C - p; // the copied range is contiguous: skip the tail of the buffer
    // Older lines whose bytes the copy overwrites give way, oldest first.
    while (older > 0 && v + l - this.vStart[(first - older + n) % n]! > C) older--;
    buf.copy(this.bytes, v % C, start, end);
    for (let j = first, m = 0; m < k; m++, j = j + 1 === n ? 0 : j + 1) this.vStart[j] = v + (this.vStart[j]! - start);
    this.vEnd = v + l;
    this.size = older + k;
  }

  /** A bigger buffer, with the `older` lines before slot `first` moved to its start, oldest first. */
  private grow(first: number, older: number, size: number): void {
    const n = this.len.length;
    const C = this.bytes.length;
    const bytes = Buffer.allocUnsafe(size);
    let pos = 0;
    for (let m = older; m > 0; m--) {
      const j = (first - m + n) % n;
      const p = this.vStart[j]! % C;
      this.bytes.copy(bytes, pos, p, p + this.len[j]!);
      this.vStart[j] = pos;
      pos += this.len[j]!;
    }
    this.bytes = bytes;
    this.vEnd = pos;
  }

  /** The kept lines, oldest first; empties the ring. */
  drain(): RingEntry[] {
    if (this.pending > 0) throw new Error('RecentRing.drain before endChunk');
    const n = this.len.length;
    const C = this.bytes.length;
    const out: RingEntry[] = [];
    let i = (this.next - this.size + n) % n;
    for (let k = 0; k < this.size; k++) {
      const p = this.vStart[i]! % C;
      const text = this.bytes.toString('utf8', p, p + this.len[i]!);
      out.push({ ts: this.ts[i]!, level: this.level[i]!, logger: this.logger[i]!, file: this.file[i]!, text });
      this.level[i] = this.logger[i] = this.file[i] = undefined;
      i = (i + 1) % n;
    }
    this.clear();
    return out;
  }

  clear(): void {
    this.size = 0;
    this.pending = 0;
    this.next = 0;
    this.vEnd = 0;
    this.level.fill(undefined);
    this.logger.fill(undefined);
    this.file.fill(undefined);
  }
}
