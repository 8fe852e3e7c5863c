/**
 * What processing code calls to log its work in the shape vigil reads (DESIGN §2), into
 * the four files processing services keep:
 *
 *   application.log       general messages (info/warning/error/critical)
 *   media_processing.log  stage and session events — the operations vigil counts
 *   errors.log            a copy of every ERROR/CRITICAL line, for people grepping errors
 *   performance.log       a copy of every operation slower than `slowSeconds`
 *
 * A copy carries `"copy_of": "<file holding the original>"`, so vigil counts it as a line
 * of errors.log (levels, silence of that file) but never as a second operation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { RotatingFile } from './rotating-file.js';

export const FILES = {
  application: 'application.log',
  media: 'media_processing.log',
  errors: 'errors.log',
  performance: 'performance.log',
} as const;

/** The logger name of stage and session events (what the shipped rules' tests use). */
export const MEDIA_LOGGER = 'media_processing';

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

export interface EmitterOptions {
  /** Where the four files go; created when missing. */
  dir: string;
  /** Written as `service` on every line and used as the logger name of general messages. Default "application". */
  service?: string;
  /** Rotate a file before it would pass this size. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept per log (`.1` … `.N`). Default 5. */
  backups?: number;
  /** Operations taking at least this long are copied to performance.log. Default 300 (the shipped slow-stage threshold). */
  slowSeconds?: number;
  clock?: Clock;
  /** A write failed (disk full, permissions). Logging never throws into processing code; default: one line on stderr. */
  onError?: (err: Error, file: string) => void;
}

/** Fields every event may carry. */
export interface Context {
  sessionId: string;
  userId?: string;
  correlationId?: string;
  /** More fields, written at top level; the standard ones above win on a clash. */
  extra?: Record<string, unknown>;
}

export interface StageStarted extends Context {
  stage: string;
  fileSizeBytes?: number;
}

export interface StageCompleted extends Context {
  stage: string;
  durationSeconds: number;
  /** Default true. false makes it a failed operation (logged at ERROR and copied to errors.log). */
  success?: boolean;
  fileSizeBytes?: number;
  videoCount?: number;
}

export interface ProcessingError extends Context {
  stage: string;
  /** Stable code such as FFMPEG_FAILED, STORAGE_UPLOAD_FAILED, VALIDATION_FAILED. */
  errorCode: string;
  error: string;
  stack?: string;
  durationSeconds?: number;
}

export interface SessionCompleted extends Context {
  videoCount?: number;
  durationSeconds?: number;
}

export interface SessionFailed extends Context {
  errorCode?: string;
  error?: string;
  /** The stage it failed in (informational: a session event is not an operation). */
  stage?: string;
  durationSeconds?: number;
}

export interface Emitter {
  stageStarted(e: StageStarted): void;
  stageCompleted(e: StageCompleted): void;
  processingError(e: ProcessingError): void;
  sessionCompleted(e: SessionCompleted): void;
  sessionFailed(e: SessionFailed): void;
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warning(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
  critical(message: string, extra?: Record<string, unknown>): void;
  /** The directory and the absolute path of each file. */
  readonly dir: string;
  readonly paths: Readonly<Record<keyof typeof FILES, string>>;
  close(): void;
}

const RESERVED = new Set(['timestamp', 'level', 'logger', 'message', 'copy_of']);
const ERROR_LEVELS: ReadonlySet<Level> = new Set(['ERROR', 'CRITICAL']);

export function createEmitter(opts: EmitterOptions): Emitter {
  const clock = opts.clock ?? systemClock;
  const service = opts.service ?? 'application';
  const slow = opts.slowSeconds ?? 300;
  const rot = { maxBytes: opts.maxBytes ?? 10 * 1024 * 1024, backups: opts.backups ?? 5 };
  fs.mkdirSync(opts.dir, { recursive: true });
  const paths = {
    application: path.join(opts.dir, FILES.application),
    media: path.join(opts.dir, FILES.media),
    errors: path.join(opts.dir, FILES.errors),
    performance: path.join(opts.dir, FILES.performance),
  };
  const files = {
    application: new RotatingFile(paths.application, rot),
    media: new RotatingFile(paths.media, rot),
    errors: new RotatingFile(paths.errors, rot),
    performance: new RotatingFile(paths.performance, rot),
  };
  let warned = false;
  const onError =
    opts.onError ??
    ((err: Error, file: string) => {
      if (warned) return;
      warned = true;
      process.stderr.write(`emit: cannot write ${file}: ${err.message} (further write errors are not shown)\n`);
    });

  // All four files exist from the start, and a permission problem shows at once.
  for (const f of Object.values(files)) {
    try {
      f.open();
    } catch (e) {
      onError(e as Error, f.path);
    }
  }

  const write = (to: keyof typeof files, line: Record<string, unknown>): void => {
    try {
      files[to].write(JSON.stringify(line) + '\n');
    } catch (e) {
      onError(e as Error, files[to].path);
    }
  };

  const base = (level: Level, logger: string, message: string): Record<string, unknown> => ({
    timestamp: new Date(clock.now()).toISOString(),
    level,
    logger,
    message,
    service,
  });

  /** Standard fields after `extra`, so a stray extra key can never change what vigil counts. */
  const build = (level: Level, logger: string, message: string, fields: Record<string, unknown>, extra?: Record<string, unknown>) => {
    const line = base(level, logger, message);
    if (extra) for (const [k, v] of Object.entries(extra)) if (!RESERVED.has(k) && v !== undefined) line[k] = v;
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) line[k] = v;
    return line;
  };

