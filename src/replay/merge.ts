/**
 * Merges line sources into one stream in timestamp order (a k-way merge: each
 * source is read one line ahead, never more, except across a run of lines that
 * carry no time).
 *
 * A line without a usable timestamp takes the previous line's time in its source;
 * lines at the start of a source before any timed line take the first timed line's
 * time. Rejected lines (not JSON, too long) are placed the same way.
 */
import { isRejected, type LogEvent, type RejectReason } from '../parse/event.js';
import { parseLine, sampleText } from '../parse/index.js';
import type { LineSource, SourceLine } from './reader.js';

export interface MergedLine {
  /** Logical file the line came from. */
  file: string;
  ts: number;
  event?: LogEvent;
  /** The line as read (the store keeps recent lines verbatim, redacted). */
  text?: string;
  rejected?: { reason: RejectReason; detail: string; sample: string; offset: number };
}

/** Lines without a time buffered while looking for the first timed one. */
const MAX_UNTIMED_LEAD = 10_000;

class Cursor {
  head: MergedLine | null = null;
  private lastTs: number | null = null;
  private queue: MergedLine[] = [];
  private done = false;

  constructor(readonly source: LineSource) {}

  /** Moves to the next line; false at the end. A head whose time is still unknown has ts NaN. */
  advance(): boolean {
    if (this.head && !Number.isNaN(this.head.ts)) this.lastTs = this.head.ts;
    if (this.queue.length === 0) this.fillQueue();
    this.head = this.queue.shift() ?? null;
    return this.head !== null;
  }

  /** Places a head that had no time of its own (and no earlier line to borrow one from). */
  place(ts: number): void {
    setTs(this.head!, ts);
  }

  private fillQueue(): void {
    if (this.done) return;
    const untimed: MergedLine[] = [];
    for (;;) {
      const l = this.source.next();
      if (l === null) {
        this.done = true;
        break;
      }
      const m = this.parse(l);
      if (!Number.isNaN(m.ts)) {
        for (const u of untimed) setTs(u, m.ts);
        this.queue.push(...untimed, m);
        return;
      }
      untimed.push(m);
      if (untimed.length >= MAX_UNTIMED_LEAD) break;
    }
    // No timed line follows: the previous line's time, or (none either) left to the
    // merge, which places them at the time the replay has reached.
    if (this.lastTs !== null) for (const u of untimed) setTs(u, this.lastTs);
    this.queue.push(...untimed);
  }

  private parse(l: SourceLine): MergedLine {
    const fallback = l.at ?? this.lastTs ?? NaN;
    if (l.overlong !== undefined) {
      return {
        file: this.source.file,
        ts: fallback,
        rejected: { reason: 'too_long', detail: `line longer than the limit (${l.overlong} bytes read so far)`, sample: '', offset: l.offset },
      };
    }
    const r = parseLine(l.text, fallback);
    if (isRejected(r)) {
      return { file: this.source.file, ts: fallback, rejected: { reason: r.rejected, detail: r.detail, sample: sampleText(l.text), offset: l.offset } };
    }
    return { file: this.source.file, ts: r.ts, event: r, text: l.text };
  }
}

function setTs(m: MergedLine, ts: number): void {
  m.ts = ts;
  if (m.event) m.event.ts = ts;
}

/** The earliest time among the heads that have one (NaN compares false); null when none has. */
function earliestHead(cursors: readonly Cursor[]): number | null {
  let earliest = Number.POSITIVE_INFINITY;
  for (const c of cursors) if (c.head!.ts < earliest) earliest = c.head!.ts;
  return earliest === Number.POSITIVE_INFINITY ? null : earliest;
}

/**
 * Yields every line of every source in time order; equal times keep the sources'
 * order (then each source's own order), so the result is deterministic. Lines of a
 * source that has no timed line at all go at the replay's current time (before
 * anything is emitted: the earliest time any source starts at; with no time
 * anywhere, `defaultTs`).
 */
export function* mergeByTime(sources: readonly LineSource[], defaultTs = 0): Generator<MergedLine> {
  let current: number | null = null;
  const cursors = sources.map((s) => new Cursor(s));
  let live = cursors.filter((c) => c.advance());
  while (live.length > 0) {
    // Only before the first line is out does an untimed head need the earliest timed one.
    const untimedAt = current ?? earliestHead(live) ?? defaultTs;
    let best: Cursor | null = null;
    for (const c of live) {
      if (Number.isNaN(c.head!.ts)) c.place(untimedAt);
      if (best === null || c.head!.ts < best.head!.ts) best = c;
    }
    const line = best!.head!;
    if (current === null || line.ts > current) current = line.ts;
    yield line;
    if (!best!.advance()) live = live.filter((c) => c !== best);
  }
  for (const s of sources) s.close();
}
