/**
 * Binding streams to files across rotation, truncation, deletion and restarts.
 *
 * A stream is identified by its fingerprint (the first line), never by name or inode
 * alone: names move under rotation and inodes are reused after deletion. scan() reconciles
 * what is on disk with the streams; readNext() reads one chunk from the stream that most
 * needs it (the oldest rotation of a family first, families in turn).
 *
 * Cases, as scan() sees them:
 * - rename+create: the bound inode shows up under `app.log.1`; the descriptor stays open and
 *   is drained, including writes made through the writer's old descriptor. The new
 *   `app.log` has another first line: a new stream.
 * - copytruncate: while the bound file still has fingerprint F, a sibling with the same F
 *   is the copy: a shadow, not read. When the bound file shrinks or its fingerprint changes,
 *   the stream moves to the copy at the same offset and drains it; the truncated file is a
 *   new stream from 0. Lines written between logrotate's copy and its truncate are in
 *   neither file: copytruncate itself loses them, no reader can get them back.
 * - plain truncation: no copy to move to, the stream ends (released); the new content is a
 *   new stream from 0.
 * - deletion: the descriptor is drained; once nothing new arrived for orphanGraceMs the
 *   stream is released (takeReleased() tells the caller to drop its checkpoint).
 * - restart: a checkpoint finds its file by fingerprint whatever the file is now called;
 *   on its old inode if that inode did not shrink, else on a same-family file.
 * - compressed while stopped or behind (logrotate `compress`): a checkpoint whose file is
 *   only left as `app.log.N.gz` is finished from the inflated content at its offset. A
 *   compressed file that continues no checkpoint is not read (its lines were read under
 *   its old name, or predate vigil).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemClock } from '../clock.js';
import { Discovery, isCompressed, logicalName, parseRotation, type DiscoveredFile } from './discover.js';
import { gzipHead, inflateFile, INFLATE_MAX_BYTES, type GzipHead } from './compressed.js';
import { bytesBefore, fingerprintFd, fingerprintOf, fingerprintPath, isSaltedKey, keyFingerprint, saltedKey, tailHash } from './fingerprint.js';
import { TailStream, type FileRef } from './stream.js';
import type { Checkpoint, FileStatus, InputSpec, LineSink, ReadResult, TailerOptions, TailLog } from './types.js';

export const DEFAULT_MAX_LINE_BYTES = 1 << 20;
export const DEFAULT_READ_CHUNK_BYTES = 1 << 20;
export const DEFAULT_ORPHAN_GRACE_MS = 5000;
export const DEFAULT_FORGET_AFTER_MS = 3_600_000;
/** Keys of released streams remembered so a later stream with the same first line gets its own key. */
const RETIRED_KEYS_KEPT = 10_000;
/** Scans a family waits for an unbound stream of its own before reading newer files anyway. */
const MAX_WAIT_SCANS = 2;

interface Found extends DiscoveredFile {
  fp: string | null;
  /** Bound to a stream in this scan. */
  claimed: boolean;
  /** Truncated or rewritten in place: its content is new even if its first line is not. */
  rewritten: boolean;
}

const inodeId = (dev: number, ino: number): string => `${dev}:${ino}`;

function errnoOf(e: unknown): NodeJS.ErrnoException {
  const err = e as NodeJS.ErrnoException;
  // Only system errors are per-file trouble to log and retry; anything else is a bug.
  if (!err || typeof err.code !== 'string') throw e;
  return err;
}

