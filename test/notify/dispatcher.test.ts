/**
 * The dispatcher against real receivers (node:http on 127.0.0.1, smtp-server) that fail first
 * and recover. Time is a ManualClock moved by the test; drain() delivers what is due.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock, type Clock } from '../../src/clock.js';
import { buildChannels } from '../../src/notify/channels.js';
import { Dispatcher, type DispatcherOptions } from '../../src/notify/dispatcher.js';
import { Outbox, OutboxTable } from '../../src/notify/outbox.js';
import { Router, type Route } from '../../src/notify/router.js';
import { parseMatcher, SilenceStore, type Silence } from '../../src/notify/silences.js';
import type { Transition } from '../../src/rules/engine.js';
import { INACTIVE, step, type AlertState } from '../../src/rules/state.js';
import { AlertStore } from '../../src/store/alerts.js';
import type { DB } from '../../src/store/db.js';
import { waitFor } from '../helpers/agent.js';
import { closedPort } from './helpers.js';
import { startSmtp } from './smtp.js';
import { acceptedCounts, firing, memoryStore, next, rule, startReceiver, webhookIds, type Receiver, type ReceivedRequest } from './outbox-fixtures.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const H = 3_600_000;
const PD_KEY = 'R0UTINGKEY0000000000000000000001';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function receiver(opts: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const r = await startReceiver(opts);
  cleanups.push(() => r.close());
  return r;
}

interface Harness {
  db: DB;
  clock: ManualClock;
  outbox: Outbox;
  d: Dispatcher;
  table: OutboxTable;
  /** Records a firing transition of a new alert and queues it on `channels`. */
  fire(channels?: string[], over?: Partial<Transition>): ReturnType<typeof firing>;
  resolve(t: ReturnType<typeof firing>, channels?: string[]): void;
  /** Adds a silence of these matchers (`stage=merging`, …) active from `startsAt` to `endsAt`, as `vigil silence add` does. */
  silence(matchers: string[], startsAt: number, endsAt: number): Silence;
}

function harness(channelConfig: Record<string, unknown>, opts: Partial<DispatcherOptions> & { routes?: Route[]; clock?: Clock } = {}): Harness {
  const db = memoryStore();
  const clock = new ManualClock(T0);
  const useClock = opts.clock ?? clock;
  const channels = buildChannels(channelConfig, { clock: useClock });
  for (const c of channels.values()) cleanups.push(() => c.close?.());
  const names = [...channels.keys()];
  const d = new Dispatcher({ db, channels, clock: useClock, random: () => 0.5, timers: false, ...opts });
  cleanups.push(() => d.stop());
  const outbox = new Outbox(db, { router: new Router(opts.routes ?? [], names), channels, onEnqueue: () => d.kick() });
  return {
    db,
    clock,
    outbox,
    d,
    table: new OutboxTable(db),
    fire(on = names, over = {}) {
      const t = firing(db, useClock.now(), over);
      outbox.enqueue(t, rule(on), useClock.now());
      return t;
    },
    resolve(t, on = names) {
      outbox.enqueue(next(t, useClock.now(), 'resolved'), rule(on), useClock.now());
    },
    silence(matchers, startsAt, endsAt) {
      return new SilenceStore(db).add({ matchers: matchers.map((m) => parseMatcher(m)), startsAt, endsAt }, useClock.now());
    },
  };
}

/** `stage:state` of every alert the receiver accepted, in order. */
const acceptedStages = (r: Receiver) =>
  r
    .accepted()
    .flatMap((q) => q.json.alerts as Array<{ labels: { stage: string }; state: string }>)
    .map((a) => `${a.labels.stage}:${a.state}`);

const only = <T>(xs: T[]): T => {
  expect(xs).toHaveLength(1);
  return xs[0]!;
};

