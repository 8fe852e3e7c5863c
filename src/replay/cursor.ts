/**
 * One replayed logical file, read through the live ingest's own pieces: the tailer's
 * splitter (`splitChunk`: the same over-long limit, empty lines skipped, an unterminated
 * last line not a line yet) and the ChunkParser (parse, normalize, redaction of rejected
 * samples, copies), absorbed by the Aggregator as live chunks are. What is replay's own is
 * only where to stop: `feedUntil(T)` hands over the file's lines up to the first one
 * stamped after T, so the feeder can step the clock between them.
 */
import fs from 'node:fs';
import type { Aggregator } from '../ingest/aggregate.js';
import type { ChunkJob, ChunkParser } from '../ingest/chunk.js';
import type { FormatName } from '../parse/event.js';
import { parseLine } from '../parse/index.js';
import { isRejected } from '../parse/event.js';
import { DEFAULT_READ_CHUNK_BYTES, type LineSink } from '../tail/index.js';
import { splitChunk } from '../tail/split.js';

/** What a replay reads: a logical file's parts on disk, or lines held in memory (rule tests' inline lines). */
export interface ReplayInput {
  /** Logical file name (file_stats, `file:` params). */
  file: string;
  /** Files making up the stream, oldest first. */
  parts?: readonly string[];
  /** In-memory lines, each with the time it takes when it carries none (default: the previous line's). */
  lines?: readonly { text: string; at?: number }[];
  /** The input's configured format; absent: auto. */
  format?: FormatName;
  /**
   * Read one part from here (a checkpoint: the offset and whether it is inside an
   * over-long line) up to `end` bytes at most — the agent's catch-up reads a backlog so.
   * Only with a single part.
   */
  range?: { offset: number; skipping: boolean; end: number };
}

export interface CursorStats {
  lines: number;
  rejected: number;
  bytes: number;
  /** Bytes after the last newline of a part: not a line yet, as live ingest would wait for its end. */
  unterminated: number;
  /** Newest accepted line's time. */
  newest: number | null;
}

export class Cursor {
  readonly file: string;
  readonly stats: CursorStats = { lines: 0, rejected: 0, bytes: 0, unterminated: 0, newest: null };
  /** The time a line without one takes: the previous line's (see ChunkJob.carry). */
  carried = NaN;
  private readonly parts: readonly string[];
  private readonly format: FormatName | undefined;
  private buf: Buffer;
  private view: Uint8Array;
  private spans = new Int32Array(16384);
  private lineTs: Float64Array | null = null;
  private nSpans = 0;
  private next = 0;
  /** File offset of buf[0] and of the next read. */
  private base = 0;
  private pos = 0;
  private skipping = false;
  private part = -1;
  private fd: number | null = null;
  private partEnded = true;
  /** Bytes of the parts read to their end. */
  private doneParts = 0;
  private memory: boolean;
  private readonly sink: LineSink;
  private readonly range: ReplayInput['range'];
  /** Where reading would go on after the lines handed over (see position()). */
  private at: { offset: number; skipping: boolean };

