import { hostname } from 'node:os';
import { truncate } from './format.js';
import { combineFailures, isFailure } from './http.js';
import { HttpChannel, postLabel } from './http-channel.js';
import { OptionReader } from './options.js';
import type { AlertMessage, ChannelContext, HealthResult, SendOutcome } from './types.js';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
export const PAGERDUTY_SUMMARY_MAX = 1024;

export interface PagerDutyOptions {
  /** The integration's 32-character routing key (a secret). */
  routing_key: string;
  /** Default https://events.pagerduty.com/v2/enqueue. */
  url?: string;
  /** payload.source; default this host's name. */
  source?: string;
  /** Labels whose values become payload.component / group / class (defaults: component, group, class; class falls back to the rule). */
  component_label?: string;
  group_label?: string;
  class_label?: string;
  /** Duration; default 10s. */
  timeout?: string | number;
  /** Default true: a resolve closes the incident its trigger opened. */
  send_resolved?: boolean;
}

const KNOWN = ['routing_key', 'url', 'source', 'component_label', 'group_label', 'class_label', 'timeout', 'send_resolved'] as const;

export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  client?: string;
  payload?: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details: Record<string, unknown>;
  };
}

/**
 * PagerDuty Events API v2, one event per alert. dedup_key is the alert id, which is stable for
 * an alert's identity, so the resolve closes the incident the trigger opened and a re-sent
 * trigger is folded into the open incident instead of paging twice.
 */
export class PagerDutyChannel extends HttpChannel {
  private readonly routingKey: string;
  private readonly url: string;
  private readonly source: string;
  private readonly labelsFor: { component: string; group: string; class: string };

  constructor(options: PagerDutyOptions, ctx: ChannelContext = {}) {
    const o = new OptionReader(ctx.name ?? 'pagerduty', 'pagerduty', options, KNOWN);
    const routingKey = o.string('routing_key');
    const url = o.url('url', PAGERDUTY_EVENTS_URL);
    const source = o.string('source', hostname());
    const labelsFor = {
      component: o.string('component_label', 'component'),
      group: o.string('group_label', 'group'),
      class: o.string('class_label', 'class'),
    };
    super(o, ctx, postLabel(o.channel, url));
    this.routingKey = routingKey;
    this.url = url;
    this.source = source;
    this.labelsFor = labelsFor;
  }

  /**
   * Events go out one after another; the first transient failure stops the batch (a 429 asks
   * for less traffic, not more) and the whole batch is retried — safe, thanks to dedup_key.
   * Permanent failures of single events do not stop the others.
   */
  protected override async deliver(alerts: AlertMessage[], signal: AbortSignal | undefined): Promise<SendOutcome> {
    const failures = [];
    for (const alert of alerts) {
      const outcome = await this.postJson(this.url, this.event(alert), signal, { label: `${this.label} (alert ${alert.id})` });
      if (isFailure(outcome)) {
        failures.push(outcome);
        if (outcome.retry === 'transient') break;
      }
    }
    return combineFailures(failures);
  }

  event(alert: AlertMessage): PagerDutyEvent {
    if (alert.state === 'resolved') {
      return { routing_key: this.routingKey, event_action: 'resolve', dedup_key: alert.id, client: 'vigil' };
    }
    const payload: NonNullable<PagerDutyEvent['payload']> = {
      summary: truncate(alert.summary || alert.rule, PAGERDUTY_SUMMARY_MAX),
      source: this.source,
      severity: alert.severity,
      timestamp: new Date(alert.startsAt).toISOString(),
      class: alert.labels[this.labelsFor.class] ?? alert.rule,
      custom_details: {
        rule: alert.rule,
        ...(alert.description ? { description: alert.description } : {}),
        values: alert.values,
        labels: alert.labels,
        alert_id: alert.id,
        notification_id: alert.notificationId,
      },
    };
    const component = alert.labels[this.labelsFor.component];
    if (component !== undefined) payload.component = component;
    const group = alert.labels[this.labelsFor.group];
    if (group !== undefined) payload.group = group;
    return { routing_key: this.routingKey, event_action: 'trigger', dedup_key: alert.id, client: 'vigil', payload };
  }

  /**
   * The routing key must have PagerDuty's shape (32 characters), and the events URL must answer
   * over HTTP. No event is sent: the Events API has no test mode, and a fake trigger would page
   * someone. Reachability is a HEAD request; any HTTP status counts.
   */
  override async healthcheck(): Promise<HealthResult> {
    if (!/^[A-Za-z0-9]{32}$/.test(this.routingKey)) {
      return { ok: false, message: `${this.name}: routing_key does not look like a PagerDuty integration key (32 letters and digits, got ${this.routingKey.length} characters)` };
    }
    const probe = await this.probe(this.url);
    return { ok: probe.ok, message: `${probe.message}; routing_key has the expected shape` };
  }
}
