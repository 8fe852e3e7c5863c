/**
 * A stream's identity is its first line (with its '\n'), or its first 1024 bytes when that
 * line is longer. Appending never changes it, so it survives renames, copies and restarts;
 * truncation (or rewriting) changes it. A file too short to have one is not read yet —
 * it has no complete line anyway.
 *
 * Two unrelated live files may begin with the same line. The stream that came second is
 * then keyed `FINGERPRINT@dev:ino` (an inode survives renames, so restarts still find it).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

export const FINGERPRINT_BYTES = 1024;

const scratch = Buffer.allocUnsafe(FINGERPRINT_BYTES);

/** Fingerprint of the first `n` bytes of a file held in `buf`, or null when there is none yet. */
export function fingerprintOf(buf: Buffer, n: number): string | null {
  const len = Math.min(n, FINGERPRINT_BYTES);
  const nl = buf.subarray(0, len).indexOf(10);
  let end: number;
  if (nl !== -1) end = nl + 1;
  else if (len >= FINGERPRINT_BYTES) end = FINGERPRINT_BYTES;
  else return null;
  return createHash('sha1').update(buf.subarray(0, end)).digest('hex');
}

/** Fingerprint through an open descriptor (a pread at 0; the file position is not used). */
export function fingerprintFd(fd: number): string | null {
  const n = fs.readSync(fd, scratch, 0, FINGERPRINT_BYTES, 0);
  return fingerprintOf(scratch, n);
}

export function fingerprintPath(p: string): string | null {
  const fd = fs.openSync(p, 'r');
  try {
    return fingerprintFd(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Bytes before a checkpoint's offset that its `tail` hash covers. */
export const TAIL_BYTES = 64;

/** The (up to) TAIL_BYTES bytes before `end` of a file, through its descriptor; null on a short read. Throws on I/O errors. */
export function bytesBefore(fd: number, end: number): Buffer | null {
  const from = Math.max(0, end - TAIL_BYTES);
  const b = Buffer.allocUnsafe(end - from);
  return fs.readSync(fd, b, 0, b.length, from) === b.length ? b : null;
}

/** A checkpoint's `tail`: the hash of the (up to) TAIL_BYTES bytes before `offset` in `content`. */
export function tailHash(content: Buffer, offset = content.length): string {
  return createHash('sha1')
    .update(content.subarray(Math.max(0, offset - TAIL_BYTES), offset))
    .digest('hex')
    .slice(0, 20);
}

/** The key for a stream whose fingerprint is already used by another stream. */
export function saltedKey(fp: string, dev: number, ino: number, n = 0): string {
  return n === 0 ? `${fp}@${dev}:${ino}` : `${fp}@${dev}:${ino}:${n}`;
}

/** The fingerprint a key was made from. */
export function keyFingerprint(key: string): string {
  const at = key.indexOf('@');
  return at === -1 ? key : key.slice(0, at);
}

export function isSaltedKey(key: string): boolean {
  return key.includes('@');
}
