import type { Clock } from '../clock.js';
import { isRejected } from '../parse/event.js';
import { parseLine, redactText, sampleText } from '../parse/index.js';
import type { BatchWriter } from '../store/batch.js';
import type { Tailer, LineSink, ReadResult } from '../tail/index.js';
import { logicalName } from '../tail/index.js';
import type { Aggregator } from './aggregate.js';

export interface IngestLog {
  (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
}

export interface PipelineOptions {
  tailer: Tailer;
  writer: BatchWriter;
  aggregator: Aggregator;
  clock: Clock;
  /** Bytes read before a batch is committed (one transaction). */
  batchBytes?: number;
  /** During a catch-up, recent lines are written at least this often (always when caught up). */
  recentFlushMs?: number;
  log?: IngestLog;
  /** Called after every successful commit (rules evaluate the fresh data from here). */
  onCommit?: (c: CommitInfo) => void;
}

export interface CommitInfo {
  lines: number;
  rejected: number;
  bytes: number;
  /** Newest event time in the batch (ms), or null. */
  newestEventTs: number | null;
  caughtUp: boolean;
}

export interface DrainResult {
  lines: number;
  rejected: number;
  bytes: number;
  batches: number;
}

/**
 * tail → parse → aggregate → store, one transaction per batch. The checkpoint of every
 * stream read in a batch is committed with the batch's data, and the tailer is rewound
 * when a commit fails, so each line is counted exactly once through any crash.
 */
export class Pipeline {
  private readonly batchBytes: number;
  private readonly recentFlushMs: number;
  private readonly log: IngestLog;
  private lastRecentFlush: number;
  private chunkBase = 0;
  private fallbackTs = 0;
  /** The buffer the current chunk's lines are in (the tailer's, reused by its next read). */
  private chunk: Buffer | null = null;
  private batchLines = 0;
  private batchRejected = 0;
  private batchNewest: number | null = null;
  totals: DrainResult = { lines: 0, rejected: 0, bytes: 0, batches: 0 };

  private readonly sink: LineSink;

  constructor(private readonly o: PipelineOptions) {
    this.batchBytes = o.batchBytes ?? 8 * 1024 * 1024;
    this.recentFlushMs = o.recentFlushMs ?? 10_000;
    this.lastRecentFlush = o.clock.now();
    this.log = o.log ?? (() => {});
    const agg = o.aggregator;
    this.sink = {
      begin: (path: string, offset: number) => {
        this.chunkBase = offset;
        agg.setFile(logicalName(path), this.fallbackTs);
      },
      line: (buf: Buffer, start: number, end: number) => {
        const text = buf.toString('utf8', start, end);
        const r = parseLine(text, this.fallbackTs);
        if (isRejected(r)) {
          this.batchRejected++;
          agg.reject(r.rejected, r.detail, redactText(sampleText(buf.subarray(start, end))), this.chunkBase + start, this.fallbackTs);
          return;
        }
        if (this.batchNewest === null || r.ts > this.batchNewest) this.batchNewest = r.ts;
        this.batchLines++;
        this.chunk = buf;
        agg.addLine(r, start, end);
      },
      overlong: (_path: string, bytes: number) => {
        this.batchRejected++;
        agg.reject('too_long', `line longer than the limit (${bytes} bytes read so far)`, '', this.chunkBase, this.fallbackTs);
      },
    };
  }

  /**
   * Reads and commits until nothing is pending or `maxBatches` batches were committed.
   * Returns what it did; `more` tells whether data is still pending.
   */
  drainSome(maxBatches = Infinity): DrainResult & { more: boolean } {
    const done: DrainResult = { lines: 0, rejected: 0, bytes: 0, batches: 0 };
    const { tailer, aggregator, writer, clock } = this.o;
    for (;;) {
      if (done.batches >= maxBatches) return { ...done, more: true };
      this.fallbackTs = clock.now();
      const before = new Map(tailer.checkpoints().map((c) => [c.fingerprint, c]));
      let bytes = 0;
      let caughtUp = false;
      const read: ReadResult[] = [];
      this.batchLines = 0;
      this.batchRejected = 0;
      this.batchNewest = null;
      while (bytes < this.batchBytes) {
        let r: ReadResult | null;
        try {
          r = tailer.readNext(this.sink, this.batchBytes - bytes);
        } finally {
          if (this.chunk !== null) aggregator.endChunk(this.chunk);
          this.chunk = null;
        }
        if (r === null) {
          caughtUp = true;
          break;
        }
        read.push(r);
        bytes += r.bytes;
        const c = r.checkpoint;
        aggregator.checkpoint({
          fingerprint: c.fingerprint,
          path: c.path,
          dev: c.dev,
          ino: c.ino,
          offset: c.offset,
          skipping: c.skipping,
          sizeSeen: c.size_at_checkpoint ?? null,
          updatedAt: this.fallbackTs,
        });
      }
      const released = tailer.takeReleased();
      if (released.length > 0) aggregator.release(released);
      if (read.length === 0 && released.length === 0) return { ...done, more: false };
      const now = clock.now();
      const flushRecent = caughtUp || now - this.lastRecentFlush >= this.recentFlushMs;
      const batch = aggregator.take(flushRecent);
      try {
        writer.commit(batch);
      } catch (e) {
        // Nothing of the batch was written: go back to the committed offsets.
        aggregator.discardRing();
        for (const r of read) {
          const cp = before.get(r.streamId);
          if (cp) tailer.rewind(r.streamId, cp);
        }
        this.log('error', 'batch commit failed; the lines will be read again', { error: (e as Error).message, code: 'VIGIL_STATE_DIR' });
        throw e;
      }
      if (flushRecent) this.lastRecentFlush = now;
      done.lines += this.batchLines;
      done.rejected += this.batchRejected;
      done.bytes += bytes;
      done.batches++;
      this.totals.lines += this.batchLines;
      this.totals.rejected += this.batchRejected;
      this.totals.bytes += bytes;
      this.totals.batches++;
      this.o.onCommit?.({ lines: this.batchLines, rejected: this.batchRejected, bytes, newestEventTs: this.batchNewest, caughtUp });
      if (caughtUp) return { ...done, more: false };
    }
  }
}
