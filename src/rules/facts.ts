/**
 * The facts rules can test (DESIGN §5) and the two interfaces they are computed
 * from. The rule engine never touches SQLite or the filesystem: the store
 * implements FactSource, the collectors implement CheckSource, and tests can
 * hand in small in-memory versions of both.
 *
 * Conventions for every query: times are epoch milliseconds; a window is the
 * half-open interval `from < ts <= to` (the evaluation time `to` is included,
 * an event exactly `window` ago is not); durations reported by log lines are
 * seconds, as in `duration_seconds`. A store that keeps minute buckets may
 * align `from`/`to` to its buckets.
 */
import { parseDuration } from '../util/duration.js';
import type { FactSource, OperationTotals } from '../store/fact-source.js';

export type Awaitable<T> = T | Promise<T>;

export type { FactSource, OperationTotals, SampleMetric } from '../store/fact-source.js';

export type BackupVerify = 'gzip' | 'tar' | 'none';

export interface BackupQuery {
  /** Path with optional date tokens: {YYYYMMDD} {YYYY-MM-DD} {YYYY} {MM} {DD}; expanded by collect/backup-pattern.ts. */
  pathPattern: string;
  minSizeBytes: number;
  verify: BackupVerify;
}

export interface BackupStatus {
  /** A file exists at the pattern expanded for the day of `now`. */
  present: boolean;
  /** Age (now − mtime) of the newest file matching the pattern with the date tokens as wildcards; null when there is none. */
  ageSeconds: number | null;
  /** Size of today's file; null when absent. */
  sizeBytes: number | null;
  /** Result of the `verify` check on today's file; null when not checked (verify: none, or absent). */
  intact: boolean | null;
  /** The expanded path that was looked at. */
  path: string;
  /** Why the backup is absent or not intact, for humans. */
  reason?: string;
}

/** Health checks run by the collectors (they may cache and answer from the last run). */
export interface CheckSource {
  backup(q: BackupQuery, now: number): Awaitable<BackupStatus>;
  ffmpegAvailable(now: number): Awaitable<boolean>;
}

export interface Sources {
  facts: FactSource;
  checks: CheckSource;
}

// ---------------------------------------------------------------------------

export type FactValue = number | boolean | null;

export type ParamKind = 'duration' | 'string' | 'number' | 'bytes' | 'enum';

export interface ParamSpec {
  kind: ParamKind;
  description: string;
  required?: boolean;
  /** Written as an operator would write it ('1h', '/', 1); normalized like a given value. */
  default?: string | number;
  /** Allowed values of an enum. */
  values?: readonly string[];
  /** Lowest accepted normalized value (ms for durations, bytes for sizes). */
  min?: number;
  /** Further check of a string value; returns the problem, if any. */
  check?: (v: string) => string | undefined;
}

/** Params after defaults and normalization: durations in ms, sizes in bytes. */
export type ResolvedParams = Readonly<Record<string, string | number>>;

/** What a fact's compute gets: the sources, the evaluation time and a per-evaluation memo. */
export interface FactContext {
  readonly sources: Sources;
  readonly now: number;
  /** Shares one underlying query between facts in one evaluation (error_rate and total_operations both need operations()). */
  memo<T>(key: string, compute: () => T): T;
}

export interface FactSpec {
  name: string;
  description: string;
  valueType: 'number' | 'boolean';
  /** How the value reads best in a template (picked by the default `value` formatting of the shipped rules). */
  unit: 'ratio' | 'count' | 'seconds' | 'percent' | 'boolean';
  params: Readonly<Record<string, ParamSpec>>;
  compute(ctx: FactContext, p: ResolvedParams): Awaitable<FactValue>;
}

const window: ParamSpec = { kind: 'duration', description: 'how far back to look, e.g. 5m, 1h', default: '1h', min: 1 };
const stage: ParamSpec = { kind: 'string', description: 'only operations of this stage' };
const logger: ParamSpec = { kind: 'string', description: 'only lines of this logger' };
const maxAge: ParamSpec = { kind: 'duration', description: 'ignore samples older than this', default: '5m', min: 1 };

export const DATE_TOKENS = ['YYYYMMDD', 'YYYY-MM-DD', 'YYYY', 'MM', 'DD'] as const;