  const context = (c: Context) => ({ session_id: c.sessionId, user_id: c.userId, correlation_id: c.correlationId });

  /** An operation or session event: media_processing.log, plus its copies. */
  const media = (level: Level, message: string, fields: Record<string, unknown>, extra: Record<string, unknown> | undefined) => {
    const line = build(level, MEDIA_LOGGER, message, fields, extra);
    write('media', line);
    if (ERROR_LEVELS.has(level)) write('errors', { ...line, copy_of: FILES.media });
    // From `fields`, not `line`: a duration_seconds passed in `extra` never makes an operation slow.
    const duration = fields.duration_seconds as number | undefined;
    if (duration !== undefined && duration >= slow && (fields.event === 'stage_completed' || fields.event === 'processing_error')) {
      write('performance', { ...line, copy_of: FILES.media, slow_threshold_seconds: slow });
    }
  };

  const general = (level: Level) => (message: string, extra?: Record<string, unknown>) => {
    const line = build(level, service, message, {}, extra);
    write('application', line);
    if (ERROR_LEVELS.has(level)) write('errors', { ...line, copy_of: FILES.application });
  };

  return {
    dir: opts.dir,
    paths,
    stageStarted(e) {
      media('INFO', `${e.stage} started`, { event: 'stage_started', ...context(e), stage: e.stage, file_size_bytes: e.fileSizeBytes }, e.extra);
    },
    stageCompleted(e) {
      const success = e.success ?? true;
      media(
        success ? 'INFO' : 'ERROR',
        `${e.stage} ${success ? 'completed' : 'failed'} in ${round(e.durationSeconds)}s`,
        {
          event: 'stage_completed',
          ...context(e),
          stage: e.stage,
          success,
          duration_seconds: e.durationSeconds,
          file_size_bytes: e.fileSizeBytes,
          video_count: e.videoCount,
        },
        e.extra,
      );
    },
    processingError(e) {
      media(
        'ERROR',
        `${e.stage} failed: ${e.errorCode}`,
        {
          event: 'processing_error',
          ...context(e),
          stage: e.stage,
          success: false,
          duration_seconds: e.durationSeconds,
          error_code: e.errorCode,
          error: e.error,
          stack: e.stack,
        },
        e.extra,
      );
    },
    sessionCompleted(e) {
      media('INFO', 'session completed', { event: 'session_completed', ...context(e), video_count: e.videoCount, duration_seconds: e.durationSeconds }, e.extra);
    },
    sessionFailed(e) {
      media(
        'ERROR',
        `session failed${e.errorCode ? `: ${e.errorCode}` : ''}`,
        { event: 'session_failed', ...context(e), stage: e.stage, success: false, duration_seconds: e.durationSeconds, error_code: e.errorCode, error: e.error },
        e.extra,
      );
    },
    debug: general('DEBUG'),
    info: general('INFO'),
    warning: general('WARNING'),
    error: general('ERROR'),
    critical: general('CRITICAL'),
    close() {
      for (const f of Object.values(files)) f.close();
    },
  };
}

function round(s: number): number {
  return Math.round(s * 100) / 100;
}
