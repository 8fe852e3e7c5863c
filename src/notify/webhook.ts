import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { deliverable, neverThrow } from './batch.js';
import { DEFAULT_HTTP_TIMEOUT_MS, httpCall, redactUrl } from './http.js';
import { OptionReader } from './options.js';
import type { AlertMessage, Channel, ChannelContext, FetchLike, HealthResult, SendOutcome } from './types.js';
import { probeReachable } from './probe.js';

export interface WebhookOptions {
  url: string;
  /** Extra request headers, e.g. `Authorization: "Bearer ${HOOK_TOKEN}"` (values are secrets). */
  headers?: Record<string, string>;
  /** Duration; default 10s. */
  timeout?: string | number;
  /** Default true. */
  send_resolved?: boolean;
}

const KNOWN = ['url', 'headers', 'timeout', 'send_resolved'] as const;

/** The body every generic webhook receives; `version` changes only with an incompatible shape. */
export interface WebhookPayload {
  version: 1;
  alerts: AlertMessage[];
}

/**
 * Generic JSON POST. `Idempotency-Key` is derived from the notification ids, so a retried batch
 * carries the same key and a receiver can drop the duplicate.
 */
export class WebhookChannel implements Channel {
  readonly name: string;
  readonly sendResolved: boolean;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly fetchFn: FetchLike | undefined;
  private readonly label: string;

  constructor(options: WebhookOptions, ctx: ChannelContext = {}) {
    this.name = ctx.name ?? 'webhook';
    const o = new OptionReader(this.name, 'webhook', options, KNOWN);
    this.url = o.url('url');
    this.headers = o.stringMap('headers');
    for (const [k, v] of Object.entries(this.headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw o.error('headers', `has an invalid header name "${k}"`);
      if (/[\r\n]/.test(v)) throw o.error('headers', `value of "${k}" must not contain line breaks`);
    }
    this.timeoutMs = o.durationMs('timeout', DEFAULT_HTTP_TIMEOUT_MS);
    this.sendResolved = o.boolean('send_resolved', true);
    this.clock = ctx.clock ?? systemClock;
    this.fetchFn = ctx.fetch;
    this.label = `${this.name}: POST ${redactUrl(this.url)}`;
  }

  send(batch: AlertMessage[], signal?: AbortSignal): Promise<SendOutcome> {
    return neverThrow(this.label, async () => {
      const alerts = deliverable(batch, this.sendResolved);
      if (alerts.length === 0) return { ok: true };
      const payload: WebhookPayload = { version: 1, alerts };
      const headers = new Headers(this.headers);
      if (!headers.has('idempotency-key')) headers.set('idempotency-key', idempotencyKey(alerts));
      const answer = await httpCall(this.url, {
        json: payload,
        headers: Object.fromEntries(headers),
        timeoutMs: this.timeoutMs,
        signal,
        fetch: this.fetchFn,
        now: () => this.clock.now(),
        label: this.label,
      });
      return answer.outcome;
    });
  }

  /** There is no dry run for an arbitrary webhook, so only reachability is checked (HEAD, no alert sent). */
  healthcheck(): Promise<HealthResult> {
    return probeReachable(this.url, { timeoutMs: this.timeoutMs, fetch: this.fetchFn, label: `${this.name}: ${redactUrl(this.url)}` });
  }
}

/** Same set of notifications → same key, whatever their order in the batch. */
export function idempotencyKey(batch: AlertMessage[]): string {
  const ids = batch.map((a) => a.notificationId).sort();
  return createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32);
}
