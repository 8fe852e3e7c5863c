/**
 * One stream: the content of one logical file, bound to the physical file (dev, ino) that
 * holds it now, read through a descriptor kept open across renames and deletion.
 */
import * as fs from 'node:fs';
import { bytesBefore, tailHash } from './fingerprint.js';
import { splitChunk } from './split.js';
import type { Checkpoint, FileStatus, LineSink } from './types.js';

export interface FileRef {
  path: string;
  family: string;
  rank: number;
  dev: number;
  ino: number;
  /** Index of the input whose glob found the file; -1 for a checkpoint not found yet. */
  input: number;
}

export class TailStream {
  fd: number | null = null;
  /**
   * The inflated content of a compressed rotation this stream is finishing (bindInflated),
   * read from memory instead of a descriptor; dropped once read to its end.
   */
  inflated: Buffer | null = null;
  path: string;
  family: string;
  rank = 0;
  input: number;
  dev: number;
  ino: number;
  offset: number;
  skipping: boolean;
  /** Latest size known from fstat or from a read. */
  knownSize = 0;
  /** Largest size seen for the bound inode; a smaller one means truncation. */
  lastSize = 0;
  /** Size at which only a partial line was left: nothing to read until the file grows past it. */
  heldUntil = 0;
  /** The last read filled the buffer, so more is probably there. */
  moreLikely = false;
  lastReadAt: number | null = null;
  lastGrowthAt: number;
  /** When the bound inode stopped being discoverable (deleted or renamed away). */
  vanishedAt: number | null = null;
  /** The bound inode has no name left (fstat nlink 0). */
  deleted = false;
  /** Consecutive scans that did not find the bound inode under any discovered name. */
  missedScans = 0;
  /** An I/O error on this stream; cleared by the next scan. */
  ioBlocked = false;
  /** Round-robin stamp: the stream served least recently goes first. */
  served = 0;
  /**
   * Why the stream has no file: `restored` from a checkpoint and not found yet, `away`
   * because its file left the globs' view while still linked (it may come back: a scan
   * racing a rotation, or a file moved out and back), or `truncated` and looking for the
   * copy (copytruncate). Null while bound.
   */
  unbound: 'restored' | 'away' | 'truncated' | null;
  /** Scans since the stream lost (or never had) its file. */
  unboundScans = 0;
  /** When the stream lost (or, restored, started without) its file. */
  unboundAt: number;
  /** For an unbound stream: the size recorded with its checkpoint (a smaller file is not its file any more). */
  sizeAtCheckpoint = 0;
  /** The inode a truncated stream must not rebind to (the truncated file itself). */
  excludeInode: string | null = null;
  /** Checkpoint `tail` (see types.ts) and the offset it was taken at; carried over while unbound. */
  tail: string | undefined;
  private tailAt = -1;

  constructor(
    readonly key: string,
    readonly headFp: string,
    file: FileRef,
    offset: number,
    skipping: boolean,
    unbound: TailStream['unbound'],
    now: number,
  ) {
    this.path = file.path;
    this.family = file.family;
    this.rank = file.rank;
    this.input = file.input;
    this.dev = file.dev;
    this.ino = file.ino;
    this.offset = offset;
    this.skipping = skipping;
    this.unbound = unbound;
    this.unboundAt = now;
    this.lastGrowthAt = now;
  }

  /** Close the descriptor and wait, unbound, for the file to be found again. */
  unbind(why: 'away' | 'truncated', now: number): void {
    this.closeFd();
    this.sizeAtCheckpoint = this.lastSize;
    this.unbound = why;
    this.unboundScans = 0;
    this.unboundAt = now;
  }

  bind(fd: number | null, file: FileRef, size: number, now: number): void {
    this.closeFd();
    this.fd = fd;
    this.path = file.path;
    this.family = file.family;
    this.rank = file.rank;
    this.input = file.input;
    this.dev = file.dev;
    this.ino = file.ino;
    this.knownSize = size;
    this.lastSize = size;
    this.heldUntil = 0;
    this.moreLikely = false;
    this.vanishedAt = null;
    this.deleted = false;
    this.missedScans = 0;
    this.ioBlocked = false;
    this.unbound = null;
    this.unboundScans = 0;
    this.excludeInode = null;
    this.lastGrowthAt = now;
  }

