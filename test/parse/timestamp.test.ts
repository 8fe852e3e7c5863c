import { afterAll, describe, expect, it } from 'vitest';
import { MAX_TS, MIN_TS, parseTimestamp, resetTimestampCache } from '../../src/parse/timestamp.js';

const originalTz = process.env.TZ;
afterAll(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
  resetTimestampCache();
});

/** Deterministic PRNG so a failure can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A random timestamp string in one of the shapes the fast path handles, plus the Date.parse reference form. */
function randomStamp(r: () => number, ms: number): { text: string; reference: string } {
  const d = new Date(ms);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const sep = ['T', 't', ' '][Math.floor(r() * 3)]!;
  const withSeconds = r() < 0.9;
  let secs = '';
  let refSecs = '';
  if (withSeconds) {
    secs = `:${pad(d.getUTCSeconds())}`;
    refSecs = secs;
    const digits = Math.floor(r() * 10); // 0 = no fraction
    if (digits > 0) {
      let frac = '';
      for (let i = 0; i < digits; i++) frac += String(Math.floor(r() * 10));
      const mark = r() < 0.3 ? ',' : '.';
      secs += mark + frac;
      refSecs += '.' + frac;
    }
  }
  const zr = r();
  let zone = '';
  if (zr < 0.25) zone = '';
  else if (zr < 0.45) zone = r() < 0.5 ? 'Z' : 'z';
  else {
    const sign = r() < 0.5 ? '+' : '-';
    const zh = pad(Math.floor(r() * 24));
    const zm = pad([0, 30, 45, Math.floor(r() * 60)][Math.floor(r() * 4)]!);
    zone = r() < 0.7 ? `${sign}${zh}:${zm}` : `${sign}${zh}${zm}`;
  }
  return { text: `${date}${sep}${hm}${secs}${zone}`, reference: `${date}T${hm}${refSecs}${zone}` };
}

function expected(reference: string): number | undefined {
  const ms = Date.parse(reference);
  return Number.isNaN(ms) || ms < MIN_TS || ms >= MAX_TS ? undefined : ms;
}

describe('parseTimestamp matches Date.parse', () => {
  for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Europe/London']) {
    it(`on random ISO and asctime strings (TZ=${tz})`, () => {
      process.env.TZ = tz;
      resetTimestampCache();
      const r = rng(tz.length * 7919);
      let checked = 0;
      // Random jumps (cache misses) and a slow walk (cache hits within a minute).
      let walk = Date.UTC(2026, 2, 7, 0, 0, 0);
      for (let i = 0; i < 6000; i++) {
        const ms =
          i % 2 === 0 ? Math.floor(Date.UTC(1971, 0, 1) + r() * (Date.UTC(2199, 11, 31) - Date.UTC(1971, 0, 1))) : (walk += Math.floor(r() * 4000));
        const { text, reference } = randomStamp(r, ms);
        const got = parseTimestamp(text);
        if (got !== expected(reference)) {
          throw new Error(`${text}: got ${got}, Date.parse(${reference}) = ${Date.parse(reference)}`);
        }
        checked++;
      }
      expect(checked).toBe(6000);
    });
  }

  it('across a DST gap and overlap in local time', () => {
    process.env.TZ = 'America/New_York';
    resetTimestampCache();
    for (const s of ['2026-03-08T02:30:15.5', '2026-03-08T01:59:59', '2026-03-08T03:00:01', '2026-11-01T01:30:45', '2026-11-01 01:59:59,999']) {
      expect(parseTimestamp(s)).toBe(Date.parse(s.replace(' ', 'T').replace(',', '.')));
    }
  });
});

describe('parseTimestamp shapes', () => {
  it('reads Python asctime as local time with comma millis', () => {
    process.env.TZ = 'Asia/Kolkata';
    resetTimestampCache();
    expect(parseTimestamp('2026-11-22 10:11:12,345')).toBe(new Date(2026, 10, 22, 10, 11, 12, 345).getTime());
    process.env.TZ = 'UTC';
    resetTimestampCache();
    expect(parseTimestamp('2026-11-22 10:11:12,345')).toBe(Date.UTC(2026, 10, 22, 10, 11, 12, 345));
  });

  it('truncates fractions beyond milliseconds and scales short ones', () => {
    expect(parseTimestamp('2026-11-22T10:11:12.123456789Z')).toBe(Date.UTC(2026, 10, 22, 10, 11, 12, 123));
    expect(parseTimestamp('2026-11-22T10:11:12.3Z')).toBe(Date.UTC(2026, 10, 22, 10, 11, 12, 300));
    expect(parseTimestamp('2026-11-22T10:11:12.04Z')).toBe(Date.UTC(2026, 10, 22, 10, 11, 12, 40));
  });

  it('honours offsets with and without a colon', () => {
    const utc = Date.UTC(2026, 10, 22, 4, 41, 12);
    expect(parseTimestamp('2026-11-22T10:11:12+05:30')).toBe(utc);
    expect(parseTimestamp('2026-11-22T10:11:12+0530')).toBe(utc);
    expect(parseTimestamp('2026-11-22T04:41:12-00:00')).toBe(utc);
  });

  it('falls back to Date.parse for other shapes', () => {
    expect(parseTimestamp('Sun, 22 Nov 2026 10:11:12 GMT')).toBe(Date.UTC(2026, 10, 22, 10, 11, 12));
    expect(parseTimestamp('2026-11-22')).toBe(Date.UTC(2026, 10, 22));
    expect(parseTimestamp('2026-11-22T24:00:00Z')).toBe(Date.UTC(2026, 10, 23));
  });

  it('picks the epoch unit by magnitude', () => {
    const ms = Date.UTC(2026, 10, 22, 10, 11, 12, 345);
    expect(parseTimestamp(ms / 1000)).toBe(ms);
    expect(parseTimestamp(1795342272)).toBe(1795342272000);
    expect(parseTimestamp(ms)).toBe(ms);
    expect(parseTimestamp(ms * 1000 + 678)).toBe(ms + 1);
    expect(parseTimestamp(ms * 1e6)).toBe(ms);
    expect(parseTimestamp('1795342272.345')).toBe(ms);
    expect(parseTimestamp(String(ms))).toBe(ms);
    expect(parseTimestamp(1795342272.3451)).toBe(ms);
  });

  it('rejects garbage and absurd values', () => {
    for (const v of [
      1e300, -5, 0, NaN, Infinity, 86_399, 1.5e19 * 1e3, '2026-13-45T00:00:00Z', '2026-13-45', '99999-01-01T00:00:00Z',
      '+099999-01-01T00:00:00Z', '2200-01-01T00:00:00Z', '1970-01-01T00:00:00Z', 'yesterday', '', ' 1795342272', '0x6b03c040',
      '1e12', '2026-11-22T10:11:60Z', '2026-11-22T10:11:12.Z', '2026-11-22T10:11:12 Z', '2026-11-22T10:11:12+05',
      '2026-11-22T10:61:00Z', true, null, undefined, {}, [1795342272], 'x'.repeat(100_000),
    ]) {
      expect(parseTimestamp(v), String(v).slice(0, 40)).toBeUndefined();
    }
    expect(parseTimestamp('2199-12-31T23:59:59.999Z')).toBe(MAX_TS - 1);
    expect(parseTimestamp('1970-01-02T00:00:00Z')).toBe(MIN_TS);
  });
});
