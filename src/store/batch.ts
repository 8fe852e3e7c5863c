import path from 'node:path';
import type { Statement } from 'better-sqlite3';
import type { Checkpoint } from '../tail/index.js';
import { batchBytesRoom, sizeWal, type DB } from './db.js';
import { type Histogram, encodeDense } from './histogram.js';

/**
 * What one ingest batch changes. Everything here is written by `commitBatch` in ONE
 * transaction together with the file checkpoints, so a crash at any instant leaves
 * the store either before the batch or after it: no line lost, none counted twice.
 */
export interface WindowCell {
  start: number; // minute start, epoch ms
  logger: string;
  level: string;
  stage: string;
  errorCode: string;
  lines: number;
  ops: number;
  opsFailed: number;
  durCount: number;
  durSum: number;
  durMin: number | null;
  durMax: number | null;
  hist: Histogram | null;
}

export interface SessionDelta {
  sessionId: string;
  userId: string | null;
  logger: string | null;
  firstTs: number;
  lastTs: number;
  /** Stage of the latest event (by timestamp) in this batch. */
  stage: string | null;
  events: number;
  finished: 0 | 1 | 2;
  finishedTs: number | null;
}

export interface RecentLine {
  ts: number;
  level: string;
  logger: string;
  file: string;
  line: string;
}

export interface FileDelta {
  file: string;
  lines: number;
  rejected: number;
  repaired: number;
  overlong: number;
  format: string | null;
  lastEventTs: number | null;
  lastReadAt: number;
}

export interface ParseErrorDelta {
  start: number;
  file: string;
  reason: string;
  count: number;
}

export interface RejectedSample {
  at: number;
  file: string;
  offset: number;
  reason: string;
  detail: string;
  sample: string;
}

/** A tailer checkpoint as the batch stores it (`size_at_checkpoint` is the column size_seen). */
export interface CheckpointRow extends Checkpoint {
  updatedAt: number;
}

export interface Batch {
  cells: Map<string, WindowCell>;
  sessions: Map<string, SessionDelta>;
  recent: RecentLine[];
  files: Map<string, FileDelta>;
  parseErrors: Map<string, ParseErrorDelta>;
  samples: RejectedSample[];
  lastSeen: Map<string, { kind: 'logger' | 'file'; name: string; eventTs: number }>;
  checkpoints: Map<string, CheckpointRow>;
  released: string[];
}

