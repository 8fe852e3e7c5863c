import { describe, expect, it } from 'vitest';
import { nestedDeeperThan, parseLine } from '../../src/parse/line.js';
import { isRejected } from '../../src/parse/event.js';

describe('parseLine', () => {
  it('accepts a JSON object and normalizes it', () => {
    const r = parseLine('{"timestamp":"2026-11-22T10:11:12Z","level":"ERROR","message":"m","stage":"upload"}', 0);
    expect(isRejected(r)).toBe(false);
    if (isRejected(r)) return;
    expect(r.level).toBe('ERROR');
    expect(r.format).toBe('vigil');
    expect(r.fields).toEqual({ timestamp: '2026-11-22T10:11:12Z', level: 'ERROR', message: 'm', stage: 'upload' });
  });

  it('rejects text that is not JSON with the parser message, cut to 200 characters', () => {
    const r = parseLine('{"a":' + 'x'.repeat(5000), 0);
    expect(r).toMatchObject({ rejected: 'not_json' });
    if (!isRejected(r)) return;
    expect(r.detail.length).toBeGreaterThan(0);
    expect(r.detail.length).toBeLessThanOrEqual(200);
  });

  it('rejects JSON values that are not objects, naming what they were', () => {
    expect(parseLine('[]', 0)).toEqual({ rejected: 'not_object', detail: 'array' });
    expect(parseLine('12', 0)).toEqual({ rejected: 'not_object', detail: 'number' });
    expect(parseLine('null', 0)).toEqual({ rejected: 'not_object', detail: 'null' });
    expect(parseLine('"s"', 0)).toEqual({ rejected: 'not_object', detail: 'string' });
    expect(parseLine('true', 0)).toEqual({ rejected: 'not_object', detail: 'boolean' });
  });

  it('rejects nesting deeper than maxDepth and accepts it at the limit', () => {
    const nest = (d: number) => '{"a":' + '['.repeat(d - 1) + ']'.repeat(d - 1) + '}';
    expect(isRejected(parseLine(nest(64), 0))).toBe(false);
    expect(parseLine(nest(65), 0)).toMatchObject({ rejected: 'too_deep' });
    expect(parseLine(nest(10), 0, 8)).toMatchObject({ rejected: 'too_deep' });
    expect(isRejected(parseLine('{"a":"[[[[[[[[[[[[[[[[[[["}', 0, 2))).toBe(false);
  });

  it('strips a byte-order mark and flags U+FFFD from invalid UTF-8', () => {
    const bom = parseLine('\uFEFF{"message":"x"}', 0);
    expect(isRejected(bom)).toBe(false);
    const bad = parseLine(Buffer.from([0x7b, 0x22, 0x6d, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).toString('utf8'), 0);
    expect(bad).toMatchObject({ repairs: ['missing_timestamp', 'invalid_utf8'] });
  });
});

describe('nestedDeeperThan', () => {
  it('does not walk into enumerable keys of a polluted prototype', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.pollutedNode = {};
    try {
      expect(nestedDeeperThan({ a: { b: {} } }, 3)).toBe(false);
      expect(isRejected(parseLine('{"a":{"b":{}}}', 0))).toBe(false);
    } finally {
      delete proto.pollutedNode;
    }
  });

  it('counts the top object as depth 1', () => {
    expect(nestedDeeperThan({ a: 1 }, 1)).toBe(false);
    expect(nestedDeeperThan({ a: {} }, 1)).toBe(true);
    expect(nestedDeeperThan({ a: [{ b: [] }] }, 4)).toBe(false);
    expect(nestedDeeperThan({ a: [{ b: [] }] }, 3)).toBe(true);
  });
});
