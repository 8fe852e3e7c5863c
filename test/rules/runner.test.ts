import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { RuleSet } from '../../src/rules/engine.js';
import type { BackupQuery, BackupStatus, CheckSource } from '../../src/rules/facts.js';
import { lintRuleSource } from '../../src/rules/load.js';
import { CheckCache } from '../../src/collect/checks.js';
import { backupQueries, RuleRunner } from '../../src/rules/runner.js';
import { AlertStore } from '../../src/store/alerts.js';
import { openStore } from '../../src/store/db.js';
import { memorySources } from './memory-sources.js';

const base = Date.UTC(2026, 10, 22, 10, 0, 0);
const MIN = 60_000;
const t = (m: number) => base + m * MIN;

function set(yaml: string): RuleSet {
  const r = lintRuleSource('rules.yaml', yaml);
  expect(r.problems).toEqual([]);
  return new RuleSet(r.rules);
}

const FFMPEG = (forDur: string, name = 'ffmpeg_down') => `
rules:
  - name: ${name}
    when: { fact: ffmpeg_available, operator: equal, value: false }
    for: ${forDur}
    severity: critical
    summary: "ffmpeg down"
`;

function logger() {
  const lines: string[] = [];
  const push = (level: string) => (_d: object, msg: string) => lines.push(`${level}: ${msg}`);
  return { lines, log: { info: push('info'), warn: push('warn'), error: push('error') } };
}

