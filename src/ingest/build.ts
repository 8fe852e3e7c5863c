import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { BatchWriter, MINUTE, distinctInMinute, loadCheckpoints } from '../store/batch.js';
import type { DB } from '../store/db.js';
import { Tailer } from '../tail/index.js';
import { Aggregator } from './aggregate.js';
import { CardinalityGuard } from './cardinality.js';
import { defaultParseWorkers } from './parse-pool.js';
import { Pipeline, type CommitInfo, type IngestLog } from './pipeline.js';
// Whatever runs the ingest keeps a small young generation (see heap.ts); a program
// that imports young-gen.js first keeps it from the very start.
import './heap.js';

export interface IngestParts {
  tailer: Tailer;
  pipeline: Pipeline;
  guard: CardinalityGuard;
}

export type IngestConfig = Pick<Config, 'inputs' | 'max_line_bytes' | 'retention' | 'cardinality'>;

/**
 * The one composition of tail → parse → aggregate → store, shared by `vigil run`,
 * `vigil replay`, the benchmark and the tests, so they all exercise the same code.
 */
export function buildIngest(o: {
  config: IngestConfig;
  db: DB;
  clock: Clock;
  log?: IngestLog;
  onCommit?: (c: CommitInfo) => void;
  batchBytes?: number;
  /** Parse worker threads; default: two when the machine has two cores or more (see parse-pool.ts). */
  parseWorkers?: number;
}): IngestParts {
  const { config, db, clock } = o;
  const log: IngestLog = o.log ?? (() => {});
  const writer = new BatchWriter(db, { recentLines: config.retention.recent_lines, rejectedSamples: config.retention.rejected_samples });
  const stored = db.prepare(`SELECT max(start) AS s FROM windows WHERE res = ${MINUTE}`).get() as { s: number | null };
  const guard = new CardinalityGuard(config.cardinality, (start, dim) => distinctInMinute(db, start, dim), stored.s ?? -Infinity);
  const aggregator = new Aggregator({ recentLines: config.retention.recent_lines, samplesPerBatch: config.retention.rejected_samples, guard, maxLineBytes: config.max_line_bytes });
  const tailer = new Tailer({
    inputs: config.inputs.map((i) => ({ path: i.path, start_at: i.start_at })),
    maxLineBytes: config.max_line_bytes,
    checkpoints: loadCheckpoints(db),
    now: () => clock.now(),
    log,
  });
  const pipeline = new Pipeline({
    tailer,
    writer,
    aggregator,
    clock,
    log,
    parseWorkers: o.parseWorkers ?? defaultParseWorkers(),
    maxLineBytes: config.max_line_bytes,
    rejectedSamples: config.retention.rejected_samples,
    formats: config.inputs.map((i) => (i.format === 'auto' ? undefined : i.format)),
    ...(o.onCommit ? { onCommit: o.onCommit } : {}),
    ...(o.batchBytes ? { batchBytes: o.batchBytes } : {}),
  });
  return { tailer, pipeline, guard };
}
