/**
 * What a parse worker sends back for one chunk, in columns: numbers in typed arrays
 * (moved, not copied, by postMessage) and every string once in a table. An object per
 * session and per cell cost more to serialize and rebuild than the rest of the merge.
 */
import type { FileDelta, ParseErrorDelta, RejectedSample, SessionDelta, WindowCell } from '../store/batch.js';

/** Strings of one part, each stored once; referenced by index (-1 for null). */
export class StringTable {
  readonly strings: string[] = [];
  private readonly ids = new Map<string, number>();

  id(s: string | null): number {
    if (s === null) return -1;
    let i = this.ids.get(s);
    if (i === undefined) this.ids.set(s, (i = this.strings.push(s) - 1));
    return i;
  }
}

/** The latest accepted lines of a chunk, for recent_lines: byte spans plus what is stored beside each. */
export interface RingMeta {
  n: number;
  start: Int32Array;
  end: Int32Array;
  ts: Float64Array;
  /** Indexes into the part's strings. */
  level: Int32Array;
  logger: Int32Array;
}

export const CELL_STR = 4; // logger, level, stage, errorCode
export const CELL_NUM = 8; // start, lines, ops, opsFailed, durCount, durSum, durMin, durMax (NaN: none)
export const SESS_STR = 4; // sessionId, userId, logger, stage
export const SESS_NUM = 5; // firstTs, lastTs, events, finished, finishedTs (NaN: none)

export interface ChunkPart {
  file: FileDelta;
  strings: string[];
  nCells: number;
  cellStr: Int32Array;
  cellNum: Float64Array;
  /** Histogram of cell i: (bucket, count) pairs from histPairs[2·histOff[i]] to histPairs[2·histOff[i+1]]. */
  histOff: Int32Array;
  histPairs: Float64Array;
  nSessions: number;
  sessStr: Int32Array;
  sessNum: Float64Array;
  lastSeen: Array<{ kind: 'logger' | 'file'; name: string; eventTs: number }>;
  parseErrors: ParseErrorDelta[];
  samples: RejectedSample[];
  ring: RingMeta | null;
}

const nan = (v: number | null): number => (v === null ? NaN : v);

export function encodePart(
  file: FileDelta,
  cellMap: ReadonlyMap<string, WindowCell>,
  sessionMap: ReadonlyMap<string, SessionDelta>,
  rest: Pick<ChunkPart, 'lastSeen' | 'parseErrors' | 'samples' | 'ring'>,
  t: StringTable,
): ChunkPart {
  const nCells = cellMap.size;
  const nSessions = sessionMap.size;
  const cells = [...cellMap.values()];
  const cellStr = new Int32Array(nCells * CELL_STR);
  const cellNum = new Float64Array(nCells * CELL_NUM);
  const histOff = new Int32Array(nCells + 1);
  let pairs = 0;
  for (const c of cells) if (c.hist !== null) pairs += c.hist.counts.size;
  const histPairs = new Float64Array(pairs * 2);
  let i = 0;
  let h = 0;
  for (const c of cells) {
    cellStr[i * CELL_STR] = t.id(c.logger);
    cellStr[i * CELL_STR + 1] = t.id(c.level);
    cellStr[i * CELL_STR + 2] = t.id(c.stage);
    cellStr[i * CELL_STR + 3] = t.id(c.errorCode);
    const n = i * CELL_NUM;
    cellNum[n] = c.start;
    cellNum[n + 1] = c.lines;
    cellNum[n + 2] = c.ops;
    cellNum[n + 3] = c.opsFailed;
    cellNum[n + 4] = c.durCount;
    cellNum[n + 5] = c.durSum;
    cellNum[n + 6] = nan(c.durMin);
    cellNum[n + 7] = nan(c.durMax);
    histOff[i] = h;
    if (c.hist !== null) {
      for (const [k, v] of c.hist.counts) {
        histPairs[2 * h] = k;
        histPairs[2 * h + 1] = v;
        h++;
      }
    }
    i++;
  }
  histOff[nCells] = h;
  const sessStr = new Int32Array(nSessions * SESS_STR);
  const sessNum = new Float64Array(nSessions * SESS_NUM);
  i = 0;
  for (const s of sessionMap.values()) {
    sessStr[i * SESS_STR] = t.id(s.sessionId);
    sessStr[i * SESS_STR + 1] = t.id(s.userId);
    sessStr[i * SESS_STR + 2] = t.id(s.logger);
    sessStr[i * SESS_STR + 3] = t.id(s.stage);
    const n = i * SESS_NUM;
    sessNum[n] = s.firstTs;
    sessNum[n + 1] = s.lastTs;
    sessNum[n + 2] = s.events;
    sessNum[n + 3] = s.finished;
    sessNum[n + 4] = nan(s.finishedTs);
    i++;
  }
  return { file, strings: t.strings, nCells, cellStr, cellNum, histOff, histPairs, nSessions, sessStr, sessNum, ...rest };
}

/** The typed arrays of a part (for a postMessage transfer list). */
export function partBuffers(p: ChunkPart): ArrayBuffer[] {
  const out = [p.cellStr, p.cellNum, p.histOff, p.histPairs, p.sessStr, p.sessNum].map((a) => a.buffer as ArrayBuffer);
  const r = p.ring;
  if (r !== null) out.push(...[r.start, r.end, r.ts, r.level, r.logger].map((a) => a.buffer as ArrayBuffer));
  return out;
}
