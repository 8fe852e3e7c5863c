/**
 * A sparse log-bucket histogram of durations (seconds). Bucket i holds values in
 * (BASE·γ^(i-1), BASE·γ^i]; reporting the geometric middle of a bucket keeps any
 * quantile within (√γ − 1) ≈ 2.5 % of the true value, well inside the 5 % we promise.
 * Encoded as a Buffer of (uint16 index, uint32 count) pairs sorted by index, so SQLite
 * stores it compactly and `hist_merge` can add two of them inside an upsert.
 */
const GAMMA = 1.05;
const LOG_GAMMA = Math.log(GAMMA);
const BASE = 1e-3; // 1 ms: anything shorter shares bucket 0
const MAX_INDEX = 65_535;
const PAIR = 6;

export function bucketOf(seconds: number): number {
  if (!(seconds > BASE)) return 0;
  const i = Math.ceil(Math.log(seconds / BASE) / LOG_GAMMA);
  return i > MAX_INDEX ? MAX_INDEX : i;
}

/** The value reported for a bucket: its geometric middle (bucket 0 reports BASE/2). */
export function bucketValue(index: number): number {
  if (index === 0) return BASE / 2;
  return BASE * Math.pow(GAMMA, index - 0.5);
}

let sortScratch = new Uint16Array(256);

export class Histogram {
  readonly counts = new Map<number, number>();

  add(seconds: number, n = 1): void {
    const b = bucketOf(seconds);
    this.counts.set(b, (this.counts.get(b) ?? 0) + n);
  }

  addEncoded(buf: Uint8Array | null | undefined): void {
    if (!buf) return;
    const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let p = 0; p + PAIR <= view.length; p += PAIR) {
      const i = view.readUInt16LE(p);
      this.counts.set(i, (this.counts.get(i) ?? 0) + view.readUInt32LE(p + 2));
    }
  }

  get total(): number {
    let t = 0;
    for (const c of this.counts.values()) t += c;
    return t;
  }

  encode(): Buffer {
    const n = this.counts.size;
    // Bucket indexes sorted in a reused typed array: no array, no comparator calls per encode.
    if (sortScratch.length < n) sortScratch = new Uint16Array(Math.max(n, sortScratch.length * 2));
    let i = 0;
    for (const k of this.counts.keys()) sortScratch[i++] = k;
    const keys = sortScratch.subarray(0, n).sort();
    const out = Buffer.allocUnsafe(n * PAIR);
    let p = 0;
    for (i = 0; i < n; i++) {
      const k = keys[i]!;
      out.writeUInt16LE(k, p);
      out.writeUInt32LE(Math.min(this.counts.get(k)!, 0xffff_ffff), p + 2);
      p += PAIR;
    }
    return out;
  }

  /** Nearest-rank quantile (q in [0,1]); null when empty. */
  quantile(q: number): number | null {
    const total = this.total;
    if (total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * total));
    const keys = [...this.counts.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const k of keys) {
      seen += this.counts.get(k)!;
      if (seen >= rank) return bucketValue(k);
    }
    return bucketValue(keys[keys.length - 1]!);
  }
}

/** Adds two encoded histograms (either may be null). Registered as SQLite's hist_merge(). */
export function mergeEncoded(a: Uint8Array | null, b: Uint8Array | null): Buffer | null {
  if (!a || a.length === 0) return b ? Buffer.from(b) : null;
  if (!b || b.length === 0) return Buffer.from(a);
  const h = new Histogram();
  h.addEncoded(a);
  h.addEncoded(b);
  return h.encode();
}

/** Adds an encoded histogram into a dense array of counts indexed by bucket. */
export function addEncodedInto(acc: number[], buf: Uint8Array | null): void {
  if (!buf || buf.length === 0) return;
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let p = 0; p + PAIR <= view.length; p += PAIR) {
    const i = view.readUInt16LE(p);
    acc[i] = (acc[i] ?? 0) + view.readUInt32LE(p + 2);
  }
}

/** Encodes a dense array of counts (holes and zeros skipped); null when empty. */
export function encodeDense(acc: number[]): Buffer | null {
  let n = 0;
  for (let i = 0; i < acc.length; i++) if (acc[i]) n++;
  if (n === 0) return null;
  const out = Buffer.allocUnsafe(n * PAIR);
  let p = 0;
  for (let i = 0; i < acc.length; i++) {
    const c = acc[i];
    if (!c) continue;
    out.writeUInt16LE(i, p);
    out.writeUInt32LE(Math.min(c, 0xffff_ffff), p + 2);
    p += PAIR;
  }
  return out;
}
