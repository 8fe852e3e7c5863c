/**
 * The replay feeder: merged lines go through the same Aggregator and BatchWriter as
 * live ingest, and the RuleRunner is evaluated at every step of the logs' own clock,
 * interleaved with ingest. Before evaluating at time T, every line stamped <= T has
 * been committed and no later one, so facts that depend on "what has been seen up
 * to now" (sessions, silence) read as they would have live.
 */
import type { Config } from '../config/load.js';
import { Aggregator } from '../ingest/aggregate.js';
import { CardinalityGuard } from '../ingest/cardinality.js';
import type { RuleRunner } from '../rules/runner.js';
import type { RecordedTransition } from '../store/alerts.js';
import { BatchWriter, distinctInMinute } from '../store/batch.js';
import type { DB } from '../store/db.js';
import { mergeByTime } from './merge.js';
import type { LineSource } from './reader.js';

export type FeedConfig = Pick<Config, 'retention' | 'cardinality'>;

export interface FeedOptions {
  db: DB;
  config: FeedConfig;
  runner: RuleRunner;
  stepMs: number;
  /** First evaluation; default: the first line's time rounded up to a multiple of stepMs. */
  from?: number;
  /** Last evaluation (inclusive), or computed from the last line's time (null without lines). Default: the last line's time. */
  until?: number | ((lastLineTs: number | null) => number);
  /** After each evaluation. */
  onStep?: (now: number, transitions: RecordedTransition[]) => void | Promise<void>;
  /** Lines per committed batch at most, even within one step (bounds memory). Default 20,000. */
  maxBatchLines?: number;
}

export interface FeedResult {
  lines: number;
  rejected: number;
  batches: number;
  evaluations: number;
  firstTs: number | null;
  lastTs: number | null;
  firstEvaluation: number | null;
  lastEvaluation: number | null;
}

export async function feed(sources: readonly LineSource[], o: FeedOptions): Promise<FeedResult> {
  const { db, config, runner, stepMs } = o;
  if (!(stepMs > 0)) throw new RangeError(`stepMs must be > 0, got ${stepMs}`);
  const writer = new BatchWriter(db, { recentLines: config.retention.recent_lines, rejectedSamples: config.retention.rejected_samples });
  const guard = new CardinalityGuard(config.cardinality, (start, dim) => distinctInMinute(db, start, dim));
  const agg = new Aggregator({ recentLines: config.retention.recent_lines, samplesPerBatch: 100, guard });
  const maxBatch = o.maxBatchLines ?? 20_000;
  const res: FeedResult = { lines: 0, rejected: 0, batches: 0, evaluations: 0, firstTs: null, lastTs: null, firstEvaluation: null, lastEvaluation: null };

  let file: string | null = null;
  let inBatch = 0;
  const commit = (final: boolean) => {
    if (inBatch === 0 && !final) return;
    writer.commit(agg.take(final));
    res.batches++;
    inBatch = 0;
    file = null; // take() forgets the current file
  };
  const evaluate = async (now: number) => {
    const t = await runner.evaluateAt(now);
    res.evaluations++;
    res.firstEvaluation ??= now;
    res.lastEvaluation = now;
    await o.onStep?.(now, t);
  };

  const lines = mergeByTime(sources, o.from ?? 0);
  let next = lines.next();
  let nextEval: number | null = o.from ?? null;
  if (nextEval === null && !next.done) nextEval = Math.ceil(next.value.ts / stepMs) * stepMs;

  for (; !next.done; next = lines.next()) {
    const l = next.value;
    // The line is past the step: what came before is what the rules see at that step.
    while (nextEval !== null && l.ts > nextEval) {
      commit(false);
      await evaluate(nextEval);
      nextEval += stepMs;
    }
    if (l.file !== file) {
      agg.setFile(l.file, l.ts);
      file = l.file;
    }
    if (l.event) {
      agg.add(l.event, l.text!);
      res.lines++;
    } else {
      const r = l.rejected!;
      agg.reject(r.reason, r.detail, r.sample, r.offset, l.ts);
      res.rejected++;
    }
    res.firstTs ??= l.ts;
    if (res.lastTs === null || l.ts > res.lastTs) res.lastTs = l.ts;
    if (++inBatch >= maxBatch) commit(false);
  }
  commit(true);

  const until = typeof o.until === 'function' ? o.until(res.lastTs) : (o.until ?? res.lastTs);
  if (until !== null && nextEval !== null) {
    for (; nextEval <= until; nextEval += stepMs) await evaluate(nextEval);
  }
  return res;
}
