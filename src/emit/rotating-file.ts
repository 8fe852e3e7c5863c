/**
 * An append-only file rotated by size the way logrotate's default and Python's
 * RotatingFileHandler do it: `name.log.(N-1)` → `name.log.N`, …, `name.log` → `name.log.1`,
 * then a fresh `name.log`. Renames, never copies, so a reader that follows the file
 * (vigil's tailer) finishes the renamed file and picks up the new one without losing or
 * repeating a line.
 *
 * No rotation library is installed (pino-roll, rotating-file-stream are not dependencies)
 * and this is the whole of it. Writes are synchronous: a line is in the file when write()
 * returns, so a crash right after logging an error never loses that error. One writer per
 * file: two processes rotating the same file would rename each other's files away.
 */
import fs from 'node:fs';

export interface RotatingFileOptions {
  /** Rotate before a write would take the file past this many bytes. */
  maxBytes: number;
  /** Rotated files kept (`.1` … `.N`); 0 keeps none (the full file is removed). */
  backups: number;
}

export class RotatingFile {
  private fd: number | null = null;
  private size = 0;

  constructor(
    readonly path: string,
    private readonly o: RotatingFileOptions,
  ) {
    if (!(o.maxBytes > 0)) throw new RangeError(`maxBytes must be positive (got ${o.maxBytes})`);
    if (!Number.isInteger(o.backups) || o.backups < 0) throw new RangeError(`backups must be a whole number ≥ 0 (got ${o.backups})`);
  }

  /** Appends `text` (whole lines), rotating first when it would not fit. A line longer than maxBytes gets a file of its own. */
  write(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    if (this.fd === null) this.open();
    if (this.size > 0 && this.size + buf.length > this.o.maxBytes) {
      this.rotate();
    }
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd!, buf, off, buf.length - off);
    this.size += buf.length;
  }

  /** Creates the file now (an empty log tells a reader the writer is there); idempotent. */
  open(): void {
    if (this.fd !== null) return;
    this.fd = fs.openSync(this.path, 'a', 0o644);
    this.size = fs.fstatSync(this.fd).size;
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    fs.closeSync(fd);
  }

  private rotate(): void {
    this.close();
    const n = this.o.backups;
    if (n === 0) {
      fs.rmSync(this.path, { force: true });
    } else {
      for (let i = n - 1; i >= 1; i--) {
        const from = `${this.path}.${i}`;
        if (fs.existsSync(from)) fs.renameSync(from, `${this.path}.${i + 1}`);
      }
      fs.renameSync(this.path, `${this.path}.1`);
    }
    this.open();
  }
}
