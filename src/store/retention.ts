import type { DB } from './db.js';
import { DAY, HOUR, MINUTE, PRUNE_RECENT_LINES, PRUNE_REJECTED_SAMPLES } from './batch.js';
import { Histogram } from './histogram.js';

/**
 * Keeps the store bounded: everything time-stamped is pruned past its retention, the
 * "latest N" tables are cut to N, and finished (or long-abandoned) sessions go with
 * the windows. Freed pages stay in SQLite's freelist and are reused by the next
 * inserts, so under a steady load the file stops growing instead of shrinking and
 * re-growing (no VACUUM: it would rewrite the whole file and block ingest).
 *
 * Prometheus counters must never go down, yet they are sums over windows that this
 * prunes. So before hour windows and parse-error rows are deleted, their sums are
 * folded into a running total kept in `meta` (PRUNED_KEY), in the same transaction
 * as the delete: all-time = folded total + what is still stored.
 */
export interface RetentionConfig {
  windows_ms: number;
  samples_ms: number;
  alerts_ms: number;
  recent_lines: number;
  rejected_samples: number;
}

export interface RetentionResult {
  windows: number;
  samples: number;
  sessions: number;
  alerts: number;
  alert_transitions: number;
  outbox: number;
  silences: number;
  parse_errors: number;
  rejected_samples: number;
  recent_lines: number;
}

export interface PrunedStage {
  ops: number;
  failed: number;
  durSum: number;
  durCount: number;
  /** Log-histogram bucket index → count (see histogram.ts). */
  hist: Record<string, number>;
}

export interface PrunedTotals {
  stages: Record<string, PrunedStage>;
  /** Lines by level. */
  levels: Record<string, number>;
  /** `file\u001freason` → rejected lines. */
  parseErrors: Record<string, number>;
}

export const PRUNED_KEY = 'retention.pruned_totals';
export const KEY_SEP = '\u001f';

/** Rows deleted per transaction, so ingest never waits long behind a cleanup. */
const CHUNK_ROWS = 20_000;

export function readPruned(db: DB): PrunedTotals {
  const row = db.prepare(`SELECT value FROM meta WHERE key = ?`).get(PRUNED_KEY) as { value: string } | undefined;
  if (!row) return { stages: {}, levels: {}, parseErrors: {} };
  try {
    const p = JSON.parse(row.value) as Partial<PrunedTotals>;
    return { stages: p.stages ?? {}, levels: p.levels ?? {}, parseErrors: p.parseErrors ?? {} };
  } catch {
    return { stages: {}, levels: {}, parseErrors: {} };
  }
}

function writePruned(db: DB, p: PrunedTotals): void {
  db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(PRUNED_KEY, JSON.stringify(p));
}

export function applyRetention(db: DB, cfg: RetentionConfig, now: number): RetentionResult {
  const windowsCutoff = now - cfg.windows_ms;
  const alertsCutoff = now - cfg.alerts_ms;
  const out: RetentionResult = {
    windows: pruneMinuteWindows(db, windowsCutoff) + pruneHourWindows(db, windowsCutoff) + pruneDayWindows(db, windowsCutoff),
    samples: pruneSamples(db, now - cfg.samples_ms),
    sessions: chunked(
      db,
      `DELETE FROM sessions WHERE session_id IN (SELECT session_id FROM sessions
         WHERE (finished <> 0 AND coalesce(finished_ts, last_ts) < @cutoff) OR (finished = 0 AND last_ts < @cutoff) LIMIT ${CHUNK_ROWS})`,
      { cutoff: windowsCutoff },
    ),
    alerts: 0,
    alert_transitions: 0,
    outbox: chunked(
      db,
      `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
         WHERE status IN ('delivered', 'failed', 'expired', 'silenced') AND created_at < @cutoff LIMIT ${CHUNK_ROWS})`,
      { cutoff: alertsCutoff },
    ),
    silences: chunked(db, `DELETE FROM silences WHERE id IN (SELECT id FROM silences WHERE ends_at < @cutoff LIMIT ${CHUNK_ROWS})`, {
      cutoff: alertsCutoff,
    }),
    parse_errors: pruneParseErrors(db, windowsCutoff),
    rejected_samples: db.prepare(PRUNE_REJECTED_SAMPLES).run(cfg.rejected_samples).changes,
    recent_lines: db.prepare(PRUNE_RECENT_LINES).run(cfg.recent_lines).changes,
  };
  const alerts = pruneAlerts(db, alertsCutoff);
  out.alerts = alerts.alerts;
  out.alert_transitions = alerts.transitions;
  // Only reclaims when the database was created with auto_vacuum = INCREMENTAL; otherwise
  // the freelist is reused by later inserts (see the note at the top).
  if ((db.pragma('auto_vacuum', { simple: true }) as number) === 2) db.pragma('incremental_vacuum');
  return out;
}

/** Runs a DELETE with a LIMIT-ed subquery until it deletes nothing; one transaction per chunk. */
function chunked(db: DB, sql: string, params: Record<string, unknown>): number {
  const stmt = db.prepare(sql);
  let total = 0;
  for (;;) {
    const n = stmt.run(params).changes;
    total += n;
    if (n < CHUNK_ROWS) return total;
  }
}

/**
 * Deletes [oldest, cutoff) of one resolution a day of data at a time (windows has no
 * rowid to LIMIT on); gaps in the data are skipped, not walked.
 */
