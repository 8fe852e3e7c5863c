import { describe, expect, it } from 'vitest';
import { evaluate, RuleSet, type TrackedAlert, type Transition } from '../../src/rules/engine.js';
import { lintRuleSource } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/rule.js';
import { memorySources, type MemEvent } from './memory-sources.js';

const base = Date.UTC(2024, 2, 1, 10, 0, 0);
const MIN = 60_000;
const t = (m: number) => base + m * MIN;

function rules(yaml: string): Rule[] {
  const r = lintRuleSource('test.yaml', yaml);
  expect(r.problems).toEqual([]);
  return r.rules;
}

/** Evaluates at each minute in `minutes`, feeding each result's states into the next, like the agent's loop. */
async function drive(set: RuleSet, sources: ReturnType<typeof memorySources>, minutes: number[], start = new Map<string, TrackedAlert>()) {
  let states = start;
  const transitions: Transition[] = [];
  for (const m of minutes) {
    const r = await evaluate(set, sources, t(m), states);
    expect(r.errors).toEqual([]);
    transitions.push(...r.transitions);
    states = r.states;
  }
  return { states, transitions };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const brief = (tr: Transition[]) => tr.map((x) => `${(x.at - base) / MIN} ${x.rule}${labelText(x.labels)} ${x.state}${x.notify ? ` notify:${x.notify}` : ''}`);
const labelText = (l: Record<string, string>) => (Object.keys(l).length ? `{${Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',')}}` : '');

const ERROR_RATE = `
rules:
  - name: high_error_rate
    when:
      all:
        - { fact: error_rate, params: { window: 10m }, operator: greaterThan, value: 0.10 }
        - { fact: total_operations, params: { window: 10m }, operator: greaterThanInclusive, value: 20 }
    for: 5m
    severity: error
    channels: [slack]
    summary: "Error rate {{ error_rate | percent }} over 10m ({{ total_operations }} operations)"
    description: "{{ rule }} is {{ severity | upper }}"
`;

/** 4 operations 30 s into every minute from -10 to 30; in minutes 2..9, 2 of the 4 fail. */
function errorBurst(): MemEvent[] {
  const ev: MemEvent[] = [];
  for (let m = -10; m <= 30; m++) {
    for (let i = 0; i < 4; i++) ev.push({ ts: t(m) + 30_000, stage: 'merging', logger: 'media_processing', success: !(m >= 2 && m <= 9 && i < 2), durationSeconds: 10 });
  }
  return ev;
}

describe('evaluate', () => {
  it('error-rate rule: pending when the rate crosses 10%, firing 5m later, resolved when it drops', async () => {
    const src = memorySources();
    src.facts.events = errorBurst();
    const set = new RuleSet(rules(ERROR_RATE));
    // In (T-10m, T] there are 40 operations; the rate is above 10% from minute 5 to minute 17.
    const { transitions, states } = await drive(set, src, range(0, 25));
    expect(brief(transitions)).toEqual(['5 high_error_rate pending', '10 high_error_rate firing notify:firing', '18 high_error_rate resolved notify:resolved']);
    const [pending, firing, resolved] = transitions;
    expect(pending).toMatchObject({ severity: 'error', labels: {}, alertKey: 'high_error_rate{}', values: { error_rate: 6 / 40, total_operations: 40 } });
    expect(pending!.notify).toBeUndefined();
    expect(firing).toMatchObject({
      at: t(10),
      summary: 'Error rate 40% over 10m (40 operations)',
      description: 'high_error_rate is ERROR',
      values: { error_rate: 0.4, total_operations: 40 },
    });
    expect(resolved!.summary).toBe('Error rate 10% over 10m (40 operations)');
    expect(states.size).toBe(0);
  });

  it('keeps the pending/firing state in the returned map, with its rule and labels', async () => {
    const src = memorySources();
    src.facts.events = errorBurst();
    const set = new RuleSet(rules(ERROR_RATE));
    const { states } = await drive(set, src, range(0, 12));
    expect([...states.entries()]).toEqual([
      ['high_error_rate{}', expect.objectContaining({ rule: 'high_error_rate', labels: {}, state: 'firing', activeSince: t(5), firingSince: t(10), lastHeldAt: t(12) })],
    ]);
  });

  it('group_by stage: one alert per stage seen in the window; a stage that disappears is resolved', async () => {
    const src = memorySources();
    const op = (m: number, stage: string, durationSeconds: number): MemEvent => ({ ts: t(m) + 1000, stage, success: true, durationSeconds });
    // upload stays fast; merging stays slow; compression is slow but stops appearing after minute 3.
    for (let m = -5; m <= 20; m++) {
      src.facts.events.push(op(m, 'upload', 5), op(m, 'merging', 400));
      if (m <= 3) src.facts.events.push(op(m, 'compression', 900));
    }
    const set = new RuleSet(
      rules(`
rules:
  - name: slow_stage
    when: { all: [ { fact: p95_duration, params: { window: 5m }, operator: greaterThan, value: 300 } ] }
    severity: warning
    group_by: [stage]
    labels: { team: media }
    summary: "{{ stage }} p95 {{ p95_duration | duration }}"
`),
    );
    const { transitions, states } = await drive(set, src, range(0, 12));
    // compression's last operation is at 3m+1s; it leaves the 5m window at minute 9.
    expect(brief(transitions)).toEqual([
      '0 slow_stage{stage=compression,team=media} firing notify:firing',
      '0 slow_stage{stage=merging,team=media} firing notify:firing',
      '9 slow_stage{stage=compression,team=media} resolved notify:resolved',
    ]);
    expect(transitions[1]).toMatchObject({ summary: 'merging p95 6m 40s', alertKey: 'slow_stage{stage="merging",team="media"}' });
    expect(transitions[2]!.summary).toBe('compression p95 n/a');
    expect([...states.keys()]).toEqual(['slow_stage{stage="merging",team="media"}']);
  });

  it('repeat_interval re-notifies a still-firing alert as a firing transition with notify "repeat"', async () => {
    const src = memorySources();
    src.facts.sessions = [{ id: 's1', startedAt: t(-60) }];
    const set = new RuleSet(
      rules(`
rules:
  - name: stuck
    when: { fact: stuck_sessions, params: { older_than: 30m }, operator: greaterThan, value: 0 }
    repeat_interval: 3m
    severity: warning
    summary: "{{ value }} stuck"
`),
    );
    const { transitions } = await drive(set, src, range(0, 7));
    expect(brief(transitions)).toEqual(['0 stuck firing notify:firing', '3 stuck firing notify:repeat', '6 stuck firing notify:repeat']);
    expect(transitions[1]!.summary).toBe('1 stuck');
  });

  it('keep_firing_for keeps an alert firing after its condition stops holding', async () => {
    const src = memorySources();
    src.facts.events = [{ ts: t(0), level: 'CRITICAL', logger: 'app' }];
    const set = new RuleSet(
      rules(`
rules:
  - name: critical_lines
    when: { fact: level_count, params: { window: 2m, level: critical }, operator: greaterThan, value: 0 }
    keep_firing_for: 3m
    severity: critical
    summary: "{{ level_count }} CRITICAL lines"
`),
    );
    // holds at minutes 0 and 1 (the line is inside the 2m window), not from minute 2; keep-firing runs 2..4
    const { transitions } = await drive(set, src, range(0, 8));
    expect(brief(transitions)).toEqual(['0 critical_lines firing notify:firing', '5 critical_lines resolved notify:resolved']);
    expect(transitions[1]!.summary).toBe('0 CRITICAL lines');
  });

  it('computes each (fact, params) once per evaluation and shares the underlying query', async () => {
    const src = memorySources();
    src.facts.events = errorBurst();
    const set = new RuleSet(
      rules(`
rules:
  - name: a
    when: { all: [ { fact: error_rate, params: { window: 10m }, operator: greaterThan, value: 0.1 }, { fact: failed_operations, params: { window: 10m }, operator: greaterThan, value: 0 } ] }
    severity: info
    summary: s
  - name: b
    when: { any: [ { fact: total_operations, params: { window: 600s }, operator: greaterThan, value: 0 }, { fact: avg_duration, params: { window: 10m }, operator: greaterThan, value: 0 } ] }
    severity: info
    summary: s
  - name: c
    when: { fact: total_operations, params: { window: 1h }, operator: greaterThan, value: 0 }
    severity: info
    summary: s
`),
    );
    await evaluate(set, src, t(10), new Map());
    // 10m (= 600s) for the stage-less operations of a and b, 1h for c; avg_duration has no logger param but the same query
    expect(src.facts.calls.get('operations')).toBe(2);
  });

  it('checks through CheckSource: backup and ffmpeg, one backup check per evaluation for both backup facts', async () => {
    const src = memorySources();
    const pattern = '/backups/backup-{YYYYMMDD}.tar.gz';
    src.checks.backups.set(pattern, { present: true, ageSeconds: 7200, sizeBytes: 10, intact: false, path: '/backups/backup-20240301.tar.gz', reason: 'gzip: unexpected end of file' });
    src.checks.ffmpeg = false;
    const set = new RuleSet(
      rules(`
rules:
  - name: backup_bad
    when:
      all:
        - { fact: backup_present, params: { path: "${pattern}", verify: gzip }, operator: equal, value: false }
        - { fact: backup_age_seconds, params: { path: "${pattern}", verify: gzip }, operator: lessThan, value: 86400 }
    severity: error
    summary: "backup broken, newest {{ backup_age_seconds | duration }} old"
  - name: no_ffmpeg
    when: { fact: ffmpeg_available, operator: equal, value: false }
    severity: critical
    summary: "ffmpeg: {{ ffmpeg_available }}"
`),
    );
    const r = await evaluate(set, src, t(0), new Map());
    expect(r.transitions.map((x) => [x.rule, x.state, x.summary])).toEqual([
      ['backup_bad', 'firing', 'backup broken, newest 2h old'],
      ['no_ffmpeg', 'firing', 'ffmpeg: false'],
    ]);
    expect(src.checks.calls.get('backup')).toBe(1);
  });

  it('null facts (no data) make comparisons false and render as n/a', async () => {
    const src = memorySources();
    const set = new RuleSet(
      rules(`
rules:
  - name: silent
    when: { fact: log_silence_seconds, params: { logger: worker }, operator: greaterThan, value: 600 }
    severity: warning
    summary: "quiet for {{ value | duration }}"
  - name: rate_low
    when: { not: { fact: error_rate, params: { window: 5m }, operator: greaterThan, value: 0.5 } }
    severity: info
    summary: "rate {{ error_rate | percent }}"
`),
    );
    const r = await evaluate(set, src, t(0), new Map());
    // log_silence_seconds is null (no line ever): no alert; `not (null > 0.5)` holds
    expect(r.transitions.map((x) => [x.rule, x.summary, x.values])).toEqual([['rate_low', 'rate n/a', { error_rate: null }]]);
    src.facts.events.push({ ts: t(0), logger: 'worker' });
    const later = await evaluate(set, src, t(11), r.states);
    expect(later.transitions.map((x) => [x.rule, x.state, x.summary])).toEqual([['silent', 'firing', 'quiet for 11m']]);
  });

  it('a failing source is reported per rule and leaves that alert as it was', async () => {
    const src = memorySources();
    src.facts.activeSessions = () => {
      throw new Error('database is locked');
    };
    const set = new RuleSet(
      rules(`
rules:
  - name: busy
    when: { fact: active_sessions, operator: greaterThan, value: 0 }
    severity: info
    summary: s
  - name: ok
    when: { fact: stuck_sessions, operator: equal, value: 0 }
    severity: info
    summary: s
`),
    );
    const prev = new Map<string, TrackedAlert>([
      ['busy{}', { rule: 'busy', labels: {}, state: 'firing', activeSince: t(-5), firingSince: t(-5), lastHeldAt: t(-1), lastNotifiedAt: t(-5), keepFiringSince: null, resolvedAt: null }],
    ]);
    const r = await evaluate(set, src, t(0), prev);
    expect(r.errors).toEqual([{ rule: 'busy', alertKey: 'busy{}', message: 'database is locked' }]);
    expect(r.states.get('busy{}')).toBe(prev.get('busy{}'));
    expect(r.transitions.map((x) => x.rule)).toEqual(['ok']);
  });

  it('passes through alerts of rules outside the set and is deterministic', async () => {
    const other: TrackedAlert = { rule: 'removed', labels: { x: '1' }, state: 'firing', activeSince: 1, firingSince: 1, lastHeldAt: 1, lastNotifiedAt: 1, keepFiringSince: null, resolvedAt: null };
    const mk = () => {
      const src = memorySources();
      src.facts.events = errorBurst();
      return src;
    };
    // rules given out of file order come out sorted by file then position
    const second = lintRuleSource('b.yaml', ERROR_RATE.replace('high_error_rate', 'z_rule')).rules;
    const first = lintRuleSource('a.yaml', ERROR_RATE).rules;
    const set = new RuleSet([...second, ...first]);
    expect(set.rules.map((r) => r.name)).toEqual(['high_error_rate', 'z_rule']);
    const a = await drive(set, mk(), range(0, 20), new Map([['removed{x="1"}', other]]));
    const b = await drive(set, mk(), range(0, 20), new Map([['removed{x="1"}', other]]));
    expect(JSON.stringify(a.transitions)).toBe(JSON.stringify(b.transitions));
    expect(brief(a.transitions).slice(0, 2)).toEqual(['5 high_error_rate pending', '5 z_rule pending']);
    expect(a.states.get('removed{x="1"}')).toBe(other);
  });
});
