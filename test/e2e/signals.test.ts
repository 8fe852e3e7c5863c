import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, linesInStore, operationLine, readJsonLines, requireBuild, runCli, startAgent, tmpDir, waitFor, writeConfig } from '../helpers/agent.js';

/** The agent's own log: pino JSON lines on stdout. */
function agentLog(output: string): Array<{ level: string; msg: string; [k: string]: unknown }> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

const alertLines = (file: string) => readJsonLines<{ rule: string; state: string; channel: string }>(file);

const ERRORS_RULE = `rules:
  - name: errors_seen
    when:
      all:
        - { fact: level_count, params: { window: 10m, level: ERROR }, operator: greaterThan, value: 0 }
    for: 0s
    severity: error
    summary: "{{ level_count }} ERROR lines"
`;

const criticalRule = (channels: string) => `rules:
  - name: critical_seen
    when:
      all:
        - { fact: level_count, params: { window: 10m, level: CRITICAL }, operator: greaterThan, value: 0 }
    for: 0s
    severity: critical
    channels: [${channels}]
    summary: "{{ level_count }} CRITICAL lines"
`;

describe('signals (the built CLI, a real process)', () => {
  const dir = tmpDir('signals');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('SIGHUP reloads config and rules, refusing bad ones while ingest and the old rules go on; SIGTERM drains and exits 0', async () => {
    requireBuild();
    const logs = path.join(dir, 'logs');
    const state = path.join(dir, 'state');
    const rules = path.join(dir, 'rules');
    fs.mkdirSync(logs);
    fs.mkdirSync(rules);
    fs.writeFileSync(path.join(rules, 'errors.yaml'), ERRORS_RULE);
    fs.writeFileSync(path.join(rules, 'critical.yaml'), criticalRule('console'));
    const first = path.join(dir, 'alerts-console.jsonl');
    const second = path.join(dir, 'alerts-pager.jsonl');
    const base = `inputs:\n  - path: ${logs}/*.log\nstate_dir: ${state}\nrules: ${rules}\nevaluation_interval: 1s\napi: { listen: "127.0.0.1:0" }\n`;
    const config = writeConfig(dir, `${base}channels:\n  console: { path: ${first} }\n`);
    const live = path.join(logs, 'media_processing.log');
    let written = 0;
    const write = (n: number, extra: Record<string, unknown> = {}) => {
      for (let i = 0; i < n; i++) fs.appendFileSync(live, operationLine(written++, extra));
    };

    write(20);
    const agent = startAgent(config);
    try {
      const log = () => agentLog(agent.output());
      expect(await waitFor(() => log().some((l) => l.msg.startsWith('vigil watching')), 15_000), agent.output()).toBe(true);
      expect(await waitFor(() => linesInStore(state) === 20, 15_000), agent.output()).toBe(true);

      // 1. A bad config on SIGHUP: reported as file:line:col, the agent keeps running and ingesting.
      fs.writeFileSync(config, `${base}channels:\n  console: { path: ${first} }\nretention:\n  windows: forever\n`);
      agent.kill('SIGHUP');
      expect(await waitFor(() => log().some((l) => l.level === 'error' && l.msg.includes('SIGHUP')), 10_000), agent.output()).toBe(true);
      const refused = log().find((l) => l.level === 'error' && l.msg.includes('SIGHUP'))!;
      expect(refused.msg).toContain(`${config}:10:12: retention.windows is not a duration`);
      expect(refused.code).toBe('VIGIL_CONFIG_INVALID');
      write(10);
      expect(await waitFor(() => linesInStore(state) === 30, 15_000), agent.output()).toBe(true);
      expect(agent.exitCode).toBeNull();

      // 2. A good config adding a channel; a rule edited to use it; the alert goes there.
      fs.writeFileSync(config, `${base}channels:\n  console: { path: ${first} }\n  pager: { type: console, path: ${second} }\n`);
      agent.kill('SIGHUP');
      expect(await waitFor(() => log().some((l) => l.msg === 'configuration reloaded'), 10_000), agent.output()).toBe(true);
      expect(log().find((l) => l.msg === 'configuration reloaded')!.channels).toEqual(['console', 'pager']);
      const reloadsBefore = log().filter((l) => l.msg.startsWith('rules reloaded')).length;
      fs.writeFileSync(path.join(rules, 'critical.yaml'), criticalRule('pager'));
      expect(
        await waitFor(() => log().filter((l) => l.msg.startsWith('rules reloaded')).length > reloadsBefore, 10_000),
        agent.output(),
      ).toBe(true);
      write(1, { level: 'CRITICAL' });
      expect(await waitFor(() => alertLines(second).some((a) => a.rule === 'critical_seen' && a.state === 'firing'), 15_000), agent.output()).toBe(true);
      expect(alertLines(second)[0]!.channel).toBe('pager');
      expect(alertLines(first).some((a) => a.rule === 'critical_seen')).toBe(false);

      // 3. A broken rule file: reported as file:line:col; the rules that ran before keep running.
      fs.writeFileSync(path.join(rules, 'errors.yaml'), ERRORS_RULE.replace('for: 0s', 'for: 0s\n    severity: [error'));
      expect(await waitFor(() => log().some((l) => l.msg.startsWith('rule reload refused')), 10_000), agent.output()).toBe(true);
      expect(log().find((l) => l.msg.startsWith('rule reload refused'))!.msg).toMatch(new RegExp(`${path.join(rules, 'errors.yaml')}:\\d+:\\d+: `));
      write(1, { level: 'ERROR', event: 'processing_error', success: false, error_code: 'FFMPEG_FAILED' });
      expect(await waitFor(() => alertLines(first).some((a) => a.rule === 'errors_seen' && a.state === 'firing'), 15_000), agent.output()).toBe(true);

      // 4. SIGTERM right after a burst of writes: the burst is committed, exit 0 within 5 s.
      expect(await waitFor(() => linesInStore(state) === written, 15_000), agent.output()).toBe(true);
      write(25);
      const t0 = Date.now();
      agent.kill('SIGTERM');
      const e = await exited(agent);
      expect(e.code, agent.output()).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(log().some((l) => l.msg === 'vigil stopped')).toBe(true);
    } finally {
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }

    const out = runCli(['stats', '--state-dir', state, '--hours', '1']);
    expect(out.status, out.stderr).toBe(0);
    const s = JSON.parse(out.stdout);
    expect(s.total_operations).toBe(written);
    expect(s).toMatchObject({ failed_operations: 1, error_codes: { FFMPEG_FAILED: 1 } });
  }, 90_000);
});
