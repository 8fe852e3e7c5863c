import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLine } from '../../src/parse/line.js';
import { detectFormat } from '../../src/parse/normalize.js';
import { isRejected, type FormatName, type LogEvent } from '../../src/parse/event.js';

const dir = fileURLToPath(new URL('../../fixtures/formats/', import.meta.url));

/** The golden files store every LogEvent field but `fields`, with null for undefined. */
function comparable(e: LogEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (k !== 'fields') out[k] = v === undefined ? null : v;
  if (!('stack' in out)) out.stack = null;
  return out;
}

const shapes: FormatName[] = ['vigil', 'python', 'pino', 'winston', 'ecs'];

describe('golden fixtures per logger shape', () => {
  for (const shape of shapes) {
    it(`${shape}.log is detected and normalized as ${shape}.expected.json says`, () => {
      const lines = fs.readFileSync(path.join(dir, `${shape}.log`), 'utf8').split('\n').filter((l) => l !== '');
      const expected = JSON.parse(fs.readFileSync(path.join(dir, `${shape}.expected.json`), 'utf8')) as unknown[];
      expect(lines.length).toBeGreaterThanOrEqual(5);
      expect(lines.length).toBe(expected.length);
      const got = lines.map((line) => {
        expect(detectFormat(JSON.parse(line))).toBe(shape);
        const r = parseLine(line, 0);
        if (isRejected(r)) throw new Error(`rejected: ${r.detail}`);
        return comparable(r);
      });
      expect(got).toEqual(expected);
      // Every fixture carries the three events the rules care most about.
      const events = got.map((e) => e.event);
      expect(events).toContain('stage_completed');
      expect(events).toContain('session_completed');
      expect(got.some((e) => e.event === 'processing_error' && typeof e.errorCode === 'string')).toBe(true);
      expect(got.some((e) => e.event === 'stage_completed' && e.success === true)).toBe(true);
    });
  }
});
