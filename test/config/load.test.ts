import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig, parseConfigText } from '../../src/config/load.js';
import { ValidationError, formatLocated } from '../../src/errors.js';
import { DEFAULT_ABANDON_AFTER_MS } from '../../src/store/reads.js';

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfigText(text, 'vigil.yaml', env);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems.map(formatLocated);
    throw e;
  }
  return [];
}

describe('loadConfig', () => {
  it('runs on embedded defaults (DESIGN §4) and freezes the result', () => {
    const c = loadConfig({});
    expect(c.inputs).toEqual([{ path: '/var/log/media/*.log', format: 'auto', start_at: 'beginning', include_compressed: false }]);
    expect(c.state_dir).toBe(DEFAULTS.state_dir);
    expect(c.evaluation_interval_ms).toBe(15_000);
    expect(c.retention.recent_lines).toBe(10_000);
    expect(c.retention.windows_ms).toBe(7 * 86_400_000);
    expect(c.max_line_bytes).toBe(1024 * 1024);
    expect(c.sessions.abandon_after_ms).toBe(DEFAULT_ABANDON_AFTER_MS); // the store's default is the config's
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.inputs[0])).toBe(true);
  });

  it('expands ${VAR} and ${VAR:-default}, and resolves relative paths against the file', () => {
    const c = parseConfigText(
      'state_dir: ./state\ninputs:\n  - path: ${LOGS:-/srv/logs}/*.log\nchannels:\n  slack: { webhook_url: "${SLACK_URL}" }\n',
      '/etc/vigil/vigil.yaml',
      { SLACK_URL: 'https://hooks.example/T/1' },
    );
    expect(c.state_dir).toBe('/etc/vigil/state');
    expect(c.inputs[0]!.path).toBe('/srv/logs/*.log');
    expect(c.channels.slack!.webhook_url).toBe('https://hooks.example/T/1');
  });

  it('reports every problem at once as file:line:col', () => {
    const p = problems(
      [
        'inputs:',
        '  - path: /x/*.log',
        '    fromat: auto', // typo
        'evaluation_interval: soon',
        'retention:',
        '  recent_lines: -1',
        'api:',
        '  listen: "nohost"',
        'channels:',
        '  slack: { webhook_url: "${NOPE}" }',
      ].join('\n'),
    );
    expect(p).toEqual(
      [
        'vigil.yaml:3:5: unknown key "fromat" in inputs.0',
        'vigil.yaml:4:22: evaluation_interval is not a duration (e.g. 15s, 5m, 7d)',
        'vigil.yaml:6:17: retention.recent_lines must be >= 0',
        'vigil.yaml:8:11: api.listen must be host:port',
        'vigil.yaml:10:25: environment variable NOPE is not set (use ${NOPE:-default} for a default)',
      ],
    );
  });

  it('reports YAML syntax errors with their position', () => {
    const p = problems('inputs:\n  - path: [unclosed\n');
    expect(p.length).toBeGreaterThan(0);
    expect(p[0]).toMatch(/^vigil\.yaml:\d+:\d+: /);
  });

  it('refuses intervals short enough to spin the agent, at their position; the shortest allowed ones load', () => {
    expect(problems('evaluation_interval: 0s\nwatch:\n  reconcile_interval: 10ms\n  poll_interval: 0\nsystem: { sample_interval: 500ms }\n')).toEqual([
      'vigil.yaml:1:22: evaluation_interval must be at least 1s',
      'vigil.yaml:3:23: watch.reconcile_interval must be at least 100ms',
      'vigil.yaml:4:18: watch.poll_interval must be at least 50ms',
      'vigil.yaml:5:28: system.sample_interval must be at least 1s',
    ]);
    // Values only parseDuration used to refuse (without a position) are refused by the schema, located.
    expect(problems('evaluation_interval: -1\nwatch: { poll_interval: 1s5 }\n')).toEqual([
      'vigil.yaml:1:22: evaluation_interval must be >= 0',
      'vigil.yaml:2:25: watch.poll_interval is not a duration (e.g. 15s, 5m, 7d)',
    ]);
    expect(problems('sessions: { abandon_after: 30s }\n')).toEqual(['vigil.yaml:1:28: sessions.abandon_after must be at least 1m']);
    const c = parseConfigText('evaluation_interval: 1s\nwatch: { reconcile_interval: 100ms, poll_interval: 50ms }\nsessions: { abandon_after: 1m }\n', 'vigil.yaml', {});
    expect(c.watch).toEqual({ mode: 'auto', reconcile_interval_ms: 100, poll_interval_ms: 50 });
    expect(c.sessions.abandon_after_ms).toBe(60_000);
  });

  it('rejects a config that is not a mapping', () => {
    expect(problems('- a\n- b\n')).toEqual(['vigil.yaml:1:1: the configuration must be a mapping of keys (inputs, state_dir, …)']);
  });
});

describe('notify settings', () => {
  it('default to immediate delivery, 24 h of retries and no extra rate limits, and accept overrides', () => {
    expect(loadConfig({}).notify).toEqual({ group_wait_ms: 0, max_age_ms: 86_400_000, rate_limits: {} });
    const c = parseConfigText('notify: { group_wait: 30s, max_age: 2h, rate_limits: { slack: null, ops: 5 } }\n', 'vigil.yaml', {});
    expect(c.notify).toEqual({ group_wait_ms: 30_000, max_age_ms: 7_200_000, rate_limits: { slack: null, ops: 5 } });
    expect(problems('notify: { max_age: soon, retries: 3 }\n')).toEqual([
      'vigil.yaml:1:20: notify.max_age is not a duration (e.g. 15s, 5m, 7d)',
      'vigil.yaml:1:26: unknown key "retries" in notify',
    ]);
  });
});