describe('Dispatcher: failures, then recovery, each notification accepted exactly once', () => {
  it('500 twice: retried with exponential backoff and full jitter (injected random), then delivered', async () => {
    const r = await receiver({ script: [{ status: 500 }, { status: 500 }] });
    const h = harness({ webhook: { url: `${r.url}/hook` } });
    h.fire();
    await h.d.drain();
    expect(r.requests).toHaveLength(1);
    expect(only(h.table.all())).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: T0 + 500, lastError: expect.stringContaining('HTTP 500') });

    await h.d.drain(); // not due yet
    h.clock.advance(499);
    await h.d.drain();
    expect(r.requests).toHaveLength(1);

    h.clock.advance(1);
    await h.d.drain(); // second 500: ceiling 2 s, random 0.5
    expect(only(h.table.all())).toMatchObject({ attempts: 2, nextAttemptAt: T0 + 500 + 1000 });
    h.clock.advance(1000);
    await h.d.drain();
    expect(only(h.table.all())).toMatchObject({ status: 'delivered', attempts: 3, deliveredAt: T0 + 1500, lastError: null });
    expect([...acceptedCounts(r).values()]).toEqual([1]);
    expect(r.requests).toHaveLength(3);
  });

  it('429 with Retry-After holds the whole channel that long; the held alerts then go out in one message, in order', async () => {
    const r = await receiver({ script: [{ status: 429, headers: { 'retry-after': '7' } }] });
    const h = harness({ webhook: { url: `${r.url}/hook` } });
    const a = h.fire();
    await h.d.drain();
    expect(only(h.table.all())).toMatchObject({ nextAttemptAt: T0 + 7000, lastError: expect.stringContaining('HTTP 429') });

    h.clock.advance(1000);
    const b = h.fire(); // due now, but the receiver asked for quiet
    await h.d.drain();
    h.clock.advance(5999);
    await h.d.drain();
    expect(r.requests).toHaveLength(1);

    h.clock.advance(1);
    await h.d.drain();
    expect(r.requests).toHaveLength(2);
    expect(webhookIds(r.requests[1]!)).toEqual([`${a.alertId}:firing:${T0}:webhook`, `${b.alertId}:firing:${T0 + 1000}:webhook`]);
    expect(h.table.all().map((x) => x.status)).toEqual(['delivered', 'delivered']);
  });

  it('connection refused: retried until a server listens on that port', async () => {
    const port = await closedPort();
    const h = harness({ webhook: { url: `http://127.0.0.1:${port}/hook` } });
    h.fire();
    await h.d.drain();
    expect(only(h.table.all())).toMatchObject({ status: 'pending', lastError: expect.stringContaining('ECONNREFUSED') });

    const r = await receiver({ port });
    h.clock.advance(500);
    await h.d.drain();
    expect(only(h.table.all()).status).toBe('delivered');
    expect([...acceptedCounts(r).values()]).toEqual([1]);
  });

  it('a hung connection times out and is retried with the same idempotency key; the receiver accepts it once', async () => {
    const r = await receiver({ script: ['hang'] });
    const h = harness({ webhook: { url: `${r.url}/hook`, timeout: '300ms' } });
    h.fire();
    await h.d.drain();
    expect(only(h.table.all())).toMatchObject({ status: 'pending', lastError: expect.stringContaining('no answer within 300 ms') });
    h.clock.advance(500);
    await h.d.drain();
    expect(only(h.table.all()).status).toBe('delivered');
    expect(r.requests).toHaveLength(2);
    expect(r.requests[0]!.headers['idempotency-key']).toBe(r.requests[1]!.headers['idempotency-key']);
    expect([...acceptedCounts(r).values()]).toEqual([1]);
  });

  it('PagerDuty: after an outage the trigger and then its resolve arrive, same dedup_key, each once', async () => {
    const r = await receiver({ script: [{ status: 502 }, { status: 500 }], fallback: { status: 202, body: '{"status":"success"}' } });
    const h = harness({ pagerduty: { routing_key: PD_KEY, url: `${r.url}/v2/enqueue` } });
    const t = h.fire();
    await h.d.drain();
    h.clock.advance(10_000);
    h.resolve(t); // the alert resolved during the outage
    await h.d.drain(); // trigger fails again; the batch (trigger + resolve) waits
    expect(r.requests.map((q) => q.json.event_action)).toEqual(['trigger', 'trigger']);
    h.clock.advance(10_000);
    await h.d.drain();
    const accepted = r.accepted().map((q) => [q.json.event_action, q.json.dedup_key]);
    expect(accepted).toEqual([
      ['trigger', accepted[0]![1]],
      ['resolve', accepted[0]![1]],
    ]);
    expect(r.accepted()[0]!.json.payload.custom_details.notification_id).toBe(`${t.alertId}:firing:${T0}:pagerduty`);
    expect(h.table.all().map((x) => [x.kind, x.status])).toEqual([
      ['firing', 'delivered'],
      ['resolved', 'delivered'],
    ]);
  });

  it('email through a real SMTP server: 451 first, then one mail carrying both notification ids', async () => {
    const smtp = await startSmtp('tempfail-once');
    cleanups.push(() => smtp.close());
    const h = harness({ email: { smtp_url: `smtp://127.0.0.1:${smtp.port}`, from: 'vigil@example.com', to: ['ops@example.com'] } });
    const a = h.fire();
    const b = h.fire();
    await h.d.drain();
    expect(h.table.all().map((x) => x.lastError)).toEqual([expect.stringContaining('451'), expect.stringContaining('451')]);
    h.clock.advance(1000);
    await h.d.drain();
    expect(h.table.all().map((x) => x.status)).toEqual(['delivered', 'delivered']);
    const mail = only(smtp.received).raw.replace(/\r\n[ \t]+/g, ' '); // unfold long header lines (RFC 5322 §2.2.3)
    const header = /^X-Vigil-Notification-Id: (.*)$/im.exec(mail)?.[1];
    expect(header).toBe(`${a.alertId}:firing:${T0}:email, ${b.alertId}:firing:${T0}:email`);
  });
});