function byDay(db: DB, res: number, cutoff: number, onChunk: (from: number, to: number) => number): number {
  const next = db.prepare(`SELECT min(start) AS m FROM windows WHERE res = ? AND start >= ?`);
  let total = 0;
  let from = (next.get(res, -Number.MAX_SAFE_INTEGER) as { m: number | null }).m;
  while (from !== null && from < cutoff) {
    const to = Math.min(from + DAY, cutoff);
    total += onChunk(from, to);
    from = (next.get(res, to) as { m: number | null }).m;
  }
  return total;
}

function pruneMinuteWindows(db: DB, cutoff: number): number {
  const del = db.prepare(`DELETE FROM windows WHERE res = ${MINUTE} AND start >= ? AND start < ?`);
  return byDay(db, MINUTE, cutoff, (from, to) => del.run(from, to).changes);
}

/** A day rollup goes once all of it is past the cutoff (its hours carry the all-time sums). */
function pruneDayWindows(db: DB, cutoff: number): number {
  const dayCutoff = cutoff - (((cutoff % DAY) + DAY) % DAY);
  return db.prepare(`DELETE FROM windows WHERE res = ${DAY} AND start < ?`).run(dayCutoff).changes;
}

/** An hour window goes only once all of it is past the cutoff; its sums are folded first. */
function pruneHourWindows(db: DB, cutoff: number): number {
  const hourCutoff = cutoff - (((cutoff % HOUR) + HOUR) % HOUR);
  const rows = db.prepare(
    `SELECT stage, level, lines, ops, ops_failed AS failed, dur_sum AS durSum, dur_count AS durCount, dur_hist AS hist
       FROM windows WHERE res = ${HOUR} AND start >= ? AND start < ?`,
  );
  const del = db.prepare(`DELETE FROM windows WHERE res = ${HOUR} AND start >= ? AND start < ?`);
  const fold = db.transaction((from: number, to: number): number => {
    const p = readPruned(db);
    const hists = new Map<string, Histogram>();
    let any = false;
    for (const r of rows.iterate(from, to) as Iterable<{
      stage: string;
      level: string;
      lines: number;
      ops: number;
      failed: number;
      durSum: number;
      durCount: number;
      hist: Buffer | null;
    }>) {
      any = true;
      p.levels[r.level] = (p.levels[r.level] ?? 0) + r.lines;
      if (r.ops === 0 && r.durCount === 0) continue;
      const s = (p.stages[r.stage] ??= { ops: 0, failed: 0, durSum: 0, durCount: 0, hist: {} });
      s.ops += r.ops;
      s.failed += r.failed;
      s.durSum += r.durSum;
      s.durCount += r.durCount;
      if (r.hist) {
        let h = hists.get(r.stage);
        if (h === undefined) hists.set(r.stage, (h = new Histogram()));
        h.addEncoded(r.hist);
      }
    }
    if (!any) return 0;
    for (const [stage, h] of hists) {
      const into = p.stages[stage]!.hist;
      for (const [k, v] of h.counts) into[k] = (into[k] ?? 0) + v;
    }
    writePruned(db, p);
    return del.run(from, to).changes;
  });
  return byDay(db, HOUR, hourCutoff, (from, to) => fold(from, to));
}

function pruneParseErrors(db: DB, cutoff: number): number {
  const sums = db.prepare(`SELECT file, reason, sum(count) AS n FROM parse_errors WHERE start < ? GROUP BY file, reason`);
  const del = db.prepare(`DELETE FROM parse_errors WHERE start < ?`);
  return db.transaction((): number => {
    const rows = sums.all(cutoff) as { file: string; reason: string; n: number }[];
    if (rows.length === 0) return 0;
    const p = readPruned(db);
    for (const r of rows) {
      const k = r.file + KEY_SEP + r.reason;
      p.parseErrors[k] = (p.parseErrors[k] ?? 0) + r.n;
    }
    writePruned(db, p);
    return del.run(cutoff).changes;
  })();
}

function pruneSamples(db: DB, cutoff: number): number {
  // samples is keyed (metric, key, ts): delete per series so each DELETE is an index range.
  const series = db.prepare(`SELECT DISTINCT metric, key FROM samples`).all() as { metric: string; key: string }[];
  const del = db.prepare(`DELETE FROM samples WHERE metric = ? AND key = ? AND ts < ?`);
  let total = 0;
  for (const s of series) total += db.transaction(() => del.run(s.metric, s.key, cutoff).changes)();
  return total;
}

/**
 * Resolved and never-fired (inactive) episodes past the alerts retention go, with their
 * transitions. Pending and firing ones stay whatever their age: they are live state.
 */
function pruneAlerts(db: DB, cutoff: number): { alerts: number; transitions: number } {
  const pick = db.prepare(
    `SELECT id FROM alerts WHERE state IN ('resolved', 'inactive') AND coalesce(resolved_at, firing_at, started_at) < ? ORDER BY id LIMIT ${CHUNK_ROWS}`,
  );
  const delT = db.prepare(`DELETE FROM alert_transitions WHERE alert_id = ?`);
  const delA = db.prepare(`DELETE FROM alerts WHERE id = ?`);
  let alerts = 0;
  let transitions = 0;
  const chunk = db.transaction((): number => {
    const ids = (pick.all(cutoff) as { id: number }[]).map((r) => r.id);
    for (const id of ids) {
      // Explicit rather than relying on ON DELETE CASCADE, which needs foreign_keys = ON
      // on this connection.
      transitions += delT.run(id).changes;
      alerts += delA.run(id).changes;
    }
    return ids.length;
  });
  while (chunk() === CHUNK_ROWS) {
    /* next chunk */
  }
  return { alerts, transitions };
}