  constructor(
    input: ReplayInput,
    private readonly maxLineBytes: number,
  ) {
    this.file = input.file;
    this.parts = input.parts ?? [];
    this.format = input.format;
    this.range = input.range;
    if (this.range !== undefined && this.parts.length !== 1) throw new RangeError('a replay range needs exactly one part');
    this.at = { offset: this.range?.offset ?? 0, skipping: this.range?.skipping ?? false };
    this.doneParts = -(this.range?.offset ?? 0); // stats.bytes: what this cursor read, not where it began
    this.sink = {
      line: (_b, start, end) => this.addSpan(start, end),
      overlong: (_p, bytes) => this.addSpan(-1, bytes),
    };
    this.memory = input.lines !== undefined;
    if (input.lines !== undefined) {
      // Each line with its newline, split by the same splitter; every span of a line takes its `at`.
      const bytes = Buffer.from(input.lines.map((l) => l.text + '\n').join(''));
      const ts: number[] = [];
      let at = 0;
      for (const l of input.lines) {
        const len = Buffer.byteLength(l.text) + 1;
        const before = this.nSpans;
        splitChunk(bytes.subarray(at, at + len), false, maxLineBytes, this.sink, this.file);
        for (let i = before; i < this.nSpans; i++) {
          // An over-long span is (-1, its length): nothing to move.
          const start = this.spans[2 * i]!;
          if (start !== -1) {
            this.spans[2 * i] = start + at;
            this.spans[2 * i + 1] = this.spans[2 * i + 1]! + at;
          }
          ts.push(l.at ?? NaN);
        }
        at += len;
      }
      this.lineTs = Float64Array.from(ts);
      this.buf = bytes;
    } else {
      // As the tailer reads: a chunk holds a maximal line plus its newline, so an over-long line is told apart.
      this.buf = Buffer.allocUnsafeSlow(Math.max(DEFAULT_READ_CHUNK_BYTES, maxLineBytes + 1));
    }
    this.view = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** The time of the file's first line that has one (in its first chunk), or null. */
  firstTime(): number | null {
    if (!this.fill()) return null;
    for (let i = this.next; i < this.nSpans; i++) {
      const start = this.spans[2 * i]!;
      if (start === -1) continue;
      const r = parseLine(this.buf.toString('utf8', start, this.spans[2 * i + 1]!), NaN, undefined, this.format);
      if (!isRejected(r) && r.ts === r.ts) return r.ts;
    }
    return null;
  }

  /**
   * Parses and absorbs the lines up to (not including) the first one stamped after
   * `until`; `afterChunk` runs after each absorbed part (the feeder bounds its batches
   * there). False when the file is at its end.
   */
  feedUntil(until: number, parser: ChunkParser, agg: Aggregator, afterChunk: () => void): boolean {
    while (this.fill()) {
      const rest = this.nSpans - this.next;
      const job: ChunkJob = {
        seq: 0,
        file: this.file,
        base: this.base,
        fallbackTs: this.carried,
        bytes: this.view,
        spans: this.spans.subarray(2 * this.next, 2 * this.nSpans),
        nSpans: rest,
        until,
        carry: true,
      };
      if (this.format !== undefined) job.format = this.format;
      if (this.lineTs !== null) job.lineTs = this.lineTs.subarray(this.next, this.nSpans);
      const d = parser.parse(job);
      this.carried = d.carried;
      if (d.consumed > 0) {
        agg.absorb(d.part, this.buf);
        this.next += d.consumed;
        this.noteDone();
        this.stats.lines += d.lines;
        this.stats.rejected += d.rejected;
        if (d.newest !== null && (this.stats.newest === null || d.newest > this.stats.newest)) this.stats.newest = d.newest;
        afterChunk();
      }
      if (d.consumed < rest) return true;
    }
    return false;
  }

  /**
   * The checkpoint of what was handed over so far: the offset of the next byte to read and
   * whether it is inside an over-long line. Exact at a chunk's end and before a normal
   * line; after an over-long line in mid-chunk whose end is not known it stays at the
   * last exact position (a crash there reads a few lines again, never skips one).
   */
  position(): { offset: number; skipping: boolean } {
    return this.at;
  }

  close(): void {
    this.closePart();
    this.part = this.parts.length;
    this.nSpans = this.next = 0;
  }

  /** Spans are waiting to be handed over (reading the next chunk when none are); false at the end. */
  private fill(): boolean {
    while (this.next >= this.nSpans) {
      if (this.memory) return false;
      if (this.partEnded && !this.openNext()) return false;
      this.nSpans = this.next = 0;
      const len = this.range !== undefined ? Math.max(0, Math.min(this.buf.length, this.range.end - this.pos)) : this.buf.length;
      const n = len === 0 ? 0 : fs.readSync(this.fd!, this.buf, 0, len, this.pos);
      const out = splitChunk(this.buf.subarray(0, n), this.skipping, this.maxLineBytes, this.sink, this.file);
      this.base = this.pos;
      this.pos += out.consumed;
      this.skipping = out.skipping;
      if (n < this.buf.length) {
        // The end of this part (the tailer's test too: a short read).
        this.stats.unterminated += n - out.consumed;
        this.closePart();
        this.partEnded = true;
      }
    }
    return true;
  }

  /** stats.bytes: up to the end of the last line handed over (for progress). */
  private noteDone(): void {
    if (this.next >= this.nSpans) this.at = { offset: this.pos, skipping: this.skipping };
    else if (this.spans[2 * this.next] !== -1) this.at = { offset: this.base + this.spans[2 * this.next]!, skipping: false };
    if (this.memory) {
      const end = this.spans[2 * this.next - 1]!;
      if (this.spans[2 * this.next - 2] !== -1) this.stats.bytes = end + 1;
      return;
    }
    const last = this.next - 1;
    const end = this.next >= this.nSpans ? this.pos : this.spans[2 * last] === -1 ? this.pos : this.base + this.spans[2 * last + 1]! + 1;
    this.stats.bytes = this.doneParts + end;
  }

  private openNext(): boolean {
    for (;;) {
      this.part++;
      if (this.part >= this.parts.length) return false;
      try {
        this.fd = fs.openSync(this.parts[this.part]!, 'r');
      } catch {
        continue; // rotated away between listing and reading
      }
      this.doneParts += this.pos;
      this.pos = this.base = this.range?.offset ?? 0;
      this.skipping = this.range?.skipping ?? false;
      this.partEnded = false;
      return true;
    }
  }

  private closePart(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
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
