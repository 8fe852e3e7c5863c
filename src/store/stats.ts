import { HOUR } from './batch.js';
import type { DB } from './db.js';
import { WindowQueries, addTotals, clamp, type OpsTotals, type Range } from './windows.js';

/** The stats object of DESIGN §6 — served by the API and printed by `vigil stats`. */
export interface StageStats {
  count: number;
  success_count: number;
  failure_count: number;
  average_duration: number;
  p95_duration: number;
}

export interface Stats {
  total_operations: number;
  successful_operations: number;
  failed_operations: number;
  success_rate: number;
  error_rate: number;
  average_duration: number;
  stage_breakdown: Record<string, StageStats>;
  error_codes: Record<string, number>;
  period_hours: number;
}

const round = (x: number, digits = 4) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * Rates are fractions (0.1 = 10 %). With no operations in the period both rates are 0,
 * and durations are 0: "no data" rather than an invented success.
 */
export function computeStats(db: DB, range: Range, queries = new WindowQueries(db)): Stats {
  // One pass over the windows grouped by (stage, error code) answers both breakdowns.
  const byStage = new Map<string, OpsTotals>();
  const codeLines = new Map<string, number>();
  for (const [k, t] of queries.totals(range, {}, 'stage, error_code')) {
    const [stage, code] = k.split('\u001f') as [string, string];
    const s = byStage.get(stage);
    if (s === undefined) byStage.set(stage, { ...t });
    else addTotals(s, t);
    if (code !== '' && t.lines > 0) codeLines.set(code, (codeLines.get(code) ?? 0) + t.lines);
  }
  const hists = queries.histograms(range, {}, 'stage');
  let total = 0;
  let failed = 0;
  let durSum = 0;
  let durCount = 0;
  const stage_breakdown: Record<string, StageStats> = {};
  for (const [stage, t] of [...byStage].sort((a, b) => a[0].localeCompare(b[0]))) {
    total += t.total;
    failed += t.failed;
    durSum += t.durationSum;
    durCount += t.durationCount;
    if (stage === '' || t.total === 0) continue;
    const p95 = hists.get(stage)?.quantile(0.95) ?? null;
    stage_breakdown[stage] = {
      count: t.total,
      success_count: t.total - t.failed,
      failure_count: t.failed,
      average_duration: t.durationCount > 0 ? round(t.durationSum / t.durationCount, 3) : 0,
      p95_duration: p95 === null ? 0 : round(clamp(p95, t.durationMin, t.durationMax), 3),
    };
  }
  const error_codes: Record<string, number> = {};
  for (const [code, n] of [...codeLines].sort((a, b) => a[0].localeCompare(b[0]))) error_codes[code] = n;
  return {
    total_operations: total,
    successful_operations: total - failed,
    failed_operations: failed,
    success_rate: total > 0 ? round((total - failed) / total) : 0,
    error_rate: total > 0 ? round(failed / total) : 0,
    average_duration: durCount > 0 ? round(durSum / durCount, 3) : 0,
    stage_breakdown,
    error_codes,
    period_hours: round((range.to - range.from) / HOUR, 3),
  };
}
