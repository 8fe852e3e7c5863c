import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/ingest/aggregate.js';
import { CardinalityGuard } from '../../src/ingest/cardinality.js';
import { isRejected } from '../../src/parse/event.js';
import { parseLine } from '../../src/parse/index.js';
import { FACTS, defaultParams, type FactContext, type ResolvedParams } from '../../src/rules/facts.js';
import { BatchWriter, distinctInMinute } from '../../src/store/batch.js';
import { openStore, type DB } from '../../src/store/db.js';
import { StoreFacts } from '../../src/store/facts.js';
import { insertSample, insertSystemSample } from '../../src/store/samples.js';

const now = Date.UTC(2026, 10, 22, 10, 0, 0);
const MIN = 60_000;
const iso = (ts: number) => new Date(ts).toISOString();

type Line = { file?: string; ts: number; raw?: string } & Record<string, unknown>;

/** Real ingest: parseLine → Aggregator → BatchWriter, one batch per call. */
function ingest(db: DB, lines: Line[]): void {
  const writer = new BatchWriter(db, { recentLines: 10, rejectedSamples: 10 });
  const agg = new Aggregator({ recentLines: 10, samplesPerBatch: 10, guard: new CardinalityGuard({ error_code: 50, stage: 30, logger: 50, level: 16 }, (s, d) => distinctInMinute(db, s, d)) });
  for (const { file = '/var/log/media/application.log', ts, raw, ...fields } of lines) {
    agg.setFile(file, ts);
    const text = raw ?? JSON.stringify({ timestamp: iso(ts), ...fields });
    const r = parseLine(text, ts);
    if (isRejected(r)) agg.reject(r.rejected, r.detail, text, 0, ts);
    else agg.tally(r);
  }
  writer.commit(agg.take(true));
}

function store(lines: Line[]): { db: DB; facts: StoreFacts } {
  const db = openStore(':memory:');
  ingest(db, lines);
  return { db, facts: new StoreFacts(db) };
}

const op = (ts: number, stage: string, success: boolean, extra: Record<string, unknown> = {}): Line => ({
  ts,
  level: success ? 'INFO' : 'ERROR',
  logger: 'media_processing',
  event: success ? 'stage_completed' : 'processing_error',
  stage,
  success,
  duration_seconds: 10,
  ...extra,
});

describe('StoreFacts: operations, codes and levels over the windows', () => {
  const { facts } = store([
    op(now - 90 * MIN, 'upload', false), // outside 1h
    op(now - 30 * MIN, 'upload', true, { duration_seconds: 10 }),
    op(now - 20 * MIN, 'merging', false, { duration_seconds: 30, error_code: 'FFMPEG_FAILED' }),
    op(now - 10 * MIN, 'merging', true, { duration_seconds: 50, logger: 'other' }),
    { ts: now - 5 * MIN, level: 'CRITICAL', logger: 'app', error_code: 'STORAGE_UPLOAD_FAILED', message: 'down' },
    { ts: now - 4 * MIN, level: 'INFO', logger: 'app', event: 'stage_started', stage: 'compression' }, // not an operation
    op(now + 5 * MIN, 'upload', false), // after now: not in (now-1h, now]
  ]);
  const hour = { from: now - 60 * MIN, to: now };

  it('counts operations, failures and durations, by stage and logger', () => {
    expect(facts.operations(hour)).toEqual({ total: 3, failed: 1, durationSum: 90, durationCount: 3 });
    expect(facts.operations({ ...hour, stage: 'merging' })).toEqual({ total: 2, failed: 1, durationSum: 80, durationCount: 2 });
    expect(facts.operations({ ...hour, logger: 'other' })).toEqual({ total: 1, failed: 0, durationSum: 50, durationCount: 1 });
    expect(facts.operations({ ...hour, stage: 'nothing' })).toEqual({ total: 0, failed: 0, durationSum: 0, durationCount: 0 });
    expect(facts.operations({ from: now - 120 * MIN, to: now }).total).toBe(4);
  });

  it('lists the stages that had operations (a started stage is not one)', () => {
    expect(facts.distinctStages(hour).sort()).toEqual(['merging', 'upload']);
    expect(facts.distinctStages({ from: now - 15 * MIN, to: now })).toEqual(['merging']);
  });

  it('counts error codes and levels', () => {
    expect(facts.errorCodeCount(hour)).toBe(2);
    expect(facts.errorCodeCount({ ...hour, code: 'FFMPEG_FAILED' })).toBe(1);
    expect(facts.errorCodeCount({ ...hour, code: 'NOPE' })).toBe(0);
    expect(facts.levelCount({ ...hour, level: 'CRITICAL' })).toBe(1);
    expect(facts.levelCount({ ...hour, level: 'ERROR', logger: 'media_processing' })).toBe(1);
    expect(facts.levelCount({ ...hour, level: 'INFO', logger: 'app' })).toBe(1);
  });

  it('answers a duration quantile', () => {
    const p = facts.durationQuantile({ ...hour, q: 0.95 });
    expect(p).not.toBeNull();
    expect(p!).toBeGreaterThanOrEqual(30);
    expect(p!).toBeLessThanOrEqual(50);
    expect(facts.durationQuantile({ from: now - 2 * MIN, to: now, q: 0.95 })).toBeNull();
  });
});

