import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ruleFiles } from '../../src/rules/load.js';
import { lintRuleSet, RuleReloader } from '../../src/rules/reload.js';
import { RuleRunner } from '../../src/rules/runner.js';
import { AlertStore } from '../../src/store/alerts.js';
import { openStore } from '../../src/store/db.js';
import { tmpDir, waitFor } from '../helpers/agent.js';
import { memorySources } from './memory-sources.js';

const base = Date.UTC(2026, 10, 22, 10, 0, 0);
const MIN = 60_000;
const t = (m: number) => base + m * MIN;

const rule = (name: string, summary = 'ffmpeg down', forDur = '5m') => `
rules:
  - name: ${name}
    when: { fact: ffmpeg_available, operator: equal, value: false }
    for: ${forDur}
    severity: critical
    summary: "${summary}"
`;

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function tmp(): string {
  const dir = tmpDir('reload');
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('rule files', () => {
  it('a directory gives its rule files, without the rule tests beside them', () => {
    const dir = tmp();
    for (const f of ['b.yaml', 'a.yml', 'a.test.yaml', 'notes.txt', 'c.test.yml']) fs.writeFileSync(path.join(dir, f), 'rules: []\n');
    expect(ruleFiles([dir]).files.map((f) => path.basename(f))).toEqual(['a.yml', 'b.yaml']);
    expect(ruleFiles([path.join(dir, 'a.test.yaml')]).files.map((f) => path.basename(f))).toEqual(['a.test.yaml']);
    expect(lintRuleSet([dir]).problems).toEqual([]);
  });
});

describe('RuleReloader', () => {
  it('reloads on change, add and delete; a bad edit is refused with every problem and the running rules keep their timers', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'ffmpeg.yaml'), rule('ffmpeg_down'));
    const db = openStore(':memory:');
    const src = memorySources();
    src.checks.ffmpeg = false;
    const clock = new ManualClock(base);
    const logs: string[] = [];
    const log = { info: (_d: object, m: string) => logs.push(`info: ${m}`), warn: (_d: object, m: string) => logs.push(`warn: ${m}`), error: (_d: object, m: string) => logs.push(`error: ${m}`) };
    const reloader = new RuleReloader({ dir, clock, log, onReload: (s) => runner.setRules(s), debounceMs: 100, usePolling: false });
    const first = reloader.load();
    expect(first.problems).toEqual([]);
    const runner = new RuleRunner({ rules: first.set, sources: src, clock, alertStore: new AlertStore(db), log });
    await reloader.start();
    cleanup.push(() => reloader.close());
    expect(reloader.lastReload()).toMatchObject({ ok: true, rules: 1, attempts: 1, failures: 0 });

    expect((await runner.evaluateAt(t(0))).map((x) => x.state)).toEqual(['pending']);

    // A bad edit: two problems, both located; the last good rules keep running.
    clock.set(t(1));
    fs.writeFileSync(path.join(dir, 'ffmpeg.yaml'), rule('ffmpeg_down').replace('operator: equal', 'operator: equals').replace('severity: critical', 'severity: urgent'));
    expect(await waitFor(() => reloader.lastReload().attempts === 2, 5000, 25)).toBe(true);
    const bad = reloader.lastReload();
    expect(bad).toMatchObject({ ok: false, at: t(1), rules: 1, failures: 1 });
    expect(bad.problems.map((p) => `${path.basename(p.file)}:${p.line}:${p.col}`)).toEqual(['ffmpeg.yaml:4:47', 'ffmpeg.yaml:6:15']);
    expect(logs.some((l) => l.startsWith('error: rule reload refused') && l.includes('ffmpeg.yaml:4:47: unknown operator "equals"'))).toBe(true);
    expect(await runner.evaluateAt(t(3))).toEqual([]);

    // Fixed, with a new summary: the pending timer from t(0) still counts.
    fs.writeFileSync(path.join(dir, 'ffmpeg.yaml'), rule('ffmpeg_down', 'ffmpeg is gone'));
    expect(await waitFor(() => reloader.lastReload().attempts === 3, 5000, 25)).toBe(true);
    expect(reloader.lastReload()).toMatchObject({ ok: true, problems: [], rules: 1 });
    expect((await runner.evaluateAt(t(5))).map((x) => [x.state, x.summary])).toEqual([['firing', 'ffmpeg is gone']]);

    // A new file adds its rule; a rule test file beside it is not a rule.
    fs.writeFileSync(path.join(dir, 'more.yaml'), rule('ffmpeg_down_fast', 'fast', '0s'));
    fs.writeFileSync(path.join(dir, 'more.test.yaml'), 'rule_files: [more.yaml]\ntests: []\n');
    expect(await waitFor(() => reloader.lastReload().rules === 2, 5000, 25)).toBe(true);
    expect(reloader.lastReload().ok).toBe(true);
    expect((await runner.evaluateAt(t(6))).map((x) => x.rule)).toEqual(['ffmpeg_down_fast']);

    // Deleting it removes the rule.
    fs.unlinkSync(path.join(dir, 'more.yaml'));
    expect(await waitFor(() => reloader.lastReload().rules === 1, 5000, 25)).toBe(true);
    expect(runner.ruleSet.rules.map((r) => r.name)).toEqual(['ffmpeg_down']);
  });

  it('reload() on demand (SIGHUP) reports the same status', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'x.yaml'), 'rules:\n  - name: x\n');
    const r = new RuleReloader({ dir, clock: new ManualClock(base), log: { info() {}, warn() {}, error() {} }, onReload: () => expect.fail('a bad set must not be applied') });
    expect(r.load().problems.length).toBeGreaterThan(0);
    expect(r.ruleSet).toBeNull();
    const s = r.reload();
    expect(s).toMatchObject({ ok: false, at: base, attempts: 2, failures: 2 });
    expect(s.problems.every((p) => p.file.endsWith('x.yaml') && p.line >= 2)).toBe(true);
  });
});
