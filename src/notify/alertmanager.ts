import { combineFailures, isFailure, redactUrl } from './http.js';
import { HttpChannel, postLabel } from './http-channel.js';
import { OptionReader, checkHttpUrl } from './options.js';
import { askStatus } from './probe.js';
import type { AlertMessage, ChannelContext, HealthResult, SendOutcome } from './types.js';

export interface AlertmanagerOptions {
  /** One Alertmanager, or every member of a cluster (each gets every alert, as Prometheus does). */
  url: string | string[];
  /** How long a firing alert stays active in Alertmanager without being re-sent; default 24h. */
  resolve_timeout?: string | number;
  /** Sent as generatorURL, e.g. vigil's API address. */
  generator_url?: string;
  /** Duration; default 10s. */
  timeout?: string | number;
}

const KNOWN = ['url', 'resolve_timeout', 'generator_url', 'timeout'] as const;

/**
 * vigil re-sends a firing alert only on its repeat_interval, not on every evaluation as
 * Prometheus does, so a firing alert carries an explicit endsAt far enough ahead that
 * Alertmanager does not resolve it by itself in between (Alertmanager's own default would be
 * 5m). Keep repeat_interval below this for rules routed here.
 */
const DEFAULT_RESOLVE_TIMEOUT_MS = 24 * 3_600_000;

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

/**
 * Alertmanager API v2 (`POST /api/v2/alerts`). The delivery counts when any member accepts:
 * a cluster gossips alerts between members, so one copy is enough.
 */
export class AlertmanagerChannel extends HttpChannel {
  private readonly bases: string[];
  private readonly resolveTimeoutMs: number;
  private readonly generatorUrl: string | undefined;

  constructor(options: AlertmanagerOptions, ctx: ChannelContext = {}) {
    const o = new OptionReader(ctx.name ?? 'alertmanager', 'alertmanager', options, KNOWN);
    const bases = o.stringList('url').map((u) => {
      checkHttpUrl(u, (problem) => o.error('url', problem));
      return u.replace(/\/+$/, '');
    });
    const resolveTimeoutMs = o.durationMs('resolve_timeout', DEFAULT_RESOLVE_TIMEOUT_MS);
    const generatorUrl = o.has('generator_url') ? o.url('generator_url') : undefined;
    // No send_resolved option (KNOWN): a resolve is how Alertmanager learns an alert ended.
    super(o, ctx, o.channel);
    this.bases = bases;
    this.resolveTimeoutMs = resolveTimeoutMs;
    this.generatorUrl = generatorUrl;
  }

  protected override async deliver(alerts: AlertMessage[], signal: AbortSignal | undefined): Promise<SendOutcome> {
    const now = this.clock.now();
    const body = alerts.map((a) => this.toAlertmanager(a, now));
    const outcomes = await Promise.all(
      this.bases.map((base) => this.postJson(`${base}/api/v2/alerts`, body, signal, { label: postLabel(this.name, base) })),
    );
    if (outcomes.some((o) => o.ok)) return { ok: true };
    return combineFailures(outcomes.filter(isFailure));
  }

  toAlertmanager(a: AlertMessage, now: number): AlertmanagerAlert {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(a.labels)) labels[labelName(k)] = v;
    // The rule's name and severity win over a label of the same name: they are what routes.
    labels.alertname = a.rule;
    labels.severity = a.severity;
    const annotations: Record<string, string> = { summary: a.summary, vigil_id: a.id };
    if (a.description) annotations.description = a.description;
    const endsAt = a.state === 'resolved' ? (a.endsAt ?? now) : now + this.resolveTimeoutMs;
    const out: AlertmanagerAlert = { labels, annotations, startsAt: new Date(a.startsAt).toISOString(), endsAt: new Date(endsAt).toISOString() };
    if (this.generatorUrl) out.generatorURL = this.generatorUrl;
    return out;
  }

  /** GET /-/healthy on every member; healthy when any is, as for delivery. */
  override async healthcheck(): Promise<HealthResult> {
    const results = await Promise.all(
      this.bases.map(async (base) => {
        const shown = redactUrl(base);
        const a = await askStatus(`${base}/-/healthy`, { method: 'GET', timeoutMs: this.timeoutMs, fetch: this.fetchFn });
        if ('error' in a) return { ok: false, message: `${shown} not reachable: ${a.error}` };
        return { ok: a.ok, message: `${shown} ${a.ok ? 'healthy' : `answered HTTP ${a.status}`}` };
      }),
    );
    return { ok: results.some((r) => r.ok), message: `${this.name}: ${results.map((r) => r.message).join('; ')}` };
  }
}

/** Alertmanager label names follow Prometheus: [a-zA-Z_][a-zA-Z0-9_]*. */
function labelName(k: string): string {
  const s = k.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[a-zA-Z_]/.test(s) ? s : `_${s}`;
}
