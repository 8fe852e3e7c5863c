import type { Clock } from '../clock.js';
import type { LogFn } from '../log.js';
import type { FormatName } from '../parse/event.js';
import type { BatchWriter } from '../store/batch.js';
import type { Checkpoint, LineSink, ReadResult, Tailer } from '../tail/index.js';
import { logicalName } from '../tail/index.js';
import type { Aggregator } from './aggregate.js';
import { ChunkParser, type ChunkDone, type ChunkJob } from './chunk.js';
import { ParsePool } from './parse-pool.js';

export type IngestLog = LogFn;

export interface PipelineOptions {
  tailer: Tailer;
  writer: BatchWriter;
  aggregator: Aggregator;
  clock: Clock;
  /** Bytes read before a batch is committed (one transaction). */
  batchBytes?: number;
  /** During a catch-up, recent lines are written at least this often (always when caught up). */
  recentFlushMs?: number;
  /** Worker threads that parse chunks (0: parse on the calling thread). Default 0. */
  parseWorkers?: number;
  /** Chunks (of up to 1 MiB) read but not merged yet, at most. */
  readAhead?: number;
  /** How many of a chunk's last lines the parsers describe for recent_lines. Default: the aggregator's. */
  recentLines?: number;
  /** retention.rejected_samples: rejected-line samples a batch keeps (the newest), default 100. */
  rejectedSamples?: number;
  /** max_line_bytes: a parse worker's heap must hold such a line parsed. */
  maxLineBytes?: number;
  /** Per input (the tailer's input index): the format its lines are read as; undefined or absent detects each line's own. */
  formats?: ReadonlyArray<FormatName | undefined>;
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

/** A batch being read from the tailer, parsed and merged; committed when closed and merged. */
interface ReadBatch {
  fallbackTs: number;
  /** Checkpoints before the batch's first read: where to rewind if it is not committed. */
  before: Map<string, Checkpoint>;
  reads: ReadResult[];
  released: string[];
  bytes: number;
  /** Log bytes this batch reads at most: batchBytes, less on a small disk (the store's WAL bound). */
  limit: number;
  /** Reading for this batch is over (it is full, or the tailer had nothing more). */
  closed: boolean;
  caughtUp: boolean;
  /** Chunks read but not merged yet. */
  pending: number;
  lines: number;
  rejected: number;
  newest: number | null;
}

interface InFlight {
  batch: ReadBatch;
  result: ChunkDone | null;
  error: Error | null;
}

/** A batch reads at least this much, however small the disk (one chunk). */
const MIN_BATCH_BYTES = 256 * 1024;
const CHUNK_BUFFER = (1 << 20) + (1 << 16);
/**
 * Chunks queued on a worker before this thread parses the next one itself: one being
 * parsed and one waiting, so the worker never waits for this thread between chunks.
 */
const WORKER_QUEUE = 2;
/** Chunks queued on a worker before a commit, during which this thread parses nothing. */
const COMMIT_QUEUE = 6;

/**
 * tail → parse → aggregate → store, one transaction per batch. The checkpoint of every
 * stream read in a batch is committed with the batch's data, and the tailer is rewound
 * when a batch is not committed, so each line is counted exactly once through any crash.
 *
 * The calling thread reads chunks, offers each to a parse worker and parses it itself
 * when the worker already has enough queued; the parts are merged in read order, so the
 * batch is the same whichever thread parsed what. While the next chunk to merge is
 * being parsed, reading goes on (at most `readAhead` chunks, into the next batches only
 * as far as this call may commit), and a commit first queues work for the worker.
 */
export class Pipeline {
  private readonly batchBytes: number;
  private readonly recentFlushMs: number;
  private readonly log: IngestLog;
  private readonly pool: ParsePool;
  /** Parses the chunks no worker took. */
  private readonly parser: ChunkParser;
  private readonly window: number;
  private lastRecentFlush: number;
  private seq = 0;
  // The chunk being read: its file, offset and line spans (the tailer's sink fills them).
  private chunk: Buffer | null = null;
  private chunkBase = 0;
  private chunkPath = '';
  private spans = new Int32Array(8192);
  private nSpans = 0;
  /** Returned chunk buffers, reused for the next chunks. */
  private readonly freeBytes: Uint8Array[] = [];
  private readonly freeSpans: Int32Array[] = [];
  /** drainSome calls run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();
  totals: DrainResult = { lines: 0, rejected: 0, bytes: 0, batches: 0 };
  /** Chunks a parse worker took (the rest were parsed on this thread). */
  chunksToWorkers = 0;

  private readonly sink: LineSink;