  /**
   * Bind to a compressed rotation of this stream's file, given inflated: the rest of the
   * content is read from memory at the same offsets (the inflated bytes are the file's bytes).
   */
  bindInflated(content: Buffer, file: FileRef, now: number): void {
    this.bind(null, file, content.length, now);
    this.inflated = content;
  }

  /** Bound to content: a descriptor, or an inflated compressed rotation. */
  get bound(): boolean {
    return this.fd !== null || this.inflated !== null;
  }

  /** Record a size from fstat. */
  observeSize(size: number, now: number): void {
    if (size > this.knownSize) this.lastGrowthAt = now;
    this.knownSize = size;
    if (size > this.lastSize) this.lastSize = size;
  }

  pending(): boolean {
    if (!this.bound || this.ioBlocked) return false;
    if (this.moreLikely) return true;
    return this.knownSize > this.offset && this.knownSize > this.heldUntil;
  }

  /** Read one chunk at the offset and deliver its complete lines. Throws on I/O errors. */
  read(buf: Buffer, len: number, maxLineBytes: number, sink: LineSink, now: number): { lines: number; bytes: number; atEof: boolean } {
    const start = this.offset;
    const n = this.inflated !== null ? this.inflated.copy(buf, 0, Math.min(start, this.inflated.length), Math.min(start + len, this.inflated.length)) : fs.readSync(this.fd!, buf, 0, len, start);
    sink.begin?.(this.path, start);
    const out = splitChunk(buf.subarray(0, n), this.skipping, maxLineBytes, sink, this.path);
    this.offset = start + out.consumed;
    this.skipping = out.skipping;
    const end = start + n;
    const atEof = n < len;
    this.moreLikely = !atEof;
    if (atEof) this.knownSize = end;
    else if (end > this.knownSize) this.knownSize = end;
    if (end > this.lastSize) this.lastSize = end;
    if (this.offset < end) this.heldUntil = end;
    if (out.consumed > 0) {
      this.lastGrowthAt = now;
      this.lastReadAt = now;
    }
    return { lines: out.lines, bytes: out.consumed, atEof };
  }

  /** The tail hash at the current offset, read from the content when bound (one pread of TAIL_BYTES at most). */
  private currentTail(): string | undefined {
    if (this.tailAt === this.offset || !this.bound) return this.tail;
    try {
      const bytes = this.inflated !== null ? this.inflated.subarray(0, this.offset) : bytesBefore(this.fd!, this.offset);
      // Unknown, not wrong, on a short read or an I/O error: the stream is then matched as before tails existed.
      this.tail = bytes === null ? undefined : tailHash(bytes);
    } catch {
      this.tail = undefined;
    }
    this.tailAt = this.offset;
    return this.tail;
  }

  checkpoint(): Checkpoint {
    const tail = this.currentTail();
    return {
      fingerprint: this.key,
      path: this.path,
      dev: this.dev,
      ino: this.ino,
      offset: this.offset,
      skipping: this.skipping,
      size_at_checkpoint: this.bound ? this.lastSize : this.sizeAtCheckpoint,
      ...(tail !== undefined ? { tail } : {}),
    };
  }

  status(): FileStatus {
    return {
      streamId: this.key,
      path: this.path,
      state: this.vanishedAt !== null ? 'vanished' : this.rank === 0 ? 'live' : 'rotated',
      size: this.knownSize,
      offset: this.offset,
      lagBytes: Math.max(0, this.knownSize - this.offset),
      lastReadAt: this.lastReadAt,
      skipping: this.skipping,
      input: this.input,
    };
  }

  closeFd(): void {
    this.inflated = null;
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Closing a descriptor we own only fails if it is already gone; nothing to recover.
    }
    this.fd = null;
  }
}
