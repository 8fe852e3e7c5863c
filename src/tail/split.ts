/**
 * The hot path: split one chunk into lines and hand each to the sink in place (no copy).
 * There is no carry buffer: a partial last line is left unconsumed and re-read from the
 * file next time, so what is consumed always ends just after a '\n' (or inside an
 * over-long line being discarded). The chunk must be at least maxLineBytes + 1 long for a
 * partial line that fills it to be recognised as over-long.
 */
import type { LineSink } from './types.js';

export interface SplitOutcome {
  /** Bytes of the chunk that are done with (delivered, skipped or discarded). */
  consumed: number;
  lines: number;
  /** Still inside an over-long line at the end of the chunk. */
  skipping: boolean;
}

const NL = 10;
const CR = 13;

/**
 * `chunk` holds exactly the bytes read (a view of the reused buffer). `skipping` says the
 * chunk starts inside an over-long line already reported.
 */
export function splitChunk(chunk: Buffer, skipping: boolean, maxLineBytes: number, sink: LineSink, path: string): SplitOutcome {
  const len = chunk.length;
  let pos = 0;
  let lines = 0;
  if (skipping) {
    const nl = chunk.indexOf(NL, 0);
    if (nl === -1) return { consumed: len, lines: 0, skipping: true };
    pos = nl + 1;
  }
  for (;;) {
    const nl = chunk.indexOf(NL, pos);
    if (nl === -1) break;
    if (nl - pos > maxLineBytes) {
      sink.overlong(path, nl - pos);
    } else {
      let end = nl;
      if (end > pos && chunk[end - 1] === CR) end--;
      if (end > pos) {
        sink.line(chunk, pos, end);
        lines++;
      }
    }
    pos = nl + 1;
  }
  const rest = len - pos;
  if (rest > maxLineBytes) {
    sink.overlong(path, rest);
    return { consumed: len, lines, skipping: true };
  }
  return { consumed: pos, lines, skipping: false };
}
