/**
 * One chunk of a file → its lines parsed and folded into a ChunkPart. This is the
 * per-line work of ingest (decode, JSON.parse, normalize, count); it runs in a parse
 * worker, or inline when there is none, and depends only on the job, so which thread
 * runs it changes nothing in the result.
 */
import { isRejected, type FormatName } from '../parse/event.js';
import { parseLine, redactText, sampleText } from '../parse/index.js';
import { Aggregator } from './aggregate.js';
import { StringTable, partBuffers, type ChunkPart, type RingMeta } from './part.js';

/**
 * Buffer#utf8Slice: what toString('utf8', start, end) calls once it has checked its
 * arguments, which took a third of the decoding time of a line.
 */
interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}

export interface ChunkJob {
  /** Position in the pipeline's read order. */
  seq: number;
  /** Logical file name (rotation suffix stripped). */
  file: string;
  /** File offset of bytes[0]. */
  base: number;
  /** Event time for lines without a usable timestamp; also the rejected-line time. */
  fallbackTs: number;
  bytes: Uint8Array;
  /** (start, end) byte spans of the lines in `bytes`; start -1 marks an over-long line, `end` bytes long so far. */
  spans: Int32Array;
  nSpans: number;
  /** The input's configured format; absent: each line's own is detected. */
  format?: FormatName;
  /**
   * Replay: stop before the first line whose time is after this (the step being filled);
   * ChunkDone.consumed says how many spans were taken. Absent: every line.
   */
  until?: number;
  /**
   * Replay: a line without a usable time takes the time of the line before it (fallbackTs
   * before the first), as it would have been written then. Absent (live): fallbackTs, the
   * time the batch was read.
   */
  carry?: boolean;
  /** Per span, the time of a line without its own (rule tests' inline lines, `at:`); overrides the two above unless NaN. */
  lineTs?: Float64Array;
}

export interface ChunkDone {
  seq: number;
  /** The job's buffers, handed back for reuse. */
  bytes: Uint8Array;
  spans: Int32Array;
  lines: number;
  rejected: number;
  /** Newest event time among the accepted lines, or null. */
  newest: number | null;
  /** Spans taken (all of them unless the job had `until`). */
  consumed: number;
  /** The time a next line without one would take (see ChunkJob.carry). */
  carried: number;
  part: ChunkPart;
}

export interface ChunkParserOptions {
  /** retention.recent_lines: how many of the chunk's last accepted lines to describe for the ring. */
  recentLines: number;
  samplesPerBatch: number;
}

export class ChunkParser {
  private readonly agg: Aggregator;
  private rStart = new Int32Array(1024);
  private rEnd = new Int32Array(1024);
  private rTs = new Float64Array(1024);
  private rLevel = new Int32Array(1024);
  private rLogger = new Int32Array(1024);

  constructor(private readonly opts: ChunkParserOptions) {
    this.agg = new Aggregator({ recentLines: 0, samplesPerBatch: opts.samplesPerBatch });
  }

  parse(job: ChunkJob): ChunkDone {
    const { fallbackTs, base, spans, nSpans, lineTs } = job;
    const until = job.until ?? Infinity;
    const carry = job.carry === true;
    let fb = fallbackTs;
    const buf = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
    const agg = this.agg;
    agg.setFile(job.file, fallbackTs);
    const keep = this.opts.recentLines;
    if (keep > 0 && this.rStart.length < nSpans) this.grow(nSpans);
    const t = new StringTable();
    // Most lines share their level and logger with the line before: skip the table lookup.
    let lastLevel = '';
    let lastLevelId = -1;
    let lastLogger = '';
    let lastLoggerId = -1;
    let kept = 0;
    let lines = 0;
    let rejected = 0;
    let newest: number | null = null;
    let i = 0;
    for (; i < nSpans; i++) {
      const start = spans[2 * i]!;
      const end = spans[2 * i + 1]!;
      if (lineTs !== undefined) {
        const at = lineTs[i]!;
        if (at === at) fb = at;
      }
      if (start === -1) {
        if (fb > until) break;
        rejected++;
        agg.reject('too_long', `line longer than the limit (${end} bytes read so far)`, '', base, fb);
        continue;
      }
      const text = (buf as unknown as Utf8Slicer).utf8Slice(start, end);
      const r = parseLine(text, fb, undefined, job.format);
      if (isRejected(r)) {
        if (fb > until) break;
        rejected++;
        agg.reject(r.rejected, r.detail, redactText(sampleText(buf.subarray(start, end))), base + start, fb);
        continue;
      }
      if (r.ts > until) break;
      if (carry) fb = r.ts;
      lines++;
      if (newest === null || r.ts > newest) newest = r.ts;
      const cell = agg.tally(r);
      if (cell !== null && keep > 0) {
        this.rStart[kept] = start;
        this.rEnd[kept] = end;
        this.rTs[kept] = r.ts;
        const level = r.level;
        if (lastLevelId === -1 || level !== lastLevel) lastLevelId = t.id((lastLevel = level));
        this.rLevel[kept] = lastLevelId;
        // The cell's copy of the logger when equal: then compared by identity.
        const logger = cell.logger === r.logger ? cell.logger : r.logger;
        if (lastLoggerId === -1 || logger !== lastLogger) lastLoggerId = t.id((lastLogger = logger));
        this.rLogger[kept] = lastLoggerId;
        kept++;
      }
    }
    let ring: RingMeta | null = null;
    if (kept > 0) {
      const from = Math.max(0, kept - keep);
      ring = {
        n: kept - from,
        start: this.rStart.slice(from, kept),
        end: this.rEnd.slice(from, kept),
        ts: this.rTs.slice(from, kept),
        level: this.rLevel.slice(from, kept),
        logger: this.rLogger.slice(from, kept),
      };
    }
    return { seq: job.seq, bytes: job.bytes, spans: job.spans, lines, rejected, newest, consumed: i, carried: fb, part: agg.takePart(t, ring) };
  }

  private grow(n: number): void {
    const size = Math.max(n, this.rStart.length * 2);
    this.rStart = new Int32Array(size);
    this.rEnd = new Int32Array(size);
    this.rTs = new Float64Array(size);
    this.rLevel = new Int32Array(size);
    this.rLogger = new Int32Array(size);
  }
}

/** The typed arrays a ChunkDone can hand over without copying (postMessage transfer list). */
export function transferablesOf(d: ChunkDone): ArrayBuffer[] {
  return [d.bytes.buffer as ArrayBuffer, d.spans.buffer as ArrayBuffer, ...partBuffers(d.part)];
}
