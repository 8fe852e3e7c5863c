import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { CheckCache, isPending, PENDING_REASON, type CheckSource } from '../../src/collect/checks.js';
import type { VigilError } from '../../src/errors.js';
import type { CheckSource as RulesCheckSource } from '../../src/rules/facts.js';

const NOW = Date.UTC(2024, 2, 15, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-checks-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeBackup(day: string, mtime: number): string {
  const src = path.join(dir, 'src');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'db.sql'), 'SELECT 1;\n'.repeat(500));
  const file = path.join(dir, `backup-${day}.tar.gz`);
  execFileSync('tar', ['-czf', file, '-C', src, '.']);
  fs.utimesSync(file, new Date(mtime), new Date(mtime));
  return file;
}

describe('CheckCache', () => {
  it('answers synchronously, never waiting on the disk, and refreshes in the background when stale', async () => {
    writeBackup('20240314', NOW - 20 * HOUR);
    const cache: CheckSource & CheckCache = new CheckCache({ tz: 'utc', backupIntervalMs: 5 * MIN });
    const params = { path: path.join(dir, 'backup-{YYYYMMDD}.tar.gz'), verify: 'tar.gz' as const };

    // first call: nothing known yet; "unknown" must not look like a missing backup
    const first = cache.backup(params, NOW);
    expect([first.present, first.reason]).toEqual([true, PENDING_REASON]);
    await cache.idle();
    const missing = cache.backup(params, NOW);
    expect([missing.present, missing.reason, missing.ageSeconds]).toEqual([false, 'missing', 20 * 3600]);

    // today's backup appears; within the interval the cached answer stands, its age moving with now
    const today = writeBackup('20240315', NOW + MIN);
    const cached = cache.backup(params, NOW + 2 * MIN);
    expect([cached.present, cached.ageSeconds]).toEqual([false, 20 * 3600 + 120]);
    await cache.idle();
    expect(cache.backup(params, NOW + 2 * MIN).present).toBe(false);

    // past the interval: the stale answer is returned at once, the fresh one after the refresh
    expect(cache.backup(params, NOW + 6 * MIN).present).toBe(false);
    await cache.idle();
    const fresh = cache.backup(params, NOW + 6 * MIN);
    expect(fresh).toMatchObject({ present: true, intact: true, reason: 'ok', path: today, ageSeconds: 300 });
    expect(cache.backup(params, NOW + 9 * MIN).ageSeconds).toBe(480);
  });

  it("re-checks at once when midnight names a new day's file", async () => {
    writeBackup('20240315', NOW - HOUR);
    const cache = new CheckCache({ tz: 'utc' });
    const params = { path: path.join(dir, 'backup-{YYYYMMDD}.tar.gz') };
    await cache.warm([params], NOW);
    expect(cache.backup(params, NOW).present).toBe(true);
    const midnight = Date.UTC(2024, 2, 16, 0, 0, 30);
    cache.backup(params, midnight); // well inside the 5 min interval, but the path changed: refresh
    await cache.idle();
    const next = cache.backup(params, midnight);
    expect([next.present, next.path, next.reason]).toEqual([false, path.join(dir, 'backup-20240316.tar.gz'), 'missing']);
  });

  it('treats the same params in another key order as the same check', async () => {
    writeBackup('20240315', NOW - HOUR);
    const cache = new CheckCache({ tz: 'utc' });
    const a = { path: path.join(dir, 'backup-{YYYYMMDD}.tar.gz'), min_size: '1k' };
    const b = { min_size: '1k', path: a.path };
    await cache.warm([a], NOW);
    expect(cache.backup(b, NOW).reason).toBe('too small (' + fs.statSync(path.join(dir, 'backup-20240315.tar.gz')).size + ' < 1024)');
  });

  it('reports unusable params through onError and as an error status', async () => {
    const errors: VigilError[] = [];
    const cache = new CheckCache({ tz: 'utc', onError: (e) => errors.push(e) });
    const params = { path: path.join(dir, 'x-{DAY}.gz') };
    cache.backup(params, NOW);
    await cache.idle();
    const s = cache.backup(params, NOW);
    expect(s.present).toBe(false);
    expect(s.reason).toMatch(/^error: backup path .* unknown placeholder \{DAY\}/);
    expect(errors.map((e) => e.code)).toEqual(['VIGIL_RULE_INVALID']);
  });

  it('ffmpegAvailable: unknown counts as available, then the real answer, re-checked only after its interval', async () => {
    const cache = new CheckCache({ ffmpeg: { ffmpegPath: path.join(dir, 'no-ffmpeg') }, ffmpegIntervalMs: 10 * MIN });
    expect(cache.ffmpegAvailable(NOW)).toBe(true);
    await cache.idle();
    expect(cache.ffmpegAvailable(NOW)).toBe(false);
    const result = cache.ffmpeg(NOW + MIN);
    expect(result?.message).toMatch(/^ffmpeg not found/);

    // ffmpeg is "installed" at that path; the cache keeps its answer until the interval is up
    fs.symlinkSync('/bin/true', path.join(dir, 'no-ffmpeg'));
    expect(cache.ffmpegAvailable(NOW + 5 * MIN)).toBe(false);
    await cache.idle();
    expect(cache.ffmpeg(NOW + 5 * MIN)).toBe(result); // same object: no re-check ran
    cache.ffmpegAvailable(NOW + 11 * MIN);
    await cache.idle();
    // /bin/true runs but is not ffmpeg: a new answer, with a new reason
    expect(cache.ffmpeg(NOW + 11 * MIN)?.message).toMatch(/did not print "ffmpeg version/);
    expect(cache.ffmpegAvailable(NOW + 11 * MIN)).toBe(false);
  });

  it('is the CheckSource the rules read, taking their query shape', async () => {
    const file = writeBackup('20240315', NOW - HOUR);
    const cache = new CheckCache({ tz: 'utc' });
    const rules: RulesCheckSource = cache; // fails to compile if the two drift apart
    const q = { pathPattern: path.join(dir, 'backup-{YYYYMMDD}.tar.gz'), minSizeBytes: 1, verify: 'tar' as const };
    await cache.warm([q], NOW);
    await cache.idle();
    const s = await rules.backup(q, NOW);
    expect(s).toMatchObject({ present: true, path: file, sizeBytes: fs.statSync(file).size, ageSeconds: 3600, intact: true, reason: 'ok' });
    // the same check asked in the collectors' own shape is the same cache entry
    expect(cache.backup({ path: q.pathPattern, min_size: 1, verify: 'tar' }, NOW)).toEqual(s);
  });

  it('warm() returns after a quick first look; the integrity verdict follows in the background', async () => {
    const file = writeBackup('20240315', NOW - HOUR);
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    fs.utimesSync(file, new Date(NOW - HOUR), new Date(NOW - HOUR));
    const cache = new CheckCache({ tz: 'utc' });
    const params = { path: path.join(dir, 'backup-{YYYYMMDD}.tar.gz'), verify: 'tar.gz' as const };
    cache.ffmpegAvailable(NOW);
    await cache.idle(); // so warm() below waits on the backup alone
    await cache.warm([params], NOW);
    const quick = cache.backup(params, NOW);
    expect(isPending(quick)).toBe(false);
    expect([quick.present, quick.intact, quick.reason]).toEqual([true, null, 'ok']);
    await cache.idle();
    expect(cache.backup(params, NOW)).toMatchObject({ intact: false, reason: 'corrupt: gzip: unexpected end of file' });
  });
});
