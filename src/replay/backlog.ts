/**
 * The agent's catch-up on a backlog: the bytes its files held unread at start are read
 * as `vigil replay` reads files — on the logs' own clock, every file up to time T before
 * the rules are evaluated at T (feeder.ts, cursor.ts) — straight into the agent's store,
 * each batch committed with its files' checkpoints (exactly once through a crash), the
 * agent's RuleRunner stepping the log rules at each T without paging (announce: false).
 * So what was wrong during the backlog lands in the alert history at its true times, and
 * no rule ever judges a half-read file against the wall clock.
 */
import { feed, type FeedConfig, type FeedResult } from './feeder.js';
import type { FormatName } from '../parse/event.js';
import type { RuleRunner } from '../rules/runner.js';
import type { CheckpointRow } from '../store/batch.js';
import type { DB } from '../store/db.js';
import { logicalName, type Checkpoint } from '../tail/index.js';
import { Cursor } from './cursor.js';

/** A file behind at start: its stream, its committed checkpoint and its size then (what the catch-up reads up to). */
export interface BacklogFile {
  streamId: string;
  path: string;
  checkpoint: Checkpoint;
  size: number;
  format?: FormatName;
}

export interface BacklogOptions {
  files: readonly BacklogFile[];
  db: DB;
  config: FeedConfig;
  runner: RuleRunner;
  stepMs: number;
  /** First evaluation on the logs' clock (not before the alerts' own last times). */
  from?: number;
  /** Wall clock, for the checkpoints' updatedAt. */
  now: () => number;
  shouldStop: () => boolean;
}

export interface BacklogFileStatus {
  path: string;
  /** Bytes of the backlog not read yet. */
  bytesBehind: number;
}

export interface BacklogStatus {
  files: BacklogFileStatus[];
  bytesBehind: number;
  /** The logs' time the rules were last evaluated at; null before the first step. */
  logTime: number | null;
}

export class Backlog {
  /** The checkpoint each stream committed last (the tailer goes on from these). */
  readonly committed = new Map<string, Checkpoint>();
  private readonly read = new Map<string, number>();
  private logTime: number | null = null;

  constructor(private readonly o: BacklogOptions) {
    for (const f of o.files) this.read.set(f.streamId, f.checkpoint.offset);
  }

  status(): BacklogStatus {
    const files = this.o.files.map((f) => ({ path: f.path, bytesBehind: Math.max(0, f.size - (this.read.get(f.streamId) ?? f.checkpoint.offset)) }));
    return { files, bytesBehind: files.reduce((s, f) => s + f.bytesBehind, 0), logTime: this.logTime };
  }

  async run(): Promise<FeedResult> {
    const { files } = this.o;
    const res = await feed(
      files.map((f) => ({
        file: logicalName(f.path),
        parts: [f.path],
        range: { offset: f.checkpoint.offset, skipping: f.checkpoint.skipping, end: f.size },
        ...(f.format !== undefined ? { format: f.format } : {}),
      })),
      {
        db: this.o.db,
        config: this.o.config,
        runner: this.o.runner,
        stepMs: this.o.stepMs,
        ...(this.o.from !== undefined ? { from: this.o.from } : {}),
        evaluate: { scope: 'logs', announce: false },
        shouldStop: this.o.shouldStop,
        beforeCommit: (agg, cursors) => this.checkpoints(agg, cursors),
        onStep: async (now) => {
          this.logTime = now;
          // Let the API answer (and a stop be seen) between steps.
          await new Promise((r) => setImmediate(r));
        },
      },
    );
    this.settle(); // the last commit returned
    return res;
  }

  private checkpoints(agg: { checkpoint(cp: CheckpointRow): void }, cursors: readonly Cursor[]): void {
    // Called again: the previous commit returned.
    this.settle();
    const updatedAt = this.o.now();
    cursors.forEach((c, i) => {
      const f = this.o.files[i]!;
      const at = c.position();
      this.read.set(f.streamId, at.offset);
      // The tail hash belonged to the old offset; the tailer computes the new one at its next checkpoint.
      const { tail: _old, ...cp } = f.checkpoint;
      const next: Checkpoint = { ...cp, offset: at.offset, skipping: at.skipping, size_at_checkpoint: Math.max(cp.size_at_checkpoint ?? 0, f.size) };
      agg.checkpoint({ ...next, updatedAt });
      // Committed only once the commit returns: a failed one throws out of feed() with
      // `committed` still holding the previous batch's checkpoints.
      this.pending.set(f.streamId, next);
    });
  }

  private readonly pending = new Map<string, Checkpoint>();

  private settle(): void {
    for (const [k, v] of this.pending) this.committed.set(k, v);
    this.pending.clear();
  }
}
