/**
 * Line sources for replay. A file source streams its parts through one fixed buffer,
 * so a million-line fixture costs a megabyte of memory, not its size.
 */
import fs from 'node:fs';

export interface SourceLine {
  text: string;
  /** Byte offset of the line in its part (for rejected-line samples). */
  offset: number;
  /** The line exceeded the length limit: `text` is empty and it is counted as too_long. */
  overlong?: number;
  /** Time to use when the line carries none (inline test lines); otherwise the previous line's. */
  at?: number;
}

export interface LineSource {
  /** Logical file name (file_stats, `file:` params). */
  readonly file: string;
  /** The next line, or null at the end. */
  next(): SourceLine | null;
  close(): void;
}

const CHUNK = 1 << 20;

/** Reads `parts` one after the other as a single stream of lines. */
export class FileLineSource implements LineSource {
  private part = -1;
  private fd: number | null = null;
  private buf = Buffer.allocUnsafe(CHUNK);
  /** Valid bytes are buf[start, end). */
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private eof = true;
  /** Skipping the rest of an overlong line. */
  private skipping = false;

  constructor(
    readonly file: string,
    private readonly parts: readonly string[],
    private readonly maxLineBytes: number,
  ) {}

  next(): SourceLine | null {
    for (;;) {
      if (this.fd === null && !this.openNext()) return null;
      const nl = this.buf.indexOf(10, this.start);
      if (nl !== -1 && nl < this.end) {
        const lineStart = this.start;
        this.start = nl + 1;
        if (this.skipping) {
          this.skipping = false;
          continue;
        }
        return this.line(lineStart, nl);
      }
      // No newline in what is buffered.
      if (this.skipping) this.start = this.end;
      const pending = this.end - this.start;
      if (!this.skipping && pending > this.maxLineBytes) {
        const offset = this.base + this.start;
        this.skipping = true;
        this.start = this.end;
        return { text: '', offset, overlong: pending };
      }
      if (this.eof) {
        // The last line of a part without a trailing newline is still a line.
        const lineStart = this.start;
        this.start = this.end;
        this.closePart();
        if (pending > 0 && !this.skipping) return this.line(lineStart, lineStart + pending);
        this.skipping = false;
        continue;
      }
      this.fill();
    }
  }

  close(): void {
    this.closePart();
    this.part = this.parts.length;
  }

  private line(start: number, end: number): SourceLine {
    let e = end;
    if (e > start && this.buf[e - 1] === 13) e--;
    return { text: this.buf.toString('utf8', start, e), offset: this.base + start };
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
      this.start = this.end = this.base = 0;
      this.eof = false;
      this.skipping = false;
      return true;
    }
  }

  private fill(): void {
    // Keep the unread tail; grow the buffer only when one line needs it.
    const pending = this.end - this.start;
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.base += this.start;
      this.start = 0;
      this.end = pending;
    }
    if (this.end === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    const n = fs.readSync(this.fd!, this.buf, this.end, this.buf.length - this.end, null);
    if (n === 0) this.eof = true;
    this.end += n;
  }

  private closePart(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Lines held in memory (rule tests' inline input), in the order given. */
export class ArrayLineSource implements LineSource {
  private i = 0;
  constructor(
    readonly file: string,
    private readonly lines: readonly { text: string; at?: number }[],
  ) {}

  next(): SourceLine | null {
    const l = this.lines[this.i];
    if (l === undefined) return null;
    this.i++;
    return l.at === undefined ? { text: l.text, offset: 0 } : { text: l.text, offset: 0, at: l.at };
  }

  close(): void {
    this.i = this.lines.length;
  }
}
