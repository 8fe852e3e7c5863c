/** Collectors: system samples and health checks. They return values; the store persists them. */
export { sampleSystem, startSampler, type SystemSample, type DiskSample, type DiskSkipped, type SamplerOptions } from './system.js';
export {
  checkBackup,
  parseSize,
  validateBackupParams,
  IntegrityMemo,
  BACKUP_SETTLE_MS,
  type BackupParams,
  type BackupStatus,
  type BackupTz,
  type VerifyMode,
} from './backup.js';
export { resolveBackupPath, findLatestBackup, type BackupFile } from './backup-pattern.js';
export { verifyFile, type IntegrityResult } from './integrity.js';
export { checkFfmpeg, probe, runJob, type FfmpegCheck, type FfmpegCheckOptions, type JobOptions, type ProbeOptions } from './ffmpeg.js';
export { CheckCache, isPending, PENDING_REASON, type BackupQueryLike, type CheckCacheOptions, type CheckSource } from './checks.js';
export { startTicker, realSetTimer, type SetTimer, type Ticker, type TickerOptions } from './ticker.js';
