import type { IncomingWebhookSendArguments } from '@slack/webhook';
import { batchTitle, formatLabels, formatValues, stateWord, truncate } from './format.js';
import { redactUrl } from './http.js';
import { HttpChannel, postLabel } from './http-channel.js';
import { OptionReader } from './options.js';
import type { AlertMessage, ChannelContext, HealthResult, RateLimit, SendOutcome } from './types.js';

export interface SlackOptions {
  webhook_url: string;
  /** Duration; default 10s. */
  timeout?: string | number;
  /** Default true. */
  send_resolved?: boolean;
}

const KNOWN = ['webhook_url', 'timeout', 'send_resolved'] as const;

/** Slack's limits: 50 blocks per message, 150 chars in a header, 3000 in a section, 2000 in a field. */
const MAX_ALERTS_SHOWN = 10;
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const TEXT_MAX = 3000;

export type SlackPayload = Required<Pick<IncomingWebhookSendArguments, 'text' | 'blocks'>>;

/** Slack asks incoming webhooks for about one message per second. */
const SLACK_RATE_LIMIT: RateLimit = { perSecond: 1, burst: 1 };

/**
 * Slack incoming webhook, posted with fetch rather than @slack/webhook's IncomingWebhook: that
 * client reports a failure as IncomingWebhookHTTPError with the status and body but drops the
 * response headers, so a 429's Retry-After is lost, and it takes no per-call AbortSignal. The
 * payload is still typed with the library's IncomingWebhookSendArguments.
 */
export class SlackChannel extends HttpChannel {
  readonly rateLimit = SLACK_RATE_LIMIT;
  private readonly url: string;

  constructor(options: SlackOptions, ctx: ChannelContext = {}) {
    const o = new OptionReader(ctx.name ?? 'slack', 'slack', options, KNOWN);
    const url = o.url('webhook_url');
    super(o, ctx, postLabel(o.channel, url));
    this.url = url;
  }

  protected override deliver(alerts: AlertMessage[], signal: AbortSignal | undefined): Promise<SendOutcome> {
    return this.postJson(this.url, slackPayload(alerts), signal);
  }

  /**
   * Slack has no dry-run endpoint for incoming webhooks — any valid POST is a message in the
   * channel — so the check is only that the URL has the shape Slack issues. Hosts other than
   * hooks.slack.com (a relay, a test receiver) are accepted as they are.
   */
  override async healthcheck(): Promise<HealthResult> {
    const u = new URL(this.url);
    const shown = redactUrl(u);
    if (u.hostname === 'hooks.slack.com') {
      if (u.protocol !== 'https:' || !/^\/services\/[A-Z0-9]+\/[A-Z0-9]+\/[A-Za-z0-9]+$/.test(u.pathname)) {
        return { ok: false, message: `${this.name}: webhook URL ${shown} is not of the form https://hooks.slack.com/services/T…/B…/…` };
      }
      return { ok: true, message: `${this.name}: webhook URL ${shown} is well-formed (Slack has no dry-run endpoint; delivery not tested)` };
    }
    return { ok: true, message: `${this.name}: webhook URL ${shown} is well-formed but not hooks.slack.com (no dry-run endpoint; delivery not tested)` };
  }
}

/** Block Kit message plus the plain `text` Slack shows in notifications and old clients. */
export function slackPayload(batch: AlertMessage[]): SlackPayload {
  const blocks: SlackPayload['blocks'] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(batchTitle(batch), HEADER_MAX), emoji: false } },
  ];
  for (const a of batch.slice(0, MAX_ALERTS_SHOWN)) {
    const heading = `*${stateWord(a.state)}* \`${a.rule}\``;
    const body = a.description ? `${a.summary}\n${a.description}` : a.summary;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`${heading}\n${escapeMrkdwn(body)}`, SECTION_MAX) } });
    const values = formatValues(a.values);
    const fields = [
      { type: 'mrkdwn' as const, text: `*Severity*\n${a.severity}` },
      { type: 'mrkdwn' as const, text: truncate(`*Labels*\n${escapeMrkdwn(formatLabels(a.labels) || '(none)')}`, FIELD_MAX) },
    ];
    if (values) fields.push({ type: 'mrkdwn', text: truncate(`*Values*\n${escapeMrkdwn(values)}`, FIELD_MAX) });
    blocks.push({ type: 'section', fields });
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `alert \`${a.id}\` · notification \`${a.notificationId}\` · since ${new Date(a.startsAt).toISOString()}` }],
    });
  }
  if (batch.length > MAX_ALERTS_SHOWN) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${batch.length - MAX_ALERTS_SHOWN} more alerts` }] });
  }
  const text = truncate(
    batch.map((a) => `[${stateWord(a.state)}] ${a.severity} ${a.rule}${formatLabels(a.labels)}: ${a.summary}`).join('\n'),
    TEXT_MAX,
  );
  return { text, blocks };
}

/** Slack mrkdwn treats &, < and > as control characters. */
function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
