/**
 * The rule engine's FactSource over the SQLite store. Every answer is one or a few
 * indexed queries on prepared statements, so an evaluation cycle stays cheap even
 * with a week of windows behind it.
 *
 * Windows: the engine asks for `from < ts <= to`; the store keeps minute buckets
 * (and hour rollups), so a question covers every bucket that overlaps it (the first
 * minute is taken whole). An alert may see an event up to a minute longer than its
 * window, never a minute less.
 */
import type { Statement } from 'better-sqlite3';
import type { FactSource, OperationTotals, SampleMetric } from './fact-source.js';
import { MINUTE } from './batch.js';
import type { DB } from './db.js';
import { StoreReads, type SessionPolicy } from './reads.js';
import { WindowQueries, type CellFilter, type Range } from './windows.js';

/** The store's [from, to) range that covers the engine's (from, to]. */
function range(q: { from: number; to: number }): Range {
  return { from: q.from, to: q.to + 1 };
}

// Sums without GROUP BY: SQLite would sort into a temporary b-tree even for a constant group.
const OPS = `coalesce(sum(ops), 0) AS total, coalesce(sum(ops_failed), 0) AS failed, coalesce(sum(dur_sum), 0) AS durationSum, coalesce(sum(dur_count), 0) AS durationCount`;

/** `errors.log` matches `/var/log/media/errors.log`; a full path matches itself. */
const FILE_MATCH = `(file = @file OR (instr(@file, '/') = 0 AND substr(file, -length(@file) - 1) = '/' || @file))`;

const zero = (): OperationTotals => ({ total: 0, failed: 0, durationSum: 0, durationCount: 0 });

function add(a: OperationTotals, b: OperationTotals): void {
  a.total += b.total;
  a.failed += b.failed;
  a.durationSum += b.durationSum;
  a.durationCount += b.durationCount;
}

export class StoreFacts implements FactSource {
  private readonly windows: WindowQueries;
  private readonly reads: StoreReads;
  private stageCache: { key: string; totals: Map<string, OperationTotals> } | null = null;
  private readonly s: Record<
    | 'lastLogger'
    | 'lastFile'
    | 'lastAny'
    | 'lastLoggerFile'
    | 'parseErrorsFile'
    | 'changes',
    Statement
  >;

  constructor(db: DB, sessions: SessionPolicy = {}) {
    this.windows = new WindowQueries(db);
    this.reads = new StoreReads(db, sessions);
    this.s = {
      lastLogger: db.prepare(`SELECT event_ts AS ts FROM last_seen WHERE kind = 'logger' AND name = ?`),
      lastFile: db.prepare(`SELECT max(last_event_ts) AS ts FROM file_stats WHERE ${FILE_MATCH}`),
      lastAny: db.prepare(`SELECT max(last_event_ts) AS ts FROM file_stats`),
      // Both a logger and a file: the store keeps no per-(logger, file) time; the older
      // of the two is the last moment both were certainly seen.
      lastLoggerFile: db.prepare(`SELECT min(
        (SELECT event_ts FROM last_seen WHERE kind = 'logger' AND name = @logger),
        (SELECT max(last_event_ts) FROM file_stats WHERE ${FILE_MATCH})) AS ts`),
      parseErrorsFile: db.prepare(`SELECT coalesce(sum(count), 0) AS n FROM parse_errors WHERE start >= @from AND start < @to AND ${FILE_MATCH}`),
      changes: db.prepare(`SELECT total_changes() AS n`),
    };
  }

  operations(q: { from: number; to: number; stage?: string; logger?: string }): OperationTotals {
    if (q.stage !== undefined) return { ...(this.byStage(q).get(q.stage) ?? zero()) };
    const out = zero();
    for (const t of this.windows.sliceRows<OperationTotals>(range(q), { logger: q.logger }, (w) => `SELECT ${OPS} FROM windows WHERE ${w}`)) add(out, t);
    return out;
  }

  durationQuantile(q: { from: number; to: number; stage?: string; q: number }): number | null {
    return this.windows.quantile(range(q), q.q, { stage: q.stage });
  }

