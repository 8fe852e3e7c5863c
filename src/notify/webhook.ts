import { HttpChannel, postLabel } from './http-channel.js';
import { batchKey } from './message.js';
import { OptionReader } from './options.js';
import type { AlertMessage, ChannelContext, HealthResult, SendOutcome } from './types.js';

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
export class WebhookChannel extends HttpChannel {
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(options: WebhookOptions, ctx: ChannelContext = {}) {
    const o = new OptionReader(ctx.name ?? 'webhook', 'webhook', options, KNOWN);
    const url = o.url('url');
    const headers = o.stringMap('headers');
    for (const [k, v] of Object.entries(headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw o.error('headers', `has an invalid header name "${k}"`);
      if (/[\r\n]/.test(v)) throw o.error('headers', `value of "${k}" must not contain line breaks`);
    }
    super(o, ctx, postLabel(o.channel, url));
    this.url = url;
    this.headers = headers;
  }

  protected override deliver(alerts: AlertMessage[], signal: AbortSignal | undefined): Promise<SendOutcome> {
    const payload: WebhookPayload = { version: 1, alerts };
    const headers = new Headers(this.headers);
    if (!headers.has('idempotency-key')) headers.set('idempotency-key', batchKey(alerts));
    return this.postJson(this.url, payload, signal, { headers: Object.fromEntries(headers) });
  }

  /** There is no dry run for an arbitrary webhook, so only reachability is checked (HEAD, no alert sent). */
  override healthcheck(): Promise<HealthResult> {
    return this.probe(this.url);
  }
}
