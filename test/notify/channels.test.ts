import { describe, expect, it } from 'vitest';
import { VigilError } from '../../src/errors.js';
import { AlertmanagerChannel } from '../../src/notify/alertmanager.js';
import { parseConfigText } from '../../src/config/load.js';
import { buildChannels } from '../../src/notify/channels.js';
import { ConsoleChannel } from '../../src/notify/console.js';
import { EmailChannel } from '../../src/notify/email.js';
import { ChannelOptionError } from '../../src/notify/options.js';
import { PagerDutyChannel } from '../../src/notify/pagerduty.js';
import { SlackChannel } from '../../src/notify/slack.js';
import { WebhookChannel } from '../../src/notify/webhook.js';

const env = { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/abc', PD_KEY: 'x'.repeat(32), HOOK_TOKEN: 't0k' };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('buildChannels', () => {
  it('builds one channel per key: type from the key, or from `type:` for other names', async () => {
    // ${VAR} is expanded by the config loader (YAML accepts the JSON); `console: null` is
    // what buildChannels accepts for a bare console.
    const section = {
      email: { smtp_url: 'smtp://127.0.0.1:2525', from: 'vigil@host.example', to: ['ops@example.com'] },
      slack: { webhook_url: '${SLACK_WEBHOOK_URL}' },
      pagerduty: { routing_key: '${PD_KEY}' },
      webhook: { url: 'http://127.0.0.1:9/hook' },
      'ops-hook': { type: 'webhook', url: 'http://127.0.0.1:9/ops', headers: { Authorization: 'Bearer ${HOOK_TOKEN}' } },
      alertmanager: { url: ['http://127.0.0.1:9093', 'http://127.0.0.1:9094'] },
    };
    const channels = buildChannels({ ...parseConfigText(`channels: ${JSON.stringify(section)}`, 'vigil.yaml', env).channels, console: null });
    expect([...channels.keys()]).toEqual(['email', 'slack', 'pagerduty', 'webhook', 'ops-hook', 'alertmanager', 'console']);
    expect(channels.get('email')).toBeInstanceOf(EmailChannel);
    expect(channels.get('slack')).toBeInstanceOf(SlackChannel);
    expect(channels.get('pagerduty')).toBeInstanceOf(PagerDutyChannel);
    expect(channels.get('webhook')).toBeInstanceOf(WebhookChannel);
    expect(channels.get('ops-hook')).toBeInstanceOf(WebhookChannel);
    expect(channels.get('ops-hook')!.name).toBe('ops-hook');
    expect(channels.get('alertmanager')).toBeInstanceOf(AlertmanagerChannel);
    expect(channels.get('console')).toBeInstanceOf(ConsoleChannel);
    expect((await channels.get('slack')!.healthcheck()).ok).toBe(true); // ${VAR} was expanded into a valid URL
    await channels.get('email')!.close?.();
  });

  it('an empty or missing section builds nothing', () => {
    expect(buildChannels({}).size).toBe(0);
    expect(buildChannels(undefined).size).toBe(0);
  });

  it('refuses an unknown type, a missing type, and a type contradicting the name', () => {
    expect(thrown(() => buildChannels({ ops: { url: 'http://x' } }))).toMatchObject({ path: ['ops', 'type'], message: expect.stringContaining('option "type" is required') });
    expect(thrown(() => buildChannels({ ops: { type: 'sms' } }))).toMatchObject({ message: expect.stringContaining('must be one of email, slack') });
    expect(thrown(() => buildChannels({ slack: { type: 'webhook', url: 'http://x' } }))).toBeInstanceOf(ChannelOptionError);
  });

  it('passes option errors through with their path', () => {
    const e = thrown(() => buildChannels({ 'sre-slack': { type: 'slack', webhook_url: 'nope' } }));
    expect(e).toBeInstanceOf(ChannelOptionError);
    expect((e as ChannelOptionError).path).toEqual(['sre-slack', 'webhook_url']);
    expect((e as ChannelOptionError).message).toBe('channel "sre-slack" (slack): option "webhook_url" must be an absolute http(s) URL');
  });

  it('a missing environment variable is VIGIL_ENV_MISSING, naming the variable, not a secret (expanded once, by the config loader)', () => {
    const e = thrown(() => parseConfigText('channels:\n  slack: { webhook_url: "${NOPE_NOT_SET}" }\n', 'vigil.yaml', {}));
    expect(e).toBeInstanceOf(VigilError);
    expect((e as VigilError).code).toBe('VIGIL_ENV_MISSING');
    expect((e as VigilError).message).toBe('vigil.yaml:2:25: environment variable NOPE_NOT_SET is not set (use ${NOPE_NOT_SET:-default} for a default)');
  });

  it('takes option values as they are: a secret holding a literal "${" is not expanded again', () => {
    const cfg = parseConfigText('channels:\n  webhook: { url: "http://127.0.0.1:9/${HOOK_PATH}" }\n', 'vigil.yaml', { HOOK_PATH: 'a${NOT_A_VAR}b' });
    expect(cfg.channels.webhook).toEqual({ url: 'http://127.0.0.1:9/a${NOT_A_VAR}b' });
    expect(buildChannels(cfg.channels).get('webhook')).toBeInstanceOf(WebhookChannel);
  });
});
