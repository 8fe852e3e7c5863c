import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRejected, parseLine } from '../../src/parse/index.js';
import { exited, hasCommand, readJsonLines, requireBuild, runCli, startCli, tmpDir, waitFor } from '../helpers/agent.js';

const hasFfmpeg = hasCommand('ffmpeg') && hasCommand('ffprobe');
if (!hasFfmpeg) console.warn('ffmpeg/ffprobe not installed: the demo test runs the simulated worker only');

const startDemo = (args: string[], env: NodeJS.ProcessEnv = {}) => startCli(['demo', ...args], env);

describe('vigil demo (the built CLI)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('runs a worker and the agent for --duration, serves /health meanwhile, and an alert reaches the alerts file', async () => {
    requireBuild();
    const dir = tmpDir('demo');
    dirs.push(dir);
    const demo = startDemo(['--duration', '60s', '--dir', dir]);
    try {
      expect(await waitFor(() => /health\s+curl -s (http:\/\/127\.0\.0\.1:\d+)/.test(demo.output()), 30_000, 100), demo.output()).toBe(true);
      const base = /health\s+curl -s (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.output())![1]!;
      const res = await fetch(`${base}/api/v1/monitoring/health`);
      const body = (await res.json()) as { overall_status: string; checks: unknown[] };
      expect(['healthy', 'warning', 'critical']).toContain(body.overall_status);
      expect(Array.isArray(body.checks)).toBe(true);
      // The token printed on screen opens the protected routes.
      const token = /API token\s+([0-9a-f]{32})/.exec(demo.output())![1]!;
      expect(await waitFor(() => /session demo-0002/.test(demo.output()), 30_000, 200), demo.output()).toBe(true);
      const stats = await fetch(`${base}/api/v1/monitoring/stats?hours=1`, { headers: { Authorization: `Bearer ${token}` } });
      expect(stats.status).toBe(200);
      expect(((await stats.json()) as { total_operations: number }).total_operations).toBeGreaterThan(0);

      const e = await exited(demo);
      expect(e.code, demo.output()).toBe(0);
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
    }
    const out = demo.output();
    expect(out).toContain(hasFfmpeg ? 'real ffmpeg jobs' : 'simulates the stages');
    expect(out).toMatch(/>>> ALERT FIRING \[\w+\] \w+/);
    expect(out).toMatch(/Done: \d+ sessions \(\d+ failed\), [1-9]\d* alert\(s\) fired, the first \d+ s after start/);

    const alerts = readJsonLines(path.join(dir, 'alerts.jsonl'));
    expect(alerts.some((a) => a.state === 'firing' && a.channel === 'console' && typeof a.summary === 'string')).toBe(true);

    // The worker's logs are the DESIGN §2 shape: every line parses, real failures among them.
    const logs = path.join(dir, 'logs');
    expect(fs.readdirSync(logs).filter((n) => n.endsWith('.log')).sort()).toEqual(['application.log', 'errors.log', 'media_processing.log', 'performance.log']);
    const events = fs
      .readFileSync(path.join(logs, 'media_processing.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => parseLine(l, 0));
    expect(events.some(isRejected)).toBe(false);
    const stages = new Set(events.flatMap((e) => (!isRejected(e) && e.event === 'stage_completed' ? [e.stage] : [])));
    expect([...stages].sort()).toEqual(['analysis', 'cleanup', 'compression', 'merging', 'preparation', 'upload']);
    expect(events.some((e) => !isRejected(e) && e.event === 'processing_error' && e.errorCode === 'FFMPEG_FAILED' && e.stage === 'compression')).toBe(true);
  }, 120_000);

  it('without ffmpeg says so, simulates the stages, and stops cleanly on Ctrl-C', async () => {
    requireBuild();
    const dir = tmpDir('demo-noffmpeg');
    dirs.push(dir);
    const emptyBin = path.join(dir, 'bin');
    fs.mkdirSync(emptyBin);
    const demo = startDemo(['--dir', path.join(dir, 'ws'), '--port', '8100'], { PATH: emptyBin });
    try {
      expect(await waitFor(() => /session demo-0002/.test(demo.output()), 30_000, 100), demo.output()).toBe(true);
      demo.kill('SIGINT');
      const e = await exited(demo);
      expect(e.code, demo.output()).toBe(0);
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
    }
    const out = demo.output();
    expect(out).toContain('ffmpeg is not usable here: ffmpeg not found');
    expect(out).toContain('simulated stages (no ffmpeg)');
    expect(out).toMatch(/Done: \d+ sessions/);
    // The agent committed what the worker wrote before it stopped, and let go of the store.
    expect(fs.existsSync(path.join(dir, 'ws', 'state', 'vigil.lock'))).toBe(false);
    const stats = runCli(['stats', '--state-dir', path.join(dir, 'ws', 'state'), '--hours', '1']);
    expect(stats.status, stats.stderr).toBe(0);
    const sessions = Number(/Done: (\d+) sessions/.exec(out)![1]);
    expect(JSON.parse(stats.stdout).stage_breakdown.cleanup.count).toBeGreaterThanOrEqual(sessions);
  }, 60_000);
});
