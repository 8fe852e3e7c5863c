import { describe, expect, it } from 'vitest';
import { Histogram, bucketOf, bucketValue, mergeEncoded } from '../../src/store/histogram.js';

function exactQuantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]!;
}

// A small deterministic PRNG so a failure can be reproduced.
function rng(seed: number) {
  return () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('Histogram', () => {
  it('gives p50/p95/p99 within 5% of the exact value on skewed data', () => {
    const r = rng(42);
    for (const shape of ['uniform', 'lognormal', 'bimodal'] as const) {
      const values: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        const u = r();
        if (shape === 'uniform') values.push(1 + u * 600);
        else if (shape === 'lognormal') values.push(Math.exp(2 + 1.5 * Math.sqrt(-2 * Math.log(u + 1e-12)) * Math.cos(2 * Math.PI * r())));
        else values.push(u < 0.9 ? 0.5 + r() : 280 + r() * 60);
      }
      const h = new Histogram();
      for (const v of values) h.add(v);
      for (const q of [0.5, 0.95, 0.99]) {
        const exact = exactQuantile(values, q);
        const est = h.quantile(q)!;
        expect(Math.abs(est - exact) / exact, `${shape} q=${q}`).toBeLessThan(0.05);
      }
    }
  });

  it('survives encode/merge: two halves merged equal the whole', () => {
    const a = new Histogram();
    const b = new Histogram();
    const whole = new Histogram();
    for (let i = 1; i <= 1000; i++) {
      (i % 2 ? a : b).add(i / 10);
      whole.add(i / 10);
    }
    const merged = new Histogram();
    merged.addEncoded(mergeEncoded(a.encode(), b.encode()));
    expect(merged.total).toBe(1000);
    expect([...merged.counts].sort()).toEqual([...whole.counts].sort());
    expect(mergeEncoded(null, a.encode())!.equals(a.encode())).toBe(true);
    expect(mergeEncoded(null, null)).toBeNull();
  });

  it('puts zero, sub-millisecond and huge durations in valid buckets', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(NaN)).toBe(0);
    expect(bucketOf(Infinity)).toBe(65535);
    expect(bucketOf(1e300)).toBeLessThanOrEqual(65535);
    const v = bucketValue(bucketOf(3.2));
    expect(Math.abs(v - 3.2) / 3.2).toBeLessThan(0.05);
    expect(new Histogram().quantile(0.95)).toBeNull();
  });
});

describe('hist_sum (the SQLite aggregate)', () => {
  it('merges a column of histograms to the same counts as merging in JavaScript', async () => {
    const { openStore } = await import('../../src/store/db.js');
    const db = openStore(':memory:');
    db.exec('CREATE TABLE h (g TEXT, b BLOB)');
    const byGroup = new Map<string, Histogram>();
    const ins = db.prepare('INSERT INTO h VALUES (?, ?)');
    for (let i = 0; i < 300; i++) {
      const one = new Histogram();
      for (let k = 0; k < 5; k++) one.add(((i * 7 + k * 13) % 500) / 3 + 0.01);
      const g = i % 3 === 0 ? 'a' : 'b';
      ins.run(g, one.encode());
      let acc = byGroup.get(g);
      if (!acc) byGroup.set(g, (acc = new Histogram()));
      acc.addEncoded(one.encode());
    }
    ins.run('a', null);
    const rows = db.prepare('SELECT g, hist_sum(b) AS h FROM h GROUP BY g ORDER BY g').all() as { g: string; h: Buffer }[];
    expect(rows.map((r) => r.g)).toEqual(['a', 'b']);
    for (const r of rows) expect(r.h.equals(byGroup.get(r.g)!.encode())).toBe(true);
    expect((db.prepare('SELECT hist_sum(b) AS h FROM h WHERE g = ?').get('none') as { h: unknown }).h).toBeNull();
  });
});

describe('window slices', () => {
  it('tile a range with days, hours and minutes, without gaps or overlaps', async () => {
    const { slices } = await import('../../src/store/windows.js');
    const H = 3_600_000;
    const D = 24 * H;
    const base = Date.UTC(2026, 10, 1);
    for (const [from, to] of [
      [base + 7 * 60_000 + 5, base + 9 * D + 5 * H + 17 * 60_000],
      [base + 3 * H, base + 2 * D],
      [base, base + 50 * 60_000],
      [base + D - 1, base + D + 1],
    ] as const) {
      const sl = slices({ from, to });
      expect(sl[0]!.from).toBe(from - (from % 60_000));
      expect(sl[sl.length - 1]!.to).toBe(to);
      for (let i = 1; i < sl.length; i++) expect(sl[i]!.from).toBe(sl[i - 1]!.to);
      for (const s of sl) expect(s.from % s.res).toBe(0);
    }
    expect(slices({ from: base + 7 * 60_000, to: base + 9 * D }).map((s) => s.res)).toEqual([60_000, H, D]);
  });
});
