/**
 * A parsed JSON object → LogEvent, whatever structured logger wrote it (DESIGN §2).
 *
 * Runs once per accepted line: plain property reads with constant keys, no closures,
 * no regexes or spreads on the common path. Only own properties are read, so a
 * polluted Object.prototype can never inject a field, and nothing here writes to an
 * object keyed by line data. Wrong types never throw: the field becomes undefined and
 * a `bad_field:<name>` repair is recorded.
 */
import type { FormatName, LogEvent } from './event.js';
import { parseTimestamp } from './timestamp.js';
import { levelFromOtelSeverity, normalizeLevel } from './level.js';

type Obj = Record<string, unknown>;

export const LIMITS = {
  message: 8192,
  error: 8192,
  stack: 16384,
  id: 256,
  short: 64,
} as const;

/** Durations beyond ~3 years are garbage and would poison averages. */
const MAX_DURATION_SECONDS = 1e8;
const MAX_VIDEO_COUNT = 1e9;

const hasOwn = Object.hasOwn;
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** An own, non-null property, or undefined. JSON null counts as absent. */
function own(o: Obj, k: string): unknown {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  return hasOwn(o, k) ? v : undefined;
}

function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function ownObject(o: Obj, k: string): Obj | undefined {
  const v = own(o, k);
  return isPlainObject(v) ? v : undefined;
}

/** `log.level` written as a dotted key (ecs-logging) or as nested `log: {level}`. */
function dotted(o: Obj, outer: string, inner: string, flat: string): unknown {
  const v = own(o, flat);
  if (v !== undefined) return v;
  const nested = own(o, outer);
  return isPlainObject(nested) ? own(nested, inner) : undefined;
}

function addRepair(repairs: string[] | undefined, r: string): string[] {
  if (repairs === undefined) return [r];
  repairs.push(r);
  return repairs;
}

/**
 * Cut to `max` UTF-16 units without splitting a surrogate pair. The cut copy is
 * re-materialized so it does not keep a huge parent string alive (V8 slices share
 * their parent's memory).
 */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return Buffer.from(s.slice(0, end), 'utf8').toString('utf8');
}

/** Text from a string, a finite number or a boolean (loggers write ids and codes as numbers); `null` marks a wrong type. */
function textOf(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return null;
}

/** A number from a number or a numeric string ("12.5"); NaN when neither. */
function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length <= 64 && NUMERIC.test(v)) return Number(v);
  return NaN;
}

function booleanOf(v: unknown): boolean | undefined {
  if (v === true || v === false) return v;
  if (v === 1) return true;
  if (v === 0) return false;
  if (typeof v === 'string') {
    switch (v.length <= 5 ? v.toLowerCase() : '') {
      case 'true':
      case '1':
        return true;
      case 'false':
      case '0':
        return false;
    }
  }
  return undefined;
}

/*
 * The hot path reads properties by name (`o.level`), never through a helper taking
 * the key: a helper turns every read into a slow keyed lookup once V8 stops inlining
 * it. Each hit is checked against inheritance with `P.key === undefined ||
 * hasOwn(o, key)`: while Object.prototype is clean V8 folds `P.key` to a constant,
 * so the guard is free, and if something pollutes the prototype the guard turns into
 * a real own-property check.
 */
const P = Object.prototype as Record<string, unknown>;

export function detectFormat(o: Obj): FormatName {
  let level = o.level;
  if (level != null && P.level !== undefined && !hasOwn(o, 'level')) level = undefined;
  if (typeof level === 'string') {
    const c = level.charCodeAt(0);
    if (c >= 65 && c <= 90 && own(o, 'timestamp') !== undefined && own(o, 'message') !== undefined) return 'vigil';
  } else if (typeof level === 'number') {
    if (typeof own(o, 'time') === 'number' && own(o, 'msg') !== undefined) return 'pino';
  }
  if (own(o, 'levelname') !== undefined || own(o, 'asctime') !== undefined || own(o, 'created') !== undefined) {
    return 'python';
  }
  if (
    own(o, '@timestamp') !== undefined ||
    dotted(o, 'log', 'level', 'log.level') !== undefined ||
    own(o, 'severity_text') !== undefined ||
    own(o, 'severity_number') !== undefined
  ) {
    return 'ecs';
  }
  if (typeof level === 'string') {
    const c = level.charCodeAt(0);
    if (c >= 97 && c <= 122 && own(o, 'message') !== undefined) return 'winston';
    // pino with `formatters.level` writing the label instead of the number.
    if (typeof own(o, 'time') === 'number' && own(o, 'msg') !== undefined) return 'pino';
  }
  return 'unknown';
}

