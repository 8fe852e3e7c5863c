import { errorText, VigilError } from '../errors.js';
import { resolveBackupPath, type BackupTz } from './backup-pattern.js';
import { ageSeconds, checkBackup, IntegrityMemo, type BackupParams, type BackupStatus } from './backup.js';
import { checkFfmpeg, type FfmpegCheck, type FfmpegCheckOptions } from './ffmpeg.js';

/**
 * The query shape src/rules/facts.ts sends (BackupQuery there). Accepted as well as
 * BackupParams so CheckCache is the rules' CheckSource without an adapter.
 */
export interface BackupQueryLike {
  pathPattern: string;
  minSizeBytes: number;
  verify: 'gzip' | 'tar' | 'none';
}

/** What the rules read; structurally the CheckSource of src/rules/facts.ts, answered synchronously. */
export interface CheckSource {
  backup(q: BackupParams | BackupQueryLike, now: number): { present: boolean; ageSeconds: number | null; sizeBytes: number | null; intact: boolean | null; path: string; reason?: string };
  ffmpegAvailable(now: number): boolean;
}

export interface CheckCacheOptions {
  /** Default 5 min. */
  backupIntervalMs?: number;
  /** Default 10 min. */
  ffmpegIntervalMs?: number;
  /** Which calendar names today's backup. Default 'local'. */
  tz?: BackupTz;
  ffmpeg?: FfmpegCheckOptions;
  /** A check that could not run at all (bad params); disk and ffmpeg failures are results, not errors. */
  onError?: (err: VigilError) => void;
}

/**
 * Until the first look at a backup finishes its status is "unknown": present true,
 * size, age and intact null, this reason. Call warm() before the first evaluation
 * (and for new rules after a reload) so rules do not see it.
 */
export const PENDING_REASON = 'pending: first check not finished';

export function isPending(status: { reason?: string }): boolean {
  return status.reason === PENDING_REASON;
}
/** Entries nobody asked for in this long (a rule removed on reload) are dropped. */
const FORGET_AFTER_MS = 24 * 3_600_000;

type BackupEntry = {
  params: BackupParams;
  result: BackupStatus | null;
  checkedAt: number;
  lastRead: number;
  inFlight: Promise<void> | null;
  /** Resolves when `result` is first set. */
  ready: Promise<void>;
  markReady: () => void;
};

/**
 * Rules are evaluated synchronously and must never wait on a disk or on ffmpeg. This
 * answers at once with the last result and, when that result is older than its
 * interval (or names yesterday's file), starts a refresh in the background, one at a
 * time per check. Times come from the `now` arguments, so replay and tests drive it.
 */
export class CheckCache implements CheckSource {
  private readonly backupIntervalMs: number;
  private readonly ffmpegIntervalMs: number;
  private readonly tz: BackupTz;
  private readonly memo = new IntegrityMemo();
  private readonly backups = new Map<string, BackupEntry>();
  private ffmpegResult: FfmpegCheck | null = null;
  private ffmpegCheckedAt = 0;
  private ffmpegInFlight: Promise<void> | null = null;
  private lastSweep = 0;

  constructor(private readonly opts: CheckCacheOptions = {}) {
    this.backupIntervalMs = opts.backupIntervalMs ?? 300_000;
    this.ffmpegIntervalMs = opts.ffmpegIntervalMs ?? 600_000;
    this.tz = opts.tz ?? 'local';
  }

  backup(q: BackupParams | BackupQueryLike, now: number): BackupStatus {
    const params = toParams(q);
    const key = stableKey(params);
    let entry = this.backups.get(key);
    if (!entry) {
      let markReady!: () => void;
      const ready = new Promise<void>((r) => (markReady = r));
      entry = { params, result: null, checkedAt: 0, lastRead: now, inFlight: null, ready, markReady };
      this.backups.set(key, entry);
    }
    entry.lastRead = now;
    if (this.backupStale(entry, now)) this.refreshBackup(entry, now);
    this.sweep(now);
    if (!entry.result) return pending(params, now, this.tz);
    // The mtime does not move between checks, so the age can be exact at any later `now`.
    const r = entry.result;
    return r.mtimeMs === null ? r : { ...r, ageSeconds: ageSeconds(now, r.mtimeMs) };
  }

  /** ffmpeg is there and can encode. Unknown (first check still running) counts as available. */
  ffmpegAvailable(now: number): boolean {
    const r = this.ffmpeg(now);
    return r === null ? true : r.available && r.encodeOk;
  }

