import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatLocated } from '../../src/errors.js';
import { parseTestFile } from '../../src/ruletest/format.js';
import { tmpDir } from '../helpers/agent.js';

const dir = tmpDir('rule-test-format');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'x.test.yaml');

/** The problems of a rule-test file, as `line:col: message`. */
function problems(text: string): string[] {
  return parseTestFile(file, text).problems.map((p) => formatLocated(p).slice(file.length + 1));
}

const HEAD = 'rule_files: [x.yaml]\ntests:\n';

describe('parseTestFile problems', () => {
  it('reports an unreadable file and YAML syntax errors at their position', () => {
    const missing = path.join(dir, 'missing.test.yaml');
    expect(parseTestFile(missing).problems.map(formatLocated)).toEqual([OUT.unreadable.replace('FILE', missing)]);
    expect(problems('rule_files: [x.yaml\ntests: []\n')).toEqual(OUT.yaml);
  });

  it('names what was found where a string, number or boolean belongs', () => {
    const text =
      HEAD +
      `  - name: [a]
    alerts: [{ eval_time: 1m, expect: [] }]
    samples: [{ at: 0m, metric: memory, value: "high" }]
    checks: { ffmpeg_available: "no", backup: { present: 1 } }
  - name: t
    alerts: [{ eval_time: 1m, expect: [{ rule: "", state: firing }, { rule: r, state: firing, severity: null }] }]
    input_lines: [{ at: 0m, file: 3, line: "x" }]
`;
    expect(problems(text)).toEqual(OUT.scalars);
  });

  it('reports unknown keys, missing keys and bad durations together', () => {
    const text =
      HEAD +
      `  - name: t
    alert: []
    input_lines: [{ at: soon, line: { event: x } }]
    samples: [{ at: 0m, repeat: 3, metric: memroy, value: 1 }]
    checks: 5
`;
    expect(problems(text)).toEqual(OUT.structure);
  });
});

describe('parseTestFile checks', () => {
  it('a backup age or intact of null is "none", not a missing value', () => {
    const text =
      HEAD +
      `  - name: t
    checks:
      - { at: 0m, backup: { present: true, age: null, intact: null } }
      - { at: 1m, backup: { present: true, age: 2h, size: 1KiB, intact: false } }
    alerts: [{ eval_time: 1m, expect: [] }]
`;
    const r = parseTestFile(file, text);
    expect(r.problems).toEqual([]);
    expect(r.test!.tests[0]!.checks.map((c) => c.backup)).toEqual([
      { present: true, ageSeconds: null, intact: null },
      { present: true, ageSeconds: 7200, sizeBytes: 1024, intact: false },
    ]);
  });
});

const OUT = {
  unreadable: 'FILE:1:1: cannot read: ENOENT',
  yaml: ['2:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  scalars: [
    '3:11: name: expected a string, got a list',
    '5:48: value: expected a number, got the string "high"',
    '6:33: ffmpeg_available: expected true or false, got the string "no"',
    '6:58: present: expected true or false, got number 1',
    '8:48: rule: expected a string, got the string ""',
    '8:105: severity: expected a string, got nothing',
    '9:35: file: expected a string, got number 3',
  ],
  structure: [
    '3:5: test "t": alerts: give at least one eval_time with its expected alerts',
    '4:5: test: unknown key "alert" (did you mean "alerts"?) (known: name, start, input_files, input_lines, samples, checks, alerts)',
    '5:25: at: expected a duration such as 30s, 5m or 1h30m (may start with -), got the string "soon"',
    '6:33: repeat: expected COUNTxINTERVAL such as 40x30s, got number 3',
    '6:44: metric: unknown metric "memroy" (did you mean "memory"?) (known: cpu, memory, disk, load1)',
    '7:13: checks: expected a map (from the start on) or a list of { at, … } changes, got number 5',
  ],
};