function checkDatePattern(v: string): string | undefined {
  for (const m of v.matchAll(/\{([^}]*)\}/g)) {
    if (!(DATE_TOKENS as readonly string[]).includes(m[1]!)) {
      return `unknown date token {${m[1]}} (known: ${DATE_TOKENS.map((t) => `{${t}}`).join(' ')})`;
    }
  }
  return undefined;
}

function str(p: ResolvedParams, k: string): string | undefined {
  const v = p[k];
  return typeof v === 'string' ? v : undefined;
}
function num(p: ResolvedParams, k: string): number {
  const v = p[k];
  if (typeof v !== 'number') throw new Error(`param ${k} is not resolved to a number`);
  return v;
}

/** The `window` param as the span ending at the evaluation. */
function span(ctx: FactContext, p: ResolvedParams): { from: number; to: number } {
  return { from: ctx.now - num(p, 'window'), to: ctx.now };
}

function operations(ctx: FactContext, p: ResolvedParams): OperationTotals {
  const q = { ...span(ctx, p), stage: str(p, 'stage'), logger: str(p, 'logger') };
  return ctx.memo(`operations|${q.from}|${q.to}|${q.stage ?? ''}|${q.logger ?? ''}`, () =>
    ctx.sources.facts.operations(dropUndefined(q)),
  );
}

/** The check a backup fact's params ask for (the agent warms its check cache with the same queries). */
export function backupQuery(p: ResolvedParams): BackupQuery {
  return { pathPattern: str(p, 'path')!, minSizeBytes: num(p, 'min_size'), verify: str(p, 'verify') as BackupVerify };
}

function backup(ctx: FactContext, p: ResolvedParams): Awaitable<BackupStatus> {
  const q = backupQuery(p);
  return ctx.memo(`backup|${JSON.stringify(q)}`, () => ctx.sources.checks.backup(q, ctx.now));
}

