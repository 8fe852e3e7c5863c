import { describe, expect, it } from 'vitest';
import { recentEpisodes, transitionsOf } from '../helpers/alerts.js';
import { alertMessageId } from '../../src/notify/message.js';
import { Outbox, OutboxTable } from '../../src/notify/outbox.js';
import { Router } from '../../src/notify/router.js';
import { parseMatcher, SilenceStore } from '../../src/notify/silences.js';
import { AlertStore } from '../../src/store/alerts.js';
import { INACTIVE, step } from '../../src/rules/state.js';
import type { Transition } from '../../src/rules/engine.js';
import { firing, memoryStore, next, rule } from './outbox-fixtures.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const H = 3_600_000;

function setup(opts: { names?: string[]; routes?: Router; sendResolved?: Record<string, boolean> } = {}) {
  const db = memoryStore();
  const names = opts.names ?? ['webhook', 'slack', 'pagerduty'];
  const channels = new Map(names.map((n) => [n, { sendResolved: opts.sendResolved?.[n] ?? true }]));
  let kicks = 0;
  const outbox = new Outbox(db, { router: opts.routes ?? new Router([], names), channels, onEnqueue: () => kicks++ });
  return { db, outbox, table: new OutboxTable(db), silences: new SilenceStore(db), kicks: () => kicks };
}

