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