  constructor(private readonly o: PipelineOptions) {
    // Catching up, each batch rewrites sessions pages all over the table (session ids are
    // random): 16 MiB batches instead of 8 cut commit time on 1M lines from ~1.24 s to
    // ~1.05 s. Caught up, batches are as small as what arrived.
    this.batchBytes = o.batchBytes ?? 16 * 1024 * 1024;
    this.recentFlushMs = o.recentFlushMs ?? 10_000;
    this.lastRecentFlush = o.clock.now();
    this.log = o.log ?? (() => {});
    const parserOptions = { recentLines: o.recentLines ?? o.aggregator.recentCapacity, samplesPerBatch: o.rejectedSamples ?? 100 };
    this.parser = new ChunkParser(parserOptions);
    this.pool = new ParsePool(o.parseWorkers ?? 0, parserOptions, o.maxLineBytes ?? 1 << 20);
    this.window = o.readAhead ?? 8;
    this.sink = {
      begin: (path: string, offset: number) => {
        this.chunkBase = offset;
        this.chunkPath = path;
      },
      line: (buf: Buffer, start: number, end: number) => {
        this.chunk = buf;
        this.addSpan(start, end);
      },
      overlong: (_path: string, bytes: number) => {
        this.addSpan(-1, bytes);
      },
    };
  }

