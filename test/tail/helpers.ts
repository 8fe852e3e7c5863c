import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tailer } from '../../src/tail/tailer.js';
import type { Checkpoint, LineSink, TailerOptions } from '../../src/tail/types.js';

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tail-'));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A numbered JSON line; `tag` tells which writer produced it. ~100 bytes. */
export function line(n: number, tag = 'a'): string {
  return `{"n":${n},"tag":"${tag}","msg":"processing video segment","pad":"${'x'.repeat(40)}"}\n`;
}

export function lines(from: number, to: number, tag = 'a'): string {
  let s = '';
  for (let n = from; n <= to; n++) s += line(n, tag);
  return s;
}

export function append(file: string, from: number, to: number, tag = 'a'): void {
  fs.appendFileSync(file, lines(from, to, tag));
}

/** Collects what the tailer delivers, as text, plus over-long reports. */
export class CollectSink implements LineSink {
  readonly got: string[] = [];
  readonly overlongs: { path: string; bytes: number }[] = [];
  line(buf: Buffer, start: number, end: number): void {
    this.got.push(buf.toString('utf8', start, end));
  }
  overlong(p: string, bytes: number): void {
    this.overlongs.push({ path: p, bytes });
  }
  /**
   * Numbers of the JSON lines (any tag) in delivery order, leaving out `header` lines; what
   * is neither is `junk` (a line cut mid-way, read from a wrong offset).
   */
  numbersAndJunk(header: string): { nums: number[]; junk: string[] } {
    const nums: number[] = [];
    const junk: string[] = [];
    for (const l of this.got) {
      if (l === header.trimEnd()) continue;
      try {
        nums.push((JSON.parse(l) as { n: number }).n);
      } catch {
        junk.push(l);
      }
    }
    return { nums, junk };
  }

  /** Numbers of the JSON lines carrying `tag`, in delivery order. */
  numbers(tag = 'a'): number[] {
    const out: number[] = [];
    for (const l of this.got) {
      const o = JSON.parse(l) as { n: number; tag: string };
      if (o.tag === tag) out.push(o.n);
    }
    return out;
  }
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n++) out.push(n);
  return out;
}

/**
 * Drives a tailer the way the ingest loop does: scan, then read until nothing is pending,
 * "committing" every checkpoint handed out and dropping released ones.
 */
export class Harness {
  readonly sink = new CollectSink();
  /** What the store would hold: the last checkpoint per stream. */
  readonly committed = new Map<string, Checkpoint>();
  tailer: Tailer;
  readonly logs: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
  clock = 1_000_000;

  constructor(private readonly opts: Omit<TailerOptions, 'checkpoints' | 'log' | 'now'>, checkpoints: Checkpoint[] = []) {
    this.tailer = this.make(checkpoints);
  }

  private make(checkpoints: Checkpoint[]): Tailer {
    return new Tailer({
      ...this.opts,
      checkpoints,
      log: (level, msg, data) => this.logs.push({ level, msg, ...(data ? { data } : {}) }),
      now: () => this.clock,
    });
  }

  /** One scan and a full drain. Returns the number of lines delivered. */
  pump(maxBytes?: number): number {
    this.tailer.scan();
    let n = 0;
    for (;;) {
      const r = this.tailer.readNext(this.sink, maxBytes);
      if (!r) break;
      n += r.lines;
      this.committed.set(r.streamId, r.checkpoint);
    }
    for (const k of this.tailer.takeReleased()) this.committed.delete(k);
    return n;
  }

  /** `n` pumps, the clock moved `stepMs` before each. Returns the number of lines delivered. */
  pumpScans(n: number, stepMs = 0): number {
    let lines = 0;
    for (let i = 0; i < n; i++) {
      this.clock += stepMs;
      lines += this.pump();
    }
    return lines;
  }

  /** vigil stops: the tailer closes; what it committed is what restart() starts from. */
  stop(): void {
    this.tailer.close();
  }

  /** Stop (as a crash would: only committed checkpoints survive) and start a new tailer. */
  restart(): void {
    this.tailer.close();
    this.tailer = this.make([...this.committed.values()]);
  }

  close(): void {
    this.tailer.close();
  }
}
