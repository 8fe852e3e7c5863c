import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { isStoreBusy } from '../store/db.js';

/**
 * Every error the API answers has one shape: `{statusCode, error, message, code}`
 * with a VIGIL_API_* code from src/errors.ts. A 5xx never carries the cause (that goes
 * to the agent log); a 4xx says what was wrong with the request.
 */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: ErrorCode;
  /** Seconds after which the request is worth trying again (503 VIGIL_STORE_BUSY; also the Retry-After header). */
  retry_after?: number;
}

/** A lock held by another process is usually short (a shell's transaction, a backup): ask again in a second. */
export const STORE_BUSY_RETRY_AFTER_S = 1;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function errorBody(statusCode: number, code: ErrorCode, message: string): ApiErrorBody {
  return { statusCode, error: REASONS[statusCode] ?? (statusCode >= 500 ? 'Server Error' : 'Client Error'), message, code };
}

export function sendError(reply: FastifyReply, statusCode: number, code: ErrorCode, message: string): FastifyReply {
  return reply.code(statusCode).type('application/json; charset=utf-8').send(errorBody(statusCode, code, message));
}

/**
 * The store is locked by another process (VIGIL_STORE_BUSY): 503 with Retry-After, at once,
 * instead of the request waiting on the lock with the whole event loop. The body is sent
 * as text so a route's own 503 schema (the health probe's) does not reshape it.
 */
export function storeBusy(reply: FastifyReply): FastifyReply {
  const body: ApiErrorBody = {
    ...errorBody(503, 'VIGIL_STORE_BUSY', 'the store is locked by another process (a sqlite3 shell or backup holding a write transaction?); try again shortly'),
    retry_after: STORE_BUSY_RETRY_AFTER_S,
  };
  return reply.code(503).header('Retry-After', String(STORE_BUSY_RETRY_AFTER_S)).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

export function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  reply.header('WWW-Authenticate', 'Bearer realm="vigil"');
  return sendError(reply, 401, 'VIGIL_API_UNAUTHORIZED', message);
}

/** "querystring/hours must be > 0" → "hours must be > 0". */
function validationMessage(e: FastifyError): string {
  const v = e.validation?.[0];
  if (!v) return e.message;
  const field = v.instancePath.replace(/^\//, '').replace(/\//g, '.') || (v.params as { missingProperty?: string; additionalProperty?: string }).additionalProperty;
  if (v.keyword === 'additionalProperties') {
    return `unknown query parameter "${(v.params as { additionalProperty: string }).additionalProperty}"`;
  }
  const hint = HINTS[field ?? ''];
  const what = v.keyword === 'finite' ? 'must be a finite number' : (v.message ?? 'is invalid');
  return `${field ?? 'the request'} ${what}${hint ? ` (${hint})` : ''}`;
}

const HINTS: Record<string, string> = {
  hours: 'a number of hours, 0 < hours ≤ 8760',
  limit: 'an integer from 1 to 1000',
  lines: 'an integer from 1 to 10000',
  level: 'one of the level names, any case',
  state: 'pending, firing, resolved or inactive',
};

export function installErrorHandlers(app: FastifyInstance, log: Logger | undefined): void {
  app.setErrorHandler((e: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (e.validation) return sendError(reply, 400, 'VIGIL_API_BAD_REQUEST', validationMessage(e));
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    if (status === 401) return unauthorized(reply, e.message);
    if (status === 404) return sendError(reply, 404, 'VIGIL_API_NOT_FOUND', e.message);
    if (status < 500) return sendError(reply, status, 'VIGIL_API_BAD_REQUEST', e.message);
    if (isStoreBusy(e)) {
      log?.warn({ code: 'VIGIL_STORE_BUSY', err: e.message, method: req.method, url: req.routeOptions.url }, 'API request refused: the store is locked by another process');
      return storeBusy(reply);
    }
    log?.error({ err: { message: e.message, stack: e.stack, code: e.code }, method: req.method, url: req.routeOptions.url }, 'API request failed');
    return sendError(reply, 500, 'VIGIL_API_INTERNAL', 'internal error; see the vigil log');
  });
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, 404, 'VIGIL_API_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
  );
}
