import { statementCache, type DB } from './db.js';
import { DAY, HOUR, MINUTE } from './batch.js';
import { Histogram } from './histogram.js';

/**
 * Reads over the window tables. A range [from, to) is answered from hour rollups for
 * the whole hours inside it and from minute windows for the ragged edges, so a 7-day
 * question reads ~170 hour rows per cell instead of ~10,000 minute rows.
 */
export interface Range {
  from: number;
  to: number;
}

export interface Slice {
  res: number;
  from: number;
  to: number;
}

/**
 * Splits [from, to) into the coarsest windows that tile it: UTC days in the middle, whole
 * hours around them, minutes at the ragged edges (a partial minute counts whole).
 */
export function slices(r: Range): Slice[] {
  const from = r.from - (r.from % MINUTE);
  const to = r.to;
  if (to <= from) return [];
  const out: Slice[] = [];
  const hFrom = Math.ceil(from / HOUR) * HOUR;
  const hTo = Math.floor(to / HOUR) * HOUR;
  if (hTo - hFrom < HOUR) return [{ res: MINUTE, from, to }];
  if (from < hFrom) out.push({ res: MINUTE, from, to: hFrom });
  const dFrom = Math.ceil(hFrom / DAY) * DAY;
  const dTo = Math.floor(hTo / DAY) * DAY;
  if (dTo - dFrom >= DAY) {
    if (hFrom < dFrom) out.push({ res: HOUR, from: hFrom, to: dFrom });
    out.push({ res: DAY, from: dFrom, to: dTo });
    if (dTo < hTo) out.push({ res: HOUR, from: dTo, to: hTo });
  } else out.push({ res: HOUR, from: hFrom, to: hTo });
  if (hTo < to) out.push({ res: MINUTE, from: hTo, to });
  return out;
}

export interface CellFilter {
  stage?: string | undefined;
  logger?: string | undefined;
  level?: string | undefined;
  errorCode?: string | undefined;
}

const FILTER_COLUMNS = [
  ['stage', 'stage'],
  ['logger', 'logger'],
  ['level', 'level'],
  ['errorCode', 'error_code'],
] as const satisfies readonly (readonly [keyof CellFilter, string])[];

export interface OpsTotals {
  lines: number;
  total: number;
  failed: number;
  durationSum: number;
  durationCount: number;
  durationMin: number | null;
  durationMax: number | null;
}

type GroupColumn = 'stage' | 'error_code' | 'level' | 'logger' | 'stage, error_code';

interface Row extends OpsTotals {
  g: string;
}

export class WindowQueries {
  private readonly stmt: ReturnType<typeof statementCache>;
  constructor(db: DB) {
    this.stmt = statementCache(db);
  }

  private where(f: CellFilter, params: unknown[]): string {
    let w = 'res = ? AND start >= ? AND start < ?';
    for (const [field, column] of FILTER_COLUMNS) {
      const v = f[field];
      if (v === undefined) continue;
      w += ` AND ${column} = ?`;
      params.push(v);
    }
    return w;
  }

  /**
   * Runs `select(where)` once per slice of the range and yields every row; `where` picks
   * the slice's windows and the filter's cells. Rows of different slices are not merged.
   */
  *sliceRows<T>(r: Range, f: CellFilter, select: (where: string) => string): Generator<T> {
    for (const s of slices(r)) {
      const params: unknown[] = [s.res, s.from, s.to];
      const where = this.where(f, params);
      yield* this.stmt(select(where)).all(...params) as T[];
    }
  }

  /** Totals over the range, optionally grouped by one column. */
  totals(r: Range, f: CellFilter = {}, groupBy?: GroupColumn): Map<string, OpsTotals> {
    const out = new Map<string, OpsTotals>();
    // A two-column group comes back as "stage\u001ferror_code".
    const key = groupBy === 'stage, error_code' ? `stage || char(31) || error_code` : groupBy ? groupBy : `''`;
    const rows = this.sliceRows<Row>(r, f, (w) => `SELECT ${key} AS g, sum(lines) AS lines, sum(ops) AS total, sum(ops_failed) AS failed, sum(dur_sum) AS durationSum,
        sum(dur_count) AS durationCount, min(dur_min) AS durationMin, max(dur_max) AS durationMax
        FROM windows WHERE ${w} GROUP BY ${groupBy ?? '1'}`);
    for (const { g, ...t } of rows) {
      const into = out.get(g);
      if (into === undefined) out.set(g, t);
      else addTotals(into, t);
    }
    return out;
  }

  /** Merged duration histograms over the range, grouped by one column (or '' for all); merged inside SQLite. */
  histograms(r: Range, f: CellFilter = {}, groupBy?: GroupColumn): Map<string, Histogram> {
    const out = new Map<string, Histogram>();
    const g = groupBy ? groupBy : `''`;
    const rows = this.sliceRows<{ g: string; h: Buffer | null }>(r, f, (w) => `SELECT ${g} AS g, hist_sum(dur_hist) AS h FROM windows WHERE ${w} AND dur_hist IS NOT NULL GROUP BY 1`);
    for (const row of rows) {
      if (row.h === null) continue;
      let h = out.get(row.g);
      if (h === undefined) out.set(row.g, (h = new Histogram()));
      h.addEncoded(row.h);
    }
    return out;
  }

  /** A duration quantile (seconds), clamped to the observed min/max; null without data. */
  quantile(r: Range, q: number, f: CellFilter = {}): number | null {
    const h = this.histograms(r, f).get('');
    if (h === undefined) return null;
    const v = h.quantile(q);
    if (v === null) return null;
    const t = this.totals(r, f).get('');
    return clamp(v, t?.durationMin ?? null, t?.durationMax ?? null);
  }
}

/** Adds `t` into `into`: sums add, the duration bounds widen. */
export function addTotals(into: OpsTotals, t: OpsTotals): void {
  into.lines += t.lines;
  into.total += t.total;
  into.failed += t.failed;
  into.durationSum += t.durationSum;
  into.durationCount += t.durationCount;
  if (t.durationMin !== null) into.durationMin = into.durationMin === null ? t.durationMin : Math.min(into.durationMin, t.durationMin);
  if (t.durationMax !== null) into.durationMax = into.durationMax === null ? t.durationMax : Math.max(into.durationMax, t.durationMax);
}

export function clamp(v: number, min: number | null, max: number | null): number {
  if (min !== null && v < min) return min;
  if (max !== null && v > max) return max;
  return v;
}
