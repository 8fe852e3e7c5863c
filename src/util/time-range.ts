import { VigilError } from '../errors.js';

/** Parses an ISO-8601 time or epoch seconds/milliseconds into epoch ms. */
export function parseTime(s: string): number {
  const t = s.trim();
  if (/^\d{9,10}(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (/^\d{12,13}$/.test(t)) return Number(t);
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new VigilError('VIGIL_TIME_RANGE', `"${s}" is not a time (use ISO-8601 such as 2026-11-22T10:00:00Z, or epoch seconds)`);
}

export const MAX_HOURS = 24 * 366;

/** The [from, to) range of a stats question: --hours N back from now, or --from/--to. */
export function resolveRange(opts: { hours?: string | number | undefined; from?: string | undefined; to?: string | undefined }, now: number): { from: number; to: number } {
  if (opts.from !== undefined || opts.to !== undefined) {
    if (opts.hours !== undefined) throw new VigilError('VIGIL_TIME_RANGE', 'give either --hours or --from/--to, not both');
    const to = opts.to !== undefined ? parseTime(opts.to) : now;
    if (opts.from === undefined) throw new VigilError('VIGIL_TIME_RANGE', '--to needs --from');
    const from = parseTime(opts.from);
    if (!(from < to)) throw new VigilError('VIGIL_TIME_RANGE', '--from must be before --to');
    if (to - from > MAX_HOURS * 3_600_000) throw new VigilError('VIGIL_TIME_RANGE', `a range may span at most ${MAX_HOURS} hours`);
    return { from, to };
  }
  const h = opts.hours === undefined ? 24 : Number(opts.hours);
  if (!Number.isFinite(h) || h <= 0 || h > MAX_HOURS) throw new VigilError('VIGIL_TIME_RANGE', `hours must be a number in (0, ${MAX_HOURS}]`);
  return { from: now - h * 3_600_000, to: now };
}
