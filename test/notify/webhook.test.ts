import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ChannelOptionError } from '../../src/notify/options.js';
import { batchKey } from '../../src/notify/message.js';
import { WebhookChannel } from '../../src/notify/webhook.js';
import { alert, closedPort, startServer, type TestServer } from './helpers.js';

/**
 * One receiver whose answer depends on the path, so each case is a real HTTP exchange:
 * /ok 200, /e500, /e429 (Retry-After: 2), /e503date (Retry-After: HTTP-date), /e400, /redirect, /hang.
 */
let server: TestServer;
const clock = new ManualClock(Date.UTC(2024, 0, 1, 12, 0, 0));

beforeAll(async () => {
  server = await startServer((req, res) => {
    const path = req.url.split('?')[0];
    if (path === '/ok') return res.writeHead(200).end('accepted');
    if (path === '/e500') return res.writeHead(500).end('boom');
    if (path === '/e429') return res.writeHead(429, { 'retry-after': '2' }).end('slow down');
    if (path === '/e503date') return res.writeHead(503, { 'retry-after': 'Mon, 01 Jan 2024 12:00:45 GMT' }).end();
    if (path === '/e400') return res.writeHead(400).end('bad alert');
    if (path === '/redirect') return res.writeHead(301, { location: '/ok' }).end();
    if (path === '/hang') return; // never answers
    res.writeHead(404).end();
  });
});
afterAll(() => server.close());

const hook = (path: string, extra: Record<string, unknown> = {}) =>
  new WebhookChannel({ url: `${server.url}${path}`, ...extra }, { name: 'ops', clock });

describe('WebhookChannel', () => {
  it('posts { version: 1, alerts } with the configured headers and an idempotency key', async () => {
    const a = alert();
    const b = alert({ id: 'other', state: 'resolved', endsAt: a.startsAt + 60_000 });
    const ch = hook('/ok', { headers: { Authorization: 'Bearer s3cret', 'Content-Type': 'application/json; charset=utf-8' } });
    const before = server.requests.length;
    expect(await ch.send([a, b])).toEqual({ ok: true });
    const req = server.requests[before]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8'); // configured value replaces ours, not appended
    expect(req.headers.authorization).toBe('Bearer s3cret');
    expect(req.headers['idempotency-key']).toBe(batchKey([b, a]));
    expect(req.json).toEqual({ version: 1, alerts: [a, b] });
  });

  it('drops resolved alerts when send_resolved is false, and sends nothing for an empty batch', async () => {
    const ch = hook('/ok', { send_resolved: false });
    const before = server.requests.length;
    expect(await ch.send([alert({ state: 'resolved' })])).toEqual({ ok: true });
    expect(server.requests.length).toBe(before);
    const firing = alert();
    expect(await ch.send([firing, alert({ state: 'resolved' })])).toEqual({ ok: true });
    expect((server.requests.at(-1)!.json as { alerts: unknown[] }).alerts).toEqual([firing]);
  });

  it('classifies 500 as transient', async () => {
    expect(await hook('/e500').send([alert()])).toMatchObject({ ok: false, retry: 'transient', status: 500 });
  });

  it('classifies 429 as transient and honours Retry-After seconds', async () => {
    const out = await hook('/e429').send([alert()]);
    expect(out).toMatchObject({ ok: false, retry: 'transient', status: 429, retryAfterMs: 2000 });
  });

  it('honours a Retry-After HTTP-date on 503, against the injected clock', async () => {
    const out = await hook('/e503date').send([alert()]);
    expect(out).toMatchObject({ ok: false, retry: 'transient', status: 503, retryAfterMs: 45_000 });
  });

  it('classifies 400 and redirects as permanent', async () => {
    expect(await hook('/e400').send([alert()])).toMatchObject({ ok: false, retry: 'permanent', status: 400, message: expect.stringContaining('bad alert') });
    expect(await hook('/redirect').send([alert()])).toMatchObject({ ok: false, retry: 'permanent', status: 301 });
  });

  it('gives up on a receiver that never answers after its timeout, as transient', async () => {
    const out = await hook('/hang', { timeout: '200ms' }).send([alert()]);
    expect(out).toMatchObject({ ok: false, retry: 'transient' });
    expect(out.ok === false && out.message).toContain('no answer within 200 ms');
  });

  it('reports an abort by the caller as transient', async () => {
    const ctl = new AbortController();
    const pending = hook('/hang').send([alert()], ctl.signal);
    setTimeout(() => ctl.abort(), 50);
    const out = await pending;
    expect(out).toMatchObject({ ok: false, retry: 'transient', message: expect.stringContaining('aborted') });
  });

  it('classifies connection refused as transient', async () => {
    const port = await closedPort();
    const out = await new WebhookChannel({ url: `http://127.0.0.1:${port}/hook` }).send([alert()]);
    expect(out).toMatchObject({ ok: false, retry: 'transient' });
    expect(out.ok === false && out.message).toContain('ECONNREFUSED');
  });

  it('never puts the URL path, query or header values in its messages', async () => {
    const out = await hook('/e400?token=TOPSECRET', { headers: { Authorization: 'Bearer HEADERSECRET' } }).send([alert()]);
    expect(out.ok).toBe(false);
    const text = JSON.stringify(out);
    expect(text).not.toContain('TOPSECRET');
    expect(text).not.toContain('HEADERSECRET');
    expect(text).not.toContain('/e400');
  });

  it('validates options with messages naming the option', () => {
    expect(() => new WebhookChannel({} as never, { name: 'ops' })).toThrow(/channel "ops" \(webhook\): option "url" is required/);
    expect(() => new WebhookChannel({ url: 'ftp://x' })).toThrow(/option "url" must be an http\(s\) URL/);
    expect(() => new WebhookChannel({ url: 'http://x', timeout: 'soon' })).toThrow(/option "timeout" must be a duration/);
    expect(() => new WebhookChannel({ url: 'http://x', headers: { 'X-A': 'a\r\nb' } })).toThrow(/option "headers"/);
    expect(() => new WebhookChannel({ url: 'http://x', urll: 'y' } as never)).toThrow(/option "urll" is not a webhook option/);
    let caught: unknown;
    try {
      new WebhookChannel({ url: 'nope' }, { name: 'ops' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ChannelOptionError);
    expect((caught as ChannelOptionError).path).toEqual(['ops', 'url']);
    expect((caught as ChannelOptionError).code).toBe('VIGIL_CONFIG_INVALID');
  });

  it('healthcheck probes reachability without posting an alert', async () => {
    const before = server.requests.filter((r) => r.method === 'POST').length;
    const up = await hook('/ok').healthcheck();
    expect(up.ok).toBe(true);
    expect(server.requests.at(-1)!.method).toBe('HEAD');
    expect(server.requests.filter((r) => r.method === 'POST').length).toBe(before);
    const down = await new WebhookChannel({ url: `http://127.0.0.1:${await closedPort()}/x` }).healthcheck();
    expect(down).toMatchObject({ ok: false, message: expect.stringContaining('not reachable') });
  });
});
