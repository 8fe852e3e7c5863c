import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { buildIngest } from '../../src/ingest/build.js';
import type { LogEvent } from '../../src/parse/event.js';
import { Aggregator } from '../../src/ingest/aggregate.js';
import { ChunkParser } from '../../src/ingest/chunk.js';
import { CardinalityGuard } from '../../src/ingest/cardinality.js';
import { BatchWriter, distinctInMinute } from '../../src/store/batch.js';
import { openStore } from '../../src/store/db.js';
import { computeStats } from '../../src/store/stats.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

function ev(p: Partial<LogEvent>): LogEvent {
  return {
    ts: T0,
    level: 'INFO',
    message: '',
    logger: 'media_processing',
    event: undefined,
    sessionId: undefined,
    userId: undefined,
    correlationId: undefined,
    stage: undefined,
    success: undefined,
    durationSeconds: undefined,
    fileSizeBytes: undefined,
    videoCount: undefined,
    errorCode: undefined,
    error: undefined,
    format: 'vigil',
    repairs: undefined,
    fields: { message: p.message ?? '' },
    ...p,
  };
}

function setup(caps = { error_code: 3, stage: 30, logger: 50, level: 16 }) {
  const db = openStore(':memory:');
  const writer = new BatchWriter(db, { recentLines: 5, rejectedSamples: 3 });
  const guard = new CardinalityGuard(caps, (s, d) => distinctInMinute(db, s, d));
  const agg = new Aggregator({ recentLines: 5, samplesPerBatch: 10, guard });
  return { db, writer, agg };
}

