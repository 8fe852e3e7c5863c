import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createEmitter, FILES } from '../../src/emit/index.js';
import { isOperation, isRejected, operationFailed, parseLine, type LogEvent } from '../../src/parse/index.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-emit-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function lines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
}

function events(file: string): LogEvent[] {
  return lines(file).map((l) => {
    const r = parseLine(l, 0);
    if (isRejected(r)) throw new Error(`rejected: ${r.rejected} ${r.detail}: ${l}`);
    return r;
  });
}

describe('createEmitter', () => {
  it('writes DESIGN §2 lines that parse into the expected LogEvents, each in its file', () => {
    const dir = tmp();
    const clock = new ManualClock(T0);
    const em = createEmitter({ dir, service: 'worker', clock, slowSeconds: 60 });
    em.info('worker started', { version: '1.2.3', level: 'DEBUG' });
    em.stageStarted({ sessionId: 's1', userId: 'u1', stage: 'upload', fileSizeBytes: 2048 });
    clock.advance(1500);
    em.stageCompleted({ sessionId: 's1', userId: 'u1', stage: 'upload', durationSeconds: 1.5, fileSizeBytes: 2048, videoCount: 2 });
    clock.advance(1000);
    em.processingError({ sessionId: 's1', stage: 'compression', errorCode: 'FFMPEG_FAILED', error: 'Invalid data found', stack: 'at encode()', durationSeconds: 0.4 });
    em.sessionFailed({ sessionId: 's1', error: 'compression failed' });
    em.stageCompleted({ sessionId: 's2', stage: 'merging', durationSeconds: 75 });
    em.sessionCompleted({ sessionId: 's2', videoCount: 3 });
    em.critical('disk gone', { mount: '/data' });
    em.close();

    const app = events(path.join(dir, FILES.application));
    expect(app.map((e) => [e.level, e.logger, e.message])).toEqual([
      ['INFO', 'worker', 'worker started'],
      ['CRITICAL', 'worker', 'disk gone'],
    ]);
    expect(app[0]!.ts).toBe(T0);
    expect(app[0]!.fields).toMatchObject({ version: '1.2.3', service: 'worker' }); // extra cannot override the level
    expect(app[0]!.format).toBe('vigil');

    const media = events(path.join(dir, FILES.media));
    expect(media.map((e) => e.event)).toEqual(['stage_started', 'stage_completed', 'processing_error', 'session_failed', 'stage_completed', 'session_completed']);
    expect(media.every((e) => e.logger === 'media_processing')).toBe(true);
    expect(media[0]).toMatchObject({ ts: T0, level: 'INFO', sessionId: 's1', userId: 'u1', stage: 'upload', fileSizeBytes: 2048 });
    expect(media[1]).toMatchObject({ ts: T0 + 1500, sessionId: 's1', stage: 'upload', success: true, durationSeconds: 1.5, videoCount: 2 });
    expect(media[2]).toMatchObject({ ts: T0 + 2500, level: 'ERROR', stage: 'compression', success: false, errorCode: 'FFMPEG_FAILED', error: 'Invalid data found', stack: 'at encode()', durationSeconds: 0.4 });
    // Exactly the completed stages are operations, and only the processing error failed.
    expect(media.filter(isOperation).map((e) => [e.stage, operationFailed(e)])).toEqual([
      ['upload', false],
      ['compression', true],
      ['merging', false],
    ]);
    for (const e of media) expect(e.fields.copy_of).toBeUndefined();

    const errors = events(path.join(dir, FILES.errors));
    expect(errors.map((e) => [e.level, e.event ?? e.message, e.fields.copy_of])).toEqual([
      ['ERROR', 'processing_error', 'media_processing.log'],
      ['ERROR', 'session_failed', 'media_processing.log'],
      ['CRITICAL', 'disk gone', 'application.log'],
    ]);
    // The copy is the same event as the original: same time, same fields.
    expect(errors[0]).toMatchObject({ ts: media[2]!.ts, sessionId: 's1', errorCode: 'FFMPEG_FAILED', stage: 'compression' });

    const perf = events(path.join(dir, FILES.performance));
    expect(perf).toHaveLength(1);
    expect(perf[0]).toMatchObject({ event: 'stage_completed', stage: 'merging', durationSeconds: 75 });
    expect(perf[0]!.fields).toMatchObject({ copy_of: 'media_processing.log', slow_threshold_seconds: 60 });
  });

  it('creates the four files at once, empty', () => {
    const dir = tmp();
    createEmitter({ dir: path.join(dir, 'nested', 'logs') }).close();
    expect(fs.readdirSync(path.join(dir, 'nested', 'logs')).sort()).toEqual(['application.log', 'errors.log', 'media_processing.log', 'performance.log']);
  });

  it('a failed stage_completed is an ERROR line with a copy in errors.log', () => {
    const dir = tmp();
    const em = createEmitter({ dir, clock: new ManualClock(T0) });
    em.stageCompleted({ sessionId: 's', stage: 'storage_upload', durationSeconds: 2, success: false });
    em.close();
    const [op] = events(path.join(dir, FILES.media));
    expect(op).toMatchObject({ level: 'ERROR', success: false });
    expect(operationFailed(op!)).toBe(true);
    expect(events(path.join(dir, FILES.errors))[0]!.fields.copy_of).toBe('media_processing.log');
    expect(lines(path.join(dir, FILES.performance))).toEqual([]);
  });

  it('rotates each file by size, keeping `backups` renamed files and every line until they run out', () => {
    const dir = tmp();
    const em = createEmitter({ dir, maxBytes: 2000, backups: 3, clock: new ManualClock(T0) });
    const n = 30; // about 225 bytes a line: 8 to a file, so four files
    for (let i = 0; i < n; i++) em.info(`message ${i}`, { pad: 'x'.repeat(100) });
    const file = path.join(dir, FILES.application);
    const set = [file, `${file}.1`, `${file}.2`, `${file}.3`];
    for (const f of set) expect(fs.statSync(f).size).toBeLessThanOrEqual(2000);
    // Oldest first: .3, .2, .1, current — one unbroken sequence.
    const all = [...set].reverse().flatMap((f) => lines(f).map((l) => JSON.parse(l).message as string));
    expect(all).toEqual(Array.from({ length: n }, (_, i) => `message ${i}`));

    for (let i = n; i < 80; i++) em.info(`message ${i}`, { pad: 'x'.repeat(100) });
    em.close();
    expect(fs.existsSync(`${file}.4`)).toBe(false);
    const kept = [...set].reverse().flatMap((f) => lines(f).map((l) => JSON.parse(l).message as string));
    expect(kept.at(-1)).toBe('message 79');
    expect(kept.length).toBeLessThan(80);
    // What is kept is the newest lines, still in order.
    const first = Number(kept[0]!.split(' ')[1]);
    expect(kept).toEqual(Array.from({ length: 80 - first }, (_, i) => `message ${first + i}`));
  });

  it('continues an existing file after a restart and counts its size', () => {
    const dir = tmp();
    const file = path.join(dir, FILES.application);
    fs.writeFileSync(file, 'x'.repeat(1900) + '\n');
    const em = createEmitter({ dir, maxBytes: 2000, backups: 1, clock: new ManualClock(T0) });
    em.info('after restart', { pad: 'y'.repeat(200) });
    em.close();
    expect(lines(`${file}.1`)).toEqual(['x'.repeat(1900)]);
    expect(lines(file).map((l) => JSON.parse(l).message)).toEqual(['after restart']);
  });

  it('never throws into the caller when a file cannot be written', () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, FILES.errors)); // a directory where errors.log should be
    const seen: string[] = [];
    const em = createEmitter({ dir, clock: new ManualClock(T0), onError: (_e, f) => seen.push(path.basename(f)) });
    expect(() => em.processingError({ sessionId: 's', stage: 'merging', errorCode: 'X', error: 'y' })).not.toThrow();
    em.close();
    expect(seen.length).toBeGreaterThan(0); // at creation, and again at the write
    expect(new Set(seen)).toEqual(new Set(['errors.log']));
    expect(events(path.join(dir, FILES.media))).toHaveLength(1); // the original still made it
  });
});
