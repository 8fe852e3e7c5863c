import type { FetchLike, SendOutcome } from './types.js';

/** Every HTTP call has a deadline so a hung receiver cannot hold the dispatcher. */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

/** Enough of a receiver's error body to say why, not enough to flood a log line. */
const BODY_LIMIT = 2048;
const MESSAGE_BODY_CHARS = 300;

/**
 * A URL fit for a message: scheme, host and port only. Slack webhook paths and query
 * strings carry tokens, and userinfo carries passwords, so none of them are shown.
 */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return '<invalid url>';
  }
  const hidden = (u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.username !== '' || u.password !== '';
  return `${u.protocol}//${u.host}${hidden ? '/…' : ''}`;
}

/**
 * Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Returns ms from
 * `now`, never negative; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

interface HeaderSource {
  get(name: string): string | null;
}

/**
 * The one place HTTP statuses become outcomes: 2xx ok; 408, 429 and 5xx transient (429 and 503
 * with Retry-After honoured); a redirect or any other 4xx permanent — sending the same request
 * again would get the same answer.
 */
export function classifyStatus(status: number, headers: HeaderSource, body: string, now: number, label: string): SendOutcome {
  if (status >= 200 && status < 300) return { ok: true };
  const detail = body.trim().slice(0, MESSAGE_BODY_CHARS).replace(/\s+/g, ' ');
  const message = `${label}: HTTP ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    const out: SendOutcome = { ok: false, retry: 'transient', status, message };
    if (status === 429 || status === 503) {
      const ms = parseRetryAfter(headers.get('retry-after'), now);
      if (ms !== undefined) out.retryAfterMs = ms;
    }
    return out;
  }
  if (status >= 300 && status < 400) {
    return { ok: false, retry: 'permanent', status, message: `${message} (redirects are not followed; configure the final URL)` };
  }
  return { ok: false, retry: 'permanent', status, message };
}

/** A network failure, timeout or abort: the request may not have arrived, so try again later. */
export function classifyError(err: unknown, label: string, why?: 'timeout' | 'aborted', timeoutMs?: number): SendOutcome {
  if (why === 'timeout') return { ok: false, retry: 'transient', message: `${label}: no answer within ${timeoutMs} ms` };
  if (why === 'aborted') return { ok: false, retry: 'transient', message: `${label}: aborted before an answer` };
  return { ok: false, retry: 'transient', message: `${label}: ${describeError(err)}` };
}

/** fetch hides the useful part (ECONNREFUSED, ENOTFOUND…) in `cause`. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message} (${typeof code === 'string' ? `${code}: ` : ''}${cause.message})`;
  }
  return err.message;
}

export interface HttpCall {
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  /** Serialised as the JSON request body. */
  json?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  fetch?: FetchLike;
  now: () => number;
  /** How the target appears in messages (already redacted). */
  label: string;
}

export interface HttpAnswer {
  outcome: SendOutcome;
  status?: number;
  body?: string;
}

/**
 * One HTTP request that never throws and never outlives its deadline (the deadline covers
 * reading the body too). Redirects are not followed: re-posting an alert somewhere the
 * operator did not configure is worse than failing loudly.
 */
export async function httpCall(url: string, call: HttpCall): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  // Headers compares names case-insensitively, so a configured `Content-Type` replaces ours
  const headers = new Headers(call.headers);
  if (!headers.has('user-agent')) headers.set('user-agent', 'vigil');
  let body: string | undefined;
  if (call.json !== undefined) {
    body = JSON.stringify(call.json);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  try {
    const res = await (call.fetch ?? fetch)(url, { method: call.method ?? 'POST', headers, body, signal, redirect: 'manual' });
    const text = call.method === 'HEAD' ? '' : await readLimited(res, BODY_LIMIT);
    return { outcome: classifyStatus(res.status, res.headers, text, call.now(), call.label), status: res.status, body: text };
  } catch (err) {
    const why = timeout.aborted ? 'timeout' : call.signal?.aborted ? 'aborted' : undefined;
    return { outcome: classifyError(err, call.label, why, call.timeoutMs) };
  }
}

async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (text.length >= limit) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return text.slice(0, limit);
}

/**
 * Folds the outcomes of a fan-out (one request per alert, or per Alertmanager) into one. Any
 * transient failure makes the whole transient — the receivers deduplicate, so sending the batch
 * again is safe — waiting for the longest Retry-After any receiver asked for.
 */
export function combineFailures(failures: Array<Extract<SendOutcome, { ok: false }>>): SendOutcome {
  if (failures.length === 0) return { ok: true };
  const transient = failures.filter((f) => f.retry === 'transient');
  const pick = transient.length > 0 ? transient : failures;
  const out: SendOutcome = {
    ok: false,
    retry: transient.length > 0 ? 'transient' : 'permanent',
    message: failures.map((f) => f.message).join('; '),
  };
  const status = pick[0]?.status;
  if (status !== undefined) out.status = status;
  const waits = pick.map((f) => f.retryAfterMs).filter((n): n is number => n !== undefined);
  if (waits.length > 0) out.retryAfterMs = Math.max(...waits);
  return out;
}

export function isFailure(o: SendOutcome): o is Extract<SendOutcome, { ok: false }> {
  return !o.ok;
}