function dropUndefined<T extends object>(o: T): T {
  const out = {} as T;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

const opParams = { window, stage, logger };
const backupParams: Record<string, ParamSpec> = {
  path: { kind: 'string', required: true, description: 'backup path, date tokens such as {YYYYMMDD} allowed', check: checkDatePattern },
  min_size: { kind: 'bytes', description: 'smallest acceptable size, e.g. 1MiB', default: 1, min: 0 },
  verify: { kind: 'enum', values: ['gzip', 'tar', 'none'], default: 'none', description: 'integrity check of the file' },
};

const FACT_LIST: FactSpec[] = [
  {
    name: 'error_rate',
    description: 'failed / total operations in the window (null when there were none)',
    valueType: 'number',
    unit: 'ratio',
    params: opParams,
    compute: (ctx, p) => {
      const o = operations(ctx, p);
      return o.total > 0 ? o.failed / o.total : null;
    },
  },
  {
    name: 'total_operations',
    description: 'operations (completed stages) in the window',
    valueType: 'number',
    unit: 'count',
    params: opParams,
    compute: (ctx, p) => operations(ctx, p).total,
  },
  {
    name: 'failed_operations',
    description: 'failed operations in the window',
    valueType: 'number',
    unit: 'count',
    params: opParams,
    compute: (ctx, p) => operations(ctx, p).failed,
  },
  {
    name: 'error_code_count',
    description: 'events with an error_code (or this code) in the window',
    valueType: 'number',
    unit: 'count',
    params: { window, code: { kind: 'string', description: 'only this error_code, e.g. FFMPEG_FAILED' } },
    compute: (ctx, p) => ctx.sources.facts.errorCodeCount(dropUndefined({ ...span(ctx, p), code: str(p, 'code') })),
  },
  {
    name: 'level_count',
    description: 'lines of a level in the window',
    valueType: 'number',
    unit: 'count',
    params: {
      window,
      level: { kind: 'string', required: true, description: 'DEBUG, INFO, WARNING, ERROR or CRITICAL (case-insensitive)' },
      logger,
    },
    compute: (ctx, p) =>
      ctx.sources.facts.levelCount(dropUndefined({ ...span(ctx, p), level: str(p, 'level')!.toUpperCase(), logger: str(p, 'logger') })),
  },
  {
    name: 'avg_duration',
    description: 'mean duration_seconds of operations in the window (null when none)',
    valueType: 'number',
    unit: 'seconds',
    params: { window, stage },
    compute: (ctx, p) => {
      const o = operations(ctx, p);
      return o.durationCount > 0 ? o.durationSum / o.durationCount : null;
    },
  },
  {
    name: 'p95_duration',
    description: '95th percentile of duration_seconds in the window (null when none)',
    valueType: 'number',
    unit: 'seconds',
    params: { window, stage },
    compute: (ctx, p) => ctx.sources.facts.durationQuantile(dropUndefined({ ...span(ctx, p), stage: str(p, 'stage'), q: 0.95 })),
  },
  {
    name: 'active_sessions',
    description: 'sessions active now (started, not finished, a line within sessions.abandon_after)',
    valueType: 'number',
    unit: 'count',
    params: {},
    compute: (ctx) => ctx.sources.facts.activeSessions(ctx.now),
  },
  {
    name: 'stuck_sessions',
    description: 'active sessions started longer ago than older_than',
    valueType: 'number',
    unit: 'count',
    params: { older_than: { kind: 'duration', description: 'how long a session may run', default: '30m', min: 1 } },
    compute: (ctx, p) => ctx.sources.facts.stuckSessions({ now: ctx.now, olderThanMs: num(p, 'older_than') }),
  },
  {
    name: 'abandoned_sessions',
    description: 'sessions that never finished and went quiet for sessions.abandon_after, counted when that happened within the window',
    valueType: 'number',
    unit: 'count',
    params: { window },
    compute: (ctx, p) => ctx.sources.facts.abandonedSessions({ now: ctx.now, windowMs: num(p, 'window') }),
  },
  {
    name: 'log_silence_seconds',
    description: 'seconds since the last line (of a logger or file); null when there never was one',
    valueType: 'number',
    unit: 'seconds',
    params: { logger, file: { kind: 'string', description: 'a tailed path or a basename such as errors.log' } },
    compute: (ctx, p) => {
      const last = ctx.sources.facts.lastEventAt(dropUndefined({ now: ctx.now, logger: str(p, 'logger'), file: str(p, 'file') }));
      return last === null ? null : Math.max(0, (ctx.now - last) / 1000);
    },
  },
  {
    name: 'parse_errors',
    description: 'rejected (non-JSON, too long) lines in the window',
    valueType: 'number',
    unit: 'count',
    params: { window, file: { kind: 'string', description: 'a tailed path or a basename such as errors.log' } },
    compute: (ctx, p) => ctx.sources.facts.parseErrors(dropUndefined({ ...span(ctx, p), file: str(p, 'file') })),
  },
  {
    name: 'cpu_usage_percent',
    description: 'latest CPU usage sample, 0–100',
    valueType: 'number',
    unit: 'percent',
    params: { max_age: maxAge },
    compute: (ctx, p) => ctx.sources.facts.latestSample({ metric: 'cpu', now: ctx.now, maxAgeMs: num(p, 'max_age') }),
  },
  {
    name: 'memory_usage_percent',
    description: 'latest memory usage sample, 0–100',
    valueType: 'number',
    unit: 'percent',
    params: { max_age: maxAge },
    compute: (ctx, p) => ctx.sources.facts.latestSample({ metric: 'memory', now: ctx.now, maxAgeMs: num(p, 'max_age') }),
  },
  {
    name: 'disk_usage_percent',
    description: 'latest disk usage sample of a mount, 0–100',
    valueType: 'number',
    unit: 'percent',
    params: { mount: { kind: 'string', description: 'mount point', default: '/' }, max_age: maxAge },
    compute: (ctx, p) =>
      ctx.sources.facts.latestSample({ metric: 'disk', mount: str(p, 'mount')!, now: ctx.now, maxAgeMs: num(p, 'max_age') }),
  },
  {
    name: 'backup_present',
    description: "today's backup exists, is at least min_size and passes verify",
    valueType: 'boolean',
    unit: 'boolean',
    params: backupParams,
    compute: async (ctx, p) => {
      const b = await backup(ctx, p);
      return b.present && (b.sizeBytes ?? 0) >= num(p, 'min_size') && b.intact !== false;
    },
  },
  {
    name: 'backup_age_seconds',
    description: 'age of the newest backup matching the pattern (any date); null when there is none',
    valueType: 'number',
    unit: 'seconds',
    params: backupParams,
    compute: async (ctx, p) => (await backup(ctx, p)).ageSeconds,
  },
  {
    name: 'ffmpeg_available',
    description: 'ffmpeg can be run',
    valueType: 'boolean',
    unit: 'boolean',
    params: {},
    compute: (ctx) => ctx.memo('ffmpeg', () => ctx.sources.checks.ffmpegAvailable(ctx.now)),
  },
];

export const FACTS: ReadonlyMap<string, FactSpec> = new Map(FACT_LIST.map((f) => [f.name, f]));

/** Facts read from the machine (system samples, checks), not from the logs: no backlog of lines can make them wrong. */
export const MACHINE_FACTS: ReadonlySet<string> = new Set(['cpu_usage_percent', 'memory_usage_percent', 'disk_usage_percent', 'backup_present', 'backup_age_seconds', 'ffmpeg_available']);

/** Whether a rule reads any fact computed from log lines (then it is judged on the logs' clock while they are behind). */
export function readsLogs(rule: { uses: readonly { fact: string }[] }): boolean {
  return rule.uses.some((u) => !MACHINE_FACTS.has(u.fact));
}

/** Keys `group_by` accepts, and how to list a key's values seen in a window. */
export const GROUP_KEYS: ReadonlyMap<string, (src: FactSource, q: { from: number; to: number }) => string[]> = new Map([
  ['stage', (src: FactSource, q: { from: number; to: number }) => src.distinctStages(q)],
]);

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/;
const SIZE_UNIT: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4,
};

