import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import type { DB } from '../store/db.js';
import type { FileStatus } from '../tail/types.js';

/** One tailed file as the tailer sees it right now (lastReadAt: null before the first read). */
export type TailedFile = Pick<FileStatus, 'path' | 'size' | 'offset' | 'lagBytes' | 'lastReadAt'>;

export interface RuleReload {
  at: number;
  ok: boolean;
  error?: string;
}

/** What the running agent exposes to the API (the agent implements it; tests hand in a plain object). */
export interface RuntimeView {
  files(): TailedFile[];
  /** The last load/reload of the rule files; null before the first. */
  lastRuleReload(): RuleReload | null;
  /** Wall time minus the time of the newest committed line's read, ms; null when nothing was read yet. */
  ingestLagMs(): number | null;
  /** Epoch ms the agent started. */
  readonly startedAt: number;
  /** The logs are behind and rules reading them are held; null when caught up; absent: not known. */
  catchUp?(): CatchUpView | null;
  /** Whether commits to the store are failing right now (disk full, database locked); absent: not known. */
  storeWrites?(): StoreWrites;
}

export interface CatchUpView {
  /** 'backlog': the unread bytes found at start, read on the logs' clock; 'live': lines waiting for the live ingest. */
  phase: 'backlog' | 'live';
  since: number;
  bytesBehind: number;
  /** The logs' time the held rules stand at (backlog phase); null otherwise. */
  logTime: number | null;
  files: { path: string; bytesBehind: number }[];
  /** Alerts that fired during the backlog, announced once caught up if they still hold. */
  heldAlerts: number;
}

export type StoreWrites = { failing: false } | { failing: true; since: number; failures: number; error: string };

export interface Level2 {
  warning: number;
  /** null: this measure never makes the check critical. */
  critical: number | null;
}

export interface HealthThresholds {
  /** Percent, checked against the latest sample. Defaults: cpu 90/–, memory 85/95, disk 90/95. */
  cpu: Level2;
  memory: Level2;
  disk: Level2;
  /** A system sample older than this is stale (warning). Default: 4 × system.sample_interval, at least 60 s. */
  sampleMaxAgeMs: number;
  /** Failed / total over the last hour. Default 0.05 / 0.10 (DESIGN §5). */
  errorRate: Level2;
  /** Below this many operations in the hour the error rate is not judged. Default 20. */
  minOperations: number;
  /** An active session older than this is stuck. Default 30 min. */
  stuckSessionMs: number;
  /** Default 60 s / 10 min. */
  ingestLagMs: Level2;
  /** Rejected lines in the last hour. Default 100 / –. */
  parseErrorsPerHour: Level2;
  /** Pending notifications. Default 100 / –. */
  outboxPending: Level2;
  /** A tailed file whose last write is older than this is reported (warning). Default 24 h. */
  logFileStaleMs: number;
  /** Tailed bytes not yet read. Default 64 MiB / –. */
  logLagBytes: Level2;
  /** Bytes in the temp dir (top level). Default 5 GiB / –. */
  tempDirBytes: Level2;
  /** Free share of the temp dir's / storage path's filesystem, percent. Default warning below 10, critical below 2. */
  freePercent: Level2;
  /** The store (database + WAL). Default 2 GiB / –. */
  databaseBytes: Level2;
}

export type StorageProbe = { path: string } | { url: string; timeoutMs?: number };

export interface FfmpegStatus {
  available: boolean;
  message: string;
  /** When known: a test encode worked. */
  encodeOk?: boolean;
}

/** What the health checks need beyond the store (the agent fills it from its collectors and config). */
export interface HealthInputs {
  /** The collectors' cached ffmpeg result (CheckCache.ffmpeg); null while the first check runs; absent: not checked. */
  ffmpeg?: () => FfmpegStatus | null;
  /** Where processed media goes: a directory that must be writable, or a URL that must answer. Absent: "not configured". */
  storage?: StorageProbe | null;
  /** Default os.tmpdir(). */
  tempDir?: string;
  thresholds?: Partial<HealthThresholds>;
  /** How long a computed health report is served from cache. Default 30 s, at most 60 s. */
  cacheMs?: number;
}

export interface ApiDeps {
  /** The agent's better-sqlite3 handle; the API only reads, except POST /cleanup. */
  db: DB;
  clock: Clock;
  config: Config;
  runtime: RuntimeView;
  checks: HealthInputs;
  log?: Logger;
}
