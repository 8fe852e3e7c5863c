import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackChannel, slackPayload } from '../../src/notify/slack.js';
import { alert, closedPort, startServer, type TestServer } from './helpers.js';

/** Plays Slack's incoming-webhook endpoint: answers by path like Slack's documented errors. */
let slack: TestServer;
const SECRET_PATH = '/services/T0001/B0001/abcdefSECRET';

beforeAll(async () => {
  slack = await startServer((req, res) => {
    if (req.url === SECRET_PATH) return res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (req.url.startsWith('/ratelimited')) return res.writeHead(429, { 'retry-after': '2' }).end('rate_limited');
    if (req.url.startsWith('/archived')) return res.writeHead(410).end('channel_is_archived');
    if (req.url.startsWith('/rollup')) return res.writeHead(500).end('rollup_error');
    if (req.url.startsWith('/hang')) return;
    res.writeHead(404).end('no_service');
  });
});
afterAll(() => slack.close());

describe('SlackChannel', () => {
  it('posts Block Kit blocks with a text fallback', async () => {
    const a = alert({ labels: { stage: 'merging', host: 'w1' } });
    const ch = new SlackChannel({ webhook_url: `${slack.url}${SECRET_PATH}` });
    expect(await ch.send([a])).toEqual({ ok: true });
    const body = slack.requests.at(-1)!.json as { text: string; blocks: Array<{ type: string; text?: { text: string }; fields?: Array<{ text: string }>; elements?: Array<{ text: string }> }> };
    expect(body.text).toContain('[FIRING] error high_error_rate');
    expect(body.text).toContain(a.summary);
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(body.blocks[0]!.text!.text).toBe('FIRING error high_error_rate {host="w1", stage="merging"}');
    expect(body.blocks[1]!.text!.text).toContain(a.summary);
    expect(body.blocks[2]!.fields!.map((f) => f.text)).toEqual([
      '*Severity*\nerror',
      '*Labels*\n{host="w1", stage="merging"}',
      '*Values*\nerror_rate=0.125, total_operations=40',
    ]);
    expect(body.blocks[3]!.elements![0]!.text).toContain(a.id);
  });

  it('stays within Slack limits for a large batch', () => {
    const batch = Array.from({ length: 30 }, (_, i) => alert({ id: `id${i}`, summary: 'x'.repeat(5000) }));
    const p = slackPayload(batch);
    expect(p.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(p.blocks.at(-1))).toContain('and 20 more alerts');
    expect(p.text.length).toBeLessThanOrEqual(3000);
    for (const b of p.blocks) if (b.type === 'section' && 'text' in b && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
  });

  it('classifies 429 with Retry-After: 2 as transient, retryAfterMs 2000', async () => {
    const out = await new SlackChannel({ webhook_url: `${slack.url}/ratelimited/x` }).send([alert()]);
    expect(out).toMatchObject({ ok: false, retry: 'transient', status: 429, retryAfterMs: 2000 });
  });

  it('classifies 500 as transient, 404 and 410 as permanent', async () => {
    expect(await new SlackChannel({ webhook_url: `${slack.url}/rollup` }).send([alert()])).toMatchObject({ retry: 'transient', status: 500 });
    expect(await new SlackChannel({ webhook_url: `${slack.url}/gone` }).send([alert()])).toMatchObject({ retry: 'permanent', status: 404 });
    const archived = await new SlackChannel({ webhook_url: `${slack.url}/archived` }).send([alert()]);
    expect(archived).toMatchObject({ retry: 'permanent', status: 410, message: expect.stringContaining('channel_is_archived') });
  });

  it('times out a hung receiver and treats a refused connection as transient', async () => {
    expect(await new SlackChannel({ webhook_url: `${slack.url}/hang`, timeout: '150ms' }).send([alert()])).toMatchObject({ ok: false, retry: 'transient' });
    const port = await closedPort();
    expect(await new SlackChannel({ webhook_url: `http://127.0.0.1:${port}/services/a/b/c` }).send([alert()])).toMatchObject({ ok: false, retry: 'transient' });
  });

  it('never shows the webhook path (its token) in a message', async () => {
    const ch = new SlackChannel({ webhook_url: `${slack.url}/gone/SECRETTOKEN` });
    const out = await ch.send([alert()]);
    expect(JSON.stringify(out)).not.toContain('SECRETTOKEN');
    expect(JSON.stringify(await ch.healthcheck())).not.toContain('SECRETTOKEN');
  });

  it('healthcheck checks the URL shape only (Slack has no dry run)', async () => {
    const good = await new SlackChannel({ webhook_url: 'https://hooks.slack.com/services/T0001/B0001/abcdef123' }).healthcheck();
    expect(good.ok).toBe(true);
    expect(good.message).toContain('no dry-run');
    expect((await new SlackChannel({ webhook_url: 'https://hooks.slack.com/wrong' }).healthcheck()).ok).toBe(false);
    expect((await new SlackChannel({ webhook_url: 'http://hooks.slack.com/services/T0001/B0001/abc' }).healthcheck()).ok).toBe(false);
    expect(() => new SlackChannel({ webhook_url: 'hooks.slack.com/x' }, { name: 'sre' })).toThrow(/channel "sre" \(slack\): option "webhook_url"/);
  });
});