/** Checks and normalizes one param value; returns the problem as text when it is not acceptable. */
export function normalizeParam(spec: ParamSpec, raw: unknown): { value: string | number } | { error: string } {
  switch (spec.kind) {
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return { error: `expected a string, got ${describe(raw)}` };
      const v = String(raw);
      if (v === '') return { error: 'must not be empty' };
      const bad = spec.check?.(v);
      return bad ? { error: bad } : { value: v };
    }
    case 'enum': {
      if (typeof raw !== 'string' || !spec.values!.includes(raw)) {
        return { error: `expected one of ${spec.values!.join(', ')}, got ${describe(raw)}` };
      }
      return { value: raw };
    }
    case 'number': {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return { error: `expected a number, got ${describe(raw)}` };
      if (spec.min !== undefined && raw < spec.min) return { error: `must be at least ${spec.min}` };
      return { value: raw };
    }
    case 'bytes': {
      let v: number;
      if (typeof raw === 'number' && Number.isFinite(raw)) v = raw;
      else if (typeof raw === 'string' && SIZE.test(raw.trim())) {
        const m = SIZE.exec(raw.trim())!;
        v = Number(m[1]) * SIZE_UNIT[m[2] ?? 'B']!;
      } else return { error: `expected a size such as 1048576, 500KB or 1.5GiB, got ${describe(raw)}` };
      if (spec.min !== undefined && v < spec.min) return { error: `must be at least ${spec.min} bytes` };
      return { value: Math.round(v) };
    }
    case 'duration': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return { error: `expected a duration such as 5m or 1h, got ${describe(raw)}` };
      let ms: number;
      try {
        ms = parseDuration(raw);
      } catch {
        return { error: `invalid duration ${JSON.stringify(raw)} (expected e.g. 30s, 5m, 1h30m, 7d)` };
      }
      if (spec.min !== undefined && ms < spec.min) return { error: 'must be longer than 0s' };
      return { value: ms };
    }
  }
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Defaults of a fact's params, normalized (defaults are known good, so this cannot fail). */
export function defaultParams(spec: FactSpec): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, p] of Object.entries(spec.params)) {
    if (p.default === undefined) continue;
    const n = normalizeParam(p, p.default);
    if ('error' in n) throw new Error(`bad default for ${spec.name}.${k}: ${n.error}`);
    out[k] = n.value;
  }
  return out;
}

/** A stable identity of (fact, params), the per-evaluation cache key. */
export function factKey(fact: string, params: ResolvedParams): string {
  const keys = Object.keys(params).sort();
  return `${fact}{${keys.map((k) => `${k}=${JSON.stringify(params[k])}`).join(',')}}`;
}