export function emptyBatch(): Batch {
  return {
    cells: new Map(),
    sessions: new Map(),
    recent: [],
    files: new Map(),
    parseErrors: new Map(),
    samples: [],
    lastSeen: new Map(),
    checkpoints: new Map(),
    released: [],
  };
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Keep the newest N rows (N bound as the parameter): run after each commit that adds rows, and by retention. */
export const PRUNE_RECENT_LINES = `DELETE FROM recent_lines WHERE seq <= (SELECT max(seq) FROM recent_lines) - ?`;
export const PRUNE_REJECTED_SAMPLES = `DELETE FROM rejected_samples WHERE id <= (SELECT max(id) FROM rejected_samples) - ?`;

export interface BatchLimits {
  /** Recent lines kept (retention.recent_lines). */
  recentLines: number;
  /** Rejected-line samples kept for inspection. */
  rejectedSamples: number;
  /**
   * Replay: hour and day rollups are summed in memory and written by flushRollups() only
   * once their period has ended. Every read of the windows covers [from, now) and takes
   * a rollup only for a whole period before `now` (see slices()), so no read can tell;
   * a replay committing every 15 s step then rewrites each rollup row once, not 240 times.
   */
  deferRollups?: boolean;
}

/** Prepared statements for the batch commit; all ingest-side SQL lives here. */
export class BatchWriter {
  private readonly upsertWindow;
  private readonly upsertSession;
  private readonly insertRecent;
  private readonly pruneRecent;
  private readonly upsertFile;
  private readonly upsertParseError;
  private readonly insertSample;
  private readonly pruneSamples;
  private readonly upsertLastSeen;
  private readonly upsertCheckpoint;
  private readonly deleteCheckpoint;
  private readonly tx: (b: Batch) => void;
  private readonly pendingHours = new Map<string, Rollup>();
  private readonly pendingDays = new Map<string, Rollup>();
  private readonly flushTx: (readableAt: number) => void;

  private readonly stateDir: string | null;

  constructor(
    private readonly db: DB,
    private readonly limits: BatchLimits,
  ) {
    this.stateDir = db.memory || db.name === '' ? null : path.dirname(db.name);
    this.upsertWindow = db.prepare(`
      INSERT INTO windows (res, start, logger, level, stage, error_code, lines, ops, ops_failed, dur_count, dur_sum, dur_min, dur_max, dur_hist)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (res, start, logger, level, stage, error_code) DO UPDATE SET
        lines = lines + excluded.lines,
        ops = ops + excluded.ops,
        ops_failed = ops_failed + excluded.ops_failed,
        dur_count = dur_count + excluded.dur_count,
        dur_sum = dur_sum + excluded.dur_sum,
        dur_min = CASE WHEN dur_min IS NULL THEN excluded.dur_min WHEN excluded.dur_min IS NULL THEN dur_min ELSE min(dur_min, excluded.dur_min) END,
        dur_max = CASE WHEN dur_max IS NULL THEN excluded.dur_max WHEN excluded.dur_max IS NULL THEN dur_max ELSE max(dur_max, excluded.dur_max) END,
        dur_hist = CASE WHEN excluded.dur_hist IS NULL THEN dur_hist ELSE hist_merge(dur_hist, excluded.dur_hist) END`);
    // In an UPDATE every right-hand column reads the row as it was, so the stage test
    // compares against the old last_ts.
    this.upsertSession = db.prepare(`
      INSERT INTO sessions (session_id, user_id, logger, first_ts, last_ts, stage, events, finished, finished_ts)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (session_id) DO UPDATE SET
        user_id = coalesce(user_id, excluded.user_id),
        logger = coalesce(logger, excluded.logger),
        first_ts = min(first_ts, excluded.first_ts),
        last_ts = max(last_ts, excluded.last_ts),
        stage = CASE WHEN excluded.last_ts >= last_ts THEN coalesce(excluded.stage, stage) ELSE coalesce(stage, excluded.stage) END,
        events = events + excluded.events,
        finished = max(finished, excluded.finished),
        finished_ts = CASE WHEN finished_ts IS NULL THEN excluded.finished_ts WHEN excluded.finished_ts IS NULL THEN finished_ts ELSE max(finished_ts, excluded.finished_ts) END`);
    this.insertRecent = db.prepare(`INSERT INTO recent_lines (ts, level, logger, file, line) VALUES (?, ?, ?, ?, ?)`);
    this.pruneRecent = db.prepare(PRUNE_RECENT_LINES);
    this.upsertFile = db.prepare(`
      INSERT INTO file_stats (file, lines, rejected, repaired, overlong, format, last_event_ts, last_read_at)
      VALUES (@file, @lines, @rejected, @repaired, @overlong, @format, @lastEventTs, @lastReadAt)
      ON CONFLICT (file) DO UPDATE SET
        lines = lines + excluded.lines,
        rejected = rejected + excluded.rejected,
        repaired = repaired + excluded.repaired,
        overlong = overlong + excluded.overlong,
        format = coalesce(excluded.format, format),
        last_event_ts = CASE WHEN last_event_ts IS NULL THEN excluded.last_event_ts WHEN excluded.last_event_ts IS NULL THEN last_event_ts ELSE max(last_event_ts, excluded.last_event_ts) END,
        last_read_at = max(last_read_at, excluded.last_read_at)`);
    this.upsertParseError = db.prepare(`
      INSERT INTO parse_errors (start, file, reason, count) VALUES (@start, @file, @reason, @count)
      ON CONFLICT (start, file, reason) DO UPDATE SET count = count + excluded.count`);
    this.insertSample = db.prepare(`INSERT INTO rejected_samples (at, file, offset, reason, detail, sample) VALUES (@at, @file, @offset, @reason, @detail, @sample)`);
    this.pruneSamples = db.prepare(PRUNE_REJECTED_SAMPLES);
    this.upsertLastSeen = db.prepare(`
      INSERT INTO last_seen (kind, name, event_ts) VALUES (@kind, @name, @eventTs)
      ON CONFLICT (kind, name) DO UPDATE SET event_ts = max(event_ts, excluded.event_ts)`);
    this.upsertCheckpoint = db.prepare(`
      INSERT INTO checkpoints (fingerprint, path, dev, ino, offset, skipping, size_seen, updated_at, tail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (fingerprint) DO UPDATE SET path = excluded.path, dev = excluded.dev, ino = excluded.ino,
        offset = excluded.offset, skipping = excluded.skipping, size_seen = excluded.size_seen, updated_at = excluded.updated_at, tail = excluded.tail`);
    this.deleteCheckpoint = db.prepare(`DELETE FROM checkpoints WHERE fingerprint = ?`);
    // The checkpoint interval is openStore's (sizeWal): ~40 MB of WAL on a roomy disk.
    this.tx = db.transaction((b: Batch) => this.write(b));
    this.flushTx = db.transaction((readableAt: number) => {
      for (const [res, pending] of [
        [HOUR, this.pendingHours],
        [DAY, this.pendingDays],
      ] as const) {
        for (const [k, r] of pending) {
          if (r.cell.start + res > readableAt) continue;
          this.runRollup(res, r);
          pending.delete(k);
        }
      }
    });
  }

  /** Writes the whole batch in one transaction; throws (and writes nothing) on failure. */
  commit(b: Batch): void {
    try {
      this.tx(b);
    } finally {
      // The database grows as it ingests: the WAL bound follows the free space left.
      if (this.stateDir !== null) sizeWal(this.db, this.stateDir);
    }
  }

  /** Log bytes the next batch may read (the WAL bound of a small disk; see batchBytesRoom). */
  batchBytesRoom(): number {
    return batchBytesRoom(this.db);
  }

  private write(b: Batch): void {
    this.runRollups(b.cells.values());
    // Positional parameters: binding by name costs a property lookup per column per row.
    // In key order: session ids are random, and consecutive upserts then share B-tree pages.
    const sessions = [...b.sessions.values()].sort(bySessionId);
    for (const s of sessions) this.upsertSession.run(s.sessionId, s.userId, s.logger, s.firstTs, s.lastTs, s.stage, s.events, s.finished, s.finishedTs);
    if (b.recent.length > 0) {
      for (const r of b.recent) this.insertRecent.run(r.ts, r.level, r.logger, r.file, r.line);
      this.pruneRecent.run(this.limits.recentLines);
    }
    for (const f of b.files.values()) this.upsertFile.run(f);
    for (const p of b.parseErrors.values()) this.upsertParseError.run(p);
    if (b.samples.length > 0) {
      for (const s of b.samples) this.insertSample.run(s);
      this.pruneSamples.run(this.limits.rejectedSamples);
    }
    for (const l of b.lastSeen.values()) this.upsertLastSeen.run(l);
    for (const c of b.checkpoints.values()) {
      this.upsertCheckpoint.run(c.fingerprint, c.path, c.dev, c.ino, c.offset, c.skipping ? 1 : 0, c.size_at_checkpoint ?? null, c.updatedAt, c.tail ?? null);
    }
    for (const fp of b.released) this.deleteCheckpoint.run(fp);
  }

  /**
   * With deferRollups: writes the rollups of every period that ends at or before
   * `readableAt` (Infinity: all), before an evaluation at that time reads them.
   */
  flushRollups(readableAt: number): void {
    if (this.pendingHours.size === 0 && this.pendingDays.size === 0) return;
    this.flushTx(readableAt);
  }

  /** Minute windows, plus their hour and day rollups (summed here first: one upsert per rollup cell). */
  private runRollups(cells: Iterable<WindowCell>): void {
    const defer = this.limits.deferRollups === true;
    const hours = defer ? this.pendingHours : new Map<string, Rollup>();
    const days = defer ? this.pendingDays : new Map<string, Rollup>();
    for (const c of cells) {
      this.runWindow(MINUTE, c);
      rollInto(hours, c, HOUR);
      rollInto(days, c, DAY);
    }
    if (defer) return;
    for (const h of hours.values()) this.runRollup(HOUR, h);
    for (const d of days.values()) this.runRollup(DAY, d);
  }

  private runRollup(res: number, r: Rollup): void {
    const c = r.cell;
    this.upsertWindow.run(res, c.start, c.logger, c.level, c.stage, c.errorCode, c.lines, c.ops, c.opsFailed, c.durCount, c.durSum, c.durMin, c.durMax, r.hist === null ? null : encodeDense(r.hist));
  }

  private runWindow(res: number, c: WindowCell): void {
    this.upsertWindow.run(
      res,
      c.start,
      c.logger,
      c.level,
      c.stage,
      c.errorCode,
      c.lines,
      c.ops,
      c.opsFailed,
      c.durCount,
      c.durSum,
      c.durMin,
      c.durMax,
      c.hist && c.hist.counts.size > 0 ? c.hist.encode() : null,
    );
  }
}

function bySessionId(a: SessionDelta, b: SessionDelta): number {
  return a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0;
}

/** A rollup cell being summed: its histogram as counts indexed by bucket (no Map to grow per bucket). */
interface Rollup {
  cell: WindowCell;
  hist: number[] | null;
}

function rollInto(into: Map<string, Rollup>, c: WindowCell, res: number): void {
  const start = c.start - (c.start % res);
  const key = `${start}\u001f${c.logger}\u001f${c.level}\u001f${c.stage}\u001f${c.errorCode}`;
  let r = into.get(key);
  if (r === undefined) {
    const cell: WindowCell = { start, logger: c.logger, level: c.level, stage: c.stage, errorCode: c.errorCode, lines: 0, ops: 0, opsFailed: 0, durCount: 0, durSum: 0, durMin: null, durMax: null, hist: null };
    into.set(key, (r = { cell, hist: null }));
  }
  const a = r.cell;
  a.lines += c.lines;
  a.ops += c.ops;
  a.opsFailed += c.opsFailed;
  a.durCount += c.durCount;
  a.durSum += c.durSum;
  if (c.durMin !== null && (a.durMin === null || c.durMin < a.durMin)) a.durMin = c.durMin;
  if (c.durMax !== null && (a.durMax === null || c.durMax > a.durMax)) a.durMax = c.durMax;
  if (c.hist !== null && c.hist.counts.size > 0) {
    const h = (r.hist ??= []);
    const counts = c.hist.counts;
    for (const k of counts.keys()) h[k] = (h[k] ?? 0) + counts.get(k)!;
  }
}

/** The checkpoints of the last run, in the tailer's shape. */
export function loadCheckpoints(db: DB): Checkpoint[] {
  const rows = db.prepare(`SELECT fingerprint, path, dev, ino, offset, skipping, size_seen AS sizeSeen, tail FROM checkpoints`).all() as Array<
    Omit<Checkpoint, 'skipping' | 'size_at_checkpoint' | 'tail'> & { skipping: number; sizeSeen: number | null; tail: string | null }
  >;
  return rows.map((r) => ({
    fingerprint: r.fingerprint,
    path: r.path,
    dev: r.dev,
    ino: r.ino,
    offset: r.offset,
    skipping: r.skipping === 1,
    ...(r.sizeSeen !== null ? { size_at_checkpoint: r.sizeSeen } : {}),
    ...(r.tail !== null ? { tail: r.tail } : {}),
  }));
}

/** Distinct values of one window dimension in a minute (for the cardinality cap after a restart). */
const distinctStatements = new WeakMap<DB, Map<string, Statement<[number]>>>();

export function distinctInMinute(db: DB, start: number, column: 'error_code' | 'stage' | 'logger' | 'level'): string[] {
  let byColumn = distinctStatements.get(db);
  if (byColumn === undefined) distinctStatements.set(db, (byColumn = new Map()));
  let st = byColumn.get(column);
  if (st === undefined) {
    st = db.prepare(`SELECT DISTINCT ${column} AS v FROM windows WHERE res = ${MINUTE} AND start = ?`) as Statement<[number]>;
    byColumn.set(column, st);
  }
  return (st.all(start) as { v: string }[]).map((r) => r.v);
}
