import { describeError } from './http.js';
import type { FetchLike, HealthResult } from './types.js';

/**
 * Health probe for receivers without a dry-run endpoint: a HEAD request proves DNS, TLS and an
 * HTTP server answer without delivering anything. Any HTTP status counts as reachable (a
 * webhook endpoint commonly answers 404/405 to HEAD); only no answer is a failure.
 */
export async function probeReachable(url: string, o: { timeoutMs: number; fetch?: FetchLike; label: string }): Promise<HealthResult> {
  try {
    const res = await (o.fetch ?? fetch)(url, { method: 'HEAD', signal: AbortSignal.timeout(o.timeoutMs), redirect: 'manual' });
    await res.body?.cancel().catch(() => undefined);
    return { ok: true, message: `${o.label}: reachable (HTTP ${res.status} to HEAD; nothing was sent)` };
  } catch (err) {
    const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : describeError(err);
    return { ok: false, message: `${o.label}: not reachable: ${why}` };
  }
}
