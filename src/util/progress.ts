/**
 * Progress of long work (replay, rule tests over big fixtures, later the agent's first
 * catch-up) on one terminal line of stderr: lines, MiB, rate and time left. Only on a
 * terminal: piped or under systemd, stderr stays as it was (logs and scripts read it).
 * The clock is injected, so what it prints depends on nothing but its inputs.
 */
import type { Clock } from '../clock.js';

export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): unknown;
}

export interface ProgressFigures {
  lines: number;
  bytes: number;
  /** Bytes expected in all; absent or 0: no time left is shown. */
  totalBytes?: number;
}

export interface ProgressOptions {
  stream: ProgressStream;
  clock: Clock;
  /** What is being done ("replay", a test's name). */
  label: string;
  /** Redraws at most this often. Default 250 ms. */
  intervalMs?: number;
  /** Nothing is drawn before the work has run this long. Default 0: the first update draws (clear() erases it before any summary). */
  delayMs?: number;
}

const MiB = 1024 * 1024;

/** "1,234,567 lines, 264.1 MiB, 412k lines/s (95.3 MiB/s), 2 s left" */
export function formatProgress(f: ProgressFigures, elapsedMs: number): string {
  const s = elapsedMs / 1000;
  let out = `${f.lines.toLocaleString('en-US')} lines, ${(f.bytes / MiB).toFixed(1)} MiB`;
  if (s > 0) out += `, ${rate(f.lines / s)} lines/s (${(f.bytes / MiB / s).toFixed(1)} MiB/s)`;
  if (f.totalBytes !== undefined && f.totalBytes > 0 && s > 0 && f.bytes > 0) {
    const left = Math.max(0, ((f.totalBytes - f.bytes) / f.bytes) * s);
    out += `, ${Math.round((100 * f.bytes) / f.totalBytes)}%, ${duration(left)} left`;
  }
  return out;
}

function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  return String(Math.round(n));
}

export function duration(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export class Progress {
  private readonly tty: boolean;
  private readonly started: number;
  private last = -Infinity;
  private shown = false;
  private readonly intervalMs: number;
  private label: string;

  constructor(private readonly o: ProgressOptions) {
    this.tty = o.stream.isTTY === true;
    this.started = o.clock.now();
    this.intervalMs = o.intervalMs ?? 250;
    this.label = o.label;
  }

  /** Whether anything is ever drawn (stderr is a terminal). */
  get enabled(): boolean {
    return this.tty;
  }

  /** Milliseconds since the reporter was made. */
  elapsedMs(): number {
    return this.o.clock.now() - this.started;
  }

  relabel(label: string): void {
    this.label = label;
  }

  /** Redraws the line when the interval has passed since the last redraw. */
  update(f: ProgressFigures): void {
    if (!this.tty) return;
    const now = this.o.clock.now();
    if (now - this.last < this.intervalMs || now - this.started < (this.o.delayMs ?? 0)) return;
    this.last = now;
    this.shown = true;
    // \r and erase-to-end: one line redrawn in place, never a scroll of lines.
    this.o.stream.write(`\r${this.label}: ${formatProgress(f, now - this.started)}\x1b[K`);
  }

  /** Erases the progress line (before a summary or an error is written). */
  clear(): void {
    if (!this.shown) return;
    this.o.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
