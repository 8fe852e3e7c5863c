import fs from 'node:fs';
import { recentEpisodes, transitionsOf } from '../helpers/alerts.js';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { RuleSet, type Transition } from '../../src/rules/engine.js';
import { lintRuleSource } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/rule.js';
import { RuleRunner } from '../../src/rules/runner.js';
import { AlertStore } from '../../src/store/alerts.js';
import type { RecordedTransition } from '../../src/rules/runner.js';
import { openStore, type DB } from '../../src/store/db.js';
import { memorySources } from '../rules/memory-sources.js';

const base = Date.UTC(2026, 10, 22, 10, 0, 0);
const MIN = 60_000;
const t = (m: number) => base + m * MIN;
const quiet = { info() {}, warn() {}, error() {} };

const RULES = `
rules:
  - name: ffmpeg_down
    when: { fact: ffmpeg_available, operator: equal, value: false }
    for: 2m
    repeat_interval: 10m
    severity: critical
    channels: [pagerduty]
    summary: "ffmpeg down"
    description: "{{ rule }} is {{ severity }}"
`;

function ruleSet(yaml = RULES): RuleSet {
  const r = lintRuleSource('rules.yaml', yaml);
  expect(r.problems).toEqual([]);
  return new RuleSet(r.rules);
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function fileStore(): { dir: string; open: () => DB } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-alerts-'));
  dirs.push(dir);
  return { dir, open: () => openStore(dir) };
}

/** A stand-in for the outbox: a table written from onNotify, inside record()'s transaction. */
function notesTable(db: DB) {
  db.exec(`CREATE TABLE IF NOT EXISTS notes (alert_id INTEGER, kind TEXT, at INTEGER, channels TEXT)`);
  const ins = db.prepare(`INSERT INTO notes VALUES (?, ?, ?, ?)`);
  const seen: { t: RecordedTransition; rule: Rule | undefined }[] = [];
  return {
    seen,
    onNotify: (tr: RecordedTransition, rule: Rule | undefined) => {
      seen.push({ t: tr, rule });
      ins.run(tr.alertId, tr.notify, tr.at, JSON.stringify(rule?.channels ?? null));
    },
    rows: () => db.prepare(`SELECT alert_id AS alertId, kind, at, channels FROM notes ORDER BY rowid`).all(),
  };
}

function runner(db: DB, sources: ReturnType<typeof memorySources>, onNotify?: (t: RecordedTransition, r: Rule | undefined) => void, set = ruleSet()) {
  return new RuleRunner({ rules: set, sources, clock: new ManualClock(base), alertStore: new AlertStore(db), log: quiet, ...(onNotify ? { onNotify } : {}) });
}

