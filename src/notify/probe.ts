import { describeError } from './http.js';
import type { FetchLike, HealthResult } from './types.js';

/** How a receiver answered one health request: its status, or why no answer came. */
export type StatusAnswer = { status: number; ok: boolean } | { error: string };

/** One body-less request within `timeoutMs` that never throws; the body is discarded and redirects are not followed. */
export async function askStatus(url: string, o: { method: 'GET' | 'HEAD'; timeoutMs: number; fetch?: FetchLike }): Promise<StatusAnswer> {
  try {
    const res = await (o.fetch ?? fetch)(url, { method: o.method, signal: AbortSignal.timeout(o.timeoutMs), redirect: 'manual' });
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, ok: res.ok };
  } catch (err) {
    return { error: err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : describeError(err) };
  }
}

/**
 * Health probe for receivers without a dry-run endpoint: a HEAD request proves DNS, TLS and an
 * HTTP server answer without delivering anything. Any HTTP status counts as reachable (a
 * webhook endpoint commonly answers 404/405 to HEAD); only no answer is a failure.
 */
export async function probeReachable(url: string, o: { timeoutMs: number; fetch?: FetchLike; label: string }): Promise<HealthResult> {
  const a = await askStatus(url, { method: 'HEAD', timeoutMs: o.timeoutMs, fetch: o.fetch });
  if ('error' in a) return { ok: false, message: `${o.label}: not reachable: ${a.error}` };
  return { ok: true, message: `${o.label}: reachable (HTTP ${a.status} to HEAD; nothing was sent)` };
}
