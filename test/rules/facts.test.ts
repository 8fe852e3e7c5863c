import { describe, expect, it } from 'vitest';
import { resolveBackupPath } from '../../src/collect/backup-pattern.js';
import { defaultParams, FACTS, factKey, normalizeParam, type FactContext, type ResolvedParams } from '../../src/rules/facts.js';
import { memorySources } from './memory-sources.js';

const now = Date.UTC(2024, 2, 1, 10, 0, 0);
const MIN = 60_000;

function compute(src: ReturnType<typeof memorySources>, fact: string, params: Record<string, unknown> = {}) {
  const spec = FACTS.get(fact)!;
  const p: Record<string, string | number> = defaultParams(spec);
  for (const [k, v] of Object.entries(params)) {
    const n = normalizeParam(spec.params[k]!, v);
    if ('error' in n) throw new Error(n.error);
    p[k] = n.value;
  }
  const memo = new Map<string, unknown>();
  const ctx: FactContext = {
    sources: src,
    now,
    memo: <T>(k: string, f: () => T) => (memo.has(k) ? (memo.get(k) as T) : (memo.set(k, f()), memo.get(k) as T)),
  };
  return spec.compute(ctx, p as ResolvedParams);
}

describe('facts over the in-memory sources', () => {
  const src = memorySources();
  src.facts.events = [
    { ts: now - 90 * MIN, stage: 'upload', success: false, durationSeconds: 1 }, // outside 1h
    { ts: now - 30 * MIN, stage: 'upload', success: true, durationSeconds: 10, logger: 'media' },
    { ts: now - 20 * MIN, stage: 'merging', success: false, durationSeconds: 30, logger: 'media', errorCode: 'FFMPEG_FAILED', level: 'ERROR' },
    { ts: now - 10 * MIN, stage: 'merging', success: true, durationSeconds: 50, logger: 'media' },
    { ts: now - 5 * MIN, level: 'CRITICAL', logger: 'app', errorCode: 'STORAGE_UPLOAD_FAILED' },
  ];
  src.facts.rejected = [{ ts: now - MIN, file: 'errors.log' }, { ts: now - 2 * MIN, file: 'application.log' }];
  src.facts.sessions = [{ id: 'a', startedAt: now - 45 * MIN }, { id: 'b', startedAt: now - 5 * MIN }, { id: 'c', startedAt: now - 90 * MIN, endedAt: now - MIN }];
  src.facts.samples = [
    { metric: 'cpu', ts: now - 20_000, value: 93 },
    { metric: 'memory', ts: now - 10 * MIN, value: 88 },
    { metric: 'disk', mount: '/', ts: now - 15_000, value: 91 },
    { metric: 'disk', mount: '/data', ts: now - 15_000, value: 40 },
  ];

  it('operation facts', async () => {
    expect(await compute(src, 'total_operations')).toBe(3);
    expect(await compute(src, 'failed_operations')).toBe(1);
    expect(await compute(src, 'error_rate')).toBeCloseTo(1 / 3);
    expect(await compute(src, 'error_rate', { stage: 'merging' })).toBe(0.5);
    expect(await compute(src, 'error_rate', { window: '1m' })).toBeNull();
    expect(await compute(src, 'total_operations', { window: '2h' })).toBe(4);
    expect(await compute(src, 'failed_operations', { logger: 'nobody' })).toBe(0);
    expect(await compute(src, 'avg_duration')).toBe(30);
    expect(await compute(src, 'avg_duration', { window: '1m' })).toBeNull();
    expect(await compute(src, 'p95_duration', { stage: 'merging' })).toBe(50);
  });

  it('count facts', async () => {
    expect(await compute(src, 'error_code_count')).toBe(2);
    expect(await compute(src, 'error_code_count', { code: 'FFMPEG_FAILED' })).toBe(1);
    expect(await compute(src, 'level_count', { level: 'critical' })).toBe(1);
    expect(await compute(src, 'level_count', { level: 'ERROR', logger: 'app' })).toBe(0);
    expect(await compute(src, 'parse_errors')).toBe(2);
    expect(await compute(src, 'parse_errors', { file: 'errors.log' })).toBe(1);
  });

  it('session, silence and sample facts', async () => {
    expect(await compute(src, 'active_sessions')).toBe(2);
    expect(await compute(src, 'stuck_sessions')).toBe(1);
    expect(await compute(src, 'stuck_sessions', { older_than: '1m' })).toBe(2);
    expect(await compute(src, 'log_silence_seconds', { logger: 'media' })).toBe(600);
    expect(await compute(src, 'log_silence_seconds', { logger: 'never' })).toBeNull();
    expect(await compute(src, 'cpu_usage_percent')).toBe(93);
    expect(await compute(src, 'memory_usage_percent')).toBeNull(); // 10 min old > max_age 5m
    expect(await compute(src, 'memory_usage_percent', { max_age: '15m' })).toBe(88);
    expect(await compute(src, 'disk_usage_percent')).toBe(91);
    expect(await compute(src, 'disk_usage_percent', { mount: '/data' })).toBe(40);
  });

  it('backup facts need presence, min_size and a passing check', async () => {
    const s = memorySources();
    const path = '/b/{YYYY-MM-DD}.tgz';
    const ok = { present: true, ageSeconds: 3600, sizeBytes: 2 * 1024 * 1024, intact: true, path: '/b/2024-03-01.tgz' };
    s.checks.backups.set(path, ok);
    expect(await compute(s, 'backup_present', { path, min_size: '1MiB', verify: 'gzip' })).toBe(true);
    expect(await compute(s, 'backup_present', { path, min_size: '3MiB' })).toBe(false);
    s.checks.backups.set(path, { ...ok, intact: false });
    expect(await compute(s, 'backup_present', { path })).toBe(false);
    s.checks.backups.set(path, { ...ok, intact: null });
    expect(await compute(s, 'backup_present', { path })).toBe(true);
    expect(await compute(s, 'backup_age_seconds', { path })).toBe(3600);
    expect(await compute(s, 'backup_present', { path: '/elsewhere' })).toBe(false);
    expect(await compute(s, 'backup_age_seconds', { path: '/elsewhere' })).toBeNull();
    expect(await compute(s, 'ffmpeg_available')).toBe(true);
  });
});