/** detectFormat for the common shape, with named reads; anything else takes the general path. */
function quickFormat(o: Obj): FormatName {
  const level = o.level;
  if (typeof level === 'string') {
    const c = level.charCodeAt(0);
    if (c >= 65 && c <= 90 && o.timestamp != null && o.message != null && P.level === undefined && P.timestamp === undefined && P.message === undefined) {
      return 'vigil';
    }
  }
  return detectFormat(o);
}

export function normalize(o: Obj, fallbackTs: number, format?: FormatName): LogEvent {
  const fmt = format ?? quickFormat(o);
  let ex: Obj | undefined;
  let v: unknown = o.extra;
  if (v != null && (P.extra === undefined || hasOwn(o, 'extra')) && isPlainObject(v)) ex = v;
  const at = fmt === 'ecs' ? ownObject(o, 'attributes') : undefined;
  const deep = ex !== undefined || at !== undefined;
  let repairs: string[] | undefined;

  // --- time: the first alias that parses wins; created (exact epoch) before asctime (local text).
  let ts: number | undefined;
  let tsSeen = false;
  v = o.timestamp;
  if (v != null && P.timestamp !== undefined && !hasOwn(o, 'timestamp')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'timestamp');
  if (v != null) {
    tsSeen = true;
    ts = parseTimestamp(v);
  }
  if (ts === undefined) {
    v = o.ts;
    if (v != null && P.ts !== undefined && !hasOwn(o, 'ts')) v = undefined;
    if (v == null && deep) v = nested(ex, at, 'ts');
    if (v != null) {
      tsSeen = true;
      ts = parseTimestamp(v);
    }
  }
  if (ts === undefined) {
    v = o.time;
    if (v != null && P.time !== undefined && !hasOwn(o, 'time')) v = undefined;
    if (v == null && deep) v = nested(ex, at, 'time');
    if (v != null) {
      tsSeen = true;
      ts = parseTimestamp(v);
    }
  }
  if (ts === undefined) ts = otherTimestamp(o, fmt);
  if (ts === undefined || ts !== ts) {
    repairs = addRepair(repairs, tsSeen || ts !== undefined ? 'bad_timestamp' : 'missing_timestamp');
    ts = fallbackTs;
  }

  // --- level
  let level: string;
  v = o.level;
  if (v != null && P.level !== undefined && !hasOwn(o, 'level')) v = undefined;
  if (v == null) v = otherLevel(o, ex);
  if (v != null) {
    if (typeof v !== 'string' && typeof v !== 'number') repairs = addRepair(repairs, 'bad_field:level');
    level = normalizeLevel(v);
  } else {
    const sevNum = fmt === 'ecs' ? own(o, 'severity_number') : undefined;
    level = (typeof sevNum === 'number' ? levelFromOtelSeverity(sevNum) : undefined) ?? 'INFO';
  }

  // --- message
  let message = '';
  v = o.message;
  if (v != null && P.message !== undefined && !hasOwn(o, 'message')) v = undefined;
  if (v == null) {
    v = o.msg;
    if (v != null && P.msg !== undefined && !hasOwn(o, 'msg')) v = undefined;
  }
  if (v == null && ex !== undefined) v = own(ex, 'message') ?? own(ex, 'msg');
  if (v == null && fmt === 'ecs') v = own(o, 'body');
  if (v != null) {
    if (typeof v === 'string' && v.length <= LIMITS.message) message = v;
    else {
      const t = textOf(v);
      if (t === null) repairs = addRepair(repairs, 'bad_field:message');
      else if (t.length > LIMITS.message) {
        message = cut(t, LIMITS.message);
        repairs = addRepair(repairs, 'truncated:message');
      } else message = t;
    }
  }

  // --- logger
  let logger = '';
  v = o.logger;
  if (v != null && P.logger !== undefined && !hasOwn(o, 'logger')) v = undefined;
  if (v == null) v = otherLogger(o, ex);
  if (v != null) {
    const t = textOf(v);
    if (t === null || typeof v === 'boolean') repairs = addRepair(repairs, 'bad_field:logger');
    else if (t.length > LIMITS.short) {
      logger = cut(t, LIMITS.short);
      repairs = addRepair(repairs, 'truncated:logger');
    } else logger = t;
  }

  // --- event (ECS writes an object; its `action` is the name)
  let event: string | undefined;
  v = o.event;
  if (v != null && P.event !== undefined && !hasOwn(o, 'event')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'event');
  if (v != null) {
    if (typeof v === 'string') event = v;
    else if (isPlainObject(v) && typeof own(v, 'action') === 'string') event = own(v, 'action') as string;
    else repairs = addRepair(repairs, 'bad_field:event');
    if (event !== undefined && event.length > LIMITS.short) {
      event = cut(event, LIMITS.short);
      repairs = addRepair(repairs, 'truncated:event');
    }
  }

  // --- context ids
  let sessionId: string | undefined;
  v = o.session_id;
  if (v != null && P.session_id !== undefined && !hasOwn(o, 'session_id')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'session_id');
  if (v != null) {
    sessionId = idOf(v);
    if (sessionId === undefined || sessionId.length > LIMITS.id) repairs = idRepair(repairs, 'session_id', sessionId);
    if (sessionId !== undefined && sessionId.length > LIMITS.id) sessionId = cut(sessionId, LIMITS.id);
  }
  let userId: string | undefined;
  v = o.user_id;
  if (v != null && P.user_id !== undefined && !hasOwn(o, 'user_id')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'user_id');
  if (v != null) {
    userId = idOf(v);
    if (userId === undefined || userId.length > LIMITS.id) repairs = idRepair(repairs, 'user_id', userId);
    if (userId !== undefined && userId.length > LIMITS.id) userId = cut(userId, LIMITS.id);
  }
  let correlationId: string | undefined;
  v = o.correlation_id;
  if (v != null && P.correlation_id !== undefined && !hasOwn(o, 'correlation_id')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'correlation_id');
  if (v == null) {
    v = o.request_id;
    if (v != null && P.request_id !== undefined && !hasOwn(o, 'request_id')) v = undefined;
    if (v == null && deep) v = nested(ex, at, 'request_id');
  }
  if (v != null) {
    correlationId = idOf(v);
    if (correlationId === undefined || correlationId.length > LIMITS.id) {
      repairs = idRepair(repairs, 'correlation_id', correlationId);
    }
    if (correlationId !== undefined && correlationId.length > LIMITS.id) correlationId = cut(correlationId, LIMITS.id);
  }

  // --- stage outcome
  let stage: string | undefined;
  v = o.stage;
  if (v != null && P.stage !== undefined && !hasOwn(o, 'stage')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'stage');
  if (v != null) {
    if (typeof v !== 'string') repairs = addRepair(repairs, 'bad_field:stage');
    else if (v.length > LIMITS.short) {
      stage = cut(v, LIMITS.short);
      repairs = addRepair(repairs, 'truncated:stage');
    } else stage = v;
  }
  let success: boolean | undefined;
  v = o.success;
  if (v != null && P.success !== undefined && !hasOwn(o, 'success')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'success');
  if (v != null) {
    success = booleanOf(v);
    if (success === undefined) repairs = addRepair(repairs, 'bad_field:success');
  }
  let durationSeconds: number | undefined;
  v = o.duration_seconds;
  if (v != null && P.duration_seconds !== undefined && !hasOwn(o, 'duration_seconds')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'duration_seconds');
  if (v != null) {
    const n = numberOf(v);
    if (n >= 0 && n <= MAX_DURATION_SECONDS) durationSeconds = n;
    else repairs = addRepair(repairs, 'bad_field:duration_seconds');
  }
  let fileSizeBytes: number | undefined;
  v = o.file_size_bytes;
  if (v != null && P.file_size_bytes !== undefined && !hasOwn(o, 'file_size_bytes')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'file_size_bytes');
  if (v != null) {
    const n = numberOf(v);
    if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) fileSizeBytes = n;
    else repairs = addRepair(repairs, 'bad_field:file_size_bytes');
  }
  let videoCount: number | undefined;
  v = o.video_count;
  if (v != null && P.video_count !== undefined && !hasOwn(o, 'video_count')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'video_count');
  if (v != null) {
    const n = numberOf(v);
    if (n >= 0 && n <= MAX_VIDEO_COUNT && Number.isInteger(n)) videoCount = n;
    else repairs = addRepair(repairs, 'bad_field:video_count');
  }

  // --- errors (pino's `err` and ECS's `error` are objects: {message, code, stack|stack_trace})
  let errorCode: string | undefined;
  let error: string | undefined;
  let stack: string | undefined;
  let errCodeRaw: unknown = o.error_code;
  if (errCodeRaw != null && P.error_code !== undefined && !hasOwn(o, 'error_code')) errCodeRaw = undefined;
  if (errCodeRaw == null && deep) errCodeRaw = nested(ex, at, 'error_code');
  let stackRaw: unknown = o.stack;
  if (stackRaw != null && P.stack !== undefined && !hasOwn(o, 'stack')) stackRaw = undefined;
  if (stackRaw == null) {
    stackRaw = o.stack_trace;
    if (stackRaw != null && P.stack_trace !== undefined && !hasOwn(o, 'stack_trace')) stackRaw = undefined;
  }
  if (stackRaw == null) {
    stackRaw = o.exc_info;
    if (stackRaw != null && P.exc_info !== undefined && !hasOwn(o, 'exc_info')) stackRaw = undefined;
  }
  if (stackRaw == null && deep) stackRaw = nestedStack(ex, at);
  v = o.error;
  if (v != null && P.error !== undefined && !hasOwn(o, 'error')) v = undefined;
  if (v == null && deep) v = nested(ex, at, 'error');
  if (v == null) {
    v = o.err;
    if (v != null && P.err !== undefined && !hasOwn(o, 'err')) v = undefined;
  }
  if (v != null) {
    if (isPlainObject(v)) {
      const msg = own(v, 'message');
      if (typeof msg === 'string') error = msg;
      if (errCodeRaw == null) errCodeRaw = own(v, 'code');
      if (stackRaw == null) stackRaw = own(v, 'stack') ?? own(v, 'stack_trace');
    } else {
      const t = textOf(v);
      if (t === null || typeof v === 'boolean') repairs = addRepair(repairs, 'bad_field:error');
      else error = t;
    }
    if (error !== undefined && error.length > LIMITS.error) {
      error = cut(error, LIMITS.error);
      repairs = addRepair(repairs, 'truncated:error');
    }
  }
  if (errCodeRaw != null) {
    errorCode = idOf(errCodeRaw);
    if (errorCode === undefined) repairs = addRepair(repairs, 'bad_field:error_code');
    else if (errorCode.length > LIMITS.short) {
      errorCode = cut(errorCode, LIMITS.short);
      repairs = addRepair(repairs, 'truncated:error_code');
    }
  }
  if (stackRaw != null) {
    if (typeof stackRaw !== 'string') repairs = addRepair(repairs, 'bad_field:stack');
    else if (stackRaw.length > LIMITS.stack) {
      stack = cut(stackRaw, LIMITS.stack);
      repairs = addRepair(repairs, 'truncated:stack');
    } else stack = stackRaw;
  }

  return {
    ts,
    level,
    message,
    logger,
    event,
    sessionId,
    userId,
    correlationId,
    stage,
    success,
    durationSeconds,
    fileSizeBytes,
    videoCount,
    errorCode,
    error,
    stack,
    copyOf: copyOfField(o),
    format: fmt,
    repairs,
    fields: o,
  };
}

