import { systemClock, type Clock } from '../clock.js';
import { sendBatch } from './batch.js';
import { DEFAULT_HTTP_TIMEOUT_MS, httpCall, redactUrl } from './http.js';
import type { OptionReader } from './options.js';
import { probeReachable } from './probe.js';
import type { AlertMessage, Channel, ChannelContext, FetchLike, HealthResult, SendOutcome } from './types.js';

/** How a POST to `url` appears in messages: the channel's name and the URL without its secrets. */
export function postLabel(name: string, url: string): string {
  return `${name}: POST ${redactUrl(url)}`;
}

/**
 * What every HTTP channel does the same way: the `timeout` and `send_resolved` options, the
 * injected clock and fetch, and the send path — drop the resolves it does not deliver, never
 * throw, post JSON through httpCall (one deadline, one status classification). A channel adds
 * only its own options, payload, target and healthcheck.
 */
export abstract class HttpChannel implements Channel {
  readonly name: string;
  readonly sendResolved: boolean;
  protected readonly label: string;
  protected readonly timeoutMs: number;
  protected readonly clock: Clock;
  protected readonly fetchFn: FetchLike | undefined;

  /**
   * Subclasses read their own options first and call this last, so that of several bad options
   * the one reported is the first in the channel's documented order, as it always was. `label`
   * prefixes the messages about this channel; built with redactUrl, it holds no secret. A channel
   * that must always send resolves leaves `send_resolved` out of its known options.
   */
  protected constructor(o: OptionReader, ctx: ChannelContext, label: string) {
    this.name = o.channel;
    this.label = label;
    this.timeoutMs = o.durationMs('timeout', DEFAULT_HTTP_TIMEOUT_MS);
    this.sendResolved = o.boolean('send_resolved', true);
    this.clock = ctx.clock ?? systemClock;
    this.fetchFn = ctx.fetch;
  }

  send(batch: AlertMessage[], signal?: AbortSignal): Promise<SendOutcome> {
    return sendBatch(this.label, batch, this.sendResolved, (alerts) => this.deliver(alerts, signal));
  }

  /** Delivers a non-empty batch; may throw, send() turns that into a transient outcome. */
  protected abstract deliver(alerts: AlertMessage[], signal: AbortSignal | undefined): Promise<SendOutcome>;

  abstract healthcheck(): Promise<HealthResult>;

  /** POSTs `json` to `url` within the channel's timeout; messages start with `label` (default: the channel's). */
  protected async postJson(
    url: string,
    json: unknown,
    signal: AbortSignal | undefined,
    extra: { headers?: Record<string, string>; label?: string } = {},
  ): Promise<SendOutcome> {
    const answer = await httpCall(url, {
      json,
      headers: extra.headers,
      timeoutMs: this.timeoutMs,
      signal,
      fetch: this.fetchFn,
      now: () => this.clock.now(),
      label: extra.label ?? this.label,
    });
    return answer.outcome;
  }

  /** For receivers without a dry run: a HEAD to `url` proves it answers, without sending an alert. */
  protected probe(url: string): Promise<HealthResult> {
    return probeReachable(url, { timeoutMs: this.timeoutMs, fetch: this.fetchFn, label: `${this.name}: ${redactUrl(url)}` });
  }
}
