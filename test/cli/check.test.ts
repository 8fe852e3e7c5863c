import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import net, { type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/cli/check.js';
import { CLI, requireBuild, tmpDir, writeConfig } from '../helpers/agent.js';
import { closedPort, startServer, type TestServer } from '../notify/helpers.js';
import { startSmtp, type Smtp } from '../notify/smtp.js';

/** The built CLI, without blocking this process's event loop: the servers it checks live here. */
function check(config: string, env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'check', '--config', config], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

const RULE = `rules:
  - name: any_critical
    when:
      all:
        - { fact: level_count, params: { window: 5m, level: CRITICAL }, operator: greaterThan, value: 0 }
    severity: critical
    channels: [hook]
    summary: "{{ level_count }} CRITICAL lines"
`;

describe('vigil check (the built CLI against real servers)', () => {
  const dir = tmpDir('check');
  const rules = path.join(dir, 'rules');
  let smtp: Smtp;
  let http: TestServer;
  beforeAll(async () => {
    requireBuild();
    fs.mkdirSync(rules);
    fs.writeFileSync(path.join(rules, 'critical.yaml'), RULE);
    smtp = await startSmtp();
    http = await startServer((_req, res) => res.writeHead(405).end());
  });
  afterAll(async () => {
    await smtp.close();
    await http.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const config = (channels: string, extra = '') =>
    writeConfig(dir, `state_dir: ${dir}/state\nrules: ${rules}\napi: { enabled: false }\nchannels:\n${channels}${extra}`);

  it('passes with every channel healthy, one ok line per check, having really contacted the servers', async () => {
    const file = config(
      `  email: { smtp_url: "smtp://127.0.0.1:${smtp.port}", from: vigil@test.local, to: [ops@test.local] }\n` +
        `  hook: { type: webhook, url: "${http.url}/alerts" }\n` +
        `  console: { path: ${dir}/alerts.jsonl }\n`,
    );
    const r = await check(file);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain(`ok    config: ${file} is valid`);
    expect(lines).toContain('ok    channels: email, hook, console');
    expect(lines).toContain(`ok    rules: 1 rules in 1 files from ${rules}`);
    expect(lines.find((l) => l.startsWith('ok    channel email: '))).toContain('server accepts connections');
    expect(lines.find((l) => l.startsWith('ok    channel hook: '))).toContain('reachable (HTTP 405');
    expect(lines.find((l) => l.startsWith('ok    channel console: '))).toContain('is writable');
    expect(lines.at(-1)).toBe('vigil check: all good');
    expect(smtp.connections).toBeGreaterThan(0);
    expect(http.requests.some((q) => q.method === 'HEAD' && q.url === '/alerts')).toBe(true);
  });

  it('fails with exit 1 and a FAIL line per unreachable channel, still checking the others', async () => {
    const dead = await closedPort();
    const file = config(
      `  email: { smtp_url: "smtp://127.0.0.1:${dead}", from: vigil@test.local, to: [ops@test.local], connection_timeout: 3s }\n` +
        `  hook: { type: webhook, url: "http://127.0.0.1:${dead}/alerts", timeout: 3s }\n` +
        `  console: { path: ${dir}/no-such-dir/alerts.jsonl }\n`,
    );
    const r = await check(file);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain(`ok    rules: 1 rules in 1 files from ${rules}`);
    expect(lines.find((l) => l.startsWith('FAIL  channel email: '))).toMatch(/ECONNREFUSED|connect/i);
    expect(lines.find((l) => l.startsWith('FAIL  channel hook: '))).toContain('not reachable');
    expect(lines.find((l) => l.startsWith('FAIL  channel console: '))).toContain('not writable');
    expect(r.stderr).toContain('vigil check: 3 problem(s)');
  });

  it('reports config problems as file:line:col and stops there', async () => {
    const file = writeConfig(dir, `inputs:\n  - path: /x\n    format: xml\nstate_dir: ${dir}/state\n`);
    const r = await check(file);
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([`FAIL  config: ${file}:3:13: inputs.0.format must be one of auto, vigil, python, pino, winston, ecs`]);
  });

  it('locates a bad channel option, and a rule naming a channel that is not configured', async () => {
    const file = config(`  console: { path: ${dir}/alerts.jsonl }\n  hook: { type: webhook, url: "not a url" }\n`);
    const r = await check(file);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith('FAIL  channels: '))).toMatch(new RegExp(`^FAIL  channels: ${file}:6:31: channel "hook" \\(webhook\\): option "url"`));
    // The channel is configured (its options are broken), so the rule naming it is fine.
    expect(lines).toContain(`ok    rules: 1 rules in 1 files from ${rules}`);

    const file2 = config(`  console: { path: ${dir}/alerts.jsonl }\n`);
    const r2 = await check(file2);
    expect(r2.status).toBe(1);
    expect(r2.stdout).toMatch(new RegExp(`FAIL  rules: ${rules}/critical.yaml:7:\\d+: .*hook`));
    expect(r2.stdout).toMatch(/ok    channel console: /);
  });
});

describe('runChecks (in process)', () => {
  it('reports a channel whose health check does not answer within the deadline, and still checks the others', async () => {
    const dir = tmpDir('check-deadline');
    const sockets: Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // accepts, never greets
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const file = writeConfig(
        dir,
        `state_dir: ${dir}/state\napi: { enabled: false }\nchannels:\n` +
          `  email: { smtp_url: "smtp://127.0.0.1:${port}", from: vigil@test.local, to: [ops@test.local], timeout: 30s, greeting_timeout: 30s }\n` +
          `  console: { path: ${dir}/alerts.jsonl }\n`,
      );
      const lines = await runChecks({ file, healthTimeoutMs: 300 });
      expect(lines.filter((l) => l.check.startsWith('channel '))).toEqual([
        { ok: false, check: 'channel email', message: 'email: no answer within 300 ms' },
        { ok: true, check: 'channel console', message: `console: ${dir}/alerts.jsonl is writable` },
      ]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
