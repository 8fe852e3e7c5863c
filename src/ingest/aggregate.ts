import type { LogEvent } from '../parse/event.js';
import { isOperation, operationFailed } from '../parse/event.js';
import { storableLine } from '../parse/index.js';
import type { Batch, CheckpointRow, FileDelta, SessionDelta, WindowCell } from '../store/batch.js';
import { MINUTE, emptyBatch } from '../store/batch.js';
import { Histogram } from '../store/histogram.js';
import type { CardinalityGuard } from './cardinality.js';
import { CELL_NUM, CELL_STR, SESS_NUM, SESS_STR, encodePart, type ChunkPart, type RingMeta, type StringTable } from './part.js';
import { RecentRing } from './recent-ring.js';

const SEP = '\u001f';

export interface AggregatorOptions {
  /** retention.recent_lines: how many parsed lines the store keeps for inspection. */
  recentLines: number;
  /**
   * Rejected-line samples kept per batch at most: the newest ones, as the store keeps the
   * newest retention.rejected_samples overall. With that bound here too, the store ends
   * with the same samples however the lines were cut into batches (live, catch-up, replay).
   */
  samplesPerBatch: number;
  /** Caps distinct values per minute. Absent: values are kept raw (a parse worker's per-chunk part, capped when absorbed). */
  guard?: CardinalityGuard;
  /** The longest line the tailer delivers (max_line_bytes): the recent-line ring holds at least one. */
  maxLineBytes?: number;
}

/**
 * Folds parsed lines into one Batch: window cells, session deltas, per-file counters
 * and a ring of the latest lines. Per-line work is a few Map lookups; everything
 * costly (redaction, JSON) happens only for the lines that end up in recent_lines.
 */
export class Aggregator {
  private batch: Batch = emptyBatch();
  private index = new Map<number, Map<string, Map<string, Map<string, Map<string, WindowCell>>>>>();
  private file: FileDelta | null = null;
  private readonly ring: RecentRing;

  constructor(private readonly opts: AggregatorOptions) {
    this.ring = new RecentRing(opts.recentLines, (opts.maxLineBytes ?? 0) + 1);
  }

  /** Lines that follow are from `file` (the logical name: rotation suffix stripped). */
  setFile(file: string, now: number): void {
    let f = this.batch.files.get(file);
    if (f === undefined) {
      f = { file, lines: 0, rejected: 0, repaired: 0, overlong: 0, format: null, lastEventTs: null, lastReadAt: now };
      this.batch.files.set(file, f);
    }
    f.lastReadAt = now;
    this.file = f;
  }

  /**
   * Counts one accepted line (windows, sessions, file, last seen) without keeping it for
   * recent_lines. A copy (`copy_of`: the line also stands in another file) counts as a line
   * of its own file only, and returns null: its original carries the operation.
   */
  tally(e: LogEvent): WindowCell | null {
    const f = this.file!;
    f.lines++;
    if (e.repairs !== undefined) f.repaired++;
    f.format = e.format;
    if (f.lastEventTs === null || e.ts > f.lastEventTs) f.lastEventTs = e.ts;
    if (e.copyOf !== undefined) return null;

    const cell = this.findCell(e.ts - (e.ts % MINUTE), e.logger, e.level, e.stage ?? '', e.errorCode ?? '');
    cell.lines++;
    if (isOperation(e)) {
      cell.ops++;
      if (operationFailed(e)) cell.opsFailed++;
      const d = e.durationSeconds;
      if (d !== undefined) {
        cell.durCount++;
        cell.durSum += d;
        if (cell.durMin === null || d < cell.durMin) cell.durMin = d;
        if (cell.durMax === null || d > cell.durMax) cell.durMax = d;
        (cell.hist ??= new Histogram()).add(d);
      }
    }

    if (e.logger !== '') {
      const ls = this.batch.lastSeen.get(e.logger);
      if (ls === undefined) this.batch.lastSeen.set(e.logger, { kind: 'logger', name: e.logger, eventTs: e.ts });
      else if (e.ts > ls.eventTs) ls.eventTs = e.ts;
    }

    if (e.sessionId !== undefined) this.addSession(e);
    return cell;
  }

