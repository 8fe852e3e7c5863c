import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';

const DOC = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/operators.md'), 'utf8');

describe('docs/operators.md: error codes', () => {
  it.each(Object.keys(ERROR_CODES))('documents %s with what to do about it', (code) => {
    // A row of the error-code table: | `CODE` | meaning | what to do |
    const row = DOC.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    expect(row, `${code} has no row in the "Error codes" table of docs/operators.md`).toBeDefined();
    const cells = row!.split(' | ');
    expect(cells).toHaveLength(3);
    expect(cells[2]!.replace(/\|\s*$/, '').trim().length).toBeGreaterThan(10);
  });

  it('documents no code that does not exist', () => {
    const documented = [...DOC.matchAll(/^\| `(VIGIL_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.filter((c) => !(c! in ERROR_CODES))).toEqual([]);
  });
});
