import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireBuild, ROOT, runCli, tmpDir } from '../helpers/agent.js';

beforeAll(() => requireBuild());

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function tmp(): string {
  const d = tmpDir('rules-cli');
  dirs.push(d);
  return d;
}

const RULES_DIR = path.join(ROOT, 'rules');
const shippedTests = () =>
  fs
    .readdirSync(RULES_DIR)
    .filter((f) => f.endsWith('.test.yaml'))
    .sort()
    .map((f) => path.join('rules', f));

describe('vigil rules lint', () => {
  it('the shipped rules are clean', () => {
    const r = runCli(['rules', 'lint', 'rules/'], {});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok: \d+ rules in \d+ files\n$/);
  });

  it('prints every problem as file:line:col: message and exits 1', () => {
    const r = runCli(['rules', 'lint', path.join(ROOT, 'fixtures/rules/invalid')]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l).toMatch(/^\S+\.yaml:\d+:\d+: .+/);
    expect(r.stdout).toContain('b_every_problem.yaml:5:19: unknown fact "eror_rate" (did you mean "error_rate"?)');
    expect(r.stderr).toContain('VIGIL_RULE_INVALID');
  });

  it('checks channel names against the config, and defaults to the config\'s rules directory', () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'rules'));
    fs.writeFileSync(
      path.join(d, 'rules', 'x.yaml'),
      'rules:\n  - name: x\n    when: { fact: ffmpeg_available, operator: equal, value: false }\n    severity: critical\n    channels: [slak]\n    summary: "x"\n',
    );
    fs.writeFileSync(path.join(d, 'vigil.yaml'), `rules: ${path.join(d, 'rules')}\nchannels:\n  slack: { webhook_url: "http://127.0.0.1:9/hook" }\n`);
    const r = runCli(['rules', 'lint', '--config', path.join(d, 'vigil.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(`${path.join(d, 'rules', 'x.yaml')}:5:16: unknown channel "slak" (did you mean "slack"?) (configured: slack)\n`);
    // Without a config there is no channel list to check against.
    expect(runCli(['rules', 'lint', path.join(d, 'rules')]).status).toBe(0);
  });
});

describe('vigil rules test', () => {
  it('every shipped rule test passes (vigil rules test rules/*.test.yaml)', () => {
    const files = shippedTests();
    expect(files.length).toBeGreaterThanOrEqual(11);
    const r = spawnInRoot(['rules', 'test', ...files]);
    expect(r.stdout).not.toMatch(/^\s+FAIL\s/m);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\n\d+ passed, 0 failed\n$/);
  });

  it('every shipped rule file has a test file, and each proves its rules fire and resolve', () => {
    const rules = fs.readdirSync(RULES_DIR).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));
    for (const f of rules) {
      const test = path.join(RULES_DIR, f.replace(/\.yaml$/, '.test.yaml'));
      expect(fs.existsSync(test), `${f} has no ${path.basename(test)}`).toBe(true);
      const names = [...fs.readFileSync(path.join(RULES_DIR, f), 'utf8').matchAll(/- name: (\w+)/g)].map((m) => m[1]!);
      const text = fs.readFileSync(test, 'utf8');
      for (const n of names) {
        expect(text, `${path.basename(test)} never expects ${n} firing`).toMatch(new RegExp(`rule: ${n}, state: firing`));
        expect(text, `${path.basename(test)} never expects ${n} resolved`).toMatch(new RegExp(`rule: ${n}, state: resolved`));
      }
    }
  });

  it('a mismatch prints expected vs got per alert and exits 1; --run filters by name', () => {
    const d = tmp();
    fs.copyFileSync(path.join(RULES_DIR, 'ffmpeg.yaml'), path.join(d, 'ffmpeg.yaml'));
    fs.writeFileSync(
      path.join(d, 'x.test.yaml'),
      `rule_files: [ffmpeg.yaml]
tests:
  - name: wrong on purpose
    checks: { ffmpeg_available: false }
    alerts:
      - eval_time: 3m
        expect:
          - { rule: ffmpeg_unavailable, state: pending }
  - name: right
    checks: { ffmpeg_available: false }
    alerts:
      - eval_time: 3m
        expect:
          - { rule: ffmpeg_unavailable, state: firing }
`,
    );
    const file = path.join(d, 'x.test.yaml');
    const r = runCli(['rules', 'test', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`  FAIL  wrong on purpose
        ${file}:6:9: at eval_time 3m (2026-01-01T00:03:00.000Z):
          expected:
            pending  ffmpeg_unavailable {}
          got:
            firing   ffmpeg_unavailable {} severity=critical summary="ffmpeg is not available: compression and merging will fail"
          - missing:    pending  ffmpeg_unavailable {}  (${file}:8:13)
          + unexpected: firing   ffmpeg_unavailable {} severity=critical summary="ffmpeg is not available: compression and merging will fail"`);
    expect(r.stdout).toContain('  ok    right');
    expect(r.stdout).toMatch(/1 passed, 1 failed\n$/);
    expect(r.stderr).toContain('VIGIL_RULE_TEST_FAILED');

    const only = runCli(['rules', 'test', file, '--run', '^ri']);
    expect(only.status).toBe(0);
    expect(only.stdout).not.toContain('wrong on purpose');
    expect(only.stdout).toMatch(/1 passed, 0 failed\n$/);
  });

  it('reports problems in a test file (and in its rule files) as file:line:col', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'bad.yaml'), 'rules:\n  - name: b\n    when: { fact: nope, operator: equal, value: 1 }\n    severity: info\n    summary: s\n');
    fs.writeFileSync(
      path.join(d, 'a.test.yaml'),
      `rule_files: [bad.yaml]
evaluation_interval: 15s
tests:
  - name: t
    input_lines:
      - { at: 0m, repeat: 3 times, line: { level: INFO } }
    samples: [{ at: 0m, metric: mem, value: 1 }]
    alerts:
      - eval_time: 10s
        expect: [{ rule: b, state: firng }]
`,
    );
    const r = runCli(['rules', 'test', path.join(d, 'a.test.yaml')]);
    expect(r.status).toBe(1);
    const f = path.join(d, 'a.test.yaml');
    expect(r.stdout).toContain(`${f}:6:27: repeat: expected COUNTxINTERVAL such as 40x30s, got the string "3 times"`);
    expect(r.stdout).toContain(`${f}:7:33: metric: unknown metric "mem"`);
    expect(r.stdout).toContain(`${f}:9:20: eval_time: must be a multiple of evaluation_interval (15s)`);
    expect(r.stdout).toContain(`${f}:10:36: state: expected one of pending, firing, resolved, got "firng" (did you mean "firing"?)`);
    expect(r.stdout).toMatch(/1 file\(s\) not run\n$/);

    fs.writeFileSync(path.join(d, 'b.test.yaml'), 'rule_files: [bad.yaml]\ntests:\n  - name: t\n    alerts: [{ eval_time: 0m, expect: [] }]\n');
    const r2 = runCli(['rules', 'test', path.join(d, 'b.test.yaml')]);
    expect(r2.status).toBe(1);
    expect(r2.stdout).toContain(`${path.join(d, 'bad.yaml')}:3:19: unknown fact "nope"`);
  });
});

/** Runs the CLI from the repository root, with the relative paths an operator would type. */
function spawnInRoot(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