describe('params', () => {
  it('normalizes durations, sizes and enums, and explains what is wrong', () => {
    const p = FACTS.get('backup_present')!.params;
    expect(normalizeParam(p['min_size']!, '1.5GiB')).toEqual({ value: 1.5 * 1024 ** 3 });
    expect(normalizeParam(p['min_size']!, '500KB')).toEqual({ value: 500_000 });
    expect(normalizeParam(p['min_size']!, 42)).toEqual({ value: 42 });
    expect(normalizeParam(p['verify']!, 'tar')).toEqual({ value: 'tar' });
    expect(normalizeParam(p['path']!, '/x/{YYYYMMDD}')).toEqual({ value: '/x/{YYYYMMDD}' });
    expect(normalizeParam(p['path']!, '/x/{hh}')).toEqual({ error: expect.stringContaining('unknown date token {hh}') });
    const w = FACTS.get('error_rate')!.params['window']!;
    expect(normalizeParam(w, '1h30m')).toEqual({ value: 5_400_000 });
    expect(normalizeParam(w, 0)).toEqual({ error: 'must be longer than 0s' });
    expect(normalizeParam(w, ['1h'])).toEqual({ error: 'expected a duration such as 5m or 1h, got a list' });
  });

  it('gives the same cache key to the same params however they were written', () => {
    expect(factKey('error_rate', { window: 3_600_000, stage: 'x' })).toBe(factKey('error_rate', { stage: 'x', window: 3_600_000 }));
    expect(factKey('error_rate', { window: 1 })).not.toBe(factKey('total_operations', { window: 1 }));
  });

  it('expands backup date tokens for the UTC day (what replay and the UTC check cache look at)', () => {
    const d = Date.UTC(2024, 0, 5, 23, 59);
    expect(resolveBackupPath('/b/backup-{YYYYMMDD}.tar.gz', d, 'utc')).toBe('/b/backup-20240105.tar.gz');
    expect(resolveBackupPath('/b/{YYYY}/{MM}/{DD}/{YYYY-MM-DD}', d, 'utc')).toBe('/b/2024/01/05/2024-01-05');
  });

  it('every fact has valid defaults and a description', () => {
    for (const spec of FACTS.values()) {
      expect(() => defaultParams(spec)).not.toThrow();
      expect(spec.description.length).toBeGreaterThan(5);
    }
  });
});
