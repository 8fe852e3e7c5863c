/**
 * What the rule engine asks of the store: the questions its facts are computed from
 * (rules/facts.ts). Declared here, under the store that answers them, so the store
 * builds on nothing above it; the engine takes any FactSource (tests hand in small
 * in-memory ones).
 *
 * Conventions for every query: times are epoch milliseconds; a window is the half-open
 * interval `from < ts <= to`; durations reported by log lines are seconds.
 */

export interface OperationTotals {
  /** Operations (completed stages, DESIGN §2) in the window. */
  total: number;
  /** Of those, the failed ones (`success: false` or `processing_error`). */
  failed: number;
  /** Sum of `duration_seconds` of the operations that carried one. */
  durationSum: number;
  /** How many operations carried `duration_seconds`. */
  durationCount: number;
}

export type SampleMetric = 'cpu' | 'memory' | 'disk';

/** What the store answers. Synchronous: SQLite queries through better-sqlite3. */
export interface FactSource {
  /** Operations in `from < ts <= to`, optionally only one stage and/or one logger. */
  operations(q: { from: number; to: number; stage?: string; logger?: string }): OperationTotals;
  /** Quantile `q` (0..1, e.g. 0.95) of `duration_seconds` over operations in the window; null when there are none. */
  durationQuantile(q: { from: number; to: number; stage?: string; q: number }): number | null;
  /** Events carrying an `error_code` in the window; only that code when `code` is given. */
  errorCodeCount(q: { from: number; to: number; code?: string }): number;
  /** Lines of `level` (upper case: DEBUG … CRITICAL, or another level a line used) in the window. */
  levelCount(q: { from: number; to: number; level: string; logger?: string }): number;
  /**
   * Rejected (non-JSON, too long, …) lines in the window. `file` is either the
   * path as tailed or a basename such as `errors.log`, which matches that file
   * and its rotated siblings.
   */
  parseErrors(q: { from: number; to: number; file?: string }): number;
  /** Sessions active at `now` (DESIGN §2): neither finished nor quiet for `sessions.abandon_after`. */
  activeSessions(now: number): number;
  /** Sessions active at `now` whose first event is more than `olderThanMs` before `now`. */
  stuckSessions(q: { now: number; olderThanMs: number }): number;
  /** Unfinished sessions whose quiet spell reached `sessions.abandon_after` within (now - windowMs, now]. */
  abandonedSessions(q: { now: number; windowMs: number }): number;
  /**
   * Time of the newest event at or before `now` (of that logger and/or that file,
   * `file` as in parseErrors); null when there has never been one.
   */
  lastEventAt(q: { now: number; logger?: string; file?: string }): number | null;
  /**
   * The newest system sample at or before `now`, in percent (0–100), when it is at
   * most `maxAgeMs` old; null otherwise. `mount` only for `disk`.
   */
  latestSample(q: { metric: SampleMetric; mount?: string; now: number; maxAgeMs: number }): number | null;
  /** The distinct `stage` values of operations in the window, in any order. */
  distinctStages(q: { from: number; to: number }): string[];
}