describe('Aggregator + BatchWriter', () => {
  it('counts operations per stage, failures and durations, across batches and late lines', () => {
    const { db, writer, agg } = setup();
    agg.setFile('media.log', T0);
    agg.tally(ev({ event: 'stage_completed', stage: 'upload', success: true, durationSeconds: 10 }));
    agg.tally(ev({ event: 'stage_completed', stage: 'upload', success: false, durationSeconds: 30, errorCode: 'STORAGE_UPLOAD_FAILED', level: 'ERROR' }));
    agg.tally(ev({ event: 'stage_started', stage: 'upload' })); // not an operation
    writer.commit(agg.take(true));
    agg.setFile('media.log', T0);
    agg.tally(ev({ ts: T0 + 5 * 60_000, event: 'processing_error', stage: 'compression', errorCode: 'FFMPEG_FAILED', level: 'ERROR' }));
    agg.tally(ev({ ts: T0 - 3 * 3_600_000, event: 'stage_completed', stage: 'upload', success: true, durationSeconds: 20 })); // late line
    writer.commit(agg.take(true));

    const s = computeStats(db, { from: T0, to: T0 + 3_600_000 });
    expect(s.total_operations).toBe(3);
    expect(s.failed_operations).toBe(2);
    expect(s.successful_operations).toBe(1);
    expect(s.error_rate).toBeCloseTo(2 / 3, 4);
    expect(s.stage_breakdown.upload).toEqual({ count: 2, success_count: 1, failure_count: 1, average_duration: 20, p95_duration: 30 });
    expect(s.stage_breakdown.compression!.failure_count).toBe(1);
    expect(s.error_codes).toEqual({ FFMPEG_FAILED: 1, STORAGE_UPLOAD_FAILED: 1 });
    // The late line landed in its own hour.
    expect(computeStats(db, { from: T0 - 4 * 3_600_000, to: T0 + 3_600_000 }).total_operations).toBe(4);
    expect(computeStats(db, { from: T0 - 4 * 3_600_000, to: T0 }).total_operations).toBe(1);
  });

  it('answers the same from hour rollups as from minute windows', () => {
    const { db, writer, agg } = setup();
    agg.setFile('media.log', T0);
    for (let m = 0; m < 240; m++) {
      agg.tally(ev({ ts: T0 + m * 60_000 + 17, event: 'stage_completed', stage: 'merging', success: m % 7 !== 0, durationSeconds: 1 + (m % 13) }));
    }
    writer.commit(agg.take(true));
    // 10:07:30 → 13:41:00 spans ragged minutes on both sides of three whole hours.
    const from = T0 + 7 * 60_000 + 30_000;
    const to = T0 + 3 * 3_600_000 + 41 * 60_000;
    const s = computeStats(db, { from, to });
    let total = 0;
    let failed = 0;
    for (let m = 0; m < 240; m++) {
      const t = T0 + m * 60_000 + 17;
      if (t >= from - (from % 60_000) && t < to) {
        total++;
        if (m % 7 === 0) failed++;
      }
    }
    expect(s.total_operations).toBe(total);
    expect(s.failed_operations).toBe(failed);
  });

  it('tracks sessions: first/last event, current stage, completion, late lines', () => {
    const { db, writer, agg } = setup();
    agg.setFile('media.log', T0);
    agg.tally(ev({ sessionId: 's1', userId: 'u1', event: 'stage_started', stage: 'upload', ts: T0 }));
    agg.tally(ev({ sessionId: 's1', event: 'stage_started', stage: 'analysis', ts: T0 + 60_000 }));
    agg.tally(ev({ sessionId: 's2', event: 'stage_started', stage: 'upload', ts: T0 }));
    writer.commit(agg.take(true));
    agg.setFile('media.log', T0);
    agg.tally(ev({ sessionId: 's1', event: 'stage_started', stage: 'upload', ts: T0 - 60_000 })); // late, older
    agg.tally(ev({ sessionId: 's2', event: 'session_completed', ts: T0 + 120_000 }));
    agg.tally(ev({ sessionId: 's3', event: 'stage_completed', stage: 'cleanup', success: true, ts: T0 + 1 }));
    writer.commit(agg.take(true));
    const rows = db.prepare('SELECT session_id, user_id, first_ts, last_ts, stage, events, finished FROM sessions ORDER BY session_id').all();
    expect(rows).toEqual([
      { session_id: 's1', user_id: 'u1', first_ts: T0 - 60_000, last_ts: T0 + 60_000, stage: 'analysis', events: 3, finished: 0 },
      { session_id: 's2', user_id: null, first_ts: T0, last_ts: T0 + 120_000, stage: 'upload', events: 2, finished: 1 },
      { session_id: 's3', user_id: null, first_ts: T0 + 1, last_ts: T0 + 1, stage: 'cleanup', events: 1, finished: 1 },
    ]);
  });

  it('a session comes out the same whether its lines share a batch or not', () => {
    // Out of order and with gaps: the newest line has no stage, an older one has; the first has no logger.
    const lines = [
      ev({ sessionId: 's1', event: 'stage_started', logger: '', ts: T0 + 60_000 }),
      ev({ sessionId: 's1', userId: 'u1', event: 'stage_started', stage: 'upload', ts: T0 }),
      ev({ sessionId: 's1', event: 'session_completed', ts: T0 + 30_000 }),
    ];
    const sessions = (perBatch: number) => {
      const { db, writer, agg } = setup();
      for (let i = 0; i < lines.length; i += perBatch) {
        agg.setFile('media.log', T0);
        for (const l of lines.slice(i, i + perBatch)) agg.tally(l);
        writer.commit(agg.take(true));
      }
      return db.prepare('SELECT session_id, user_id, logger, first_ts, last_ts, stage, events, finished, finished_ts FROM sessions').all();
    };
    const oneBatch = sessions(3);
    expect(oneBatch).toEqual([
      { session_id: 's1', user_id: 'u1', logger: 'media_processing', first_ts: T0, last_ts: T0 + 60_000, stage: 'upload', events: 3, finished: 1, finished_ts: T0 + 30_000 },
    ]);
    expect(sessions(1)).toEqual(oneBatch);
  });

  it('caps distinct error codes per minute, also after a restart, counting the rest as OTHER', () => {
    const { db, writer, agg } = setup({ error_code: 3, stage: 30, logger: 50, level: 16 });
    agg.setFile('errors.log', T0);
    for (const c of ['A', 'B']) agg.tally(ev({ errorCode: c, level: 'ERROR' }));
    writer.commit(agg.take(true));
    // A fresh guard (as after a restart) must learn A and B from the store.
    const guard2 = new CardinalityGuard({ error_code: 3, stage: 30, logger: 50, level: 16 }, (s, d) => distinctInMinute(db, s, d));
    const agg2 = new Aggregator({ recentLines: 5, samplesPerBatch: 10, guard: guard2 });
    agg2.setFile('errors.log', T0);
    for (const c of ['C', 'D', 'E', 'A', 'D']) agg2.tally(ev({ errorCode: c, level: 'ERROR' }));
    writer.commit(agg2.take(true));
    const s = computeStats(db, { from: T0, to: T0 + 60_000 });
    expect(s.error_codes).toEqual({ A: 2, B: 1, C: 1, OTHER: 3 }); // D, E, D
    expect(guard2.overflowed).toBe(2); // D and E were each folded once; the second D found its cell
  });

  it('keeps only the latest recent lines, redacted, and bounded rejected samples', () => {
    const { db, writer, agg } = setup();
    agg.setFile('app.log', T0);
    // Through the one entry point ingest and replay share: a chunk parsed, then absorbed.
    const text = Array.from({ length: 8 }, (_, i) => JSON.stringify({ timestamp: new Date(T0).toISOString(), message: `m${i}`, password: 'hunter2' }) + '\n').join('');
    const bytes = new Uint8Array(Buffer.from(text));
    const spans: number[] = [];
    for (let s = 0, e = text.indexOf('\n'); e !== -1; s = e + 1, e = text.indexOf('\n', s)) spans.push(s, e);
    const done = new ChunkParser({ recentLines: 5, samplesPerBatch: 10 }).parse({ seq: 0, file: 'app.log', base: 0, fallbackTs: T0, bytes, spans: Int32Array.from(spans), nSpans: 8 });
    agg.absorb(done.part, Buffer.from(bytes.buffer));
    for (let i = 0; i < 5; i++) agg.reject('not_json', 'Unexpected token', `bad ${i}`, i * 10, T0);
    writer.commit(agg.take(true));
    const lines = db.prepare('SELECT line FROM recent_lines ORDER BY seq').all() as { line: string }[];
    expect(lines.map((l) => JSON.parse(l.line).message)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    expect(lines.every((l) => !l.line.includes('hunter2'))).toBe(true);
    expect((db.prepare('SELECT count(*) AS n FROM rejected_samples').get() as { n: number }).n).toBe(3);
    expect(db.prepare('SELECT lines, rejected FROM file_stats').get()).toEqual({ lines: 8, rejected: 5 });
    expect((db.prepare('SELECT sum(count) AS n FROM parse_errors').get() as { n: number }).n).toBe(5);
  });

  it('writes nothing of a batch whose commit fails', () => {
    const { db, writer, agg } = setup();
    agg.setFile('app.log', T0);
    agg.tally(ev({ event: 'stage_completed', stage: 'upload', success: true }));
    const b = agg.take(true);
    b.checkpoints.set('fp', { fingerprint: 'fp', path: '/x', dev: 1, ino: 2, offset: 100, skipping: false, updatedAt: T0 });
    // Sabotage the last statement of the transaction: a NULL path violates NOT NULL.
    b.checkpoints.set('fp2', { fingerprint: 'fp2', path: null as unknown as string, dev: 1, ino: 3, offset: 5, skipping: false, updatedAt: T0 });
    expect(() => writer.commit(b)).toThrow();
    expect((db.prepare('SELECT count(*) AS n FROM windows').get() as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT count(*) AS n FROM checkpoints').get() as { n: number }).n).toBe(0);
  });
});

describe('Pipeline on hostile input (real files, the real tailer and store)', () => {
  it('counts and samples every malformed line, redacts the samples, and keeps reading', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-hostile-'));
    try {
      const file = path.join(dir, 'app.log');
      const good = (i: number) => JSON.stringify({ timestamp: '2026-11-22T10:00:00Z', level: 'INFO', message: `ok ${i}`, event: 'stage_completed', stage: 'upload', success: true });
      const lines = [
        good(1),
        'not json at all password=hunter2',
        '{"truncated": ',
        '[1,2,3]',
        '{"message":"nul\u0000byte"}',
        '{"__proto__":{"polluted":1},"message":"proto"}',
        '{"duration_seconds":"abc","event":"stage_completed","stage":"upload","timestamp":"2026-11-22T10:00:00Z"}',
        'x'.repeat(5000), // over the 2 KiB limit below
        good(2),
      ];
      fs.writeFileSync(file, Buffer.concat([Buffer.from(lines.join('\n') + '\n'), Buffer.from([0xff, 0xfe, 0x7b, 0x7d, 0x0a]), Buffer.from('{"message":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
      const base = loadConfig({});
      const config = { ...base, max_line_bytes: 2048, inputs: [{ ...base.inputs[0]!, path: file }] };
      const db = openStore(':memory:');
      const { tailer, pipeline } = buildIngest({ config, db, clock: new ManualClock(Date.UTC(2026, 10, 22, 10, 5)) });
      tailer.scan();
      while ((await pipeline.drainSome()).more) {
        /* drain */
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const fsRow = db.prepare('SELECT lines, rejected, overlong FROM file_stats').get();
      // accepted: good 1, proto, bad duration (repaired), good 2, invalid UTF-8 inside a string (repaired)
      // rejected: plain text, truncated, an array, a raw NUL, the over-long line, invalid UTF-8 outside a string
      expect(fsRow).toEqual({ lines: 5, rejected: 6, overlong: 1 });
      // repaired: the proto line (no timestamp), the bad duration, the invalid UTF-8
      expect((db.prepare('SELECT repaired FROM file_stats').get() as { repaired: number }).repaired).toBe(3);
      const reasons = db.prepare('SELECT reason, sum(count) AS n FROM parse_errors GROUP BY reason ORDER BY reason').all();
      expect(reasons).toEqual([
        { reason: 'not_json', n: 4 },
        { reason: 'not_object', n: 1 },
        { reason: 'too_long', n: 1 },
      ]);
      const samples = db.prepare('SELECT sample FROM rejected_samples').all() as { sample: string }[];
      expect(samples.length).toBe(6);
      expect(samples.some((s) => s.sample.includes('hunter2'))).toBe(false);
      expect(computeStats(db, { from: Date.UTC(2026, 10, 22, 9), to: Date.UTC(2026, 10, 22, 11) }).total_operations).toBe(3);
      tailer.close();
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Pipeline recent lines', () => {
  it('writes the latest lines once caught up, even when the last batch filled up right at the end of the data', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-recent-'));
    try {
      const file = path.join(dir, 'app.log');
      const text = Array.from({ length: 40 }, (_, i) => JSON.stringify({ timestamp: '2026-11-22T10:00:00Z', level: 'INFO', message: `m${i}` })).join('\n') + '\n';
      fs.writeFileSync(file, text);
      const base = loadConfig({});
      const config = { ...base, max_line_bytes: 2048, retention: { ...base.retention, recent_lines: 25 }, inputs: [{ ...base.inputs[0]!, path: file }] };
      const db = openStore(':memory:');
      // One batch is exactly the file: it is full (not known to be caught up) when the data ends.
      const { tailer, pipeline } = buildIngest({ config, db, clock: new ManualClock(Date.UTC(2026, 10, 22, 10, 5)), batchBytes: Buffer.byteLength(text) });
      tailer.scan();
      expect(await pipeline.drainSome()).toMatchObject({ lines: 40, batches: 1, more: false });
      const lines = db.prepare('SELECT line FROM recent_lines ORDER BY seq').all() as { line: string }[];
      expect(lines.map((l) => JSON.parse(l.line).message)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i + 15}`));
      tailer.close();
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
