import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatLocated, ValidationError } from '../../src/errors.js';
import { lintRules, lintRuleSource, loadRules } from '../../src/rules/load.js';

const FIX = 'fixtures/rules';
const channels = ['slack', 'email', 'pagerduty'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rules-load-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function lint(text: string, opts = { channels }) {
  return lintRuleSource('r.yaml', text, opts).problems.map(formatLocated);
}

describe('lintRules on the fixtures', () => {
  it('loads the valid fixtures in file order with their parsed fields', () => {
    const { rules, problems } = lintRules([`${FIX}/valid`], { channels });
    expect(problems).toEqual([]);
    expect(rules.map((r) => `${path.basename(r.file)}:${r.line}:${r.col} ${r.name}`)).toEqual([
      'operations.yaml:3:5 high_error_rate',
      'operations.yaml:16:5 slow_stage',
      'system.yaml:2:5 disk_almost_full',
      'system.yaml:10:5 backup_missing',
      'system.yaml:22:5 ffmpeg_missing',
    ]);
    const [her, slow, , backup, ffmpeg] = rules;
    expect(her).toMatchObject({ forMs: 300_000, keepFiringForMs: 120_000, repeatIntervalMs: 4 * 3_600_000, severity: 'error', channels: ['slack', 'email'], groupBy: [] });
    expect(her!.uses).toEqual([
      { fact: 'error_rate', params: { window: 3_600_000 }, line: 7, col: 11 },
      { fact: 'total_operations', params: { window: 3_600_000 }, line: 8, col: 11 },
    ]);
    expect(her!.when).toEqual({ all: [{ use: 0, operator: 'greaterThan', value: 0.1 }, { use: 1, operator: 'greaterThanInclusive', value: 20 }] });
    expect(slow).toMatchObject({ groupBy: ['stage'], labels: { team: 'media' }, forMs: 0 });
    expect(backup!.uses[0]!.params).toEqual({ path: '/backups/backup-{YYYYMMDD}.tar.gz', min_size: 1024 * 1024, verify: 'gzip' });
    expect(backup!.when).toEqual({ not: { use: 0, operator: 'equal', value: true } });
    expect(backup!.description?.source).toBe('Rule {{ rule }} ({{ severity }})');
    // a lone comparison under `when` is wrapped in `all`
    expect(ffmpeg!.when).toEqual({ all: [{ use: 0, operator: 'equal', value: false }] });
  });

  it('reports every problem class at once, each at its YAML node', () => {
    const { rules, problems } = lintRules([`${FIX}/invalid`], { channels });
    const b = `${FIX}/invalid/b_every_problem.yaml`;
    expect(problems.map(formatLocated)).toEqual([
      `${b}:2:11: duplicate rule name "dup_rule" (first defined at ${FIX}/invalid/a_first.yaml:2:11)`,
      `${b}:5:19: unknown fact "eror_rate" (did you mean "error_rate"?)`,
      `${b}:6:55: total_operations.params.window: invalid duration "1hour" (expected e.g. 30s, 5m, 1h30m, 7d)`,
      `${b}:7:47: unknown operator "biggerThan" (known: equal, notEqual, lessThan, lessThanInclusive, greaterThan, greaterThanInclusive, in, notIn, contains, doesNotContain)`,
      `${b}:8:68: value: failed_operations is a number, got the string "5"`,
      `${b}:9:10: for: invalid duration "5 minutes" (expected e.g. 30s, 5m, 1h30m, 7d)`,
      `${b}:11:23: unknown channel "pagr" (configured: slack, email, pagerduty)`,
      `${b}:12:45: template: unknown formatter "percnt" (did you mean "percent"?) (known: percent, duration, bytes, round, upper, lower)`,
      `${b}:12:62: template: unknown name "stag" (known here: value, rule, severity, total_operations, failed_operations)`,
      `${b}:13:5: unknown key "sumary" (did you mean "summary"?)`,
      `${b}:19:56: backup_present.params.verify: expected one of gzip, tar, none, got the string "zip"`,
      `${b}:20:21: operator greaterThan compares numbers; backup_present is true or false (use equal)`,
      `${b}:22:15: severity: expected one of info, warning, error, critical, got number 3`,
      `${b}:23:15: channels: expected a list such as [slack, email], got the string "slack"`,
      `${b}:24:24: template: "{{" is never closed with "}}"`,
    ]);
    // the valid rule of the first file is still returned; no invalid rule is
    expect(rules.map((r) => r.name)).toEqual(['dup_rule']);
    expect(path.basename(rules[0]!.file)).toBe('a_first.yaml');
  });

  it('loadRules throws one ValidationError carrying every problem', () => {
    let err: unknown;
    try {
      loadRules([`${FIX}/invalid`], { channels });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('VIGIL_RULE_INVALID');
    expect((err as ValidationError).problems).toHaveLength(15);
    expect((err as ValidationError).message.split('\n')[0]).toMatch(/b_every_problem\.yaml:2:11: duplicate rule name/);
  });

  it('takes files as given and directories as their sorted *.yaml/*.yml, and reports missing paths', () => {
    const dir = path.join(tmp, 'order');
    fs.mkdirSync(dir);
    const rule = (n: string) => `rules:\n  - name: ${n}\n    when: { fact: active_sessions, operator: greaterThan, value: 1 }\n    severity: info\n    summary: s\n`;
    fs.writeFileSync(path.join(dir, 'b.yml'), rule('from_b'));
    fs.writeFileSync(path.join(dir, 'a.yaml'), rule('from_a'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a rule file');
    fs.writeFileSync(path.join(dir, 'empty.yaml'), '# nothing yet\n');
    const missing = path.join(tmp, 'nope.yaml');
    const { rules, problems } = lintRules([dir, missing]);
    expect(rules.map((r) => r.name)).toEqual(['from_a', 'from_b']);
    expect(problems.map(formatLocated)).toEqual([`${missing}:1:1: cannot read: ENOENT`]);
  });
});

describe('lintRuleSource problem classes', () => {
  it('reports YAML syntax errors at their position', () => {
    expect(lint('rules:\n  - name: a\n    name: b\n')).toEqual(['r.yaml:3:5: YAML: Map keys must be unique']);
  });

  it('reports missing required keys at the rule and unknown top-level keys', () => {
    expect(lint('rule:\n  - name: a\n')).toEqual(['r.yaml:1:1: unknown key "rule" (did you mean "rules"?)']);
    expect(lint('other: 1\n')).toEqual(['r.yaml:1:1: unknown key "other"', 'r.yaml:1:1: missing key `rules`']);
    // a misspelt required key is reported once, as the misspelling
    expect(lint('rules:\n  - name: a\n    severity: info\n    sumary: s\n    when: { fact: active_sessions, operator: greaterThan, value: 1 }\n')).toEqual([
      'r.yaml:4:5: unknown key "sumary" (did you mean "summary"?)',
    ]);
    expect(lint('rules:\n  - name: a\n')).toEqual([
      'r.yaml:2:5: missing required key "severity"',
      'r.yaml:2:5: missing required key "when"',
      'r.yaml:2:5: missing required key "summary"',
    ]);
    expect(lint('rules:\n  - just a string\n')).toEqual(['r.yaml:2:5: a rule must be a map (name, when, severity, summary, …), got the string "just a string"']);
  });

  it('checks condition structure, params and operator/value types', () => {
    const src = [
      'rules:',
      '  - name: a',
      '    severity: info',
      '    summary: s',
      '    when:',
      '      all:',
      '        - { fakt: error_rate, operator: equal, value: 1 }',
      '        - { fact: level_count, params: { windw: 5m }, operator: greaterThan, value: 0 }',
      '        - { fact: active_sessions, params: { window: 5m }, operator: contains, value: 1 }',
      '        - { fact: error_rate, operator: in, value: [0.1, "x"] }',
      '        - { fact: stuck_sessions, params: { older_than: 0s }, operator: greaterThan, value: 0 }',
      '      any: []',
    ].join('\n');
    expect(lint(src)).toEqual([
      'r.yaml:6:7: a condition has exactly one of all, any, not — or is a fact comparison',
    ]);
    const fixed = src.replace('      any: []', '');
    expect(lint(fixed)).toEqual([
      'r.yaml:7:13: unknown key "fakt" (did you mean "fact"?)',
      'r.yaml:8:40: fact level_count needs param "level" (DEBUG, INFO, WARNING, ERROR or CRITICAL (case-insensitive))',
      'r.yaml:8:42: unknown param "windw" of fact level_count (did you mean "window"?) (accepted: window, level, logger)',
      'r.yaml:9:46: fact active_sessions takes no params, got "window"',
      'r.yaml:9:70: operator contains needs a list-valued fact; active_sessions is a number',
      'r.yaml:10:52: value: operator in needs a non-empty list of numbers, got a list',
      'r.yaml:11:57: stuck_sessions.params.older_than: must be longer than 0s',
    ]);
  });

  it('checks group_by: known key, used by a fact, not also a param or a label', () => {
    const src = (groupBy: string, extra = '', labels = '') =>
      [
        'rules:',
        '  - name: a',
        '    severity: info',
        '    summary: "{{ stage }}"',
        `    group_by: ${groupBy}`,
        labels,
        '    when:',
        `      all: [ { fact: error_rate, params: { window: 1h${extra} }, operator: greaterThan, value: 0.1 } ]`,
      ].join('\n');
    expect(lint(src('[stage]'))).toEqual([]);
    expect(lint(src('[stag]'))).toEqual([
      'r.yaml:4:18: template: unknown name "stage" (known here: value, rule, severity, error_rate)',
      'r.yaml:5:16: group_by: unknown key "stag" (did you mean "stage"?) (known: stage)',
    ]);
    expect(lint(src('[stage]', ', stage: upload'))).toEqual(['r.yaml:8:56: param "stage" is set by group_by: [stage]; remove it here']);
    expect(lint(src('[stage]', '', '    labels: { stage: x }'))).toEqual(['r.yaml:6:15: labels: "stage" is also a group_by key; the group value is the label']);
    const noStageFact = src('[stage]').replace('fact: error_rate, params: { window: 1h }', 'fact: active_sessions').replace('"{{ stage }}"', 's');
    expect(lint(noStageFact)).toEqual(['r.yaml:5:16: group_by: no fact in this rule takes the param "stage"']);
  });

  it('checks labels, names, backup date tokens and sizes', () => {
    const src = [
      'rules:',
      '  - name: 9lives',
      '    severity: info',
      '    summary: s',
      '    labels: { team: media, "bad-name": x, nested: { a: 1 } }',
      '    when:',
      '      not: { fact: backup_present, params: { path: "/b/{YYYY}{HH}.tgz", min_size: lots }, operator: equal, value: true }',
    ].join('\n');
    expect(lint(src)).toEqual([
      'r.yaml:2:11: name: "9lives" must be letters, digits and _ (not starting with a digit)',
      'r.yaml:5:28: labels: "bad-name" is not a valid label name (letters, digits and _)',
      'r.yaml:5:51: labels.nested: expected a string, got a map',
      'r.yaml:7:52: backup_present.params.path: unknown date token {HH} (known: {YYYYMMDD} {YYYY-MM-DD} {YYYY} {MM} {DD})',
      'r.yaml:7:83: backup_present.params.min_size: expected a size such as 1048576, 500KB or 1.5GiB, got the string "lots"',
    ]);
  });

  it('checks channel names only when configured channels are given', () => {
    const src = 'rules:\n  - name: a\n    severity: info\n    summary: s\n    channels: [pager]\n    when: { fact: active_sessions, operator: greaterThan, value: 1 }\n';
    expect(lint(src)).toEqual(['r.yaml:5:16: unknown channel "pager" (did you mean "pagerduty"?) (configured: slack, email, pagerduty)']);
    expect(lintRuleSource('r.yaml', src).problems).toEqual([]);
  });

  it('points template problems into the quoted and the plain scalar alike', () => {
    const src = 'rules:\n  - name: a\n    severity: info\n    when: { fact: active_sessions, operator: greaterThan, value: 1 }\n    summary: n {{ nope }}\n    description: "x {{ value | nope }}"\n';
    expect(lint(src)).toEqual([
      'r.yaml:5:19: template: unknown name "nope" (known here: value, rule, severity, active_sessions)',
      'r.yaml:6:32: template: unknown formatter "nope" (known: percent, duration, bytes, round, upper, lower)',
    ]);
  });
});
