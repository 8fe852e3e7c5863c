import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileGlob, expandDirs, segmentRegExp, watchRoot } from '../../src/tail/glob.js';
import { rmDir, tempDir } from './helpers.js';

describe('segmentRegExp', () => {
  const m = (glob: string, name: string) => segmentRegExp(glob).test(name);
  it('matches *, ?, classes and braces within one segment', () => {
    expect(m('*.log', 'app.log')).toBe(true);
    expect(m('*.log', 'app.log.1')).toBe(false);
    expect(m('*.log', '.hidden.log')).toBe(false);
    expect(m('app?.log', 'app1.log')).toBe(true);
    expect(m('app?.log', 'app.log')).toBe(false);
    expect(m('[ae]*.log', 'errors.log')).toBe(true);
    expect(m('[!ae]*.log', 'errors.log')).toBe(false);
    expect(m('[!ae]*.log', 'media.log')).toBe(true);
    expect(m('{application,errors}.log', 'errors.log')).toBe(true);
    expect(m('{application,errors}.log', 'media.log')).toBe(false);
    expect(m('a+b(c).log', 'a+b(c).log')).toBe(true);
  });
});

describe('compileGlob / expandDirs / watchRoot', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmDir(dir));

  it('splits the static root from magic directory segments', () => {
    const g = compileGlob('/var/log/*/media/*.log');
    expect(g.root).toBe('/var/log');
    expect(g.dirs.length).toBe(2);
    expect(g.matchName('x.log')).toBe(true);
    expect(compileGlob('/var/log/app.log').literalName).toBe('app.log');
    expect(compileGlob('logs/*.log', '/srv').root).toBe('/srv/logs');
    expect(compileGlob('/*.log').root).toBe('/');
  });

  it('expands ** to any depth and magic directory segments', () => {
    for (const d of ['a/b/c', 'a/x', 'svc1/logs', 'svc2/logs', '.hidden/logs']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    expect(expandDirs(compileGlob(path.join(dir, '**', '*.log'))).sort()).toEqual(
      ['', 'a', 'a/b', 'a/b/c', 'a/x', 'svc1', 'svc1/logs', 'svc2', 'svc2/logs'].map((d) => path.join(dir, d)).sort(),
    );
    expect(expandDirs(compileGlob(path.join(dir, 'svc*', 'logs', '*.log'))).sort()).toEqual([path.join(dir, 'svc1/logs'), path.join(dir, 'svc2/logs')]);
    expect(expandDirs(compileGlob(path.join(dir, 'missing', '*.log')))).toEqual([path.join(dir, 'missing')]);
  });

  it('watchRoot names the directory to watch and whether to recurse', () => {
    expect(watchRoot('/var/log/media/*.log')).toEqual({ dir: '/var/log/media', recursive: false });
    expect(watchRoot('/var/log/**/*.log')).toEqual({ dir: '/var/log', recursive: true });
  });
});
