import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { checkBackup, IntegrityMemo, parseSize, validateBackupParams } from '../../src/collect/backup.js';
import { findLatestBackup, resolveBackupPath } from '../../src/collect/backup-pattern.js';
import { verifyFile } from '../../src/collect/integrity.js';

// 2024-03-15 12:00:00 UTC: "today" for every check below comes from this, not from the wall clock.
const NOW = Date.UTC(2024, 2, 15, 12, 0, 0);
const HOUR = 3_600_000;

let root: string;
let content: string; // a small tree to archive: compressible text, random bytes, a long name, a subdir

function tmp(name: string): string {
  const d = path.join(root, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}
function setMtime(file: string, ms: number): void {
  fs.utimesSync(file, new Date(ms), new Date(ms));
}
/** A real archive written by GNU tar. */
function makeTar(out: string, flags: string, format = 'gnu'): void {
  execFileSync('tar', [flags, out, `--format=${format}`, '-C', content, '.']);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-backup-'));
  content = tmp('content');
  fs.writeFileSync(path.join(content, 'dump.sql'), 'INSERT INTO sessions VALUES (1, 2, 3);\n'.repeat(4000));
  fs.writeFileSync(path.join(content, 'random.bin'), crypto.randomBytes(70_000));
  fs.mkdirSync(path.join(content, 'media'));
  fs.writeFileSync(path.join(content, 'media', `${'very-long-name-'.repeat(10)}.json`), '{"ok":true}\n');
  fs.writeFileSync(path.join(content, 'empty.txt'), '');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('checkBackup', () => {
  it("finds today's .tar.gz (from the injected now), big enough and intact", async () => {
    const dir = tmp('ok');
    const file = path.join(dir, 'backup-20240315.tar.gz');
    makeTar(file, '-czf');
    setMtime(file, NOW - 2 * HOUR);
    const size = fs.statSync(file).size;
    const s = await checkBackup({ path: path.join(dir, 'backup-{YYYYMMDD}.tar.gz'), min_size: '1k', verify: 'tar.gz' }, NOW, 'utc');
    expect(s).toEqual({
      present: true, path: file, sizeBytes: size, ageSeconds: 7200, mtimeMs: NOW - 2 * HOUR, latestPath: file, intact: true, reason: 'ok',
    });
    // the gzip layer alone, and no verification at all
    expect((await checkBackup({ path: file, verify: 'gzip' }, NOW, 'utc')).intact).toBe(true);
    const unchecked = await checkBackup({ path: file }, NOW, 'utc');
    expect([unchecked.intact, unchecked.reason]).toEqual([null, 'ok']);
  });

  it("reports today's as missing, with the age of the newest one there is", async () => {
    const dir = tmp('missing');
    for (const [day, age] of [['20240313', 50], ['20240314', 26]] as const) {
      const f = path.join(dir, `backup-${day}.tar.gz`);
      makeTar(f, '-czf');
      setMtime(f, NOW - age * HOUR);
    }
    fs.writeFileSync(path.join(dir, 'backup-latest.tar.gz'), 'not a dated backup'); // does not match the pattern
    const s = await checkBackup({ path: path.join(dir, 'backup-{YYYYMMDD}.tar.gz'), verify: 'tar.gz' }, NOW, 'utc');
    expect(s).toEqual({
      present: false, path: path.join(dir, 'backup-20240315.tar.gz'), sizeBytes: null, ageSeconds: 26 * 3600,
      mtimeMs: NOW - 26 * HOUR, latestPath: path.join(dir, 'backup-20240314.tar.gz'), intact: null, reason: 'missing',
    });
  });

  it('reports missing with no age when nothing matches at all (or the directory is gone)', async () => {
    const s = await checkBackup({ path: path.join(root, 'nowhere', 'backup-{YYYYMMDD}.tar.gz') }, NOW, 'utc');
    expect([s.present, s.ageSeconds, s.latestPath, s.reason]).toEqual([false, null, null, 'missing']);
  });

  it('reports a file under min_size as too small, with both figures', async () => {
    const dir = tmp('small');
    const file = path.join(dir, 'backup-2024-03-15.tar.gz');
    makeTar(file, '-czf');
    setMtime(file, NOW - HOUR);
    const size = fs.statSync(file).size;
    const s = await checkBackup({ path: path.join(dir, 'backup-{YYYY-MM-DD}.tar.gz'), min_size: '1MB', verify: 'tar.gz' }, NOW, 'utc');
    expect([s.present, s.intact, s.reason]).toEqual([true, true, `too small (${size} < 1048576)`]);
  });

  it('reports a .tar.gz cut in half as corrupt (gzip sees the missing end)', async () => {
    const dir = tmp('truncated');
    const file = path.join(dir, 'backup-20240315.tar.gz');
    makeTar(file, '-czf');
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    setMtime(file, NOW - HOUR);
    const s = await checkBackup({ path: path.join(dir, 'backup-{YYYYMMDD}.tar.gz'), verify: 'tar.gz' }, NOW, 'utc');
    expect([s.present, s.intact, s.reason]).toEqual([true, false, 'corrupt: gzip: unexpected end of file']);
  });

  it('reports a .gz of garbage, and a gzip with damaged bytes inside, as corrupt', async () => {
    const dir = tmp('garbage');
    const garbage = path.join(dir, 'db-20240315.gz');
    fs.writeFileSync(garbage, crypto.randomBytes(10_000));
    setMtime(garbage, NOW - HOUR);
    const g = await checkBackup({ path: path.join(dir, 'db-{YYYYMMDD}.gz'), verify: 'gzip' }, NOW, 'utc');
    expect([g.intact, g.reason]).toEqual([false, 'corrupt: gzip: incorrect header check']);

    // a real gzip whose middle was overwritten: the stream or its CRC no longer checks out
    const damaged = path.join(dir, 'db-20240314.gz');
    const gz = zlib.gzipSync(fs.readFileSync(path.join(content, 'dump.sql')));
    for (let i = Math.floor(gz.length / 2); i < Math.floor(gz.length / 2) + 16; i++) gz[i] = gz[i]! ^ 0x5a;
    fs.writeFileSync(damaged, gz);
    setMtime(damaged, NOW - 25 * HOUR);
    const d = await checkBackup({ path: damaged, verify: 'gzip' }, NOW, 'utc');
    expect(d.intact).toBe(false);
    expect(d.reason).toMatch(/^corrupt: gzip: \w/); // zlib names the damage it meets first
  });

  it('reports a plain tar with a damaged header checksum as corrupt, naming the offset', async () => {
    const dir = tmp('badtar');
    const file = path.join(dir, 'files-20240315.tar');
    execFileSync('tar', ['-cf', file, '--format=ustar', '-C', content, 'dump.sql', 'random.bin']);
    // the second header follows dump.sql's header and its data rounded up to 512-byte blocks
    const second = 512 + Math.ceil(fs.statSync(path.join(content, 'dump.sql')).size / 512) * 512;
    const buf = fs.readFileSync(file);
    expect(buf.toString('latin1', second, second + 10)).toBe('random.bin');
    buf[second] = 'R'.charCodeAt(0); // rename without fixing the checksum
    fs.writeFileSync(file, buf);
    setMtime(file, NOW - HOUR);
    const s = await checkBackup({ path: path.join(dir, 'files-{YYYYMMDD}.tar'), verify: 'tar' }, NOW, 'utc');
    expect(s.intact).toBe(false);
    expect(s.reason).toMatch(new RegExp(`^corrupt: tar: header checksum mismatch at offset ${second} \\(stored \\d+, computed \\d+\\)$`));
  });

  it('reports a plain tar cut inside a file as corrupt', async () => {
    const file = path.join(tmp('cuttar'), 'x.tar');
    execFileSync('tar', ['-cf', file, '-C', content, 'random.bin']);
    fs.truncateSync(file, 512 + 20_000);
    setMtime(file, NOW - HOUR);
    const s = await checkBackup({ path: file, verify: 'tar' }, NOW, 'utc');
    expect(s.reason).toBe('corrupt: tar: archive ends inside the data of "random.bin" (50000 bytes missing)');
  });

  it("takes verify 'tar' on a .tar.gz to mean the tar inside, and calls other bytes not a tar archive", async () => {
    const d = tmp('tarmode');
    const tgz = path.join(d, 'x.tar.gz');
    makeTar(tgz, '-czf');
    setMtime(tgz, NOW - HOUR);
    expect((await checkBackup({ path: tgz, verify: 'tar' }, NOW, 'utc')).reason).toBe('ok');
    const half = path.join(d, 'half.tar.gz');
    fs.writeFileSync(half, fs.readFileSync(tgz).subarray(0, 400));
    setMtime(half, NOW - HOUR);
    expect((await checkBackup({ path: half, verify: 'tar' }, NOW, 'utc')).reason).toBe('corrupt: gzip: unexpected end of file');
    const text = path.join(d, 'x.tar');
    fs.writeFileSync(text, 'INSERT INTO t VALUES (1);\n'.repeat(100));
    setMtime(text, NOW - HOUR);
    expect((await checkBackup({ path: text, verify: 'tar' }, NOW, 'utc')).reason).toBe('corrupt: tar: not a tar archive (first header checksum does not match)');
    // 'tar.gz' insists on the gzip layer
    expect((await checkBackup({ path: text, verify: 'tar.gz' }, NOW, 'utc')).reason).toBe('corrupt: gzip: incorrect header check');
  });

  it('treats a failing file modified in the last minute as being written, not corrupt', async () => {
    const file = path.join(tmp('writing'), 'backup-20240315.tar.gz');
    makeTar(file, '-czf');
    fs.truncateSync(file, 300);
    setMtime(file, NOW - 10_000);
    const s = await checkBackup({ path: file, verify: 'tar.gz', min_size: '1k' }, NOW, 'utc');
    expect([s.present, s.intact, s.reason]).toEqual([true, null, 'being written (modified 10s ago)']);
  });

  it('reports a dateless path older than max_age as too old', async () => {
    const file = path.join(tmp('dateless'), 'latest.tar.gz');
    makeTar(file, '-czf');
    setMtime(file, NOW - 3 * HOUR);
    expect((await checkBackup({ path: file, max_age: '1h' }, NOW, 'utc')).reason).toBe('too old (10800s > 3600s)');
    expect((await checkBackup({ path: file, max_age: '4h' }, NOW, 'utc')).reason).toBe('ok');
  });

  it('reads a verified file once, and again when it changes', async () => {
    const file = path.join(tmp('memo'), 'b.tar.gz');
    makeTar(file, '-czf');
    setMtime(file, NOW - 2 * HOUR);
    const memo = new IntegrityMemo();
    expect((await checkBackup({ path: file, verify: 'tar.gz' }, NOW, 'utc', { memo })).intact).toBe(true);
    // same size, same mtime, same inode: the memo answers without reading (so the damage is not seen)
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(64, 0x41), 0, 64, 100);
    fs.closeSync(fd);
    setMtime(file, NOW - 2 * HOUR);
    expect((await checkBackup({ path: file, verify: 'tar.gz' }, NOW, 'utc', { memo })).intact).toBe(true);
    // a new mtime means new content: read again
    setMtime(file, NOW - HOUR);
    expect((await checkBackup({ path: file, verify: 'tar.gz' }, NOW, 'utc', { memo })).intact).toBe(false);
  });

  it('rejects unusable params with VIGIL_RULE_INVALID', async () => {
    await expect(checkBackup({ path: '/b/x-{YYMMDD}.gz' }, NOW)).rejects.toMatchObject({ code: 'VIGIL_RULE_INVALID', message: expect.stringContaining('{YYMMDD}') });
    await expect(checkBackup({ path: '/b/x.gz', min_size: '1XB' }, NOW)).rejects.toMatchObject({ code: 'VIGIL_RULE_INVALID' });
    expect(validateBackupParams({ path: '/b/x.gz', verify: 'zip', max_age: 'soon', extra: 1 })).toEqual([
      'unknown backup param "extra" (known: path, min_size, verify, max_age)',
      'backup param "verify" must be one of none, gzip, tar, tar.gz',
      expect.stringContaining('invalid duration "soon"'),
    ]);
    expect(validateBackupParams({ path: '/b/{YYYY}/x-{YYYYMMDD}.tar.gz', min_size: 1000, verify: 'tar.gz', max_age: '26h' })).toEqual([]);
  });
});

describe('tar formats walked by the integrity check', () => {
  for (const format of ['gnu', 'oldgnu', 'ustar', 'pax', 'v7']) {
    it(`accepts a real ${format} archive, plain and gzipped`, async () => {
      const dir = tmp(`fmt-${format}`);
      const tar = path.join(dir, 'a.tar');
      const tgz = path.join(dir, 'a.tar.gz');
      // ustar and v7 cannot hold the 150-character name; the others store it in their long-name records
      const members = format === 'ustar' || format === 'v7' ? ['dump.sql', 'random.bin', 'empty.txt'] : ['.'];
      execFileSync('tar', ['-cf', tar, `--format=${format}`, '-C', content, ...members]);
      execFileSync('tar', ['-czf', tgz, `--format=${format}`, '-C', content, ...members]);
      expect(await verifyFile(tar, 'tar')).toEqual({ intact: true });
      expect(await verifyFile(tgz, 'tar.gz')).toEqual({ intact: true });
    });
  }

  it('reads base-256 size fields (GNU, files of 8 GiB and more)', async () => {
    const file = path.join(tmp('b256'), 'a.tar');
    execFileSync('tar', ['-cf', file, '-C', content, 'random.bin']);
    const buf = fs.readFileSync(file);
    // rewrite the 12-byte size field of the first header in base-256, then fix the checksum
    buf.fill(0, 124, 136);
    buf[124] = 0x80;
    buf.writeUInt32BE(70_000, 132);
    buf.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += buf[i]!;
    buf.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    fs.writeFileSync(file, buf);
    expect(await verifyFile(file, 'tar')).toEqual({ intact: true });
    // the same header claiming 100 kB more runs past the end of the archive
    buf.writeUInt32BE(170_000, 132);
    buf.fill(0x20, 148, 156);
    sum = 0;
    for (let i = 0; i < 512; i++) sum += buf[i]!;
    buf.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    fs.writeFileSync(file, buf);
    expect(await verifyFile(file, 'tar')).toEqual({ intact: false, problem: expect.stringMatching(/^tar: archive ends inside the data of "random.bin"/) });
  });

  it('says unreadable, not corrupt, when the file cannot be read', async () => {
    const r = await verifyFile(path.join(root, 'no-such.tar.gz'), 'tar.gz');
    expect(r).toEqual({ intact: null, problem: expect.stringMatching(/^unreadable: ENOENT/) });
  });
});

describe('backup path patterns', () => {
  it('fills every placeholder from now, in UTC or local time', () => {
    const p = '/b/{YYYY}/{MM}/{DD}/db-{YYYYMMDD}-{HH}-{YYYY-MM-DD}.gz';
    expect(resolveBackupPath(p, NOW + 5 * HOUR, 'utc')).toBe('/b/2024/03/15/db-20240315-17-2024-03-15.gz');
    const d = new Date(NOW + 5 * HOUR);
    const two = (n: number): string => String(n).padStart(2, '0');
    const ymd = `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}`;
    expect(resolveBackupPath('/b/db-{YYYYMMDD}-{HH}.gz', NOW + 5 * HOUR, 'local')).toBe(`/b/db-${ymd}-${two(d.getHours())}.gz`);
    // just before midnight UTC is still today
    expect(resolveBackupPath('/b/{YYYYMMDD}', Date.UTC(2024, 11, 31, 23, 59, 59), 'utc')).toBe('/b/20241231');
  });

  it('finds the newest backup across dated directories by the date in the name', async () => {
    const base = tmp('tree');
    const files: [string, number][] = [
      ['2023/12/db-31.gz', NOW - 100 * HOUR],
      ['2024/02/db-29.gz', NOW - 300 * HOUR], // newest by name even though an older mtime
      ['2024/02/db-28.gz', NOW - 80 * HOUR],
      ['2024/02/notes.txt', NOW],
    ];
    for (const [rel, mtime] of files) {
      const f = path.join(base, rel);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, 'x');
      setMtime(f, mtime);
    }
    fs.mkdirSync(path.join(base, '2024', '03', 'db-01.gz'), { recursive: true }); // a directory, not a backup
    const latest = await findLatestBackup(path.join(base, '{YYYY}/{MM}/db-{DD}.gz'));
    expect(latest).toEqual({ path: path.join(base, '2024/02/db-29.gz'), sizeBytes: 1, mtimeMs: NOW - 300 * HOUR });
    const s = await checkBackup({ path: path.join(base, '{YYYY}/{MM}/db-{DD}.gz') }, NOW, 'utc');
    expect([s.present, s.path, s.ageSeconds]).toEqual([false, path.join(base, '2024/03/db-15.gz'), 300 * 3600]);
  });
});

describe('parseSize', () => {
  it.each([
    [1000, 1000], ['2048', 2048], ['10B', 10], ['500k', 512_000], ['500 KB', 512_000], ['1MB', 1_048_576],
    ['1.5G', 1.5 * 1024 ** 3], ['2GiB', 2 * 1024 ** 3], ['1t', 1024 ** 4],
  ] as [number | string, number][])('%s → %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });
  it.each([['1XB'], ['-5'], ['MB'], [''], [-1], [Number.NaN]] as [number | string][])('refuses %s', (input) => {
    expect(() => parseSize(input)).toThrow(expect.objectContaining({ code: 'VIGIL_RULE_INVALID' }));
  });
});

