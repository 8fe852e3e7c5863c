import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { TarWalker, TarFormatError } from './tarwalk.js';

export type VerifyMode = 'none' | 'gzip' | 'tar' | 'tar.gz';
export const VERIFY_MODES: readonly VerifyMode[] = ['none', 'gzip', 'tar', 'tar.gz'];

export type IntegrityResult =
  | { intact: true }
  | { intact: false; problem: string } // the bytes are damaged: "gzip: unexpected end of file"
  | { intact: null; problem: string }; // could not tell: the file could not be read

/** Large reads keep a multi-GB backup check fast; still bounded, one chunk in flight per stage. */
const READ_CHUNK = 1 << 20;

/**
 * Reads the whole file through the decoders the mode names, keeping nothing but
 * stream buffers: gzip is fully inflated (so its CRC and length trailer are checked),
 * and tar headers are walked. A truncated or garbled file is reported as not intact.
 */
export async function verifyFile(path: string, mode: VerifyMode): Promise<IntegrityResult> {
  if (mode === 'none') return { intact: true };
  const source = createReadStream(path, { highWaterMark: READ_CHUNK });
  let readError: NodeJS.ErrnoException | null = null;
  source.on('error', (e) => {
    readError = e as NodeJS.ErrnoException;
  });
  const walker = mode === 'tar' || mode === 'tar.gz' ? new TarWalker() : null;
  const sink = new Writable({
    highWaterMark: READ_CHUNK,
    write(chunk: Buffer, _enc, done) {
      try {
        walker?.push(chunk);
        done();
      } catch (e) {
        done(e as Error);
      }
    },
    final(done) {
      try {
        walker?.end();
        done();
      } catch (e) {
        done(e as Error);
      }
    },
  });
  try {
    if (mode === 'tar') await pipeline(source, sink);
    else await pipeline(source, createGunzip({ chunkSize: 64 * 1024 }), sink);
    return { intact: true };
  } catch (e) {
    // Assigned in a callback, which TypeScript's narrowing cannot see.
    const failedRead = readError as NodeJS.ErrnoException | null;
    if (failedRead) return { intact: null, problem: `unreadable: ${failedRead.message}` };
    if (e instanceof TarFormatError) return { intact: false, problem: `tar: ${e.message}` };
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) return { intact: false, problem: `gzip: ${(e as Error).message}` };
    return { intact: null, problem: `unreadable: ${e instanceof Error ? e.message : String(e)}` };
  }
}