  reject(reason: string, detail: string, sample: string, offset: number, now: number): void {
    const f = this.file!;
    f.rejected++;
    if (reason === 'too_long') f.overlong++;
    const start = now - (now % MINUTE);
    const key = start + SEP + f.file + SEP + reason;
    const p = this.batch.parseErrors.get(key);
    if (p === undefined) this.batch.parseErrors.set(key, { start, file: f.file, reason, count: 1 });
    else p.count++;
    const samples = this.batch.samples;
    samples.push({ at: now, file: f.file, offset, reason, detail, sample });
    // Trimmed in bulk, not per line: a flood of bad lines costs no shifting per line.
    if (samples.length >= 2 * this.opts.samplesPerBatch + 64) this.trimSamples();
  }

  /** Keeps the newest samplesPerBatch samples of the batch. */
  private trimSamples(): void {
    const samples = this.batch.samples;
    const over = samples.length - this.opts.samplesPerBatch;
    if (over > 0) samples.splice(0, over);
  }

  /**
   * Adds a part that a parse worker folded from one chunk (see chunk.ts). Parts must be
   * absorbed in the order their chunks were read: new cells then meet the cardinality
   * guard in the order their lines came, samples keep the first ones, and the ring the
   * last lines. `bytes` is the chunk the part's ring entries point into.
   */
  absorb(p: ChunkPart, bytes: Buffer): void {
    const pf = p.file;
    const str = p.strings;
    this.setFile(pf.file, pf.lastReadAt);
    const f = this.file!;
    f.lines += pf.lines;
    f.rejected += pf.rejected;
    f.repaired += pf.repaired;
    f.overlong += pf.overlong;
    if (pf.format !== null) f.format = pf.format;
    if (pf.lastEventTs !== null && (f.lastEventTs === null || pf.lastEventTs > f.lastEventTs)) f.lastEventTs = pf.lastEventTs;

    const { cellStr, cellNum, histOff, histPairs } = p;
    for (let i = 0; i < p.nCells; i++) {
      const q = i * CELL_STR;
      const n = i * CELL_NUM;
      const c = this.findCell(cellNum[n]!, str[cellStr[q]!]!, str[cellStr[q + 1]!]!, str[cellStr[q + 2]!]!, str[cellStr[q + 3]!]!);
      c.lines += cellNum[n + 1]!;
      c.ops += cellNum[n + 2]!;
      c.opsFailed += cellNum[n + 3]!;
      c.durCount += cellNum[n + 4]!;
      c.durSum += cellNum[n + 5]!;
      const lo = cellNum[n + 6]!;
      const hi = cellNum[n + 7]!;
      if (lo === lo && (c.durMin === null || lo < c.durMin)) c.durMin = lo;
      if (hi === hi && (c.durMax === null || hi > c.durMax)) c.durMax = hi;
      const h0 = histOff[i]!;
      const h1 = histOff[i + 1]!;
      if (h1 > h0) {
        const counts = (c.hist ??= new Histogram()).counts;
        for (let k = h0; k < h1; k++) {
          const b = histPairs[2 * k]!;
          counts.set(b, (counts.get(b) ?? 0) + histPairs[2 * k + 1]!);
        }
      }
    }

    const sessions = this.batch.sessions;
    const { sessStr, sessNum } = p;
    for (let i = 0; i < p.nSessions; i++) {
      const q = i * SESS_STR;
      const n = i * SESS_NUM;
      const id = str[sessStr[q]!]!;
      const userId = strOrNull(str, sessStr[q + 1]!);
      const logger = strOrNull(str, sessStr[q + 2]!);
      const stage = strOrNull(str, sessStr[q + 3]!);
      const firstTs = sessNum[n]!;
      const lastTs = sessNum[n + 1]!;
      const finished = sessNum[n + 3]! as 0 | 1 | 2;
      const fts = sessNum[n + 4]!;
      const finishedTs = fts === fts ? fts : null;
      const s = sessions.get(id);
      if (s === undefined) sessions.set(id, { sessionId: id, userId, logger, firstTs, lastTs, stage, events: sessNum[n + 2]!, finished, finishedTs });
      else foldSession(s, userId, logger, firstTs, lastTs, stage, sessNum[n + 2]!, finished, finishedTs);
    }

    for (const l of p.lastSeen) {
      const ls = this.batch.lastSeen.get(l.name);
      if (ls === undefined) this.batch.lastSeen.set(l.name, l);
      else if (l.eventTs > ls.eventTs) ls.eventTs = l.eventTs;
    }
    for (const e of p.parseErrors) {
      const key = e.start + SEP + e.file + SEP + e.reason;
      const q = this.batch.parseErrors.get(key);
      if (q === undefined) this.batch.parseErrors.set(key, e);
      else q.count += e.count;
    }
    for (const x of p.samples) this.batch.samples.push(x);
    this.trimSamples();
    const r = p.ring;
    if (r !== null && r.n > 0) {
      for (let i = 0; i < r.n; i++) this.ring.push(r.start[i]!, r.end[i]!, r.ts[i]!, str[r.level[i]!]!, str[r.logger[i]!]!, f.file);
      this.ring.endChunk(bytes);
    }
  }

