import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../src/config/load.js';
import { feed } from '../../src/replay/feeder.js';
import { replay, replayRunner, settleMs } from '../../src/replay/run.js';
import { RuleSet } from '../../src/rules/engine.js';
import { lintRuleSource } from '../../src/rules/load.js';
import { openStore } from '../../src/store/db.js';

const T = Date.UTC(2026, 10, 22, 10, 0, 0);
const MIN = 60_000;
const quiet = { info() {}, warn() {}, error() {} };
const at = (m: number, o: Record<string, unknown>) => ({ text: JSON.stringify({ timestamp: new Date(T + m * MIN).toISOString(), level: 'INFO', ...o }) });
const config = { retention: { ...loadConfig({}).retention }, cardinality: { ...DEFAULTS.cardinality }, max_line_bytes: DEFAULTS.max_line_bytes };

function rules(yaml: string): RuleSet {
  const r = lintRuleSource('r.yaml', yaml);
  expect(r.problems).toEqual([]);
  return new RuleSet(r.rules);
}

const STUCK = `
rules:
  - name: stuck
    when: { fact: stuck_sessions, params: { older_than: 30m }, operator: greaterThan, value: 0 }
    severity: warning
    summary: "{{ stuck_sessions }} stuck"
  - name: seen
    when: { fact: total_operations, params: { window: 1m }, operator: greaterThan, value: 0 }
    severity: info
    summary: "{{ total_operations }} ops"
`;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe('feed', () => {
  it('interleaves ingest with evaluation: a session later completed is stuck in between', async () => {
    const db = openStore(':memory:');
    const runner = replayRunner({ db, rules: rules(STUCK), log: quiet });
    const seen: string[] = [];
    const res = await feed(
      [
        { file: 'app.log', lines: [
          at(0, { event: 'stage_started', stage: 'upload', session_id: 's1' }),
          at(45, { event: 'session_completed', session_id: 's1' }),
        ] },
        // An operation exactly on a step is seen by that step's evaluation.
        { file: 'ops.log', lines: [at(10, { event: 'stage_completed', stage: 'upload', success: true })] },
      ],
      {
        db,
        config,
        runner,
        stepMs: 15_000,
        until: (last) => last! + 60_000,
        onStep: (now, ts) => {
          for (const t of ts) seen.push(`${(now - T) / 1000}s ${t.rule} ${t.state}`);
        },
      },
    );
    // (The 1-minute window takes its first minute whole: the 10:10 operation counts until 10:12.)
    expect(seen).toEqual(['600s seen firing', '720s seen resolved', '1815s stuck firing', '2700s stuck resolved']);
    expect(res).toMatchObject({ lines: 3, rejected: 0, firstTs: T, lastTs: T + 45 * MIN, firstEvaluation: T, lastEvaluation: T + 46 * MIN, evaluations: 46 * 4 + 1 });
    expect(db.prepare(`SELECT sum(lines) AS n FROM file_stats`).get()).toEqual({ n: 3 });
  });

  it('evaluates from `from` even before the first line, and commits big steps in bounded batches (by bytes, as live ingest)', async () => {
    const db = openStore(':memory:');
    const runner = replayRunner({ db, rules: rules(STUCK), log: quiet });
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-feed-'));
    dirs.push(d);
    const file = path.join(d, 'a.log');
    // ~3 MiB in one step: three 1 MiB reads, each committed once the batch bound is reached.
    const lines = Array.from({ length: 10_000 }, (_, i) => at(5, { event: 'stage_completed', stage: 'upload', success: true, n: i, pad: 'x'.repeat(200) }).text);
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const res = await feed([{ file: 'a.log', parts: [file] }], { db, config, runner, stepMs: 60_000, from: T, until: T + 5 * MIN, batchBytes: 1 << 20 });
    expect(res).toMatchObject({ lines: 10_000, evaluations: 6, firstEvaluation: T });
    expect(res.batches).toBeGreaterThanOrEqual(3);
    expect(db.prepare(`SELECT sum(ops) AS n FROM windows WHERE res = 60000`).get()).toEqual({ n: 10_000 });
  });
});

describe('replay', () => {
  it('prints firing and resolved only (all four with allStates), the same bytes every run', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-replay-'));
    dirs.push(d);
    const lines = [
      ...Array.from({ length: 12 }, (_, i) => at(i, { level: 'CRITICAL', message: 'boom' })),
      at(13, { level: 'INFO', message: 'quiet again' }),
    ];
    fs.writeFileSync(path.join(d, 'app.log'), lines.map((l) => l.text).join('\n') + '\n');
    // A rotated part of another file and a line without a timestamp.
    fs.writeFileSync(path.join(d, 'errors.log.1'), at(2, { level: 'CRITICAL', message: 'older part' }).text + '\n{"message":"no time"}\n');
    const set = rules(`
rules:
  - name: crit
    when: { fact: level_count, params: { window: 2m, level: CRITICAL }, operator: greaterThanInclusive, value: 2 }
    for: 1m
    keep_firing_for: 30s
    severity: critical
    summary: "{{ level_count }} critical"
  - name: never
    when: { fact: level_count, params: { window: 1m, level: CRITICAL }, operator: greaterThan, value: 100 }
    severity: info
    summary: "never"
`);
    expect(settleMs(set, 15_000)).toBe(60_000 + 30_000 + 15_000);
    const run = async (allStates: boolean) => {
      const out: string[] = [];
      const db = openStore(':memory:');
      await replay({ paths: [d], rules: set, config, db, stepMs: 15_000, allStates, write: (l) => out.push(l), log: quiet });
      db.close();
      return out;
    };
    const a = await run(false);
    expect(a).toEqual([
      // pending at 10:01 (10:00 + 10:01), firing a minute later; the rotated errors.log.1 adds its 10:02 line.
      '{"at":"2026-11-22T10:02:00.000Z","rule":"crit","state":"firing","severity":"critical","labels":{},"summary":"4 critical"}',
      // stops holding at 10:13 (only the 10:11 line left), keeps firing 30 s more.
      '{"at":"2026-11-22T10:13:30.000Z","rule":"crit","state":"resolved","severity":"critical","labels":{},"summary":"1 critical"}',
    ]);
    expect(await run(false)).toEqual(a);
    const all = await run(true);
    expect(all.map((l) => JSON.parse(l).state)).toEqual(['pending', 'firing', 'resolved']);
    expect(Object.keys(JSON.parse(all[0]!))).toEqual(['at', 'rule', 'state', 'severity', 'labels', 'summary']);
  });
});
