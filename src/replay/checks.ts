/**
 * Check results for replay and rule tests. A replayed log says nothing about backups
 * or ffmpeg at the time it was written, and asking the machine running the replay
 * would make the output depend on that machine: replay answers "healthy" unless a
 * schedule (a rule test's `checks:`) says otherwise.
 */
import type { BackupQuery, BackupStatus, CheckSource } from '../rules/facts.js';
import { resolveBackupPath } from '../collect/backup-pattern.js';

export interface BackupFake {
  present: boolean;
  /** Age of the newest backup in seconds; null: there is none. Default 3600. */
  ageSeconds?: number | null;
  /** Size of today's file; default: exactly the rule's min_size when present. */
  sizeBytes?: number | null;
  /** Integrity check result; default: true when present and verified, null otherwise. */
  intact?: boolean | null;
}

/** What the checks answer from `at` on (until the next entry). Unset fields keep their previous value. */
export interface CheckChange {
  at: number;
  ffmpegAvailable?: boolean;
  backup?: BackupFake;
}

export class ScheduledChecks implements CheckSource {
  private readonly changes: CheckChange[];

  constructor(changes: readonly CheckChange[] = []) {
    this.changes = [...changes].sort((a, b) => a.at - b.at);
  }

  private state(now: number): { ffmpeg: boolean; backup: BackupFake } {
    let ffmpeg = true;
    let backup: BackupFake = { present: true };
    for (const c of this.changes) {
      if (c.at > now) break;
      if (c.ffmpegAvailable !== undefined) ffmpeg = c.ffmpegAvailable;
      if (c.backup !== undefined) backup = c.backup;
    }
    return { ffmpeg, backup };
  }

  backup(q: BackupQuery, now: number): BackupStatus {
    const b = this.state(now).backup;
    const path = resolveBackupPath(q.pathPattern, now, 'utc');
    if (!b.present) {
      return { present: false, ageSeconds: b.ageSeconds === undefined ? null : b.ageSeconds, sizeBytes: null, intact: null, path, reason: 'absent' };
    }
    return {
      present: true,
      ageSeconds: b.ageSeconds === undefined ? 3600 : b.ageSeconds,
      sizeBytes: b.sizeBytes === undefined ? q.minSizeBytes : b.sizeBytes,
      intact: b.intact === undefined ? (q.verify === 'none' ? null : true) : b.intact,
      path,
    };
  }

  ffmpegAvailable(now: number): boolean {
    return this.state(now).ffmpeg;
  }
}