  /**
   * The batch so far as a part, and a fresh batch (for a parse worker: an aggregator
   * with no guard and no ring). `t` holds the strings `ring` refers to.
   */
  takePart(t: StringTable, ring: RingMeta | null): ChunkPart {
    this.trimSamples();
    const b = this.batch;
    const f = this.file ?? [...b.files.values()][0]!;
    const part = encodePart(f, b.cells, b.sessions, { lastSeen: [...b.lastSeen.values()], parseErrors: [...b.parseErrors.values()], samples: b.samples, ring }, t);
    this.batch = emptyBatch();
    this.index = new Map();
    this.file = null;
    return part;
  }

  checkpoint(cp: CheckpointRow): void {
    this.batch.checkpoints.set(cp.fingerprint, cp);
  }

  release(fingerprints: string[]): void {
    for (const fp of fingerprints) {
      this.batch.checkpoints.delete(fp);
      this.batch.released.push(fp);
    }
  }

  /** How many lines the ring keeps for recent_lines. */
  get recentCapacity(): number {
    return Math.max(0, this.opts.recentLines);
  }

  /** Lines wait in the ring for recent_lines. */
  hasRecent(): boolean {
    return this.ring.length > 0;
  }

  /**
   * Hands over the batch and starts a new one. With `flushRecent`, the ring of latest
   * lines goes into this batch; otherwise it waits (during a catch-up most of those
   * lines would be pruned before anyone could read them, so they are never written).
   */
  take(flushRecent: boolean): Batch {
    this.trimSamples();
    const b = this.batch;
    if (flushRecent && this.ring.length > 0) {
      b.recent = this.ring.drain().map((r) => ({ ts: r.ts, level: r.level, logger: r.logger, file: r.file, line: storableLine(r.text) }));
    }
    this.batch = emptyBatch();
    this.index = new Map();
    this.file = null;
    return b;
  }

  /** The commit failed: the lines will be read again, so forget what the ring holds. */
  discardRing(): void {
    this.ring.clear();
  }