describe('Dispatcher: permanent failures, expiry, grouping, pacing', () => {
  it('400 is permanent: the row is failed with the receiver\'s reason, counted, and never retried', async () => {
    const r = await receiver({ fallback: { status: 400, body: '{"error":"payload rejected"}' } });
    const h = harness({ webhook: { url: `${r.url}/hook` } });
    h.fire();
    await h.d.drain();
    h.clock.advance(H);
    await h.d.drain();
    expect(r.requests).toHaveLength(1);
    expect(only(h.table.all())).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringMatching(/HTTP 400: .*payload rejected/) });
    expect(h.table.list('failed').map((x) => x.channel)).toEqual(['webhook']);
    expect(h.d.counts()).toMatchObject({ pending: 0, failed: 1, channels: { webhook: { pending: 0, failed: 1, expired: 0 } } });
  });

  it('a 400 for one alert of a group fails only that alert; the others are delivered', async () => {
    let bad = '';
    const r = await receiver({ fallback: (q: ReceivedRequest) => (webhookIds(q).includes(bad) ? { status: 400 } : { status: 200 }) });
    const h = harness({ webhook: { url: `${r.url}/hook` } });
    h.fire();
    const b = h.fire();
    bad = `${b.alertId}:firing:${T0}:webhook`;
    await h.d.drain();
    expect(r.requests.map((q) => webhookIds(q).length)).toEqual([2, 1, 1]);
    expect(h.table.all().map((x) => x.status)).toEqual(['delivered', 'failed']);
  });

  it('rows not delivered within max_age expire, keep the last error, and are never sent again', async () => {
    const r = await receiver({ fallback: { status: 503 } });
    const h = harness({ webhook: { url: `${r.url}/hook` } }, { maxAgeMs: 24 * H });
    h.fire();
    await h.d.drain();
    for (let i = 0; i < 20; i++) {
      h.clock.advance(5 * 60_000);
      await h.d.drain();
    }
    const sent = r.requests.length;
    expect(sent).toBeGreaterThan(5);
    expect(h.d.counts()).toMatchObject({ pending: 1, oldestPendingAgeMs: 100 * 60_000 });
    h.clock.set(T0 + 24 * H + 1);
    await h.d.drain();
    expect(r.requests).toHaveLength(sent);
    expect(only(h.table.all())).toMatchObject({ status: 'expired', lastError: expect.stringMatching(/^not delivered within max_age: .*HTTP 503/) });
    expect(h.d.counts()).toMatchObject({ pending: 0, expired: 1, oldestPendingAgeMs: null });
  });

  it('backoff grows to the 5 minute cap (random → 1)', async () => {
    const r = await receiver({ fallback: { status: 500 } });
    const h = harness({ webhook: { url: `${r.url}/hook` } }, { random: () => 0.999999 });
    h.fire();
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      await h.d.drain();
      const row = only(h.table.all());
      waits.push(row.nextAttemptAt - h.clock.now());
      h.clock.set(row.nextAttemptAt);
    }
    expect(waits.map((w) => Math.round(w / 1000))).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
  });

  it('group_wait puts alerts that fire for the same channel within it into one message', async () => {
    const r = await receiver();
    const h = harness({ webhook: { url: `${r.url}/hook` } }, { routes: [{ index: 0, matchers: [], channels: ['webhook'], continue: false, groupWaitMs: 30_000 }] });
    const a = h.fire([]);
    await h.d.drain();
    h.clock.advance(10_000);
    const b = h.fire([]);
    await h.d.drain();
    expect(r.requests).toHaveLength(0);
    h.clock.advance(20_000);
    await h.d.drain();
    expect(webhookIds(only(r.requests))).toEqual([`${a.alertId}:firing:${T0}:webhook`, `${b.alertId}:firing:${T0 + 10_000}:webhook`]);
  });

  it('Slack is paced to about one message a second; what waits goes out together', async () => {
    const r = await receiver({ fallback: { status: 200, body: 'ok' } });
    const h = harness({ slack: { webhook_url: `${r.url}/services/T000/B000/XXXX` } });
    const ids = (q: ReceivedRequest) => [...q.body.matchAll(/notification `([^`]+)`/g)].map((m) => m[1]!);
    h.fire();
    await h.d.drain();
    h.clock.advance(100);
    const b = h.fire();
    await h.d.drain();
    h.clock.advance(100);
    const c = h.fire();
    await h.d.drain();
    expect(r.requests).toHaveLength(1);
    h.clock.advance(799);
    await h.d.drain();
    expect(r.requests).toHaveLength(1);
    h.clock.advance(1);
    await h.d.drain();
    expect(r.requests.map(ids)).toEqual([[expect.any(String)], [`${b.alertId}:firing:${T0 + 100}:slack`, `${c.alertId}:firing:${T0 + 200}:slack`]]);
  });

  it('never more than one send in flight per channel', async () => {
    const r = await receiver({ fallback: { status: 200, delayMs: 150 } });
    const h = harness({ webhook: { url: `${r.url}/hook` } });
    h.fire();
    h.d.start();
    expect(h.d.counts().inFlight).toEqual(['webhook']);
    h.fire(); // kicks while the first send is in flight
    h.d.kick();
    await h.d.drain();
    expect(r.requests).toHaveLength(2);
    expect(r.maxConcurrent).toBe(1);
    expect(h.table.all().map((x) => x.status)).toEqual(['delivered', 'delivered']);
  });
});

describe('Dispatcher: repeats, silences, stop and the live path', () => {
  it('repeat notifications follow the rule engine (repeat_interval 1h), then the resolve; one alert id throughout', async () => {
    const r = await receiver();
    const h = harness({ webhook: { url: `${r.url}/hook` } });
    const store = new AlertStore(h.db);
    const timings = { forMs: 0, keepFiringForMs: 0, repeatIntervalMs: H };
    let state: AlertState = INACTIVE;
    const key = 'high_error_rate{stage="merging"}';
    for (let m = 0; m <= 200; m += 15) {
      const now = T0 + m * 60_000;
      h.clock.set(now);
      const s = step(state, m < 195, now, timings);
      state = s.next;
      const transitions: Transition[] = [];
      if (s.transition || s.notify) {
        transitions.push({
          at: now, rule: 'high_error_rate', state: s.transition ?? 'firing', severity: 'error', labels: { stage: 'merging' },
          summary: 'Error rate high', values: { error_rate: 0.2 }, alertKey: key, ...(s.notify ? { notify: s.notify } : {}),
        });
      }
      const states = new Map(state.state === 'inactive' ? [] : [[key, { ...state, rule: 'high_error_rate', labels: { stage: 'merging' } }]]);
      store.record({ states, transitions }, (t) => void h.outbox.enqueue(t, undefined, now));
      await h.d.drain();
    }
    const got = r.accepted().flatMap((q) => q.json.alerts as Array<{ id: string; state: string; notificationId: string }>);
    expect(got.map((a) => `${a.state}@${a.notificationId.split(':')[2]! === String(T0) ? 0 : (Number(a.notificationId.split(':')[2]) - T0) / 60_000}m`)).toEqual([
      'firing@0m',
      'firing@60m',
      'firing@120m',
      'firing@180m',
      'resolved@195m',
    ]);
    expect(got.map((a) => a.notificationId.split(':')[1])).toEqual(['firing', 'repeat', 'repeat', 'repeat', 'resolved']);
    expect(new Set(got.map((a) => a.id)).size).toBe(1);
  });

  it('a silence mutes firing and resolve of matching alerts (nothing reaches the receiver); others still go out', async () => {
    const r = await receiver();
    const h = harness({ webhook: { url: `${r.url}/hook` } });
    h.silence(['rule=high_error_rate', 'stage=~merg.*'], T0, T0 + 2 * H);
    const muted = h.fire(undefined, { labels: { stage: 'merging' } });
    const loud = h.fire(undefined, { labels: { stage: 'upload' } });
    await h.d.drain();
    h.clock.advance(H);
    h.resolve(muted);
    h.resolve(loud);
    await h.d.drain();
    expect(acceptedStages(r)).toEqual(['upload:firing', 'upload:resolved']);
    expect(h.table.all().filter((x) => x.status === 'silenced').map((x) => x.kind)).toEqual(['firing', 'resolved']);
  });

  it('a silence added while a notification waits for a receiver that is down mutes it before it is sent; its resolve, after the silence, still goes out (the failed attempt may have arrived)', async () => {
    const r = await receiver({ script: [{ status: 503 }, { status: 503 }] });
    const h = harness({ webhook: { url: `${r.url}/hook` } });
    const muted = h.fire(undefined, { labels: { stage: 'merging' } });
    const loud = h.fire(undefined, { labels: { stage: 'upload' } });
    await h.d.drain(); // 503: both back off
    expect(h.table.all().map((x) => x.status)).toEqual(['pending', 'pending']);
    h.silence(['stage=merging'], T0 + 1000, T0 + H);
    h.clock.advance(10 * 60_000);
    await h.d.drain(); // 503 again for the unmuted one
    h.clock.advance(10 * 60_000);
    await h.d.drain();
    h.clock.advance(2 * H); // the silence has ended by the resolve
    h.resolve(muted);
    h.resolve(loud);
    await h.d.drain();
    expect(acceptedStages(r)).toEqual(['upload:firing', 'merging:resolved', 'upload:resolved']);
    expect(h.table.all().map((x) => [x.message.labels.stage, x.kind, x.status, x.lastError])).toEqual([
      ['merging', 'firing', 'silenced', 'silenced by silence 1 before it was delivered (an earlier attempt failed)'],
      ['upload', 'firing', 'delivered', null],
      ['merging', 'resolved', 'delivered', null],
      ['upload', 'resolved', 'delivered', null],
    ]);
    // Muted before any attempt, the resolve is muted with it (the receiver never heard of the alert).
    const quiet = h.fire(undefined, { labels: { stage: 'cleanup' } });
    h.silence(['stage=cleanup'], h.clock.now(), h.clock.now() + 60_000);
    await h.d.drain();
    h.clock.advance(H);
    h.resolve(quiet);
    await h.d.drain();
    expect(h.table.all().slice(4).map((x) => `${x.kind}:${x.status}:${x.lastError}`)).toEqual([
      'firing:silenced:silenced by silence 2 before it was sent',
      'resolved:silenced:its trigger was silenced',
    ]);
  });

  it('a trigger muted after an attempt that timed out may have arrived: its resolve still goes out', async () => {
    const r = await receiver({ script: [{ status: 200, delayMs: 600 }] }); // answers after the channel gave up
    const h = harness({ webhook: { url: `${r.url}/hook`, timeout: '200ms' } });
    const t = h.fire();
    await h.d.drain();
    expect(only(h.table.all())).toMatchObject({ status: 'pending', attempts: 1 });
    const s = h.silence(['rule=high_error_rate'], T0, T0 + H);
    h.clock.advance(10 * 60_000);
    await h.d.drain();
    expect(only(h.table.all())).toMatchObject({ status: 'silenced', lastError: `silenced by silence ${s.id} before it was delivered (an earlier attempt failed)` });
    h.clock.advance(2 * H); // the silence is over when the alert resolves
    h.resolve(t);
    await h.d.drain();
    expect(h.table.all().map((x) => `${x.kind}:${x.status}`)).toEqual(['firing:silenced', 'resolved:delivered']);
    await new Promise((ok) => setTimeout(ok, 700)); // the late first request has landed too
    expect(r.requests.map((q) => (q.json.alerts as Array<{ state: string }>)[0]!.state).sort()).toEqual(['firing', 'resolved']);
  });

  it('when every due row was muted, the timer still wakes for the rows due after them (system clock)', async () => {
    const r = await receiver();
    const routes: Route[] = [{ index: 0, matchers: [parseMatcher('stage=upload')], channels: ['webhook'], continue: false, groupWaitMs: 300 }];
    const h = harness({ webhook: { url: `${r.url}/hook` } }, { clock: systemClock, timers: true, routes });
    h.fire(undefined, { labels: { stage: 'storage' } }); // due now
    h.fire([], { labels: { stage: 'upload' } }); // due in 300 ms, through its route
    h.silence(['stage=storage'], 0, Date.now() + H);
    h.d.start(); // mutes the row due now; no send follows that would kick it again
    await waitFor(() => h.table.all().some((x) => x.status === 'delivered'), 10_000, 20); // without its own wake-up the timer sleeps 30 s
    expect(h.table.all().map((x) => `${x.message.labels.stage}:${x.status}`)).toEqual(['storage:silenced', 'upload:delivered']);
  });

  it('stop() waits for the send in flight and leaves the rest pending; a new dispatcher delivers them', async () => {
    const r = await receiver({ fallback: { status: 200, delayMs: 200 } });
    const h = harness({ webhook: { url: `${r.url}/hook` } });
    h.fire();
    h.d.start();
    h.d.stop(); // not awaited yet: the second row must not be taken by a stopping dispatcher
    h.fire();
    await h.d.stop();
    expect(h.table.all().map((x) => x.status)).toEqual(['delivered', 'pending']);
    const d2 = new Dispatcher({ db: h.db, channels: buildChannels({ webhook: { url: `${r.url}/hook` } }), clock: h.clock, timers: false });
    await d2.drain();
    expect(h.table.all().map((x) => x.status)).toEqual(['delivered', 'delivered']);
    expect([...acceptedCounts(r).values()]).toEqual([1, 1]);
  });

  it('stop() aborts a send that outlives stopTimeoutMs; the row stays pending, due at the next start', async () => {
    const r = await receiver({ script: ['hang'] });
    const h = harness({ webhook: { url: `${r.url}/hook`, timeout: '30s' } }, { stopTimeoutMs: 100 });
    h.fire();
    h.d.start();
    await h.d.stop();
    expect(only(h.table.all())).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: T0, lastError: expect.stringContaining('aborted') });
    const d2 = new Dispatcher({ db: h.db, channels: buildChannels({ webhook: { url: `${r.url}/hook` } }), clock: h.clock, timers: false });
    await d2.drain();
    expect(only(h.table.all()).status).toBe('delivered');
    expect([...acceptedCounts(r).values()]).toEqual([1]);
  });

  it('live: enqueue kicks the dispatcher at once, and its own timer drives the retries (system clock)', async () => {
    const r = await receiver({ script: [{ status: 500 }, { status: 503 }] });
    const h = harness({ webhook: { url: `${r.url}/hook` } }, { clock: systemClock, timers: true, baseBackoffMs: 20 });
    h.d.start();
    h.fire();
    const deadline = Date.now() + 10_000;
    // the receiver answers before the dispatcher records the outcome: wait for the row
    while (h.table.all()[0]?.status !== 'delivered' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    expect(r.requests.map((q) => q.status)).toEqual([500, 503, 200]);
    expect(only(h.table.all()).status).toBe('delivered');
  });
});