function copyOfField(o: Obj): string | undefined {
  const c = o.copy_of;
  return typeof c === 'string' && c !== '' && hasOwn(o, 'copy_of') ? c.slice(0, 256) : undefined;
}

/** `extra`, then (ECS/OTel) `attributes`: the slow path, taken only when a line nests its fields. */
function nested(ex: Obj | undefined, at: Obj | undefined, k: string): unknown {
  if (ex !== undefined) {
    const v = own(ex, k);
    if (v !== undefined) return v;
  }
  return at !== undefined ? own(at, k) : undefined;
}

/** A string id, or a number written as one; undefined for any other type. */
function idOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function idRepair(repairs: string[] | undefined, name: string, value: string | undefined): string[] {
  return addRepair(repairs, value === undefined ? 'bad_field:' + name : 'truncated:' + name);
}

/** The less common time fields: epoch ms, NaN when one was present but none parsed, undefined when absent. */
function otherTimestamp(o: Obj, fmt: FormatName): number | undefined {
  let seen = false;
  let v = own(o, '@timestamp');
  let ts: number | undefined;
  if (v !== undefined) {
    seen = true;
    ts = parseTimestamp(v);
  }
  if (ts === undefined) {
    v = own(o, 'created');
    if (v !== undefined) {
      seen = true;
      ts = parseTimestamp(v);
    }
  }
  if (ts === undefined) {
    v = own(o, 'asctime');
    if (v !== undefined) {
      seen = true;
      ts = parseTimestamp(v);
    }
  }
  if (ts === undefined && fmt === 'ecs') {
    v = own(o, 'time_unix_nano') ?? own(o, 'timeUnixNano');
    if (v !== undefined) {
      seen = true;
      ts = parseTimestamp(v);
    }
  }
  return ts === undefined && seen ? NaN : ts;
}

function otherLevel(o: Obj, ex: Obj | undefined): unknown {
  let v = own(o, 'levelname');
  if (v === undefined) v = own(o, 'severity');
  if (v === undefined) v = dotted(o, 'log', 'level', 'log.level');
  if (v === undefined) v = own(o, 'severity_text');
  if (v === undefined && ex !== undefined) v = own(ex, 'level') ?? own(ex, 'levelname');
  return v;
}

function otherLogger(o: Obj, ex: Obj | undefined): unknown {
  let v = own(o, 'name');
  if (v === undefined && ex !== undefined) v = own(ex, 'logger');
  if (v === undefined) v = own(o, 'logger_name');
  if (v === undefined && ex !== undefined) v = own(ex, 'logger_name');
  if (v === undefined) v = dotted(o, 'log', 'logger', 'log.logger');
  return v;
}

function nestedStack(ex: Obj | undefined, at: Obj | undefined): unknown {
  let v = nested(ex, at, 'stack');
  if (v === undefined) v = nested(ex, at, 'stack_trace');
  if (v === undefined && ex !== undefined) v = own(ex, 'exc_info');
  return v;
}