describe('Outbox.enqueue', () => {
  it('writes one pending row per routed channel with the AlertMessage as payload', () => {
    const { db, outbox, table, kicks } = setup();
    const t = firing(db, T0, { labels: { stage: 'merging' }, description: 'More than 10% failed' });
    expect(outbox.enqueue(t, rule(['webhook', 'pagerduty']), T0)).toEqual({ queued: ['webhook', 'pagerduty'], silenced: [], skipped: [] });
    const rows = table.all();
    expect(rows.map((r) => [r.channel, r.status, r.kind, r.nextAttemptAt, r.attempts])).toEqual([
      ['webhook', 'pending', 'firing', T0, 0],
      ['pagerduty', 'pending', 'firing', T0, 0],
    ]);
    expect(rows[0]!.message).toEqual({
      id: alertMessageId('high_error_rate{stage="merging"}'),
      rule: 'high_error_rate',
      state: 'firing',
      severity: 'error',
      labels: { stage: 'merging' },
      summary: t.summary,
      description: 'More than 10% failed',
      values: { error_rate: 0.25, total_operations: 40 },
      startsAt: T0,
      notificationId: `${t.alertId}:firing:${T0}:webhook`,
    });
    expect(rows[1]!.notificationId).toBe(`${t.alertId}:firing:${T0}:pagerduty`);
    expect(kicks()).toBe(1);
  });

  it('keeps the alert id across trigger, repeat and resolve; the resolve carries startsAt and endsAt', () => {
    const { db, outbox, table } = setup();
    const t = firing(db, T0);
    outbox.enqueue(t, rule(['webhook']), T0);
    outbox.enqueue(next(t, T0 + H, 'repeat'), rule(['webhook']), T0 + H);
    outbox.enqueue(next(t, T0 + 2 * H, 'resolved'), rule(['webhook']), T0 + 2 * H);
    const msgs = table.all().map((r) => r.message);
    expect(new Set(msgs.map((m) => m.id)).size).toBe(1);
    expect(new Set(msgs.map((m) => m.notificationId)).size).toBe(3);
    expect(msgs.map((m) => [m.state, m.startsAt, m.endsAt])).toEqual([
      ['firing', T0, undefined],
      ['firing', T0, undefined],
      ['resolved', T0, T0 + 2 * H],
    ]);
  });

  it('writes nothing for pending/inactive transitions, and nothing twice for the same transition', () => {
    const { db, outbox, table } = setup();
    const t = firing(db, T0);
    const { notify: _n, ...pending } = { ...t, state: 'pending' as const };
    expect(outbox.enqueue(pending, rule(['webhook']), T0)).toEqual({ queued: [], silenced: [], skipped: [] });
    outbox.enqueue(t, rule(['webhook']), T0);
    expect(outbox.enqueue(t, rule(['webhook']), T0)).toEqual({ queued: [], silenced: [], skipped: ['webhook'] });
    expect(table.all()).toHaveLength(1);
  });

  it('skips resolves on channels with send_resolved: false', () => {
    const { db, outbox, table } = setup({ sendResolved: { slack: false } });
    const t = firing(db, T0);
    outbox.enqueue(t, rule(['slack', 'pagerduty']), T0);
    expect(outbox.enqueue(next(t, T0 + H, 'resolved'), rule(['slack', 'pagerduty']), T0 + H)).toEqual({ queued: ['pagerduty'], silenced: [], skipped: ['slack'] });
    expect(table.all().map((r) => `${r.channel}:${r.kind}`)).toEqual(['slack:firing', 'pagerduty:firing', 'pagerduty:resolved']);
  });

  it('holds rows for group_wait, and a later alert joins the group already waiting on that channel', () => {
    const routes = Router.fromConfig({ routes: [{ channels: ['slack'], group_wait: '30s' }], source: '(test)' }, ['webhook', 'slack', 'pagerduty']);
    const { db, outbox, table } = setup({ routes });
    outbox.enqueue(firing(db, T0), rule(), T0);
    outbox.enqueue(firing(db, T0 + 10_000), rule(), T0 + 10_000);
    outbox.enqueue(firing(db, T0 + 45_000), rule(), T0 + 45_000); // the first group left at T0+30s
    expect(table.all().map((r) => r.nextAttemptAt - T0)).toEqual([30_000, 30_000, 75_000]);
  });

  it('a resolve is never due before its trigger still waiting in a group', () => {
    const routes = Router.fromConfig({ routes: [{ match: { severity: 'error' }, channels: ['slack'], group_wait: '1m' }] , source: '(test)' }, ['slack']);
    const { db, outbox, table } = setup({ names: ['slack'], routes });
    const t = firing(db, T0);
    outbox.enqueue(t, rule(), T0);
    outbox.enqueue(next(t, T0 + 5000, 'resolved'), rule(), T0 + 5000);
    const rows = table.all();
    expect(rows.map((r) => [r.kind, r.nextAttemptAt - T0])).toEqual([
      ['firing', 60_000],
      ['resolved', 60_000],
    ]);
  });

  it('throttles repeats to a route repeat_interval', () => {
    const routes = Router.fromConfig({ routes: [{ channels: ['pagerduty'], repeat_interval: '3h' }], source: '(test)' }, ['webhook', 'pagerduty']);
    const { db, outbox, table } = setup({ names: ['webhook', 'pagerduty'], routes });
    const t = firing(db, T0);
    outbox.enqueue(t, rule(['webhook']), T0);
    for (let h = 1; h <= 6; h++) outbox.enqueue(next(t, T0 + h * H, 'repeat'), rule(['webhook']), T0 + h * H);
    const rows = table.all();
    expect(rows.filter((r) => r.channel === 'webhook')).toHaveLength(7);
    expect(rows.filter((r) => r.channel === 'pagerduty').map((r) => (r.createdAt - T0) / H)).toEqual([0, 3, 6]);
  });

  it('writes silenced rows (kept, never pending) for firing and resolve while a silence matches', () => {
    const { db, outbox, table, silences, kicks } = setup();
    silences.add({ matchers: [parseMatcher('stage=~merg.*')], startsAt: T0, endsAt: T0 + 2 * H }, T0);
    const muted = firing(db, T0, { labels: { stage: 'merging' } });
    const loud = firing(db, T0, { labels: { stage: 'upload' } });
    expect(outbox.enqueue(muted, rule(['webhook']), T0)).toEqual({ queued: [], silenced: ['webhook'], skipped: [] });
    expect(kicks()).toBe(0);
    expect(outbox.enqueue(loud, rule(['webhook']), T0)).toMatchObject({ queued: ['webhook'] });
    expect(outbox.enqueue(next(muted, T0 + H, 'resolved'), rule(['webhook']), T0 + H)).toMatchObject({ silenced: ['webhook'] });
    expect(table.all().map((r) => [r.message.labels.stage, r.kind, r.status, r.lastError])).toEqual([
      ['merging', 'firing', 'silenced', 'silenced by silence 1'],
      ['upload', 'firing', 'pending', null],
      ['merging', 'resolved', 'silenced', 'silenced by silence 1'],
    ]);
  });

  it('mutes the resolve of a trigger that was silenced even after the silence ended; sends it when the trigger went out', () => {
    const { db, outbox, table, silences } = setup();
    const s = silences.add({ matchers: [parseMatcher('rule=high_error_rate')], startsAt: T0, endsAt: T0 + H }, T0);
    const t = firing(db, T0 + 60_000);
    outbox.enqueue(t, rule(['webhook']), T0 + 60_000);
    silences.expire(s.id, T0 + 30 * 60_000);
    expect(outbox.enqueue(next(t, T0 + 2 * H, 'resolved'), rule(['webhook']), T0 + 2 * H)).toMatchObject({ silenced: ['webhook'] });
    expect(table.all()[1]).toMatchObject({ status: 'silenced', lastError: 'its trigger was silenced' });

    // silenced only after the trigger was sent: the resolve is muted too (the issue: "a resolve for a silenced alert is not sent either")
    const u = firing(db, T0 + 3 * H, { labels: { stage: 'x' } });
    outbox.enqueue(u, rule(['webhook']), T0 + 3 * H);
    silences.add({ matchers: [parseMatcher('stage=x')], startsAt: T0 + 4 * H, endsAt: T0 + 5 * H }, T0 + 4 * H);
    expect(outbox.enqueue(next(u, T0 + 4.5 * H, 'resolved'), rule(['webhook']), T0 + 4.5 * H)).toMatchObject({ silenced: ['webhook'] });
    // after that silence: a new episode's trigger and resolve both go out
    const w = firing(db, T0 + 6 * H, { labels: { stage: 'x' } });
    outbox.enqueue(w, rule(['webhook']), T0 + 6 * H);
    expect(outbox.enqueue(next(w, T0 + 7 * H, 'resolved'), rule(['webhook']), T0 + 7 * H)).toMatchObject({ queued: ['webhook'] });
  });

  it('runs inside AlertStore.record: a failed evaluation leaves neither transition nor notification', () => {
    const { db, outbox, table } = setup({ names: ['webhook'] });
    const store = new AlertStore(db);
    const timings = { forMs: 0, keepFiringForMs: 0, repeatIntervalMs: 0 };
    const r = step(INACTIVE, true, T0, timings);
    const t: Transition = {
      at: T0,
      rule: 'high_error_rate',
      state: r.transition!,
      severity: 'error',
      labels: {},
      summary: 's',
      values: {},
      notify: r.notify!,
      alertKey: 'high_error_rate{}',
    };
    const states = new Map([[t.alertKey, { ...r.next, rule: t.rule, labels: {} }]]);
    expect(() =>
      store.record({ states, transitions: [t] }, (rt) => {
        outbox.enqueue(rt, undefined, T0);
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(table.all()).toEqual([]);
    expect(recentEpisodes(db)).toEqual([]);

    const recorded = store.record({ states, transitions: [t] }, (rt) => void outbox.enqueue(rt, undefined, T0));
    const rows = table.all();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ alertId: recorded[0]!.alertId, status: 'pending', message: { startsAt: T0, state: 'firing' } });
  });
});
