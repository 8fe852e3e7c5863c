/**
 * Every error vigil raises on purpose has a stable code, listed once here and
 * documented in the README ("Error codes"). A test checks the two stay in step.
 */
export const ERROR_CODES = {
  VIGIL_CONFIG_INVALID: 'The configuration file is not valid (each problem is reported as file:line:col: message).',
  VIGIL_CONFIG_NOT_FOUND: 'The configuration file given with --config does not exist or cannot be read.',
  VIGIL_ENV_MISSING: 'A ${VAR} placeholder names an environment variable that is not set.',
  VIGIL_DURATION_INVALID: 'A duration is not of the form 500ms, 15s, 5m, 1h, 7d (or a sum such as 1h30m).',
  VIGIL_STATE_DIR: 'The state directory cannot be created or written.',
  VIGIL_STORE_MIGRATION: 'The SQLite database has a schema newer than this vigil, or a migration failed.',
  VIGIL_STORE_BUSY: 'The store is locked by another process: another vigil on the state directory, or a process holding the SQLite write lock (the API answers 503 with Retry-After; writes are retried).',
  VIGIL_STORE_LOST: 'The store (vigil.db or its WAL) was deleted or replaced under the running agent; it is rebuilt.',
  VIGIL_TAIL_IO: 'A watched log file could not be read (permissions, I/O error); it is retried.',
  VIGIL_WATCH_FALLBACK: 'inotify could not watch a path (ENOSPC or EMFILE); vigil polls it instead.',
  VIGIL_TIME_RANGE: 'A --from/--to or hours value is not a valid time range.',
  VIGIL_RULE_INVALID: 'A rule file is not valid (each problem is reported as file:line:col: message).',
  VIGIL_RULE_TEST_FAILED: 'A rule unit test did not produce the expected alerts.',
  VIGIL_TEMPLATE_INVALID: 'A summary or description template does not compile or names an unknown formatter.',
  VIGIL_CHANNEL_UNKNOWN: 'A rule or route names a channel that is not configured.',
  VIGIL_CHANNEL_SEND: 'A notification channel refused or failed a delivery (kept in the outbox and retried).',
  VIGIL_CHANNEL_PERMANENT: 'A channel answered with a permanent error (4xx); the notification is kept as failed.',
  VIGIL_CHANNEL_HEALTH: 'A channel health check failed.',
  VIGIL_API_BAD_REQUEST: 'A query parameter is out of range or of the wrong type.',
  VIGIL_API_UNAUTHORIZED: 'The request has no valid bearer token.',
  VIGIL_COLLECT_FAILED: 'A system sample or health check could not be taken.',
  VIGIL_API_NOT_FOUND: 'No API route has this method and path.',
  VIGIL_API_INTERNAL: 'The API failed to answer a request (the details are in the agent log, never in the response).',
  VIGIL_SILENCE_INVALID: 'A silence matcher, duration or id given to `vigil silence` is not valid.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class VigilError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VigilError';
    this.code = code;
  }
}

/** A problem located in a YAML file, printed as `file:line:col: message`. */
export interface Located {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatLocated(p: Located): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

/** An error carrying every problem found at once (config and rule validation). */
export class ValidationError extends VigilError {
  readonly problems: Located[];
  constructor(code: ErrorCode, problems: Located[]) {
    super(code, problems.map(formatLocated).join('\n'));
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** The message of whatever was thrown (an Error or anything else). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
