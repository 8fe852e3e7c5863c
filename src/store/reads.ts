import fs from 'node:fs';
import { statementCache, type DB } from './db.js';
import { HOUR, MINUTE } from './batch.js';
import { Histogram } from './histogram.js';
import { KEY_SEP, readPruned } from './retention.js';

/**
 * The reads behind the query API, /metrics, the health checks and the rule facts that
 * ask the same questions (stuck sessions, latest sample, parse errors): every SQL statement
 * they run lives here. Each query is bounded by a LIMIT, a time range or a table that
 * retention keeps small, so no request can ask for an unbounded scan.
 */
export interface AlertRow {
  id: number;
  rule: string;
  severity: string;
  state: string;
  summary: string;
  labels: Record<string, string>;
  started_at: number;
  firing_at: number | null;
  resolved_at: number | null;
}

export interface SessionRow {
  session_id: string;
  user_id: string | null;
  stage: string | null;
  first_ts: number;
  last_ts: number;
}

export interface SamplePoint {
  t: number;
  cpu: number | null;
  memory: number | null;
  /** The fullest configured disk at that time. */
  disk: number | null;
}

export interface OpsPoint {
  t: number;
  operations: number;
  failed: number;
}

export interface FileStatRow {
  file: string;
  lines: number;
  rejected: number;
  last_event_ts: number | null;
  last_read_at: number | null;
}

export interface StageAllTime {
  ops: number;
  failed: number;
  durSum: number;
  durCount: number;
  hist: Histogram;
}

export interface DbSize {
  /** Main file + WAL, bytes. */
  bytes: number;
  pages: number;
  freePages: number;
  pageSize: number;
}

/** An alerts row as selected: labels still JSON. */
type RawAlert = Omit<AlertRow, 'labels'> & { labels: string };

/** `sessions.abandon_after`'s default. */
export const DEFAULT_ABANDON_AFTER_MS = 6 * HOUR;

export interface SessionPolicy {
  /**
   * An unfinished session with no line for this long is abandoned (its worker died, or it
   * never logged its end): it no longer counts as active, so no longer as stuck, and in the
   * history of active sessions it ends at its last line plus this. Default 6 h.
   */
  abandonAfterMs?: number;
}

/**
 * Not finished and not abandoned: the first parameter is the oldest last line still live
 * (now - abandonAfterMs). Open sessions only, through the partial index on them.
 */
const LIVE = `finished = 0 AND last_ts > ?`;

export class StoreReads {
  private readonly stmt: ReturnType<typeof statementCache>;
  private readonly abandonAfterMs: number;
  constructor(
    readonly db: DB,
    policy: SessionPolicy = {},
  ) {
    this.stmt = statementCache(db);
    this.abandonAfterMs = policy.abandonAfterMs ?? DEFAULT_ABANDON_AFTER_MS;
  }

  // ---- alerts -------------------------------------------------------------

