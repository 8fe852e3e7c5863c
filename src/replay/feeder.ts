/**
 * The replay feeder: the logs' own clock steps through the files, and at each step every
 * file hands the ingest its lines up to that time (see cursor.ts: the live splitter,
 * parser and aggregation), the batch is committed through the agent's BatchWriter, and
 * the RuleRunner evaluates. Before evaluating at time T, every line stamped <= T has been
 * committed and no later one (in each file, up to its first line after T), so facts that
 * depend on "what has been seen up to now" (sessions, silence) read as they would have live.
 */
import type { Config } from '../config/load.js';
import { Aggregator } from '../ingest/aggregate.js';
import { CardinalityGuard } from '../ingest/cardinality.js';
import { ChunkParser } from '../ingest/chunk.js';
import type { EvaluateOptions, RecordedTransition, RuleRunner } from '../rules/runner.js';
import { BatchWriter, distinctInMinute } from '../store/batch.js';
import type { DB } from '../store/db.js';
import { Cursor, type ReplayInput } from './cursor.js';

export type FeedConfig = Pick<Config, 'retention' | 'cardinality'> & Partial<Pick<Config, 'max_line_bytes'>>;

export interface FeedProgress {
  lines: number;
  rejected: number;
  bytes: number;
}

export interface FeedOptions {
  db: DB;
  config: FeedConfig;
  runner: RuleRunner;
  stepMs: number;
  /** First evaluation; default: the first line's time rounded up to a multiple of stepMs. */
  from?: number;
  /** Last evaluation (inclusive), or computed from the last line's time (null without lines). Default: the last line's time. */
  until?: number | ((lastLineTs: number | null) => number);
  /** How each step evaluates (the agent's catch-up: log rules only, nothing paged). */
  evaluate?: EvaluateOptions;
  /** Checked before each step: true ends the feed there (what was committed stays committed). */
  shouldStop?: () => boolean;
  /** After each evaluation. */
  onStep?: (now: number, transitions: RecordedTransition[]) => void | Promise<void>;
  /** After each chunk ingested (for a progress display). */
  onProgress?: (p: FeedProgress) => void;
  /**
   * Just before each commit, with the aggregator holding the batch: the agent's catch-up
   * adds its files' checkpoints here, so they commit in the same transaction as the lines.
   */
  beforeCommit?: (agg: Aggregator, cursors: readonly Cursor[]) => void;
  /** Bytes per committed batch at most, even within one step (bounds memory), as live ingest's batches. Default 16 MiB. */
  batchBytes?: number;
}

export interface FileResult {
  file: string;
  lines: number;
  rejected: number;
  /** Bytes after the last newline: not a line (yet), as for the agent. */
  unterminated: number;
}

export interface FeedResult {
  lines: number;
  rejected: number;
  bytes: number;
  batches: number;
  evaluations: number;
  firstTs: number | null;
  lastTs: number | null;
  firstEvaluation: number | null;
  lastEvaluation: number | null;
  files: FileResult[];
}

const DEFAULT_MAX_LINE_BYTES = 1 << 20;

export async function feed(inputs: readonly ReplayInput[], o: FeedOptions): Promise<FeedResult> {
  const { db, config, runner, stepMs } = o;
  if (!(stepMs > 0)) throw new RangeError(`stepMs must be > 0, got ${stepMs}`);
  const { recent_lines: recentLines, rejected_samples: rejectedSamples } = config.retention;
  const maxLineBytes = config.max_line_bytes ?? DEFAULT_MAX_LINE_BYTES;
  // The pieces buildIngest puts together for the agent, with the same options.
  const writer = new BatchWriter(db, { recentLines, rejectedSamples, deferRollups: true });
  const guard = new CardinalityGuard(config.cardinality, (start, dim) => distinctInMinute(db, start, dim));
  const agg = new Aggregator({ recentLines, samplesPerBatch: rejectedSamples, guard, maxLineBytes });
  const parser = new ChunkParser({ recentLines: agg.recentCapacity, samplesPerBatch: rejectedSamples });
  const batchBytes = o.batchBytes ?? 16 * 1024 * 1024;
  const res: FeedResult = { lines: 0, rejected: 0, bytes: 0, batches: 0, evaluations: 0, firstTs: null, lastTs: null, firstEvaluation: null, lastEvaluation: null, files: [] };

  const cursors = inputs.map((i) => new Cursor(i, maxLineBytes));
  // A file's lines before its first timed one take that line's time; a file with none
  // takes the time the replay starts at.
  const starts = cursors.map((c) => c.firstTime());
  for (const s of starts) if (s !== null && (res.firstTs === null || s < res.firstTs)) res.firstTs = s;
  cursors.forEach((c, i) => (c.carried = starts[i] ?? res.firstTs ?? o.from ?? 0));

  let inBatch = 0; // bytes absorbed since the last commit
  let absorbed = 0;
  let dirty = false;
  const progress = () => {
    let lines = 0;
    let rejected = 0;
    let bytes = 0;
    for (const c of cursors) {
      lines += c.stats.lines;
      rejected += c.stats.rejected;
      bytes += c.stats.bytes;
    }
    return { lines, rejected, bytes };
  };
  const commit = () => {
    o.beforeCommit?.(agg, cursors);
    writer.commit(agg.take(false));
    res.batches++;
    inBatch = 0;
    dirty = false;
  };
  const afterChunk = () => {
    const p = progress();
    inBatch += p.bytes - absorbed;
    absorbed = p.bytes;
    dirty = true;
    if (inBatch >= batchBytes) commit();
    o.onProgress?.(p);
  };
  const evaluate = async (now: number) => {
    writer.flushRollups(now);
    const t = await runner.evaluateAt(now, o.evaluate);
    res.evaluations++;
    res.firstEvaluation ??= now;
    res.lastEvaluation = now;
    await o.onStep?.(now, t);
  };

  let nextEval: number | null = o.from ?? (res.firstTs === null ? null : Math.ceil(res.firstTs / stepMs) * stepMs);
  try {
    let open = cursors;
    while (open.length > 0) {
      // Without any timed line there is no clock to step: everything is read at once.
      const until = nextEval ?? Infinity;
      open = open.filter((c) => c.feedUntil(until, parser, agg, afterChunk));
      if (open.length === 0 || nextEval === null) break;
      if (dirty) commit();
      if (o.shouldStop?.()) break;
      await evaluate(nextEval);
      nextEval += stepMs;
    }
    // The last lines, and the ring of recent lines (kept until the end, as during a catch-up).
    o.beforeCommit?.(agg, cursors);
    writer.commit(agg.take(true));
    res.batches++;
  } finally {
    for (const c of cursors) c.close();
  }

  Object.assign(res, progress());
  for (const c of cursors) {
    res.files.push({ file: c.file, lines: c.stats.lines, rejected: c.stats.rejected, unterminated: c.stats.unterminated });
    if (c.stats.newest !== null && (res.lastTs === null || c.stats.newest > res.lastTs)) res.lastTs = c.stats.newest;
  }
  if (res.lines === 0) res.firstTs = null; // nothing was accepted: no clock
  const until = typeof o.until === 'function' ? o.until(res.lastTs) : (o.until ?? res.lastTs);
  if (until !== null && nextEval !== null) {
    for (; nextEval <= until && !o.shouldStop?.(); nextEval += stepMs) await evaluate(nextEval);
  }
  // The store is complete for whoever reads it afterwards (--db).
  writer.flushRollups(Infinity);
  return res;
}