  /**
   * The cell for a line, through nested maps keyed by the values themselves: no key
   * string is built per line (concatenating and hashing one cost more than the rest of
   * the aggregation), and strings from JSON.parse carry their hash already.
   */
  private findCell(start: number, logger: string, level: string, stage: string, code: string): WindowCell {
    let byLogger = this.index.get(start);
    if (byLogger === undefined) this.index.set(start, (byLogger = new Map()));
    let byLevel = byLogger.get(logger);
    if (byLevel === undefined) byLogger.set(logger, (byLevel = new Map()));
    let byStage = byLevel.get(level);
    if (byStage === undefined) byLevel.set(level, (byStage = new Map()));
    let byCode = byStage.get(stage);
    if (byCode === undefined) byStage.set(stage, (byCode = new Map()));
    let cell = byCode.get(code);
    if (cell === undefined) {
      cell = this.newCell(start + SEP + logger + SEP + level + SEP + stage + SEP + code, start, logger, level, stage, code);
      byCode.set(code, cell);
    }
    return cell;
  }

  private newCell(key: string, start: number, logger: string, level: string, stage: string, code: string): WindowCell {
    const g = this.opts.guard;
    if (g === undefined) {
      const cell: WindowCell = { start, logger, level, stage, errorCode: code, lines: 0, ops: 0, opsFailed: 0, durCount: 0, durSum: 0, durMin: null, durMax: null, hist: null };
      this.batch.cells.set(key, cell);
      return cell;
    }
    const l2 = g.admit(start, 'logger', logger);
    const v2 = g.admit(start, 'level', level);
    const s2 = g.admit(start, 'stage', stage);
    const c2 = g.admit(start, 'error_code', code);
    const capped = l2 !== logger || v2 !== level || s2 !== stage || c2 !== code;
    const realKey = capped ? start + SEP + l2 + SEP + v2 + SEP + s2 + SEP + c2 : key;
    let cell = capped ? this.batch.cells.get(realKey) : undefined;
    if (cell === undefined) {
      cell = { start, logger: l2, level: v2, stage: s2, errorCode: c2, lines: 0, ops: 0, opsFailed: 0, durCount: 0, durSum: 0, durMin: null, durMax: null, hist: null };
      this.batch.cells.set(realKey, cell);
    }
    // Over-cap values keep resolving to the OTHER cell through the guard (never cached
    // under their own key, so the raw value cannot sneak into the store).
    return cell;
  }

  private addSession(e: LogEvent): void {
    const id = e.sessionId!;
    const ev = e.event;
    let fin: 0 | 1 | 2 = 0;
    if (ev === 'session_completed' || (ev === 'stage_completed' && e.stage === 'cleanup' && e.success !== false)) fin = 1;
    else if (ev === 'session_failed') fin = 2;
    const finTs = fin === 0 ? null : e.ts;
    const userId = e.userId ?? null;
    const logger = e.logger || null;
    const stage = e.stage ?? null;
    const s = this.batch.sessions.get(id);
    if (s === undefined) this.batch.sessions.set(id, { sessionId: id, userId, logger, firstTs: e.ts, lastTs: e.ts, stage, events: 1, finished: fin, finishedTs: finTs });
    else foldSession(s, userId, logger, e.ts, e.ts, stage, 1, fin, finTs);
  }
}

/**
 * Folds what came later for a session (one line, or a worker's delta) into `s`, by the
 * rules the store's upsert applies between batches: the stage follows the newer last
 * event, ids fill in once. One fold for all three, so where a chunk or a batch ends
 * never changes a session.
 */
function foldSession(
  s: SessionDelta,
  userId: string | null,
  logger: string | null,
  firstTs: number,
  lastTs: number,
  stage: string | null,
  events: number,
  finished: 0 | 1 | 2,
  finishedTs: number | null,
): void {
  if (s.userId === null) s.userId = userId;
  if (s.logger === null) s.logger = logger;
  if (firstTs < s.firstTs) s.firstTs = firstTs;
  if (lastTs >= s.lastTs) {
    if (stage !== null) s.stage = stage;
    s.lastTs = lastTs;
  } else if (s.stage === null) s.stage = stage;
  s.events += events;
  if (finished > s.finished) s.finished = finished;
  if (finishedTs !== null && (s.finishedTs === null || finishedTs > s.finishedTs)) s.finishedTs = finishedTs;
}

function strOrNull(strings: string[], i: number): string | null {
  return i === -1 ? null : strings[i]!;
}
