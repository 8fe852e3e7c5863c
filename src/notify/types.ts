import type { Clock } from '../clock.js';
import { SEVERITIES, type Severity } from '../rules/rule.js';

/** One alert transition handed to a channel. Times are epoch milliseconds. */
export interface AlertMessage {
  /** Stable alert id: rule + sorted labels, hashed. The same for the trigger and the resolve. */
  id: string;
  rule: string;
  state: 'firing' | 'resolved';
  severity: Severity;
  labels: Record<string, string>;
  summary: string;
  description?: string;
  values: Record<string, number | boolean | string | null>;
  startsAt: number;
  endsAt?: number;
  /** Unique per transition (and per repeat), for idempotency at the receiver. */
  notificationId: string;
}

/**
 * What became of a delivery. `transient` may be retried (after `retryAfterMs` when the
 * receiver said so); `permanent` will fail the same way again until someone fixes something.
 */
export type SendOutcome =
  | { ok: true }
  | { ok: false; retry: 'permanent' | 'transient'; retryAfterMs?: number; status?: number; message: string };

export interface HealthResult {
  ok: boolean;
  message: string;
}

/**
 * A notification sink. send() never throws: every failure becomes a SendOutcome, so the
 * dispatcher has one code path. Messages never contain secrets (webhook URLs, routing keys,
 * SMTP passwords).
 */
export interface Channel {
  /** The instance name used by rules (`channels: [ops]`). */
  readonly name: string;
  /** Whether resolved transitions are delivered; send() drops them itself when false. */
  readonly sendResolved: boolean;
  /** The pace the receiver asks for, if it asks (Slack: about one message a second); `notify.rate_limits` overrides it. */
  readonly rateLimit?: RateLimit;
  send(batch: AlertMessage[], signal?: AbortSignal): Promise<SendOutcome>;
  healthcheck(): Promise<HealthResult>;
  close?(): Promise<void>;
}

export interface RateLimit {
  /** Sends per second, sustained. */
  perSecond: number;
  /** Sends allowed back to back after a quiet spell. */
  burst: number;
}

export type FetchLike = typeof fetch;

/** What a channel gets injected besides its options: time, the HTTP sender, its name. */
export interface ChannelContext {
  /** Instance name; defaults to the channel type. */
  name?: string;
  clock?: Clock;
  fetch?: FetchLike;
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
