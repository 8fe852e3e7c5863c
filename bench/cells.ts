/**
 * Window cells for the benchmarks that build a store without log lines: the cells the
 * aggregator would have produced for the same operations, written through the real BatchWriter.
 */
import type { WindowCell } from '../src/store/batch.js';
import { Histogram } from '../src/store/histogram.js';

export function emptyCell(start: number, level: string, stage: string, errorCode: string): WindowCell {
  return { start, logger: 'media_processing', level, stage, errorCode, lines: 0, ops: 0, opsFailed: 0, durCount: 0, durSum: 0, durMin: null, durMax: null, hist: null };
}

/** One operation line taking `seconds`, counted as the aggregator counts it. */
export function addOperation(c: WindowCell, seconds: number, failed: boolean): void {
  c.lines++;
  c.ops++;
  if (failed) c.opsFailed++;
  c.durCount++;
  c.durSum += seconds;
  c.durMin = c.durMin === null ? seconds : Math.min(c.durMin, seconds);
  c.durMax = c.durMax === null ? seconds : Math.max(c.durMax, seconds);
  (c.hist ??= new Histogram()).add(seconds);
}