describe('RuleRunner', () => {
  it('serializes evaluations: a second call waits for the first', async () => {
    const db = openStore(':memory:');
    const src = memorySources();
    let running = 0;
    let overlapped = false;
    const order: string[] = [];
    // A check that takes a while (as an async source may): two evaluations must not interleave.
    const checks: CheckSource = {
      backup: (q: BackupQuery): BackupStatus => ({ present: true, ageSeconds: 1, sizeBytes: q.minSizeBytes, intact: true, path: '' }),
      ffmpegAvailable: async (now: number) => {
        running++;
        if (running > 1) overlapped = true;
        order.push(`start ${(now - base) / MIN}`);
        await new Promise((r) => setTimeout(r, 20));
        order.push(`end ${(now - base) / MIN}`);
        running--;
        return false;
      },
    };
    const r = new RuleRunner({ rules: set(FFMPEG('1m')), sources: { facts: src.facts, checks }, clock: new ManualClock(base), alertStore: new AlertStore(db), log: logger().log });
    const [a, b, c] = await Promise.all([r.evaluateAt(t(0)), r.evaluateAt(t(1)), r.evaluateAt(t(2))]);
    expect(overlapped).toBe(false);
    expect(order).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(a.map((x) => x.state)).toEqual(['pending']);
    expect(b.map((x) => x.state)).toEqual(['firing']);
    expect(c).toEqual([]);
    expect(r.stats()).toMatchObject({ evaluations: 3, lastEvaluationAt: t(2), failures: 0 });
  });

  it('keeps pending timers and firing alerts when the rules are replaced', async () => {
    const db = openStore(':memory:');
    const src = memorySources();
    src.checks.ffmpeg = false;
    const r = new RuleRunner({ rules: set(FFMPEG('5m')), sources: src, clock: new ManualClock(base), alertStore: new AlertStore(db), log: logger().log });
    expect((await r.evaluateAt(t(0))).map((x) => x.state)).toEqual(['pending']);
    await r.evaluateAt(t(2));
    // A reload that only edits the summary: the timer started at t(0) still counts.
    r.setRules(set(FFMPEG('5m').replace('"ffmpeg down"', '"ffmpeg is down"')));
    expect(await r.evaluateAt(t(4))).toEqual([]);
    const fired = await r.evaluateAt(t(5));
    expect(fired.map((x) => [x.state, x.summary])).toEqual([['firing', 'ffmpeg is down']]);
    // A reload with a shorter `for` applies to alerts that are still pending.
    src.checks.ffmpeg = true;
    await r.evaluateAt(t(6));
    src.checks.ffmpeg = false;
    await r.evaluateAt(t(7));
    r.setRules(set(FFMPEG('1m')));
    expect((await r.evaluateAt(t(8))).map((x) => x.state)).toEqual(['firing']);
  });

  it('ends the alerts of a removed rule: a firing one resolves (and notifies), a pending one goes inactive', async () => {
    const db = openStore(':memory:');
    const src = memorySources();
    src.checks.ffmpeg = false;
    const notified: string[] = [];
    const both = set(FFMPEG('0s', 'fast') + FFMPEG('10m', 'slow').replace('rules:', ''));
    const r = new RuleRunner({ rules: both, sources: src, clock: new ManualClock(base), alertStore: new AlertStore(db), log: logger().log, onNotify: (t) => notified.push(`${t.rule} ${t.notify}`) });
    expect((await r.evaluateAt(t(0))).map((x) => `${x.rule} ${x.state}`)).toEqual(['fast firing', 'slow pending']);
    r.setRules(set(FFMPEG('0s', 'other')));
    const out = await r.evaluateAt(t(1));
    expect(out.map((x) => `${x.rule} ${x.state} ${x.severity} ${x.summary}`)).toEqual(['other firing critical ffmpeg down', 'fast resolved critical ffmpeg down', 'slow inactive critical ffmpeg down']);
    expect(notified).toEqual(['fast firing', 'other firing', 'fast resolved']);
    expect([...r.alerts().keys()]).toEqual(['other{}']);
    expect(db.prepare(`SELECT rule, state FROM alerts ORDER BY id`).all()).toEqual([
      { rule: 'fast', state: 'resolved' },
      { rule: 'slow', state: 'inactive' },
      { rule: 'other', state: 'firing' },
    ]);
  });

  it('evaluates on the clock at every multiple of the interval until stopped', async () => {
    const db = openStore(':memory:');
    const src = memorySources();
    src.checks.ffmpeg = false;
    const clock = new ManualClock(t(0) + 7_000);
    const timers: { fn: () => void; at: number }[] = [];
    const setTimer = (fn: () => void, ms: number) => {
      const entry = { fn, at: clock.now() + ms };
      timers.push(entry);
      return () => timers.splice(timers.indexOf(entry), 1);
    };
    const r = new RuleRunner({ rules: set(FFMPEG('30s')), sources: src, clock, alertStore: new AlertStore(db), log: logger().log, setTimer });
    const settle = () => new Promise((res) => setTimeout(res, 10));
    r.start(15_000);
    for (let i = 0; i < 4; i++) {
      const next = timers.shift()!;
      clock.set(next.at);
      next.fn();
      await settle();
    }
    await r.stop();
    expect(timers).toEqual([]);
    expect(r.stats().evaluations).toBe(4);
    expect(r.stats().lastEvaluationAt).toBe(t(1)); // slots 15 s, 30 s, 45 s, 60 s
    expect(r.alerts().get('ffmpeg_down{}')).toMatchObject({ state: 'firing', activeSince: t(0) + 15_000, firingSince: t(0) + 45_000 });
  });

  it('logs a fact that cannot be computed and keeps the alert where it was', async () => {
    const db = openStore(':memory:');
    const src = memorySources();
    src.checks.ffmpeg = false;
    const { lines, log } = logger();
    const r = new RuleRunner({ rules: set(FFMPEG('0s')), sources: src, clock: new ManualClock(base), alertStore: new AlertStore(db), log });
    await r.evaluateAt(t(0));
    src.checks.ffmpegAvailable = async () => {
      throw new Error('probe crashed');
    };
    expect(await r.evaluateAt(t(1))).toEqual([]);
    expect(r.alerts().get('ffmpeg_down{}')?.state).toBe('firing');
    expect(r.stats().lastErrors).toEqual([{ rule: 'ffmpeg_down', alertKey: 'ffmpeg_down{}', message: 'probe crashed' }]);
    expect(lines).toEqual(['warn: rule ffmpeg_down: probe crashed']);
  });
});

describe('wiring helpers', () => {
  it('lists the distinct backup checks a rule set needs, for warming the check cache', () => {
    const s = set(`
rules:
  - name: a
    when: { fact: backup_present, params: { path: "/b/x-{YYYYMMDD}.tgz", min_size: 1MiB, verify: tar }, operator: equal, value: false }
    severity: error
    summary: a
  - name: b
    when: { fact: backup_age_seconds, params: { path: "/b/x-{YYYYMMDD}.tgz", verify: tar, min_size: 1048576 }, operator: greaterThan, value: 10 }
    severity: error
    summary: b
  - name: c
    when: { fact: ffmpeg_available, operator: equal, value: false }
    severity: error
    summary: c
`);
    expect(backupQueries(s)).toEqual([{ pathPattern: '/b/x-{YYYYMMDD}.tgz', minSizeBytes: 1048576, verify: 'tar' }]);
    // The collectors' cache is the rules' CheckSource as it is (a type-level check; nothing runs).
    const checks: CheckSource = new CheckCache();
    expect(typeof checks.ffmpegAvailable).toBe('function');
  });
});
