/**
 * A small in-memory implementation of the rule engine's own FactSource and
 * CheckSource interfaces (the SQLite store implements FactSource for real).
 * It follows the documented semantics: windows are `from < ts <= to`.
 */
import type { BackupQuery, BackupStatus, CheckSource, FactSource, OperationTotals, SampleMetric, Sources } from '../../src/rules/facts.js';

export interface MemEvent {
  ts: number;
  level?: string;
  logger?: string;
  file?: string;
  stage?: string;
  /** Set on operations: true = success, false = failure. */
  success?: boolean;
  durationSeconds?: number;
  errorCode?: string;
}

export interface MemSession {
  id: string;
  startedAt: number;
  endedAt?: number;
  /** When it became abandoned (no end; quiet for abandon_after); it is not active from then on. */
  abandonedAt?: number;
}

const endOf = (s: MemSession) => s.endedAt ?? s.abandonedAt ?? Number.POSITIVE_INFINITY;

export class MemoryFacts implements FactSource {
  events: MemEvent[] = [];
  rejected: { ts: number; file: string }[] = [];
  sessions: MemSession[] = [];
  samples: { metric: SampleMetric; mount?: string; ts: number; value: number }[] = [];
  /** Query name → number of calls, to check the per-evaluation cache. */
  calls = new Map<string, number>();

  private count(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  private inWindow(ts: number, q: { from: number; to: number }): boolean {
    return ts > q.from && ts <= q.to;
  }

  private ops(q: { from: number; to: number; stage?: string; logger?: string }): MemEvent[] {
    return this.events.filter(
      (e) => e.success !== undefined && this.inWindow(e.ts, q) && (q.stage === undefined || e.stage === q.stage) && (q.logger === undefined || e.logger === q.logger),
    );
  }

  operations(q: { from: number; to: number; stage?: string; logger?: string }): OperationTotals {
    this.count('operations');
    const ops = this.ops(q);
    const timed = ops.filter((e) => e.durationSeconds !== undefined);
    return {
      total: ops.length,
      failed: ops.filter((e) => e.success === false).length,
      durationSum: timed.reduce((s, e) => s + e.durationSeconds!, 0),
      durationCount: timed.length,
    };
  }

  durationQuantile(q: { from: number; to: number; stage?: string; q: number }): number | null {
    this.count('durationQuantile');
    const d = this.ops(q)
      .map((e) => e.durationSeconds)
      .filter((x): x is number => x !== undefined)
      .sort((a, b) => a - b);
    if (d.length === 0) return null;
    return d[Math.min(d.length - 1, Math.ceil(q.q * d.length) - 1)]!;
  }

  errorCodeCount(q: { from: number; to: number; code?: string }): number {
    this.count('errorCodeCount');
    return this.events.filter((e) => e.errorCode !== undefined && this.inWindow(e.ts, q) && (q.code === undefined || e.errorCode === q.code)).length;
  }

  levelCount(q: { from: number; to: number; level: string; logger?: string }): number {
    this.count('levelCount');
    return this.events.filter((e) => e.level === q.level && this.inWindow(e.ts, q) && (q.logger === undefined || e.logger === q.logger)).length;
  }

  parseErrors(q: { from: number; to: number; file?: string }): number {
    this.count('parseErrors');
    return this.rejected.filter((r) => this.inWindow(r.ts, q) && (q.file === undefined || r.file === q.file)).length;
  }

  activeSessions(now: number): number {
    this.count('activeSessions');
    return this.sessions.filter((s) => s.startedAt <= now && endOf(s) > now).length;
  }

  abandonedSessions(q: { now: number; windowMs: number }): number {
    this.count('abandonedSessions');
    return this.sessions.filter((s) => s.abandonedAt !== undefined && s.abandonedAt <= q.now && s.abandonedAt > q.now - q.windowMs).length;
  }

  stuckSessions(q: { now: number; olderThanMs: number }): number {
    this.count('stuckSessions');
    return this.sessions.filter((s) => s.startedAt <= q.now && endOf(s) > q.now && q.now - s.startedAt > q.olderThanMs).length;
  }

  lastEventAt(q: { now: number; logger?: string; file?: string }): number | null {
    this.count('lastEventAt');
    const ts = this.events
      .filter((e) => e.ts <= q.now && (q.logger === undefined || e.logger === q.logger) && (q.file === undefined || e.file === q.file))
      .map((e) => e.ts);
    return ts.length ? Math.max(...ts) : null;
  }

  latestSample(q: { metric: SampleMetric; mount?: string; now: number; maxAgeMs: number }): number | null {
    this.count('latestSample');
    const s = this.samples
      .filter((x) => x.metric === q.metric && x.ts <= q.now && (q.mount === undefined || x.mount === q.mount))
      .sort((a, b) => b.ts - a.ts)[0];
    return s && q.now - s.ts <= q.maxAgeMs ? s.value : null;
  }

  distinctStages(q: { from: number; to: number }): string[] {
    this.count('distinctStages');
    return [...new Set(this.ops(q).map((e) => e.stage).filter((s): s is string => s !== undefined))];
  }
}

export class MemoryChecks implements CheckSource {
  backups = new Map<string, BackupStatus>();
  ffmpeg = true;
  calls = new Map<string, number>();

  backup(q: BackupQuery): BackupStatus {
    this.calls.set('backup', (this.calls.get('backup') ?? 0) + 1);
    return this.backups.get(q.pathPattern) ?? { present: false, ageSeconds: null, sizeBytes: null, intact: null, path: q.pathPattern, reason: 'absent' };
  }

  async ffmpegAvailable(): Promise<boolean> {
    return this.ffmpeg;
  }
}

export function memorySources(): Sources & { facts: MemoryFacts; checks: MemoryChecks } {
  return { facts: new MemoryFacts(), checks: new MemoryChecks() };
}