describe('StoreFacts: window edges', () => {
  it('includes an event at `to`, takes the first minute whole, and reads hour rollups for long windows', () => {
    const { facts } = store([op(now, 'upload', true), op(now - 60 * MIN + 20_000, 'upload', false), op(now - 6 * 60 * MIN, 'upload', true)]);
    expect(facts.operations({ from: now - 60 * MIN, to: now })).toMatchObject({ total: 2, failed: 1 });
    // (now-60m+30s, now]: the event at now-60m+20s is in the first minute, counted whole.
    expect(facts.operations({ from: now - 60 * MIN + 30_000, to: now }).total).toBe(2);
    expect(facts.operations({ from: now - 59 * MIN, to: now }).total).toBe(1);
    // 7 hours: whole hours come from the rollup, the ragged ends from minutes.
    expect(facts.operations({ from: now - 7 * 60 * MIN + 123_456, to: now + 17 * MIN }).total).toBe(3);
  });

  it('does not reuse a grouped-by-stage answer after new data was committed', () => {
    const { db, facts } = store([op(now - MIN, 'upload', true)]);
    const q = { from: now - 10 * MIN, to: now, stage: 'upload' };
    expect(facts.operations(q).total).toBe(1);
    ingest(db, [op(now - 30_000, 'upload', false)]);
    expect(facts.operations(q)).toMatchObject({ total: 2, failed: 1 });
    expect(facts.distinctStages(q)).toEqual(['upload']);
  });
});

describe('StoreFacts: sessions, silence, parse errors', () => {
  const s = (ts: number, id: string, event: string, extra: Record<string, unknown> = {}): Line => ({ ts, level: 'INFO', logger: 'media_processing', event, session_id: id, ...extra });

  it('counts active and stuck sessions at now', () => {
    const { facts } = store([
      s(now - 45 * MIN, 'old-open', 'stage_started', { stage: 'upload' }),
      s(now - 5 * MIN, 'young-open', 'stage_started', { stage: 'upload' }),
      s(now - 90 * MIN, 'done', 'stage_started'),
      s(now - MIN, 'done', 'session_completed'),
      s(now - 50 * MIN, 'cleaned', 'stage_started'),
      s(now - 2 * MIN, 'cleaned', 'stage_completed', { stage: 'cleanup', success: true }),
      s(now - 40 * MIN, 'failed', 'stage_started'),
      s(now - 10 * MIN, 'failed', 'session_failed'),
      s(now + 5 * MIN, 'future', 'stage_started'),
    ]);
    expect(facts.activeSessions(now)).toBe(2); // old-open, young-open
    expect(facts.stuckSessions({ now, olderThanMs: 30 * MIN })).toBe(1); // old-open
    expect(facts.stuckSessions({ now, olderThanMs: 60 * MIN })).toBe(0);
    expect(facts.activeSessions(now + 20 * MIN)).toBe(3); // and future
    expect(facts.stuckSessions({ now: now + 20 * MIN, olderThanMs: 30 * MIN })).toBe(1);
  });

  it('finds the last event of a logger or a file (by path or basename)', () => {
    const { facts } = store([
      { file: '/var/log/media/application.log', ts: now - 10 * MIN, level: 'INFO', logger: 'api' },
      { file: '/var/log/media/errors.log', ts: now - 3 * MIN, level: 'ERROR', logger: 'media_processing' },
      { file: '/var/log/media/application.log', ts: now - 2 * MIN, level: 'INFO', logger: 'media_processing' },
    ]);
    expect(facts.lastEventAt({ now })).toBe(now - 2 * MIN);
    expect(facts.lastEventAt({ now, logger: 'api' })).toBe(now - 10 * MIN);
    expect(facts.lastEventAt({ now, file: 'errors.log' })).toBe(now - 3 * MIN);
    expect(facts.lastEventAt({ now, file: '/var/log/media/errors.log' })).toBe(now - 3 * MIN);
    expect(facts.lastEventAt({ now, file: 'rors.log' })).toBeNull();
    expect(facts.lastEventAt({ now, logger: 'api', file: 'application.log' })).toBe(now - 10 * MIN);
    expect(facts.lastEventAt({ now, logger: 'nobody' })).toBeNull();
    expect(facts.lastEventAt({ now: now - 5 * MIN })).toBe(now - 5 * MIN); // a newer line counts as "seen now"
  });

  it('counts rejected lines per window and file', () => {
    const { facts } = store([
      { file: '/var/log/media/errors.log', ts: now - 2 * MIN, raw: 'Traceback (most recent call last):' },
      { file: '/var/log/media/errors.log', ts: now - 2 * MIN, raw: '[1,2]' },
      { file: '/var/log/media/application.log', ts: now - 30 * MIN, raw: 'not json' },
    ]);
    expect(facts.parseErrors({ from: now - 60 * MIN, to: now })).toBe(3);
    expect(facts.parseErrors({ from: now - 5 * MIN, to: now })).toBe(2);
    expect(facts.parseErrors({ from: now - 60 * MIN, to: now, file: 'application.log' })).toBe(1);
    expect(facts.parseErrors({ from: now - 5 * MIN, to: now, file: '/var/log/media/errors.log' })).toBe(2);
  });
});