  errorCodeCount(q: { from: number; to: number; code?: string }): number {
    if (q.code === '') return 0;
    return q.code === undefined ? this.lines(q, {}, ` AND error_code <> ''`) : this.lines(q, { errorCode: q.code });
  }

  levelCount(q: { from: number; to: number; level: string; logger?: string }): number {
    return this.lines(q, { level: q.level, logger: q.logger });
  }

  parseErrors(q: { from: number; to: number; file?: string }): number {
    // Rejected lines are counted in the minute they were read.
    const from = q.from - (q.from % MINUTE);
    const to = q.to + 1;
    if (q.file === undefined) return this.reads.parseErrorCount(from, to);
    return (this.s.parseErrorsFile.get({ from, to, file: q.file }) as { n: number }).n;
  }

  activeSessions(now: number): number {
    return this.reads.activeCount(now);
  }

  abandonedSessions(q: { now: number; windowMs: number }): number {
    return this.reads.abandonedCount(q.now, q.windowMs);
  }

  stuckSessions(q: { now: number; olderThanMs: number }): number {
    return this.reads.stuckCount(q.now, q.olderThanMs);
  }

  lastEventAt(q: { now: number; logger?: string; file?: string }): number | null {
    let row: { ts: number | null } | undefined;
    if (q.logger !== undefined && q.file !== undefined) row = this.s.lastLoggerFile.get({ logger: q.logger, file: q.file }) as { ts: number | null };
    else if (q.logger !== undefined) row = this.s.lastLogger.get(q.logger) as { ts: number | null } | undefined;
    else if (q.file !== undefined) row = this.s.lastFile.get({ file: q.file }) as { ts: number | null };
    else row = this.s.lastAny.get() as { ts: number | null };
    const ts = row?.ts ?? null;
    // The store keeps only the newest time; a line stamped in the future (clock skew)
    // counts as seen now rather than as a negative silence.
    return ts === null ? null : Math.min(ts, q.now);
  }

  latestSample(q: { metric: SampleMetric; mount?: string; now: number; maxAgeMs: number }): number | null {
    const key = q.metric === 'disk' ? (q.mount ?? '/') : '';
    const row = this.reads.latestSample(q.metric, key, q.now);
    return row && q.now - row.ts <= q.maxAgeMs ? row.value : null;
  }

  distinctStages(q: { from: number; to: number }): string[] {
    const out: string[] = [];
    for (const [stage, t] of this.byStage(q)) if (stage !== '' && t.total > 0) out.push(stage);
    return out;
  }

  /**
   * A rule grouped by stage lists the stages of a window, then asks for each of them
   * over that same window: one grouped query answers all of it. The answer is reused
   * while the window and the store are unchanged (total_changes() moves with every
   * write on this connection, the one ingest writes through).
   */
  private byStage(q: { from: number; to: number; logger?: string }): Map<string, OperationTotals> {
    const changes = (this.s.changes.get() as { n: number }).n;
    const key = `${q.from}|${q.to}|${q.logger ?? ''}|${changes}`;
    if (this.stageCache?.key === key) return this.stageCache.totals;
    const totals = new Map<string, OperationTotals>();
    const rows = this.windows.sliceRows<OperationTotals & { stage: string }>(
      range(q),
      { logger: q.logger },
      (w) => `SELECT stage, ${OPS} FROM windows WHERE ${w} AND ops > 0 GROUP BY stage`,
    );
    for (const { stage, ...r } of rows) {
      const t = totals.get(stage);
      if (t) add(t, r);
      else totals.set(stage, r);
    }
    this.stageCache = { key, totals };
    return totals;
  }

  /** Sum of `lines` over the window for the cells of `f` (and an extra condition). */
  private lines(q: { from: number; to: number }, f: CellFilter, extra = ''): number {
    let n = 0;
    for (const r of this.windows.sliceRows<{ n: number }>(range(q), f, (w) => `SELECT coalesce(sum(lines), 0) AS n FROM windows WHERE ${w}${extra}`)) n += r.n;
    return n;
  }
}
