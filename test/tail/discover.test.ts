import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Discovery, logicalName, parseRotation } from '../../src/tail/discover.js';
import { rmDir, tempDir } from './helpers.js';

describe('parseRotation', () => {
  it('recognises numbered and dateext rotations, older ranking higher', () => {
    expect(parseRotation('app.log')).toEqual({ base: 'app.log', rank: 0 });
    expect(parseRotation('app.log.1')).toEqual({ base: 'app.log', rank: 1 });
    expect(parseRotation('app.log.12')).toEqual({ base: 'app.log', rank: 12 });
    const d1 = parseRotation('app.log-20261121');
    const d2 = parseRotation('app.log-2026112213');
    const d3 = parseRotation('app.log-20261122');
    expect([d1.base, d2.base, d3.base]).toEqual(['app.log', 'app.log', 'app.log']);
    expect(d1.rank).toBeGreaterThan(d3.rank);
    expect(d3.rank).toBeGreaterThan(d2.rank); // 2026-11-22 00h is older than 13h
    expect(d2.rank).toBeGreaterThan(12);
  });
});

describe('logicalName', () => {
  it('strips the rotation suffix, keeping the directory', () => {
    expect(logicalName('/x/app.log.3')).toBe('/x/app.log');
    expect(logicalName('/x/app.log-20261122')).toBe('/x/app.log');
    expect(logicalName('/x/app.log')).toBe('/x/app.log');
  });
});

describe('Discovery', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmDir(dir));
  const touch = (name: string) => fs.writeFileSync(path.join(dir, name), 'x\n');

  it('adds rotated siblings (gzip ones marked compressed), skips other compressed ones, other names and directories', () => {
    for (const n of ['app.log', 'app.log.1', 'app.log.2', 'app.log-20261122', 'app.log-2026112213', 'app.log.3.gz', 'app.log-20261120.xz', 'app.log.4.zst', 'notes.txt', 'app.log.bak', 'errors.log.1'])
      touch(n);
    fs.mkdirSync(path.join(dir, 'dir.log'));
    const r = new Discovery([{ path: path.join(dir, '*.log') }]).run();
    expect(r.errors).toEqual([]);
    const byName = Object.fromEntries(r.files.map((f) => [path.basename(f.path), f]));
    expect(Object.keys(byName).sort()).toEqual(['app.log', 'app.log-20261122', 'app.log-2026112213', 'app.log.1', 'app.log.2', 'app.log.3.gz', 'errors.log.1']);
    expect(byName['app.log.2']!.family).toBe(path.join(dir, 'app.log'));
    expect(byName['app.log.2']!.rank).toBe(2);
    expect(r.files.filter((f) => f.compressed).map((f) => path.basename(f.path))).toEqual(['app.log.3.gz']);
    expect(byName['app.log.3.gz']).toMatchObject({ family: path.join(dir, 'app.log'), rank: 3 }); // it keeps its place
    // A rotation is followed even while its live name does not exist.
    expect(byName['errors.log.1']!.family).toBe(path.join(dir, 'errors.log'));
  });

  it('a literal path follows its own rotations only', () => {
    for (const n of ['app.log', 'app.log.1', 'other.log']) touch(n);
    const r = new Discovery([{ path: path.join(dir, 'app.log') }]).run();
    expect(r.files.map((f) => path.basename(f.path)).sort()).toEqual(['app.log', 'app.log.1']);
  });

  it('a glob that matches rotations itself still groups them by family', () => {
    for (const n of ['app.log', 'app.log.1']) touch(n);
    const r = new Discovery([{ path: path.join(dir, 'app.log*') }]).run();
    expect(r.files.map((f) => [path.basename(f.path), path.basename(f.family), f.rank]).sort()).toEqual([
      ['app.log', 'app.log', 0],
      ['app.log.1', 'app.log', 1],
    ]);
  });
});