describe('AlertStore', () => {
  it('keeps one alerts row per episode and a row per transition, and notifies inside the transaction', async () => {
    const db = openStore(':memory:');
    const src = memorySources();
    const notes = notesTable(db);
    const r = runner(db, src, notes.onNotify);
    src.checks.ffmpeg = false;
    await r.evaluateAt(t(0)); // pending
    await r.evaluateAt(t(1));
    await r.evaluateAt(t(2)); // firing
    await r.evaluateAt(t(12)); // repeat
    src.checks.ffmpeg = true;
    await r.evaluateAt(t(13)); // resolved
    src.checks.ffmpeg = false;
    await r.evaluateAt(t(14)); // a new episode: pending
    src.checks.ffmpeg = true;
    await r.evaluateAt(t(15)); // inactive: it never fired

    const store = new AlertStore(db);
    const [second, first] = recentEpisodes(db, 10);
    expect(first).toMatchObject({ rule: 'ffmpeg_down', state: 'resolved', severity: 'critical', labels: {}, startedAt: t(0), firingAt: t(2), resolvedAt: t(13), lastNotifiedAt: t(13), summary: 'ffmpeg down', description: 'ffmpeg_down is critical' });
    expect(first!.facts).toEqual({ ffmpeg_available: true });
    expect(transitionsOf(db, first!.id).map((x) => [x.state, (x.at - base) / MIN])).toEqual([
      ['pending', 0],
      ['firing', 2],
      ['resolved', 13],
    ]);
    expect(second).toMatchObject({ state: 'inactive', startedAt: t(14), firingAt: null, resolvedAt: t(15) });
    expect(transitionsOf(db, second!.id).map((x) => x.state)).toEqual(['pending', 'inactive']);

    expect(notes.rows()).toEqual([
      { alertId: first!.id, kind: 'firing', at: t(2), channels: '["pagerduty"]' },
      { alertId: first!.id, kind: 'repeat', at: t(12), channels: '["pagerduty"]' },
      { alertId: first!.id, kind: 'resolved', at: t(13), channels: '["pagerduty"]' },
    ]);
    expect(notes.seen[0]!.t).toMatchObject({ rule: 'ffmpeg_down', state: 'firing', notify: 'firing', alertKey: 'ffmpeg_down{}' });
    expect(db.prepare(`SELECT count(*) AS n FROM alert_state`).get()).toEqual({ n: 0 });
  });

  it('rolls the whole evaluation back when a notification cannot be enqueued, and retries it next time', async () => {
    const db = openStore(':memory:');
    const src = memorySources();
    let fail = true;
    const notes = notesTable(db);
    const r = runner(db, src, (tr, rule) => {
      notes.onNotify(tr, rule);
      if (fail) throw new Error('outbox full');
    });
    src.checks.ffmpeg = false;
    await r.evaluateAt(t(0));
    await r.evaluateAt(t(2)).then(
      () => expect.fail('should throw'),
      (e: Error) => expect(e.message).toBe('outbox full'),
    );
    // Nothing of the failed evaluation is stored: not the firing, not the note.
    expect(db.prepare(`SELECT state FROM alerts`).all()).toEqual([{ state: 'pending' }]);
    expect(notes.rows()).toEqual([]);
    expect(r.alerts().get('ffmpeg_down{}')?.state).toBe('pending');
    expect(r.stats().failures).toBe(1);
    fail = false;
    const out = await r.evaluateAt(t(3));
    expect(out.map((x) => [x.state, x.notify])).toEqual([['firing', 'firing']]);
    expect(notes.rows()).toHaveLength(1);
  });

  it('after a restart a firing alert is still firing and is not announced again', async () => {
    const fsStore = fileStore();
    const src = memorySources();
    src.checks.ffmpeg = false;
    let db = fsStore.open();
    let notes = notesTable(db);
    let r = runner(db, src, notes.onNotify);
    await r.evaluateAt(t(0));
    await r.evaluateAt(t(2));
    expect(notes.rows()).toHaveLength(1);
    db.close();

    db = fsStore.open();
    const loaded = new AlertStore(db).loadStates();
    expect(loaded.get('ffmpeg_down{}')).toMatchObject({ rule: 'ffmpeg_down', state: 'firing', activeSince: t(0), firingSince: t(2), lastNotifiedAt: t(2) });
    notes = notesTable(db);
    r = runner(db, src, notes.onNotify);
    expect(await r.evaluateAt(t(3))).toEqual([]);
    expect(await r.evaluateAt(t(5))).toEqual([]);
    expect(notes.rows()).toHaveLength(1);
    // The repeat interval still counts from the notification before the restart.
    const rep = await r.evaluateAt(t(12));
    expect(rep.map((x) => x.notify)).toEqual(['repeat']);
    src.checks.ffmpeg = true;
    const res = await r.evaluateAt(t(13));
    expect(res.map((x) => [x.state, x.alertId])).toEqual([['resolved', rep[0]!.alertId]]);
    expect(db.prepare(`SELECT count(*) AS n FROM alerts`).get()).toEqual({ n: 1 });
    db.close();
  });

  it('keeps a pending timer across a restart', async () => {
    const fsStore = fileStore();
    const src = memorySources();
    src.checks.ffmpeg = false;
    let db = fsStore.open();
    await runner(db, src).evaluateAt(t(0));
    db.close();
    db = fsStore.open();
    const out = await runner(db, src).evaluateAt(t(2));
    expect(out.map((x) => x.state)).toEqual(['firing']); // pending since t(0), not since the restart
    db.close();
  });

  it('records an end or a repeat whose episode row is gone (pruned) on a row of its own', () => {
    const db = openStore(':memory:');
    const store = new AlertStore(db);
    const tr = (over: Partial<Transition>): Transition => ({
      at: t(30),
      rule: 'ffmpeg_down',
      state: 'resolved',
      severity: 'critical',
      labels: { host: 'a' },
      summary: 'ffmpeg down',
      values: { ffmpeg_available: true },
      alertKey: 'ffmpeg_down{host="a"}',
      ...over,
    });
    const [end] = store.record({ states: new Map(), transitions: [tr({ notify: 'resolved' })] });
    const [rep] = store.record({ states: new Map(), transitions: [tr({ alertKey: 'ffmpeg_down{host="b"}', labels: { host: 'b' }, state: 'firing', notify: 'repeat', at: t(31) })] });
    const common = { rule: 'ffmpeg_down', severity: 'critical', summary: 'ffmpeg down', description: null, facts: { ffmpeg_available: true } };
    expect(recentEpisodes(db, 10)).toEqual([
      { ...common, id: rep!.alertId, alertKey: 'ffmpeg_down{host="b"}', labels: { host: 'b' }, state: 'firing', startedAt: t(31), firingAt: t(31), resolvedAt: null, lastNotifiedAt: t(31) },
      { ...common, id: end!.alertId, alertKey: 'ffmpeg_down{host="a"}', labels: { host: 'a' }, state: 'resolved', startedAt: t(30), firingAt: null, resolvedAt: t(30), lastNotifiedAt: t(30) },
    ]);
    expect(transitionsOf(db, end!.alertId)).toEqual([{ at: t(30), state: 'resolved', summary: 'ffmpeg down' }]);
    expect(transitionsOf(db, rep!.alertId)).toEqual([]); // a re-notification is not a state change
  });

  it('writes alert_state only when a state changed', async () => {
    const db = openStore(':memory:');
    const src = memorySources();
    const r = runner(db, src);
    src.checks.ffmpeg = false;
    await r.evaluateAt(t(0));
    const changes = () => (db.prepare(`SELECT total_changes() AS n`).get() as { n: number }).n;
    await r.evaluateAt(t(2)); // firing: state changes
    const before = changes();
    await r.evaluateAt(t(3)); // still firing: lastHeldAt moves, so the state row is rewritten once
    await r.evaluateAt(t(3)); // same instant again: nothing changes
    expect(changes() - before).toBe(1);
  });
});
