import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isOperation, isRejected, operationFailed, parseLine, type LogEvent } from '../../src/parse/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLE = path.join(ROOT, 'examples/python/emit_example.py');
const hasPython = spawnSync('python3', ['--version']).status === 0;
if (!hasPython) console.warn('python3 is not installed: the Python logging example (docs/python-logging.md) is not tested');
/** Before 3.12 the CopyOf filter marks the record in place; from 3.12 it hands the handler a copy: both paths, where installed. */
const byVersion = new Map<string, string>();
for (const bin of ['python3', 'python3.11', 'python3.12', 'python3.13']) {
  const v = spawnSync(bin, ['-c', 'import sys; print(sys.version_info[:2])'], { encoding: 'utf8' });
  if (v.status === 0 && !byVersion.has(v.stdout.trim())) byVersion.set(v.stdout.trim(), bin);
}
const PYTHONS = [...byVersion.values()];

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function run(args: string[], python = 'python3'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pylog-'));
  dirs.push(dir);
  const r = spawnSync(python, [EXAMPLE, dir, ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return dir;
}

function events(file: string): LogEvent[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const e = parseLine(l, 0);
      if (isRejected(e)) throw new Error(`${file}: rejected ${e.rejected}: ${l}`);
      return e;
    });
}

describe.skipIf(!hasPython)('examples/python/emit_example.py (standard logging)', () => {
  it.each(PYTHONS)('writes the four files in vigil\'s shape, copies marked copy_of, originals not (%s)', (python) => {
    const dir = run([], python);
    const now = Date.now();
    const media = events(path.join(dir, 'media_processing.log'));
    expect(media.map((e) => e.event)).toEqual(['stage_started', 'stage_completed', 'stage_completed', 'processing_error', 'session_failed']);
    for (const e of media) {
      expect(e).toMatchObject({ logger: 'media_processing', sessionId: 'py-0001', userId: 'user-2' });
      expect(Math.abs(e.ts - now)).toBeLessThan(60_000);
      expect(e.fields.copy_of).toBeUndefined();
    }
    expect(media[1]).toMatchObject({ level: 'INFO', stage: 'upload', success: true, durationSeconds: 2.5, fileSizeBytes: 1_048_576, videoCount: 2 });
    expect(media[3]).toMatchObject({ level: 'ERROR', stage: 'compression', errorCode: 'FFMPEG_FAILED', success: false });
    expect(media[3]!.stack).toContain('RuntimeError: ffmpeg exited with code 1');
    expect(media.filter(isOperation).map((e) => [e.stage, operationFailed(e)])).toEqual([
      ['upload', false],
      ['merging', false],
      ['compression', true],
    ]);

    const app = events(path.join(dir, 'application.log'));
    expect(app.map((e) => [e.level, e.logger, e.message])).toEqual([
      ['INFO', 'app', 'worker started'],
      ['CRITICAL', 'app', 'storage backend unreachable'],
    ]);
    expect(app[0]!.fields).toMatchObject({ version: '1.0.0' });

    const errors = events(path.join(dir, 'errors.log'));
    expect(errors.map((e) => [e.level, e.event ?? e.message, e.fields.copy_of])).toEqual([
      ['ERROR', 'processing_error', 'media_processing.log'],
      ['ERROR', 'session_failed', 'media_processing.log'],
      ['CRITICAL', 'storage backend unreachable', 'application.log'],
    ]);
    expect(errors[0]).toMatchObject({ ts: media[3]!.ts, errorCode: 'FFMPEG_FAILED', stage: 'compression' });

    const perf = events(path.join(dir, 'performance.log'));
    expect(perf.map((e) => [e.stage, e.durationSeconds, e.fields.copy_of])).toEqual([['merging', 412, 'media_processing.log']]);
  });

  it('rotates by size with RotatingFileHandler, every line still parsing', () => {
    const dir = run(['--max-bytes', '3000', '--backups', '2', '--sessions', '12']);
    const media = path.join(dir, 'media_processing.log');
    expect(fs.existsSync(`${media}.1`)).toBe(true);
    expect(fs.existsSync(`${media}.2`)).toBe(true);
    expect(fs.existsSync(`${media}.3`)).toBe(false);
    for (const f of [media, `${media}.1`, `${media}.2`]) {
      expect(fs.statSync(f).size).toBeLessThanOrEqual(3000);
      expect(events(f).length).toBeGreaterThan(0);
    }
    const last = events(media).at(-1)!;
    expect(last).toMatchObject({ event: 'session_failed', sessionId: 'py-0012' });
  });
});
