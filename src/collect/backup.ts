import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { errorText, VigilError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { checkPattern, findLatestBackup, resolveBackupPath, type BackupTz } from './backup-pattern.js';
import { verifyFile, VERIFY_MODES, type IntegrityResult, type VerifyMode } from './integrity.js';

export type { BackupTz } from './backup-pattern.js';
export type { VerifyMode } from './integrity.js';

export interface BackupParams {
  /** e.g. /backups/backup-{YYYYMMDD}.tar.gz; see backup-pattern.ts for the placeholders. */
  path: string;
  /** Bytes, or '500k', '1MB', '2GiB' (k/M/G/T are powers of 1024, as `ls -lh` and `du -h` show them). */
  min_size?: number | string;
  /** Read the whole file to check it; default 'none'. */
  verify?: VerifyMode;
  /** A present file older than this is reported 'too old'; meant for paths without a date. */
  max_age?: string;
}

export interface BackupStatus {
  /** The file for the current period exists (it may still be too small, corrupt or too old: see reason). */
  present: boolean;
  /** Resolved for the period containing `now`. */
  path: string;
  /** Size of `path`; null when it is missing. */
  sizeBytes: number | null;
  /** Seconds since the mtime of `latestPath`: today's file, or the newest one when today's is missing. */
  ageSeconds: number | null;
  /** mtime of `latestPath`, so a cache can recompute ageSeconds at a later `now`. */
  mtimeMs: number | null;
  /** The file ageSeconds is about; null when no file matches the pattern at all. */
  latestPath: string | null;
  /** null when not verified (verify 'none', missing, unreadable, or still being written). */
  intact: boolean | null;
  /** 'ok' | 'missing' | 'too small (N < M)' | 'corrupt: <gzip/tar error>' | 'too old (Ns > Ms)' | 'being written (…)' | 'unreadable: …' */
  reason: string;
}

/** A file modified this recently that fails a check is assumed to be still being written. */
export const BACKUP_SETTLE_MS = 60_000;

/**
 * Remembers verification results by path, size, mtime and inode, so a multi-GB backup
 * is read once after it is written, not every five minutes.
 */
export class IntegrityMemo {
  private readonly entries = new Map<string, { size: number; mtimeMs: number; ino: number; result: IntegrityResult }>();
  constructor(private readonly maxEntries = 256) {}

  get(path: string, mode: VerifyMode, st: Stats): IntegrityResult | undefined {
    const e = this.entries.get(`${mode}\0${path}`);
    return e && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ino === st.ino ? e.result : undefined;
  }

  set(path: string, mode: VerifyMode, st: Stats, result: IntegrityResult): void {
    const key = `${mode}\0${path}`;
    this.entries.delete(key);
    this.entries.set(key, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, result });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** '500k', '1MB', '1.5 GiB', '2048' or a number → bytes. Throws VIGIL_RULE_INVALID. */
export function parseSize(input: number | string): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return Math.floor(input);
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?\s*$/i.exec(input);
    if (m) return Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]!);
  }
  throw new VigilError('VIGIL_RULE_INVALID', `invalid size ${JSON.stringify(input)} (expected bytes or e.g. 500k, 1MB, 2GiB)`);
}

/** Every problem with the params, for `vigil rules lint`; empty when they are usable. */
export function validateBackupParams(params: unknown): string[] {
  const problems: string[] = [];
  if (typeof params !== 'object' || params === null) return ['backup params must be an object with a path'];
  const p = params as Record<string, unknown>;
  const known = new Set(['path', 'min_size', 'verify', 'max_age']);
  for (const k of Object.keys(p)) if (!known.has(k)) problems.push(`unknown backup param "${k}" (known: ${[...known].join(', ')})`);
  const tryIt = (f: () => void): void => {
    try {
      f();
    } catch (e) {
      problems.push(errorText(e));
    }
  };
  if (typeof p.path !== 'string') problems.push('backup param "path" is required (e.g. /backups/backup-{YYYYMMDD}.tar.gz)');
  else tryIt(() => checkPattern(p.path as string));
  if (p.min_size !== undefined) {
    if (typeof p.min_size !== 'number' && typeof p.min_size !== 'string') problems.push('backup param "min_size" must be a number or a string like 1MB');
    else tryIt(() => parseSize(p.min_size as number | string));
  }
  if (p.verify !== undefined && !VERIFY_MODES.includes(p.verify as VerifyMode)) {
    problems.push(`backup param "verify" must be one of ${VERIFY_MODES.join(', ')}`);
  }
  if (p.max_age !== undefined) {
    if (typeof p.max_age !== 'string') problems.push('backup param "max_age" must be a duration like 26h');
    else tryIt(() => parseDuration(p.max_age as string));
  }
  return problems;
}

