/**
 * The normalized shape every accepted log line becomes (DESIGN §2), whatever logger
 * wrote it. Optional fields are `undefined` when the line did not carry them.
 */
export type FormatName = 'vigil' | 'python' | 'pino' | 'winston' | 'ecs' | 'unknown';

export const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type StandardLevel = (typeof LEVELS)[number];

export interface LogEvent {
  /** Event time, epoch milliseconds (from the line; the fallback time when absent or absurd). */
  ts: number;
  /** DEBUG | INFO | WARNING | ERROR | CRITICAL, or another upper-case level the line used. */
  level: string;
  message: string;
  /** Logger name, '' when absent. */
  logger: string;
  event: string | undefined;
  sessionId: string | undefined;
  userId: string | undefined;
  correlationId: string | undefined;
  stage: string | undefined;
  success: boolean | undefined;
  durationSeconds: number | undefined;
  fileSizeBytes: number | undefined;
  videoCount: number | undefined;
  errorCode: string | undefined;
  error: string | undefined;
  /** Stack trace text (stack, stack_trace, Python's exc_info, or error.stack), cut to 16 KiB. Optional so older literals still type-check. */
  stack?: string | undefined;
  /**
   * The file holding the original when this line is a copy (`"copy_of": "media_processing.log"`,
   * written by emit into errors.log / performance.log): counted as a line of its own file,
   * never as a second operation, session event or level count.
   */
  copyOf?: string | undefined;
  format: FormatName;
  /** Problems that were repaired rather than rejected (bad_timestamp, bad_field:duration_seconds, invalid_utf8, …). */
  repairs: string[] | undefined;
  /** The parsed JSON object (unredacted; redact before storing). */
  fields: Record<string, unknown>;
}

/** Why a line was not accepted at all. */
export type RejectReason = 'not_json' | 'not_object' | 'too_long' | 'too_deep';

export interface RejectedLine {
  rejected: RejectReason;
  detail: string;
}

export type ParseResult = LogEvent | RejectedLine;

export function isRejected(r: ParseResult): r is RejectedLine {
  return (r as RejectedLine).rejected !== undefined;
}

/** An operation is one completed stage: `stage_completed`, or `processing_error` with a stage (DESIGN §2). */
export function isOperation(e: LogEvent): boolean {
  return e.stage !== undefined && (e.event === 'stage_completed' || e.event === 'processing_error');
}

/** Did the operation fail? `processing_error` always; `stage_completed` when success is false. */
export function operationFailed(e: LogEvent): boolean {
  return e.event === 'processing_error' || e.success === false;
}
