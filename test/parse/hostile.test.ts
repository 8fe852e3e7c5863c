import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLine } from '../../src/parse/line.js';
import { normalize } from '../../src/parse/normalize.js';
import { redactForStorage, redactText } from '../../src/parse/redact.js';
import { sampleText } from '../../src/parse/sample.js';
import { isRejected, type LogEvent } from '../../src/parse/event.js';

const dir = fileURLToPath(new URL('../../fixtures/hostile/', import.meta.url));

function splitLines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, start)) {
    out.push(buf.subarray(start, i));
    start = i + 1;
  }
  return out;
}

function assertNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(typeof ({} as { constructor: unknown }).constructor).toBe('function');
}

afterEach(assertNoPollution);

describe('the hostile corpus (fixtures/hostile/hostile.log)', () => {
  const expected = JSON.parse(fs.readFileSync(dir + 'hostile.expected.json', 'utf8')) as {
    fallbackTs: number;
    lines: Array<Record<string, unknown>>;
  };
  const lines = splitLines(fs.readFileSync(dir + 'hostile.log'));

  it('has one expectation per line', () => {
    expect(lines.length).toBe(expected.lines.length);
  });

  it('every line is accepted or rejected as expected, and survives redaction, sampling and JSON.stringify', () => {
    lines.forEach((bytes, i) => {
      const text = bytes.toString('utf8');
      const want = expected.lines[i]!;
      const r = parseLine(text, expected.fallbackTs);
      if ('rejected' in want) {
        expect(r, `line ${i + 1}`).toMatchObject({ rejected: want.rejected });
        const sample = redactText(sampleText(bytes));
        expect(sample).not.toMatch(/[\u0000-\u001f]/);
        return;
      }
      expect(isRejected(r), `line ${i + 1}: ${JSON.stringify(r)}`).toBe(false);
      const e = r as LogEvent;
      for (const [k, v] of Object.entries(want)) {
        const got = (e as unknown as Record<string, unknown>)[k];
        expect(got === undefined ? null : got, `line ${i + 1} ${k}`).toEqual(v);
      }
      expect(() => JSON.stringify(redactForStorage(e.fields))).not.toThrow();
    });
  });
});

describe('prototype pollution attempts', () => {
  const attempts = [
    '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '{"extra":{"__proto__":{"polluted":1}}}',
    '{"extra":{"constructor":{"prototype":{"polluted":1}}}}',
    '{"a":{"b":{"__proto__":{"polluted":1}}},"list":[{"__proto__":{"polluted":1}}]}',
    '{"log":{"__proto__":{"level":"ERROR","polluted":1}},"error":{"__proto__":{"message":"x","polluted":1}}}',
    '{"prototype":{"polluted":1},"__proto__":[1,2],"attributes":{"__proto__":{"polluted":1}},"severity_text":"INFO"}',
  ];

  it('parse + normalize + redact leave Object.prototype untouched and keep the keys as data', () => {
    for (const line of attempts) {
      const r = parseLine(line, 1795342272000);
      expect(isRejected(r), line).toBe(false);
      const e = r as LogEvent;
      assertNoPollution();
      const red = redactForStorage(e.fields);
      assertNoPollution();
      const json = JSON.stringify(red);
      expect(JSON.parse(json)).toEqual(JSON.parse(line));
      // The dangerous keys survive as plain own data in the stored copy.
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        if (line.startsWith(`{"${key}"`)) {
          expect(Object.hasOwn(red, key), key).toBe(true);
          expect(json).toContain(`"${key}"`);
        }
      }
    }
  });

  it('inherited-looking fields of nested __proto__ objects are not read as log.level or error', () => {
    const r = parseLine(attempts[5]!, 1795342272000) as LogEvent;
    expect(r.level).toBe('INFO');
    expect(r.error).toBeUndefined();
  });

  it('normalize on a hand-built object with a __proto__ own property', () => {
    const o = JSON.parse('{"__proto__":{"stage":"evil"},"message":"m"}') as Record<string, unknown>;
    const e = normalize(o, 0);
    expect(e.stage).toBeUndefined();
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  });
});

describe('huge and deep lines', () => {
  it('a 50 MB string line parses without crashing and comes out bounded', () => {
    const big = '{"timestamp":"2026-11-22T10:11:12Z","level":"INFO","message":"' + 'x'.repeat(50 * 1024 * 1024) + '","stage":"upload"}';
    const r = parseLine(big, 0);
    expect(isRejected(r)).toBe(false);
    const e = r as LogEvent;
    expect(e.message.length).toBe(8192);
    expect(e.repairs).toEqual(['truncated:message']);
    const sample = sampleText(big);
    expect(sample.length).toBeLessThan(2100);
    expect(sample.endsWith(`…(${big.length} bytes)`)).toBe(true);
  });

  it('a 100k-deep array: rejected as too_deep, and parse + redact + stringify of it never throw', () => {
    const depth = 100_000;
    const line = '{"a":' + '['.repeat(depth) + ']'.repeat(depth) + '}';
    expect(parseLine(line, 0)).toMatchObject({ rejected: 'too_deep' });
    const value = JSON.parse(line) as Record<string, unknown>;
    const red = redactForStorage(value);
    const json = JSON.stringify(red);
    expect(json).toContain('[too deep]');
    // 32 levels kept: the top object, then 31 arrays, then the marker.
    expect(json).toBe('{"a":' + '['.repeat(31) + '"[too deep]"' + ']'.repeat(31) + '}');
    const bare = redactForStorage(JSON.parse('['.repeat(depth) + ']'.repeat(depth)), 1_000_000);
    expect(() => JSON.stringify(bare)).not.toThrow();
    expect(() => normalize(value, 0)).not.toThrow();
  });

  it('a very wide object is accepted', () => {
    const o: Record<string, number> = {};
    for (let i = 0; i < 50_000; i++) o['k' + i] = i;
    const r = parseLine(JSON.stringify(o), 0);
    expect(isRejected(r)).toBe(false);
  });
});
