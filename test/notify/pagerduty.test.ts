import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGERDUTY_SUMMARY_MAX, PagerDutyChannel, type PagerDutyEvent } from '../../src/notify/pagerduty.js';
import { alert, closedPort, startServer, type TestServer } from './helpers.js';

const KEY = 'R0123456789abcdef0123456789ABCDE'; // 32 characters

/** Plays the Events API v2: 202 for well-formed events, 400 otherwise; other paths fail on purpose. */
let pd: TestServer;
beforeAll(async () => {
  pd = await startServer((req, res) => {
    if (req.url === '/v2/enqueue') {
      const ev = req.json as Partial<PagerDutyEvent> | undefined;
      const valid = ev && ev.routing_key && ev.dedup_key && (ev.event_action === 'resolve' || (ev.payload?.summary && ev.payload.source && ev.payload.severity));
      if (!valid) return res.writeHead(400, { 'content-type': 'application/json' }).end('{"status":"invalid event","message":"Event object is invalid"}');
      return res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: ev.dedup_key }));
    }
    if (req.url === '/ratelimit') return res.writeHead(429, { 'retry-after': '2' }).end();
    if (req.url === '/fail') return res.writeHead(502).end();
    if (req.url === '/hang') return;
    res.writeHead(404).end();
  });
});
afterAll(() => pd.close());

const channel = (extra: Record<string, unknown> = {}) =>
  new PagerDutyChannel({ routing_key: KEY, url: `${pd.url}/v2/enqueue`, source: 'media-vm-1', ...extra });

const events = () => pd.requests.filter((r) => r.method === 'POST' && r.url === '/v2/enqueue').map((r) => r.json as PagerDutyEvent);

describe('PagerDutyChannel', () => {
  it('triggers and resolves with the same dedup_key (the alert id)', async () => {
    const ch = channel();
    const firing = alert({ id: 'alert-77', labels: { component: 'ffmpeg', group: 'workers', stage: 'merging' } });
    const before = events().length;
    expect(await ch.send([firing])).toEqual({ ok: true });
    expect(await ch.send([{ ...firing, state: 'resolved', endsAt: firing.startsAt + 600_000, notificationId: 'n-res' }])).toEqual({ ok: true });
    const [trigger, resolve] = events().slice(before);
    expect(trigger).toMatchObject({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: 'alert-77',
      payload: {
        summary: firing.summary,
        source: 'media-vm-1',
        severity: 'error',
        component: 'ffmpeg',
        group: 'workers',
        class: 'high_error_rate',
        timestamp: '2024-05-01T10:00:00.000Z',
        custom_details: { values: firing.values, labels: firing.labels },
      },
    });
    expect(resolve).toMatchObject({ event_action: 'resolve', dedup_key: 'alert-77', routing_key: KEY });
    expect(resolve!.dedup_key).toBe(trigger!.dedup_key);
  });

  it('maps each severity and sends one event per alert', async () => {
    const before = events().length;
    const sevs = ['info', 'warning', 'error', 'critical'] as const;
    expect(await channel().send(sevs.map((severity, i) => alert({ id: `s${i}`, severity })))).toEqual({ ok: true });
    expect(events().slice(before).map((e) => [e.dedup_key, e.payload!.severity])).toEqual([
      ['s0', 'info'],
      ['s1', 'warning'],
      ['s2', 'error'],
      ['s3', 'critical'],
    ]);
  });

  it('cuts the summary to 1024 characters with an ellipsis', async () => {
    const before = events().length;
    await channel().send([alert({ summary: 'y'.repeat(3000) })]);
    const summary = events()[before]!.payload!.summary;
    expect(summary.length).toBe(PAGERDUTY_SUMMARY_MAX);
    expect(summary.endsWith('…')).toBe(true);
    expect(summary.startsWith('yyyy')).toBe(true);
  });

  it('classifies 400 as permanent (and keeps sending the rest of the batch)', async () => {
    const ch = channel();
    const before = events().length;
    const out = await ch.send([alert({ id: 'ok-1' }), alert({ id: 'bad', summary: '', rule: '' }), alert({ id: 'ok-2' })]);
    expect(out).toMatchObject({ ok: false, retry: 'permanent', status: 400, message: expect.stringContaining('Event object is invalid') });
    expect(events().slice(before).map((e) => e.dedup_key)).toEqual(['ok-1', 'bad', 'ok-2']);
  });

  it('classifies 429 (Retry-After: 2) and 502 as transient and stops the batch at the first', async () => {
    const before = pd.requests.length;
    const out = await channel({ url: `${pd.url}/ratelimit` }).send([alert({ id: 'x1' }), alert({ id: 'x2' })]);
    expect(out).toMatchObject({ ok: false, retry: 'transient', status: 429, retryAfterMs: 2000 });
    expect(pd.requests.length - before).toBe(1);
    expect(await channel({ url: `${pd.url}/fail` }).send([alert()])).toMatchObject({ retry: 'transient', status: 502 });
  });

  it('times out a hung endpoint, and a refused connection is transient', async () => {
    expect(await channel({ url: `${pd.url}/hang`, timeout: '150ms' }).send([alert()])).toMatchObject({ ok: false, retry: 'transient', message: expect.stringContaining('no answer within 150 ms') });
    const port = await closedPort();
    expect(await channel({ url: `http://127.0.0.1:${port}/v2/enqueue` }).send([alert()])).toMatchObject({ ok: false, retry: 'transient' });
  });

  it('never shows the routing key in a message', async () => {
    const out = await channel({ url: `${pd.url}/fail` }).send([alert()]);
    expect(JSON.stringify(out)).not.toContain(KEY);
    expect(JSON.stringify(await channel().healthcheck())).not.toContain(KEY);
  });

  it('healthcheck: routing key shape and a reachable URL, without sending an event', async () => {
    const before = events().length;
    const good = await channel().healthcheck();
    expect(good).toMatchObject({ ok: true });
    expect(events().length).toBe(before);
    expect(await channel({ routing_key: 'short' }).healthcheck()).toMatchObject({ ok: false, message: expect.stringContaining('32') });
    const port = await closedPort();
    expect(await channel({ url: `http://127.0.0.1:${port}/v2/enqueue` }).healthcheck()).toMatchObject({ ok: false });
  });

  it('defaults to the public endpoint and sendResolved true; requires routing_key', () => {
    const ch = new PagerDutyChannel({ routing_key: KEY });
    expect(ch.sendResolved).toBe(true);
    expect(() => new PagerDutyChannel({} as never)).toThrow(/option "routing_key" is required/);
  });
});
