import { describe, expect, it } from 'vitest';
import { RecentRing } from '../../src/ingest/recent-ring.js';

/** Lines noted from one reused buffer, as the tailer delivers them, then drained. */
function feed(ring: RecentRing, chunks: string[][]): void {
  const buf = Buffer.alloc(4096);
  for (const lines of chunks) {
    buf.fill(0x2a); // what a reused buffer holds between reads: anything
    let p = 0;
    for (const l of lines) {
      const n = buf.write(l, p);
      ring.push(p, p + n, 1, 'INFO', 'app', 'f.log');
      p += n + 1; // and a newline
    }
    ring.endChunk(buf);
    buf.fill(0x23); // the next read overwrites the chunk
  }
}

describe('RecentRing', () => {
  it('keeps the latest lines across chunks, oldest first', () => {
    const ring = new RecentRing(3);
    feed(ring, [['a1', 'a2'], ['b1', 'b2', 'b3', 'b4'], ['c1']]);
    expect(ring.drain().map((e) => e.text)).toEqual(['b3', 'b4', 'c1']);
    expect(ring.length).toBe(0);
    feed(ring, [['d1'], ['é2']]);
    expect(ring.drain().map((e) => e.text)).toEqual(['d1', 'é2']);
  });

  it('gives way to new bytes when the byte budget is full, wrapping around', () => {
    const ring = new RecentRing(100, 0, 10);
    feed(ring, [['aaaa', 'bbbb'], ['cccc']]);
    // The first chunk takes bytes 0–8 (with its newline); the second wraps to 0 and
    // overwrites aaaa, not bbbb.
    expect(ring.drain().map((e) => e.text)).toEqual(['bbbb', 'cccc']);
    feed(ring, [['11'], ['22'], ['33'], ['44'], ['55'], ['66']]);
    expect(ring.drain().map((e) => e.text)).toEqual(['22', '33', '44', '55', '66']);
  });

  it('grows its buffer (up to the budget) while the latest lines do not fit, keeping them in order', () => {
    const ring = new RecentRing(10, 0, 8 << 20); // starts at 2 MiB
    const line = (i: number) => String(i % 10).repeat(300_000);
    const buf = Buffer.alloc(400_000);
    for (let i = 0; i < 25; i++) {
      const n = buf.write(line(i), 0);
      ring.push(0, n, i, 'INFO', 'app', 'f.log');
      ring.endChunk(buf);
    }
    const kept = ring.drain();
    expect(kept.map((e) => e.ts)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(kept.every((e) => e.text === line(e.ts))).toBe(true);
  });

  it('never keeps a line longer than the budget, and forgets everything on clear', () => {
    const ring = new RecentRing(5, 0, 8);
    feed(ring, [['short'], ['far too long for it']]);
    expect(ring.drain().map((e) => e.text)).toEqual([]);
    feed(ring, [['x', 'y']]);
    ring.clear();
    expect(ring.drain()).toEqual([]);
    const keep = new RecentRing(0);
    feed(keep, [['z']]);
    expect(keep.length).toBe(0);
  });

  it('refuses to drain lines that were never copied out of their chunk', () => {
    const ring = new RecentRing(2);
    ring.push(0, 1, 1, 'INFO', '', 'f');
    expect(() => ring.drain()).toThrow(/endChunk/);
  });
});