  /** The last full ffmpeg result (for health checks); null before the first one finishes. */
  ffmpeg(now: number): FfmpegCheck | null {
    const stale = this.ffmpegResult === null || now - this.ffmpegCheckedAt >= this.ffmpegIntervalMs || now < this.ffmpegCheckedAt;
    if (stale && !this.ffmpegInFlight) {
      this.ffmpegInFlight = checkFfmpeg(this.opts.ffmpeg)
        .then(
          (r) => {
            this.ffmpegResult = r;
          },
          (e: unknown) => {
            this.ffmpegResult = { available: false, encodeOk: false, message: `ffmpeg check failed: ${errorText(e)}` };
          },
        )
        .finally(() => {
          this.ffmpegCheckedAt = now;
          this.ffmpegInFlight = null;
        });
    }
    return this.ffmpegResult;
  }

  /**
   * Starts the given backup checks and the ffmpeg check and waits until each has a
   * first answer, or timeoutMs (default 10 s: a hung NFS mount must not hold up the
   * agent's start). A backup's first answer comes before its integrity check, so a
   * large archive does not delay the start either; the verified answer follows.
   */
  async warm(queries: (BackupParams | BackupQueryLike)[], now: number, timeoutMs = 10_000): Promise<void> {
    const waits = queries.map((q) => {
      this.backup(q, now);
      return this.backups.get(stableKey(toParams(q)))!.ready;
    });
    this.ffmpeg(now);
    if (this.ffmpegInFlight) waits.push(this.ffmpegInFlight);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs);
      timer.unref();
    });
    await Promise.race([Promise.all(waits), timeout]);
    clearTimeout(timer);
  }

  /** Resolves when no check is running (shutdown, tests). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.backups.values()].map((e) => e.inFlight).filter((p): p is Promise<void> => p !== null);
      if (this.ffmpegInFlight) running.push(this.ffmpegInFlight);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  private backupStale(entry: BackupEntry, now: number): boolean {
    if (entry.inFlight) return false;
    if (!entry.result) return true;
    if (now - entry.checkedAt >= this.backupIntervalMs || now < entry.checkedAt) return true;
    try {
      // Midnight (or the hour, with {HH}) names a new file: do not keep answering for the old one.
      return resolveBackupPath(entry.params.path, now, this.tz) !== entry.result.path;
    } catch {
      return false;
    }
  }

  private refreshBackup(entry: BackupEntry, now: number): void {
    const store = (r: BackupStatus): void => {
      entry.result = r;
      entry.markReady();
    };
    // The first look skips the (possibly minutes-long) integrity read, so the rules
    // get presence, size and age at once; the verified answer replaces it.
    const quickFirst = entry.result === null && (entry.params.verify ?? 'none') !== 'none';
    const quick = quickFirst
      ? checkBackup({ ...entry.params, verify: 'none' }, now, this.tz).then((r) => {
          if (!entry.result) store(r);
        })
      : Promise.resolve();
    entry.inFlight = quick
      .then(() => checkBackup(entry.params, now, this.tz, { memo: this.memo }))
      .then(
        (r) => store(r),
        (e: unknown) => {
          const err = e instanceof VigilError ? e : new VigilError('VIGIL_COLLECT_FAILED', `backup check failed: ${errorText(e)}`, { cause: e });
          store({ ...pending(entry.params, now, this.tz), present: false, reason: `error: ${err.message}` });
          this.opts.onError?.(err);
        },
      )
      .finally(() => {
        entry.checkedAt = now;
        entry.inFlight = null;
      });
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 3_600_000) return;
    this.lastSweep = now;
    for (const [key, e] of this.backups) if (now - e.lastRead > FORGET_AFTER_MS && !e.inFlight) this.backups.delete(key);
  }
}

function pending(params: BackupParams, now: number, tz: BackupTz): BackupStatus {
  let path = params.path;
  try {
    path = resolveBackupPath(params.path, now, tz);
  } catch {
    // an invalid pattern is reported by the check itself
  }
  return { present: true, path, sizeBytes: null, ageSeconds: null, mtimeMs: null, latestPath: null, intact: null, reason: PENDING_REASON };
}

function toParams(q: BackupParams | BackupQueryLike): BackupParams {
  if ('pathPattern' in q) return { path: q.pathPattern, min_size: q.minSizeBytes, verify: q.verify };
  return q;
}

/** Rule params come from YAML; the same params written in another key order are the same check. */
function stableKey(params: BackupParams): string {
  const o = params as unknown as Record<string, unknown>;
  return JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
}
