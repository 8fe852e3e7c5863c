import { AlertmanagerChannel, type AlertmanagerOptions } from './alertmanager.js';
import { ConsoleChannel, type ConsoleOptions } from './console.js';
import { EmailChannel, type EmailOptions } from './email.js';
import { ChannelOptionError } from './options.js';
import { PagerDutyChannel, type PagerDutyOptions } from './pagerduty.js';
import { SlackChannel, type SlackOptions } from './slack.js';
import type { Channel, ChannelContext } from './types.js';
import { WebhookChannel, type WebhookOptions } from './webhook.js';

export const CHANNEL_TYPES = ['email', 'slack', 'pagerduty', 'webhook', 'alertmanager', 'console'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

const CONSTRUCTORS: Record<ChannelType, (options: unknown, ctx: ChannelContext) => Channel> = {
  email: (o, c) => new EmailChannel(o as EmailOptions, c),
  slack: (o, c) => new SlackChannel(o as SlackOptions, c),
  pagerduty: (o, c) => new PagerDutyChannel(o as PagerDutyOptions, c),
  webhook: (o, c) => new WebhookChannel(o as WebhookOptions, c),
  alertmanager: (o, c) => new AlertmanagerChannel(o as AlertmanagerOptions, c),
  console: (o, c) => new ConsoleChannel(o as ConsoleOptions, c),
};

export type BuildChannelsContext = Omit<ChannelContext, 'name'>;

/**
 * Builds the channels of the `channels:` config section. Every key is an instance name — the
 * name rules use in `channels: [...]`. The type is the key itself when the key is a type name,
 * otherwise a `type:` entry says it, so several instances of a type sit side by side:
 *
 *   channels:
 *     email:     { smtp_url: "smtp://localhost:25", from: vigil@host, to: [ops@example.com] }
 *     slack:     { webhook_url: "${SLACK_WEBHOOK_URL}" }
 *     ops-hook:  { type: webhook, url: "https://ops.example.com/hook" }
 *     sre-slack: { type: slack, webhook_url: "${SRE_SLACK_URL}" }
 *     console:   {}                 # or null: stdout
 *
 * Options are taken as they are: `${VAR}` was expanded once, by the config loader (a
 * secret that holds a literal "${" must not be expanded again). All problems throw a
 * ChannelOptionError (VIGIL_CONFIG_INVALID) whose `path` locates the option. Nothing is
 * contacted: run healthcheck() for that.
 */
export function buildChannels(config: Record<string, unknown> | null | undefined, ctx: BuildChannelsContext = {}): Map<string, Channel> {
  const channels = new Map<string, Channel>();
  for (const [name, raw] of Object.entries(config ?? {})) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
      throw new ChannelOptionError([name], `channel "${name}": a channel name may contain only letters, digits, "_", "." and "-"`);
    }
    if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
      throw new ChannelOptionError([name], `channel "${name}": options must be a mapping`);
    }
    const options = (raw ?? {}) as Record<string, unknown>;
    const type = channelType(name, options.type);
    const { type: _type, ...rest } = options;
    const build = CONSTRUCTORS[type];
    const channel = build(rest, { ...ctx, name });
    channels.set(name, channel);
  }
  return channels;
}

function channelType(name: string, declared: unknown): ChannelType {
  const isType = (t: unknown): t is ChannelType => typeof t === 'string' && (CHANNEL_TYPES as readonly string[]).includes(t);
  if (declared === undefined || declared === null) {
    if (isType(name)) return name;
    throw new ChannelOptionError([name, 'type'], `channel "${name}": option "type" is required (one of ${CHANNEL_TYPES.join(', ')}) unless the channel is named after its type`);
  }
  if (!isType(declared)) {
    throw new ChannelOptionError([name, 'type'], `channel "${name}": option "type" must be one of ${CHANNEL_TYPES.join(', ')}`);
  }
  if (isType(name) && declared !== name) {
    throw new ChannelOptionError([name, 'type'], `channel "${name}": a channel named after a type must be of that type (got type ${declared})`);
  }
  return declared;
}