  /**
   * Reads and commits until nothing is pending or `maxBatches` batches were committed.
   * Returns what it did; `more` tells whether data is still pending. Calls run one at a time.
   */
  drainSome(maxBatches = Infinity): Promise<DrainResult & { more: boolean }> {
    const run = this.queue.then(() => this.drain(maxBatches));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Stops the parse workers (after the last drainSome). */
  async close(): Promise<void> {
    await this.queue;
    await this.pool.close();
  }

  private async drain(maxBatches: number): Promise<DrainResult & { more: boolean }> {
    const done: DrainResult = { lines: 0, rejected: 0, bytes: 0, batches: 0 };
    const batches: ReadBatch[] = []; // not committed yet, oldest first; only the last one may be open
    const chunks: InFlight[] = []; // read, not merged yet, in read order
    await this.pool.ready();
    try {
      for (;;) {
        this.pool.poll();
        const b = batches[0];
        if (b !== undefined && b.closed && b.pending === 0) {
          if (b.reads.length === 0 && b.released.length === 0) {
            // Caught up, nothing new. Lines of the last batches may still wait in the ring
            // (that batch filled up right at the end of the data): write them now.
            if (this.o.aggregator.hasRecent()) {
              this.o.writer.commit(this.o.aggregator.take(true));
              this.lastRecentFlush = this.o.clock.now();
            }
            return { ...done, more: false };
          }
          // Give the workers enough of the next batch to parse while this one is written.
          while (this.pool.room(COMMIT_QUEUE) && this.readOne(batches, chunks, maxBatches - done.batches, COMMIT_QUEUE)) {
            /* read ahead */
          }
          this.commit(b);
          batches.shift();
          done.lines += b.lines;
          done.rejected += b.rejected;
          done.bytes += b.bytes;
          done.batches++;
          this.o.onCommit?.({ lines: b.lines, rejected: b.rejected, bytes: b.bytes, newestEventTs: b.newest, caughtUp: b.caughtUp });
          if (b.caughtUp) return { ...done, more: false };
          if (done.batches >= maxBatches) return { ...done, more: true };
          continue;
        }
        const head = chunks[0];
        if (head !== undefined && head.error !== null) throw head.error;
        if (head !== undefined && head.result !== null) {
          chunks.shift();
          this.absorb(head);
          continue;
        }
        // The next chunk to merge is still being parsed: read (and maybe parse) another meanwhile.
        if (this.readOne(batches, chunks, maxBatches - done.batches)) continue;
        if (head === undefined) return { ...done, more: batches.length === 0 }; // nothing left to read or merge
        await this.pool.wait();
      }
    } catch (e) {
      if (batches.length > 0) {
        // Nothing of these batches was committed: read it all again.
        this.o.aggregator.take(false);
        this.o.aggregator.discardRing();
        this.rewind(batches[0]!.before, batches.flatMap((b) => b.reads));
        // debug: the caller logs a failing store once, not once per try (a full disk retries for hours).
        this.log('debug', 'batch failed; its lines will be read again', { error: (e as Error).message, code: 'VIGIL_STATE_DIR' });
      }
      throw e;
    }
  }

  private absorb(c: InFlight): void {
    const d = c.result!;
    this.o.aggregator.absorb(d.part, Buffer.from(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength));
    this.freeBytes.push(d.bytes);
    this.freeSpans.push(d.spans);
    const b = c.batch;
    b.pending--;
    b.lines += d.lines;
    b.rejected += d.rejected;
    if (d.newest !== null && (b.newest === null || d.newest > b.newest)) b.newest = d.newest;
  }

  /**
   * Reads one chunk, if fewer than `window` wait to be merged. Opens a new batch when
   * the last one is full, unless that would read past the `budget` batches this call
   * may commit. False when there is nothing to read now.
   */
  private readOne(batches: ReadBatch[], chunks: InFlight[], budget: number, queue = WORKER_QUEUE): boolean {
    if (chunks.length >= this.window) return false;
    let b = batches[batches.length - 1];
    if (b === undefined || b.closed) {
      if (b !== undefined && b.caughtUp) return false;
      if (batches.length >= budget) return false;
      b = this.openBatch();
      batches.push(b);
    }
    const { tailer } = this.o;
    this.nSpans = 0;
    this.chunk = null;
    const r = tailer.readNext(this.sink, b.limit - b.bytes);
    if (r === null) b.caughtUp = true;
    else {
      b.reads.push(r);
      b.bytes += r.bytes;
      if (this.nSpans > 0) {
        chunks.push(this.dispatch(b, queue, r.bytes, this.o.formats?.[r.input]));
        b.pending++;
      }
    }
    if (b.caughtUp || b.bytes >= b.limit) {
      b.closed = true;
      b.released = tailer.takeReleased();
    }
    return true;
  }

  private openBatch(): ReadBatch {
    return {
      fallbackTs: this.o.clock.now(),
      before: new Map(this.o.tailer.checkpoints().map((c) => [c.fingerprint, c])),
      reads: [],
      released: [],
      bytes: 0,
      limit: Math.min(this.batchBytes, Math.max(MIN_BATCH_BYTES, this.o.writer.batchBytesRoom())),
      closed: false,
      caughtUp: false,
      pending: 0,
      lines: 0,
      rejected: 0,
      newest: null,
    };
  }

  /** Writes a merged batch with its checkpoints in one transaction (throws, having written nothing, on failure). */
  private commit(b: ReadBatch): void {
    const { aggregator, writer, clock } = this.o;
    for (const r of b.reads) aggregator.checkpoint({ ...r.checkpoint, updatedAt: b.fallbackTs });
    if (b.released.length > 0) aggregator.release(b.released);
    const now = clock.now();
    const flushRecent = b.caughtUp || now - this.lastRecentFlush >= this.recentFlushMs;
    writer.commit(aggregator.take(flushRecent));
    if (flushRecent) this.lastRecentFlush = now;
    this.totals.lines += b.lines;
    this.totals.rejected += b.rejected;
    this.totals.bytes += b.bytes;
    this.totals.batches++;
  }

  private rewind(before: Map<string, Checkpoint>, reads: ReadResult[]): void {
    for (const r of reads) {
      const cp = before.get(r.streamId);
      if (cp) this.o.tailer.rewind(r.streamId, cp);
    }
  }

  /**
   * Copies the `len` bytes just read (the tailer reuses its buffer; every span lies in
   * them) and has a worker parse them, or parses them here.
   */
  private dispatch(batch: ReadBatch, queue: number, len: number, format: FormatName | undefined): InFlight {
    let bytes = this.freeBytes.pop();
    // Room for a whole default read (1 MiB + 1), so buffers get reused.
    if (bytes === undefined || bytes.length < len) bytes = new Uint8Array(new ArrayBuffer(Math.max(len, CHUNK_BUFFER)));
    if (this.chunk !== null) this.chunk.copy(bytes, 0, 0, len);
    let spans = this.freeSpans.pop();
    if (spans === undefined || spans.length < 2 * this.nSpans) spans = new Int32Array(new ArrayBuffer(Math.max(this.spans.length, 2 * this.nSpans) * 4));
    spans.set(this.spans.subarray(0, 2 * this.nSpans));
    const job: ChunkJob = { seq: this.seq++, file: logicalName(this.chunkPath), base: this.chunkBase, fallbackTs: batch.fallbackTs, bytes, spans, nSpans: this.nSpans };
    if (format !== undefined) job.format = format;
    const c: InFlight = { batch, result: null, error: null };
    const taken = this.pool.offer(
      job,
      (d, e) => {
        c.result = d;
        c.error = e ?? null;
      },
      queue,
    );
    if (taken) this.chunksToWorkers++;
    else c.result = this.parser.parse(job);
    return c;
  }

  private addSpan(start: number, end: number): void {
    const i = 2 * this.nSpans;
    if (i + 2 > this.spans.length) {
      const s = new Int32Array(this.spans.length * 2);
      s.set(this.spans);
      this.spans = s;
    }
    this.spans[i] = start;
    this.spans[i + 1] = end;
    this.nSpans++;
  }
}