describe('StoreFacts: system samples', () => {
  it('reads the newest sample at or before now, within max age, per mount', () => {
    const db = openStore(':memory:');
    insertSystemSample(
      db,
      {
        cpuPercent: 93,
        memoryPercent: 88,
        load1: 1.5,
        disks: [
          { mount: '/', usedPercent: 91 },
          { mount: '/data', usedPercent: 40 },
        ],
      },
      now - 20_000,
    );
    insertSample(db, 'cpu', '', now + 15_000, 10); // in the future of `now`
    const facts = new StoreFacts(db);
    const q = { now, maxAgeMs: 5 * MIN };
    expect(facts.latestSample({ metric: 'cpu', ...q })).toBe(93);
    expect(facts.latestSample({ metric: 'memory', ...q })).toBe(88);
    expect(facts.latestSample({ metric: 'disk', mount: '/', ...q })).toBe(91);
    expect(facts.latestSample({ metric: 'disk', mount: '/data', ...q })).toBe(40);
    expect(facts.latestSample({ metric: 'disk', mount: '/nope', ...q })).toBeNull();
    expect(facts.latestSample({ metric: 'cpu', now, maxAgeMs: 10_000 })).toBeNull();
    expect(facts.latestSample({ metric: 'cpu', now: now + 20_000, maxAgeMs: 10_000 })).toBe(10);
    expect(db.prepare(`SELECT value FROM samples WHERE metric = 'load1'`).get()).toEqual({ value: 1.5 });
  });
});

describe('StoreFacts behind the fact registry', () => {
  it('computes error_rate and group facts the way rules see them', async () => {
    const { facts } = store([op(now - MIN, 'upload', false), op(now - MIN, 'upload', true), op(now - 2 * MIN, 'merging', true)]);
    const compute = (name: string, params: Record<string, string | number> = {}) => {
      const spec = FACTS.get(name)!;
      const memo = new Map<string, unknown>();
      const ctx: FactContext = {
        sources: { facts, checks: { backup: () => ({ present: true, ageSeconds: 1, sizeBytes: 1, intact: true, path: '' }), ffmpegAvailable: () => true } },
        now,
        memo: <T>(k: string, f: () => T) => (memo.has(k) ? (memo.get(k) as T) : (memo.set(k, f()), memo.get(k) as T)),
      };
      return spec.compute(ctx, { ...defaultParams(spec), ...params } as ResolvedParams);
    };
    expect(await compute('error_rate')).toBeCloseTo(1 / 3);
    expect(await compute('error_rate', { stage: 'upload' })).toBe(0.5);
    expect(await compute('avg_duration', { stage: 'merging' })).toBe(10);
    // Minute buckets: a 30 s window still sees the whole minute the failure is in.
    expect(await compute('failed_operations', { window: 30_000 })).toBe(1);
    expect(await compute('total_operations', { window: 60_000 })).toBe(2);
  });
});