/**
 * Looks at the backup for the period containing `now`. Never throws for what it finds
 * on disk (missing, unreadable, damaged files are statuses); throws VIGIL_RULE_INVALID
 * when the params themselves are unusable.
 */
export async function checkBackup(
  params: BackupParams,
  now: number,
  tz: BackupTz = 'local',
  opts: { memo?: IntegrityMemo } = {},
): Promise<BackupStatus> {
  const problems = validateBackupParams(params);
  if (problems.length > 0) throw new VigilError('VIGIL_RULE_INVALID', problems.join('; '));
  const minSize = params.min_size === undefined ? 0 : parseSize(params.min_size);
  const maxAgeMs = params.max_age === undefined ? null : parseDuration(params.max_age);
  const mode: VerifyMode = params.verify ?? 'none';
  const path = resolveBackupPath(params.path, now, tz);

  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return absent(path, `unreadable: ${(e as Error).message}`);
    const latest = await findLatestBackup(params.path);
    return {
      present: false,
      path,
      sizeBytes: null,
      ageSeconds: latest ? ageSeconds(now, latest.mtimeMs) : null,
      mtimeMs: latest?.mtimeMs ?? null,
      latestPath: latest?.path ?? null,
      intact: null,
      reason: 'missing',
    };
  }
  if (!st.isFile()) return absent(path, 'not a regular file');

  let integrity: IntegrityResult | undefined = mode === 'none' ? { intact: true } : opts.memo?.get(path, mode, st);
  if (!integrity) {
    integrity = await verifyFile(path, mode);
    const after = await stat(path).catch(() => null);
    const changed = !after || after.size !== st.size || after.mtimeMs !== st.mtimeMs || after.ino !== st.ino;
    if (changed) {
      return present(path, st, now, null, `being written (changed while it was checked)`);
    }
    if (integrity.intact !== null) opts.memo?.set(path, mode, st, integrity);
  }
  const recentlyWritten = now - st.mtimeMs >= 0 && now - st.mtimeMs < BACKUP_SETTLE_MS;
  const writing = `being written (modified ${Math.floor((now - st.mtimeMs) / 1000)}s ago)`;
  const intact = mode === 'none' ? null : integrity.intact;

  if (integrity.intact === false) {
    return recentlyWritten ? present(path, st, now, null, writing) : present(path, st, now, false, `corrupt: ${integrity.problem}`);
  }
  if (integrity.intact === null) return present(path, st, now, null, integrity.problem);
  if (st.size < minSize) {
    return present(path, st, now, intact, recentlyWritten ? writing : `too small (${st.size} < ${minSize})`);
  }
  if (maxAgeMs !== null && now - st.mtimeMs > maxAgeMs) {
    return present(path, st, now, intact, `too old (${ageSeconds(now, st.mtimeMs)}s > ${Math.floor(maxAgeMs / 1000)}s)`);
  }
  return present(path, st, now, intact, 'ok');
}

function present(path: string, st: Stats, now: number, intact: boolean | null, reason: string): BackupStatus {
  return { present: true, path, sizeBytes: st.size, ageSeconds: ageSeconds(now, st.mtimeMs), mtimeMs: st.mtimeMs, latestPath: path, intact, reason };
}

function absent(path: string, reason: string): BackupStatus {
  return { present: false, path, sizeBytes: null, ageSeconds: null, mtimeMs: null, latestPath: null, intact: null, reason };
}

/** Whole seconds; a file from the future (clock skew, replayed time) counts as brand new, not negative. */
export function ageSeconds(now: number, mtimeMs: number): number {
  return Math.max(0, Math.floor((now - mtimeMs) / 1000));
}