export class Tailer {
  private readonly inputs: InputSpec[];
  private readonly discovery: Discovery;
  private readonly maxLineBytes: number;
  private readonly buf: Buffer;
  private readonly orphanGraceMs: number;
  private readonly forgetAfterMs: number;
  private readonly log: TailLog;
  private readonly now: () => number;
  private readonly streams = new Map<string, TailStream>();
  private released: string[] = [];
  private readonly retired = new Set<string>();
  /** Families that had a checkpoint at start: their new files are read from the beginning. */
  private readonly checkpointFamilies = new Set<string>();
  private readonly ioErrors = new Map<string, string>();
  private readonly shadowsLogged = new Set<string>();
  /** gzipHead of compressed rotations by dev:ino:size (they do not change; bounded). */
  private readonly gzipHeads = new Map<string, GzipHead | null>();
  /** `key dev:ino`: compressed rotations settled for a stream (read to their end, or found to be another file): not inflated again. */
  private readonly gzSettled = new Set<string>();
  private scans = 0;
  /** Something could not be examined in this scan: do not conclude that a checkpoint's file is gone. */
  private incomplete = false;
  private serveCounter = 0;
  private closed = false;

  constructor(opts: TailerOptions) {
    this.inputs = opts.inputs;
    this.discovery = new Discovery(opts.inputs);
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(this.maxLineBytes) || this.maxLineBytes < 1) throw new RangeError(`maxLineBytes must be a positive integer, got ${opts.maxLineBytes}`);
    const chunk = Math.max(opts.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES, this.maxLineBytes + 1);
    if (!Number.isInteger(chunk)) throw new RangeError(`readChunkBytes must be an integer, got ${opts.readChunkBytes}`);
    this.buf = Buffer.allocUnsafe(chunk);
    this.orphanGraceMs = opts.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
    this.forgetAfterMs = opts.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS;
    this.log = opts.log ?? (() => {});
    this.now = opts.now ?? systemClock.now;
    const t = this.now();
    for (const cp of opts.checkpoints ?? []) {
      const family = logicalName(cp.path);
      const ref: FileRef = { path: cp.path, family, rank: parseRotation(path.basename(cp.path)).rank, dev: cp.dev, ino: cp.ino, input: -1 };
      const s = new TailStream(cp.fingerprint, keyFingerprint(cp.fingerprint), ref, cp.offset, cp.skipping, 'restored', t);
      s.sizeAtCheckpoint = cp.size_at_checkpoint ?? cp.offset;
      s.tail = cp.tail;
      this.streams.set(cp.fingerprint, s);
      this.checkpointFamilies.add(family);
    }
  }

  /** Reconcile with the disk: discover, fingerprint, bind, rebind, detect truncation and deletion. */
  scan(): void {
    if (this.closed) return;
    const now = this.now();
    const { files, errors } = this.discovery.run();
    this.incomplete = false;
    for (const e of errors) {
      this.ioError(e.path, 'discover', e.err);
      this.incomplete = true;
    }
    const found: Found[] = files.map((f) => ({ ...f, fp: null, claimed: false, rewritten: false }));
    const byInode = new Map<string, Found>();
    for (const f of found) byInode.set(inodeId(f.dev, f.ino), f);

    this.refreshBound(byInode, now);

    for (const f of found) {
      if (f.claimed || f.compressed) continue; // compressed: never a file to read, see finishFromCompressed
      try {
        f.fp = fingerprintPath(f.path);
        this.ioOk(f.path);
      } catch (e) {
        const err = errnoOf(e);
        if (err.code !== 'ENOENT') {
          this.ioError(f.path, 'fingerprint', err);
          this.incomplete = true;
        }
      }
    }

    this.bindUnbound(found, now);
    this.finishFromCompressed(found, now);
    this.bindNewFiles(found, now);

    for (const s of [...this.streams.values()]) {
      if (s.inflated !== null && !s.pending()) {
        // Compressed content never grows: once read, keep only the key and offset (as a file
        // gone out of view) so the same rotation is not inflated again.
        this.log('info', 'compressed rotation read to its end', { fingerprint: s.key, path: s.path, offset: s.offset });
        this.settleGz(s.key, s);
        s.unbind('away', now);
        continue;
      }
      if (s.unbound !== null) s.unboundScans++;
      if ((s.unbound === 'restored' || s.unbound === 'away') && this.isForgotten(s, now)) {
        this.log('info', 'file not seen for a long time; its checkpoint is dropped', { fingerprint: s.key, path: s.path, offset: s.offset, unseenMs: now - s.unboundAt });
        this.release(s);
      } else if (s.unbound === null && s.vanishedAt !== null && this.isFinished(s, now)) {
        const partial = s.knownSize - s.offset;
        const extra = { fingerprint: s.key, path: s.path, offset: s.offset, ...(partial > 0 ? { unterminatedBytes: partial } : {}) };
        if (s.deleted) {
          // No name left: the content can never be seen again, its checkpoint can go.
          this.log('info', 'released a deleted file after draining it', extra);
          this.release(s);
        } else {
          // Still linked somewhere, just not where the globs look — or a scan raced a rotation
          // and missed it under its new name. Releasing would re-read it from 0 if it shows up
          // again, so keep its key and offset (the descriptor is closed) until forgetAfterMs.
          this.log('info', 'file left the watched paths; its offset is kept in case it comes back', extra);
          s.unbind('away', now);
        }
      }
    }
    this.scans++;
  }

  /** Read one chunk from the stream that most needs it; null when nothing is pending. */
  readNext(sink: LineSink, maxBytes?: number): ReadResult | null {
    if (this.closed) return null;
    // maxBytes is a soft cap: a read must hold a whole maximal line to tell it from an over-long one.
    const len = Math.min(this.buf.length, Math.max(maxBytes ?? this.buf.length, this.maxLineBytes + 1));
    for (;;) {
      const s = this.pick();
      if (!s) return null;
      s.served = ++this.serveCounter;
      let r: { lines: number; bytes: number; atEof: boolean };
      try {
        r = s.read(this.buf, len, this.maxLineBytes, sink, this.now());
      } catch (e) {
        this.ioError(s.path, 'read', errnoOf(e));
        s.ioBlocked = true;
        continue;
      }
      if (this.ioErrors.size > 0) this.ioOk(s.path);
      if (r.bytes > 0) return { streamId: s.key, path: s.path, input: s.input, checkpoint: s.checkpoint(), lines: r.lines, bytes: r.bytes, atEof: r.atEof };
    }
  }

  /** The caller's commit failed: go back to the last committed checkpoint of this stream. */
  rewind(streamId: string, checkpoint: Checkpoint): boolean {
    const s = this.streams.get(streamId);
    if (!s) {
      this.log('warn', 'rewind of a stream that is no longer tailed', { fingerprint: streamId });
      return false;
    }
    s.offset = checkpoint.offset;
    s.skipping = checkpoint.skipping;
    // A compressed rotation marked read to its end is not, any more.
    for (const k of this.gzSettled) if (k.startsWith(`${s.key} `)) this.gzSettled.delete(k);
    s.heldUntil = 0;
    s.moreLikely = true;
    return true;
  }

  /** Keys of streams finished (deleted and drained, truncated, or gone at restart) since the last call. */
  takeReleased(): string[] {
    const out = this.released;
    this.released = [];
    return out;
  }

  /** Current checkpoints of every stream, bound or not yet found (e.g. to persist at shutdown). */
  checkpoints(): Checkpoint[] {
    return [...this.streams.values()].map((s) => s.checkpoint());
  }

  files(): FileStatus[] {
    return [...this.streams.values()].filter((s) => s.bound).map((s) => s.status());
  }

  close(): void {
    this.closed = true;
    for (const s of this.streams.values()) s.closeFd();
  }

  /**
   * An unbound stream's file (restored from a checkpoint, or gone out of view) has been looked
   * for long enough. Time, not scans: a scan racing a rotation can miss a file that is only
   * changing names, and forgetting a file that is still there means reading it twice.
   */
  private isForgotten(s: TailStream, now: number): boolean {
    return !this.incomplete && s.unboundScans >= 2 && now - s.unboundAt >= this.forgetAfterMs;
  }

  /**
   * A vanished stream is done when drained and quiet for the grace period. A file that still
   * has a link was renamed: it must also have been missed by two scans, since a scan can race
   * a rotation and miss a file that is only changing name.
   */
  private isFinished(s: TailStream, now: number): boolean {
    if (s.ioBlocked || s.pending() || now - s.lastGrowthAt < this.orphanGraceMs) return false;
    return s.deleted || s.missedScans >= 2;
  }

  /** Follow bound inodes to their current names; detect truncation and rewriting. */
  private refreshBound(byInode: Map<string, Found>, now: number): void {
    for (const s of this.streams.values()) {
      if (s.inflated !== null) {
        // Reading a .gz from memory: it stays this stream's (never a candidate for another), under its current name.
        const f = byInode.get(inodeId(s.dev, s.ino));
        if (f?.compressed) {
          f.claimed = true;
          s.path = f.path;
          s.rank = f.rank;
        }
        continue;
      }
      if (s.fd === null) continue;
      const id = inodeId(s.dev, s.ino);
      const f = byInode.get(id);
      // Claimed before anything can fail: a file a stream holds must never become a second stream.
      if (f) f.claimed = true;
      let size: number;
      let fp: string | null;
      try {
        const st = fs.fstatSync(s.fd);
        size = st.size;
        s.deleted = st.nlink === 0;
        fp = fingerprintFd(s.fd);
      } catch (e) {
        this.ioError(s.path, 'stat', errnoOf(e));
        s.ioBlocked = true;
        continue;
      }
      s.ioBlocked = false;
      if (f) {
        s.path = f.path;
        s.family = f.family;
        s.rank = f.rank;
        s.vanishedAt = null;
        s.missedScans = 0;
      } else {
        s.missedScans++;
        if (s.vanishedAt === null) {
          s.vanishedAt = now;
          this.log('debug', 'file deleted or renamed away; draining it', { fingerprint: s.key, path: s.path });
        }
      }
      if (size < s.lastSize || fp !== s.headFp) {
        this.log('info', 'file truncated', { fingerprint: s.key, path: s.path, offset: s.offset, size, previousSize: s.lastSize });
        s.unbind('truncated', now);
        s.excludeInode = id;
        if (f) {
          f.claimed = false;
          f.rewritten = true;
        }
        continue;
      }
      s.observeSize(size, now);
    }
  }

  /** Restored checkpoints find their files; truncated streams move to their copy. */
  private bindUnbound(found: Found[], now: number): void {
    const waiting = [...this.streams.values()].filter((s) => s.unbound !== null);
    if (waiting.length === 0) return;
    const candidates = (s: TailStream): Found[] =>
      found.filter((f) => !f.claimed && f.fp === s.headFp && inodeId(f.dev, f.ino) !== s.excludeInode);
    // Same inode first for every stream, so a family fallback cannot take another stream's file.
    const retryLater = new Set<TailStream>();
    for (const s of waiting) {
      const same = candidates(s).find((f) => f.dev === s.dev && f.ino === s.ino);
      if (!same) continue;
      if (s.unbound !== 'truncated' && same.size < s.sizeAtCheckpoint) {
        same.rewritten = true;
        continue;
      }
      const back = s.unbound === 'away';
      if (!this.bindTo(s, same, now)) retryLater.add(s);
      else if (back) this.log('info', 'file is back in view; reading on from its offset', { fingerprint: s.key, path: s.path, offset: s.offset });
    }
    for (const s of waiting) {
      // A file that went away is known by its inode: it is back on it, or not back.
      if (s.unbound === null || s.unbound === 'away' || retryLater.has(s)) continue;
      if (!isSaltedKey(s.key)) {
        // A copy (or a file renamed into place by copying) keeps the family; a same first line
        // in another family is a coincidence.
        const best = candidates(s)
          .filter((f) => f.family === s.family && !f.rewritten)
          .sort((a, b) => b.size - a.size)[0];
        if (best) {
          this.log('info', s.unbound === 'truncated' ? 'stream moved to its copy (copytruncate)' : 'checkpoint found under another file', {
            fingerprint: s.key,
            from: s.path,
            to: best.path,
            offset: s.offset,
          });
          if (!this.bindTo(s, best, now)) retryLater.add(s);
          continue;
        }
      }
      // A copy that could not be fingerprinted this time may still be there: wait for a clean scan.
      if (s.unbound === 'truncated' && !this.incomplete) {
        if (s.lastSize > s.offset) this.log('warn', 'truncated before it was fully read; unread bytes are lost', { fingerprint: s.key, path: s.path, lostBytes: s.lastSize - s.offset });
        this.release(s);
      }
    }
  }

  /**
   * A checkpoint's file not found after a restart may have been compressed by logrotate
   * meanwhile: a gzip rotation of the same family whose inflated content starts with the
   * stream's first line and holds more than the stream had read is that file, and the stream
   * reads on from its offset in the inflated content — provided the bytes before that offset
   * are the ones the checkpoint recorded (its `tail`), so a file that merely begins with the
   * same line (a header) is never taken for it. A checkpoint written before tails existed is
   * matched only when unambiguous: its key is not salted and no other stream of the family
   * has the same first line. A stream that was already reading a .gz matches only that .gz
   * (its inode: logrotate renames, it does not copy). One inflated stream at a time, so
   * memory holds at most INFLATE_MAX_BYTES of inflated content.
   */
  private finishFromCompressed(found: Found[], now: number): void {
    const streams = [...this.streams.values()];
    if (streams.some((s) => s.inflated !== null)) return;
    const waiting = streams.filter((s) => s.unbound === 'restored' || (s.unbound === 'away' && isCompressed(s.path)));
    if (waiting.length === 0) return;
    const gz = found.filter((f) => f.compressed && !f.claimed);
    for (const s of waiting) {
      const onItsGz = isCompressed(s.path);
      const ambiguous = isSaltedKey(s.key) || streams.some((o) => o !== s && o.family === s.family && o.headFp === s.headFp);
      if (!onItsGz && s.tail === undefined && ambiguous) continue;
      for (const f of gz) {
        if (f.claimed || f.family !== s.family) continue;
        if (onItsGz && (f.dev !== s.dev || f.ino !== s.ino)) continue;
        const head = this.gzipHeadOf(f);
        if (head === null || head.fp !== s.headFp || head.size <= s.offset || this.gzSettled.has(`${s.key} ${inodeId(f.dev, f.ino)}`)) continue;
        if (head.size > INFLATE_MAX_BYTES) {
          this.log('warn', 'a compressed rotation holds unread lines but is too large to inflate; they are not read', {
            code: 'VIGIL_TAIL_IO',
            fingerprint: s.key,
            path: f.path,
            offset: s.offset,
            inflatedBytes: head.size,
            limit: INFLATE_MAX_BYTES,
          });
          this.settleGz(s.key, f); // said once: not looked at again
          continue;
        }
        let content: Buffer;
        try {
          content = inflateFile(f.path);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          if (err.code === 'ENOENT') continue;
          this.log('warn', `cannot inflate ${f.path}: ${err.message}`, { code: 'VIGIL_TAIL_IO', path: f.path });
          this.gzipHeads.set(`${f.dev}:${f.ino}:${f.size}`, null); // corrupt: do not retry it every scan
          continue;
        }
        // The trailer's size was wrong, or the .gz was rewritten since its head was read.
        if (content.length <= s.offset || fingerprintOf(content, content.length) !== s.headFp) continue;
        if (s.tail !== undefined && tailHash(content, s.offset) !== s.tail) {
          this.log('debug', 'a compressed rotation begins like a checkpoint\'s file but is another file', { fingerprint: s.key, path: f.path });
          this.settleGz(s.key, f);
          continue;
        }
        this.log('info', 'file was compressed before it was read to its end; reading on from the compressed rotation', {
          fingerprint: s.key,
          path: f.path,
          offset: s.offset,
          inflatedBytes: content.length,
        });
        s.bindInflated(content, f, now);
        f.claimed = true;
        return;
      }
    }
  }

  private settleGz(key: string, file: { dev: number; ino: number }): void {
    if (this.gzSettled.size >= 1000) this.gzSettled.clear();
    this.gzSettled.add(`${key} ${inodeId(file.dev, file.ino)}`);
  }

  private gzipHeadOf(f: Found): GzipHead | null {
    const id = `${f.dev}:${f.ino}:${f.size}`;
    if (this.gzipHeads.has(id)) return this.gzipHeads.get(id)!;
    let head: GzipHead | null;
    try {
      head = gzipHead(f.path);
    } catch (e) {
      const err = errnoOf(e);
      if (err.code !== 'ENOENT') this.ioError(f.path, 'read', err);
      return null; // not cached: try again next scan
    }
    if (this.gzipHeads.size >= 1000) this.gzipHeads.clear();
    this.gzipHeads.set(id, head);
    return head;
  }

  /** Files no stream owns: a shadow copy of a bound stream, or a new stream. */
  private bindNewFiles(found: Found[], now: number): void {
    for (const f of found) {
      if (f.claimed || f.fp === null) continue;
      const owner = f.rewritten ? undefined : this.ownerOf(f);
      if (owner) {
        const id = `${owner.key} ${inodeId(f.dev, f.ino)}`;
        if (!this.shadowsLogged.has(id)) {
          if (this.shadowsLogged.size >= 1000) this.shadowsLogged.clear();
          this.shadowsLogged.add(id);
          this.log('debug', 'copy of a tailed file ignored', { fingerprint: owner.key, path: owner.path, copy: f.path });
        }
        continue;
      }
      this.newStream(f, now);
    }
  }

  /**
   * The live stream a file is a copy of: same first line, same family, another inode, and the
   * same bytes where both have content (the TAIL_BYTES before the shorter one's end), so a new
   * file that only begins with the same header line is not a copy. A stream whose file was
   * deleted owns no copies: a new file starting with the same line is new content.
   */
  private ownerOf(f: Found): TailStream | undefined {
    for (const s of this.streams.values()) {
      if (s.fd !== null && s.vanishedAt === null && s.headFp === f.fp && s.family === f.family && (s.dev !== f.dev || s.ino !== f.ino) && this.sameBytes(s, f)) return s;
    }
    return undefined;
  }

  /** Whether `f` holds the stream's bytes before min(both sizes); on an I/O error, assumed (it is looked at again next scan). */
  private sameBytes(s: TailStream, f: Found): boolean {
    const end = Math.min(s.lastSize, f.size);
    let fd: number | null = null;
    try {
      const a = bytesBefore(s.fd!, end);
      fd = fs.openSync(f.path, 'r');
      const b = bytesBefore(fd, end);
      return a === null || b === null || a.equals(b);
    } catch {
      return true;
    } finally {
      if (fd !== null) fs.closeSync(fd);
    }
  }

  private newStream(f: Found, now: number): void {
    let key = f.fp!;
    for (let n = 0; this.streams.has(key) || this.retired.has(key); n++) key = saltedKey(f.fp!, f.dev, f.ino, n);
    const fd = this.openVerified(f);
    if (fd === null) return;
    const fromEnd = this.scans === 0 && this.inputs[f.input]?.start_at === 'end' && !this.checkpointFamilies.has(f.family);
    let offset = 0;
    let skipping = false;
    if (fromEnd) {
      try {
        ({ offset, skipping } = this.lineStartBefore(fd, f.size));
      } catch (e) {
        this.ioError(f.path, 'read', errnoOf(e));
        fs.closeSync(fd);
        return;
      }
    }
    const s = new TailStream(key, f.fp!, f, offset, skipping, null, now);
    s.bind(fd, f, f.size, now);
    this.streams.set(key, s);
    f.claimed = true;
    this.log('debug', 'new stream', { fingerprint: key, path: f.path, offset });
  }

  /** False when the file moved or vanished since discovery (a rotation racing the scan). */
  private bindTo(s: TailStream, f: Found, now: number): boolean {
    const fd = this.openVerified(f);
    if (fd === null) {
      this.incomplete = true;
      return false;
    }
    s.bind(fd, f, f.size, now);
    f.claimed = true;
    return true;
  }

  /** Open a discovered file, making sure the name still points at the inode that was fingerprinted. */
  private openVerified(f: Found): number | null {
    let fd: number;
    try {
      fd = fs.openSync(f.path, 'r');
    } catch (e) {
      const err = errnoOf(e);
      if (err.code !== 'ENOENT') this.ioError(f.path, 'open', err);
      return null;
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.dev === f.dev && st.ino === f.ino) return fd;
    } catch (e) {
      this.ioError(f.path, 'stat', errnoOf(e));
    }
    fs.closeSync(fd);
    return null;
  }

  /** For start_at end: the start of the last (partial) line, so no fragment is parsed as a line. */
  private lineStartBefore(fd: number, size: number): { offset: number; skipping: boolean } {
    if (size === 0) return { offset: 0, skipping: false };
    const n = Math.min(size, this.buf.length);
    const got = fs.readSync(fd, this.buf, 0, n, size - n);
    const nl = this.buf.subarray(0, got).lastIndexOf(10);
    if (nl !== -1) return { offset: size - n + nl + 1, skipping: false };
    if (n === size) return { offset: 0, skipping: false };
    return { offset: size, skipping: true };
  }

  private pick(): TailStream | null {
    // Oldest rotation of each family first, so lines come out in order; families take turns.
    // A family whose older content is still being looked for (a checkpoint not found yet, a
    // truncated stream's copy) waits a few scans rather than read newer lines first.
    let waiting: Set<string> | null = null;
    for (const s of this.streams.values()) {
      // A stream that went away was drained first: nothing older to wait for.
      if (s.unbound !== null && s.unbound !== 'away' && s.unboundScans < MAX_WAIT_SCANS) (waiting ??= new Set()).add(s.family);
    }
    const oldest = new Map<string, TailStream>();
    for (const s of this.streams.values()) {
      if (!s.pending() || waiting?.has(s.family)) continue;
      const cur = oldest.get(s.family);
      // A deleted file is older than whatever now has its name.
      if (!cur || s.rank > cur.rank || (s.rank === cur.rank && s.vanishedAt !== null && cur.vanishedAt === null)) oldest.set(s.family, s);
    }
    let best: TailStream | null = null;
    for (const s of oldest.values()) if (!best || s.served < best.served) best = s;
    return best;
  }

  private release(s: TailStream): void {
    s.closeFd();
    this.streams.delete(s.key);
    this.released.push(s.key);
    this.retired.add(s.key);
    if (this.retired.size > RETIRED_KEYS_KEPT) this.retired.delete(this.retired.values().next().value!);
  }

  private ioError(p: string, op: string, err: NodeJS.ErrnoException): void {
    const code = err.code ?? 'EUNKNOWN';
    if (this.ioErrors.get(p) === code) return;
    this.ioErrors.set(p, code);
    this.log('warn', `cannot ${op} ${p}: ${err.message}; retrying on the next scan`, { code: 'VIGIL_TAIL_IO', path: p, op, errno: code });
  }

  private ioOk(p: string): void {
    if (this.ioErrors.size > 0 && this.ioErrors.delete(p)) this.log('info', `${p} is readable again`, { path: p });
  }
}
