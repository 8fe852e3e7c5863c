/**
 * Reading a gzip-compressed rotation (`app.log.2.gz`). The tailer uses it for one thing: a
 * stream whose file was compressed while vigil was stopped or behind (logrotate's `compress`)
 * is finished from the inflated content, at the offset its checkpoint holds, so the lines
 * between that offset and the end are neither lost nor read twice.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { fingerprintOf } from './fingerprint.js';

/** Most inflated bytes held to finish one stream; a larger rotation is reported, not read. */
export const INFLATE_MAX_BYTES = 256 * 1024 * 1024;
/** Compressed bytes inflated to find the first line. */
const HEAD_BYTES = 64 * 1024;

export interface GzipHead {
  /** Fingerprint of the inflated content (see fingerprint.ts); null when it has no first line. */
  fp: string | null;
  /** Inflated size from the gzip trailer (exact below 4 GiB, which INFLATE_MAX_BYTES is). */
  size: number;
}

/** The first line's fingerprint and the inflated size, reading the head and the trailer only. Throws on I/O errors; null when it is not gzip. */
export function gzipHead(path: string): GzipHead | null {
  const fd = fs.openSync(path, 'r');
  try {
    const st = fs.fstatSync(fd);
    if (st.size < 18) return null; // header 10 + trailer 8
    const head = Buffer.allocUnsafe(Math.min(HEAD_BYTES, st.size));
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (head[0] !== 0x1f || head[1] !== 0x8b) return null;
    const trailer = Buffer.allocUnsafe(4);
    fs.readSync(fd, trailer, 0, 4, st.size - 4);
    let inflated: Buffer;
    try {
      inflated = zlib.gunzipSync(head.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      return null; // corrupt: nothing to finish from
    }
    return { fp: fingerprintOf(inflated, inflated.length), size: trailer.readUInt32LE(0) };
  } finally {
    fs.closeSync(fd);
  }
}

/** The whole inflated content (at most INFLATE_MAX_BYTES, else RangeError). Throws on I/O and format errors. */
export function inflateFile(path: string): Buffer {
  return zlib.gunzipSync(fs.readFileSync(path), { maxOutputLength: INFLATE_MAX_BYTES });
}