  /** Newest first; `total` counts every row matching the filters. */
  alerts(q: { severity?: string | undefined; state?: string | undefined; limit: number }): { rows: AlertRow[]; total: number } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.severity !== undefined) {
      where.push('severity = ?');
      params.push(q.severity);
    }
    if (q.state !== undefined) {
      where.push('state = ?');
      params.push(q.state);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.stmt(`SELECT count(*) AS n FROM alerts ${w}`).get(...params) as { n: number }).n;
    const rows = (
      this.stmt(
        `SELECT id, rule, severity, state, summary, labels, started_at, firing_at, resolved_at FROM alerts ${w} ORDER BY started_at DESC, id DESC LIMIT ?`,
      ).all(...params, q.limit) as RawAlert[]
    ).map(toAlert);
    return { rows, total };
  }

  firingAlertCounts(): { rule: string; severity: string; n: number }[] {
    return this.stmt(`SELECT rule, severity, count(*) AS n FROM alerts WHERE state = 'firing' GROUP BY rule, severity`).all() as {
      rule: string;
      severity: string;
      n: number;
    }[];
  }

  // ---- sessions -----------------------------------------------------------

  // A session is active from its first line until its end is stored, or until it has been
  // quiet for abandonAfterMs. Ingest never runs ahead of the clock that asks (the replay
  // feeder commits nothing stamped after `now`), so an end "after now" is not looked for.

  /** Active sessions at `now`, longest-running first. */
  activeSessions(now: number, limit: number): SessionRow[] {
    return this.stmt(
      `SELECT session_id, user_id, stage, first_ts, last_ts FROM sessions WHERE ${LIVE} AND first_ts <= ? ORDER BY first_ts, session_id LIMIT ?`,
    ).all(now - this.abandonAfterMs, now, limit) as SessionRow[];
  }

  activeCount(now: number): number {
    return (this.stmt(`SELECT count(*) AS n FROM sessions WHERE ${LIVE} AND first_ts <= ?`).get(now - this.abandonAfterMs, now) as { n: number }).n;
  }

  /** Active sessions whose first event is more than `olderThanMs` before `now`. */
  stuckCount(now: number, olderThanMs: number): number {
    return (this.stmt(`SELECT count(*) AS n FROM sessions WHERE ${LIVE} AND first_ts < ?`).get(now - this.abandonAfterMs, now - olderThanMs) as { n: number }).n;
  }

  /** Sessions that became abandoned in (now - windowMs, now]: quiet for abandonAfterMs, never finished. */
  abandonedCount(now: number, windowMs: number): number {
    const quietSince = now - this.abandonAfterMs;
    return (
      this.stmt(`SELECT count(*) AS n FROM sessions WHERE finished = 0 AND last_ts <= ? AND last_ts > ?`).get(quietSince, quietSince - windowMs) as { n: number }
    ).n;
  }

  /**
   * How many sessions were active at each of `times` (ascending): a sweep over the
   * sessions that overlap [times[0], last], one query whatever the number of points.
   */
  activeAt(times: number[]): number[] {
    if (times.length === 0) return [];
    const from = times[0]!;
    const to = times[times.length - 1]!;
    const rows = this.stmt(
      `SELECT s, e FROM (SELECT first_ts AS s, CASE WHEN finished = 0 THEN last_ts + @abandon ELSE coalesce(finished_ts, last_ts) END AS e
         FROM sessions WHERE first_ts <= @to) WHERE e > @from`,
    ).all({ to, from, abandon: this.abandonAfterMs }) as { s: number; e: number }[];
    const starts = rows.map((r) => r.s).sort((a, b) => a - b);
    const ends = rows.map((r) => r.e).sort((a, b) => a - b);
    const out: number[] = [];
    let si = 0;
    let ei = 0;
    for (const t of times) {
      while (si < starts.length && starts[si]! <= t) si++;
      while (ei < ends.length && ends[ei]! <= t) ei++;
      out.push(si - ei);
    }
    return out;
  }

  // ---- recent lines -------------------------------------------------------

  /** The last `n` stored lines (of one level), oldest first, as the JSON text stored. */
  recentLines(n: number, level?: string): string[] {
    const rows = (
      level === undefined
        ? this.stmt(`SELECT line FROM recent_lines ORDER BY seq DESC LIMIT ?`).all(n)
        : this.stmt(`SELECT line FROM recent_lines WHERE level = ? ORDER BY seq DESC LIMIT ?`).all(level, n)
    ) as { line: string }[];
    return rows.map((r) => r.line).reverse();
  }

  // ---- samples ------------------------------------------------------------

  /** The newest sample of a series at or before `now`. */
  latestSample(metric: string, key: string, now: number): { ts: number; value: number } | null {
    const r = this.stmt(`SELECT ts, value FROM samples WHERE metric = ? AND key = ? AND ts <= ? ORDER BY ts DESC LIMIT 1`).get(metric, key, now) as
      | { ts: number; value: number }
      | undefined;
    return r ?? null;
  }

  /**
   * cpu, memory and the fullest of `disks` over [from, to), averaged into buckets of
   * `stepMs` (a bucket is labelled with its start). Each series is an index range.
   */
  sampleSeries(from: number, to: number, stepMs: number, disks: readonly string[]): SamplePoint[] {
    // `ts - ts % step`: a bound JS number is a REAL, and `/` would not truncate; `%` works on integers.
    const sql = `SELECT ts - (ts % ?) AS t, avg(value) AS v FROM samples WHERE metric = ? AND key = ? AND ts >= ? AND ts < ? GROUP BY 1`;
    const points = new Map<number, SamplePoint>();
    const at = (t: number): SamplePoint => {
      let p = points.get(t);
      if (p === undefined) points.set(t, (p = { t, cpu: null, memory: null, disk: null }));
      return p;
    };
    const step = Math.max(1, Math.floor(stepMs));
    const run = (metric: string, key: string) => this.stmt(sql).all(step, metric, key, from, to) as { t: number; v: number }[];
    for (const r of run('cpu', '')) at(r.t).cpu = r.v;
    for (const r of run('memory', '')) at(r.t).memory = r.v;
    for (const d of disks) {
      for (const r of run('disk', d)) {
        const p = at(r.t);
        p.disk = p.disk === null ? r.v : Math.max(p.disk, r.v);
      }
    }
    return [...points.values()].sort((a, b) => a.t - b.t);
  }

  // ---- windows ------------------------------------------------------------

  /** Operations and failures per window of `res` (MINUTE or HOUR) over [from, to); empty windows are absent. */
  opsSeries(from: number, to: number, res: typeof MINUTE | typeof HOUR): OpsPoint[] {
    return this.stmt(
      `SELECT start AS t, sum(ops) AS operations, sum(ops_failed) AS failed FROM windows WHERE res = ? AND start >= ? AND start < ? GROUP BY start ORDER BY start`,
    ).all(res, from, to) as OpsPoint[];
  }

  /**
   * All-time operation totals and duration histograms per stage: what retention folded
   * away plus every stored hour window. Never decreases, so it can back a counter.
   */
  stagesAllTime(): Map<string, StageAllTime> {
    const out = new Map<string, StageAllTime>();
    const get = (stage: string): StageAllTime => {
      let s = out.get(stage);
      if (s === undefined) out.set(stage, (s = { ops: 0, failed: 0, durSum: 0, durCount: 0, hist: new Histogram() }));
      return s;
    };
    for (const [stage, p] of Object.entries(readPruned(this.db).stages)) {
      const s = get(stage);
      s.ops += p.ops;
      s.failed += p.failed;
      s.durSum += p.durSum;
      s.durCount += p.durCount;
      for (const [k, v] of Object.entries(p.hist)) s.hist.counts.set(Number(k), (s.hist.counts.get(Number(k)) ?? 0) + v);
    }
    const rows = this.stmt(
      `SELECT stage, ops, ops_failed AS failed, dur_sum AS durSum, dur_count AS durCount, dur_hist AS hist
         FROM windows WHERE res = ${HOUR} AND (ops > 0 OR dur_count > 0)`,
    ).iterate() as Iterable<{ stage: string; ops: number; failed: number; durSum: number; durCount: number; hist: Buffer | null }>;
    for (const r of rows) {
      const s = get(r.stage);
      s.ops += r.ops;
      s.failed += r.failed;
      s.durSum += r.durSum;
      s.durCount += r.durCount;
      s.hist.addEncoded(r.hist);
    }
    return out;
  }

  /** All-time lines per level (folded + stored hour windows). */
  levelsAllTime(): Map<string, number> {
    const out = new Map<string, number>(Object.entries(readPruned(this.db).levels));
    for (const r of this.stmt(`SELECT level, sum(lines) AS n FROM windows WHERE res = ${HOUR} GROUP BY level`).all() as { level: string; n: number }[]) {
      out.set(r.level, (out.get(r.level) ?? 0) + r.n);
    }
    return out;
  }

  // ---- files and parse errors ---------------------------------------------

  fileStats(): FileStatRow[] {
    return this.stmt(`SELECT file, lines, rejected, last_event_ts, last_read_at FROM file_stats ORDER BY file LIMIT 10000`).all() as FileStatRow[];
  }

  /** Rejected lines read in [from, to). */
  parseErrorCount(from: number, to: number): number {
    return (this.stmt(`SELECT coalesce(sum(count), 0) AS n FROM parse_errors WHERE start >= ? AND start < ?`).get(from, to) as { n: number }).n;
  }

  /** All-time rejected lines by file and reason (folded + stored). */
  parseErrorsAllTime(): { file: string; reason: string; n: number }[] {
    const m = new Map<string, number>(Object.entries(readPruned(this.db).parseErrors));
    for (const r of this.stmt(`SELECT file, reason, sum(count) AS n FROM parse_errors GROUP BY file, reason`).all() as {
      file: string;
      reason: string;
      n: number;
    }[]) {
      const k = r.file + KEY_SEP + r.reason;
      m.set(k, (m.get(k) ?? 0) + r.n);
    }
    return [...m].map(([k, n]) => {
      const [file, reason] = k.split(KEY_SEP) as [string, string];
      return { file, reason, n };
    });
  }

  // ---- outbox -------------------------------------------------------------

  /** Pending and permanently failed notifications per channel, and the oldest pending one. */
  outbox(): { byChannel: { channel: string; pending: number; failed: number }[]; oldestPendingAt: number | null } {
    const rows = this.stmt(`SELECT channel, status, count(*) AS n FROM outbox WHERE status IN ('pending', 'failed') GROUP BY channel, status`).all() as {
      channel: string;
      status: string;
      n: number;
    }[];
    const by = new Map<string, { channel: string; pending: number; failed: number }>();
    for (const r of rows) {
      let c = by.get(r.channel);
      if (c === undefined) by.set(r.channel, (c = { channel: r.channel, pending: 0, failed: 0 }));
      if (r.status === 'pending') c.pending = r.n;
      else c.failed = r.n;
    }
    const oldest = (this.stmt(`SELECT min(created_at) AS t FROM outbox WHERE status = 'pending'`).get() as { t: number | null }).t;
    return { byChannel: [...by.values()].sort((a, b) => a.channel.localeCompare(b.channel)), oldestPendingAt: oldest };
  }

  /** Notifications that failed permanently at or after `since`. */
  outboxFailedSince(since: number): number {
    return (this.stmt(`SELECT count(*) AS n FROM outbox WHERE status = 'failed' AND created_at >= ?`).get(since) as { n: number }).n;
  }

  // ---- the database itself ------------------------------------------------

  dbSize(): DbSize {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const freePages = this.db.pragma('freelist_count', { simple: true }) as number;
    let bytes = pages * pageSize;
    if (this.db.name !== ':memory:' && this.db.name !== '') {
      try {
        bytes += fs.statSync(`${this.db.name}-wal`).size;
      } catch {
        /* no WAL file right now */
      }
    }
    return { bytes, pages, freePages, pageSize };
  }
}

function toAlert(r: RawAlert): AlertRow {
  let labels: Record<string, string> = {};
  try {
    const v = JSON.parse(r.labels) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) labels[k] = typeof x === 'string' ? x : JSON.stringify(x);
    }
  } catch {
    labels = {};
  }
  return { ...r, labels };
}
