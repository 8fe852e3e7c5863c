import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, hasCommand, linesInStore, requireBuild, runCli, sleep, startAgent, tmpDir, waitFor, writeConfig } from '../helpers/agent.js';

const hasPython = hasCommand('python3');
if (!hasPython) console.warn('crash test skipped: python3 (the rotating writer) is not installed');

// Deterministic "random" kill instants, so a failure can be replayed.
function rng(seed: number) {
  return () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('kill -9 while a rotating writer appends', () => {
  const dir = tmpDir('crash');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasPython)('ends with stats equal to the truth: no line lost, none counted twice', async () => {
    requireBuild();
    const logs = path.join(dir, 'logs');
    const state = path.join(dir, 'state');
    fs.mkdirSync(logs);
    const config = writeConfig(dir, `inputs:\n  - path: ${logs}/*.log\nstate_dir: ${state}\napi: { enabled: false }\nwatch: { reconcile_interval: 200ms }\n`);
    const LINES = 24_000;
    // ~330 bytes a line, rotation every 150 KB: ~50 rotations, and backups enough that
    // RotatingFileHandler never deletes a file vigil has not read.
    const writer = spawn('python3', [path.join(import.meta.dirname, 'writers/rotating_writer.py'), path.join(logs, 'media.log'), String(LINES), '150000', '200', '200', '0.05', '11'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let truthText = '';
    writer.stdout.on('data', (d) => (truthText += d));
    const writerDone = exited(writer);

    const seed = 20261122;
    const r = rng(seed);
    let kills = 0;
    for (let i = 0; i < 12; i++) {
      const agent = startAgent(config);
      await sleep(250 + Math.floor(r() * 900));
      agent.kill('SIGKILL');
      const e = await exited(agent);
      expect(e.signal, agent.output()).toBe('SIGKILL');
      kills++;
      await sleep(Math.floor(r() * 150));
    }
    const w = await writerDone;
    expect(w.code).toBe(0);
    const truth = JSON.parse(truthText) as { lines: number; operations: number; failed: number; by_stage: Record<string, { count: number; failed: number }>; error_codes: Record<string, number> };
    expect(truth.lines).toBe(LINES);

    const agent = startAgent(config);
    const caughtUp = await waitFor(() => linesInStore(state) >= truth.lines, 60_000, 100);
    await sleep(500); // anything extra (a double count) would show up by now
    agent.kill('SIGTERM');
    const e = await exited(agent);
    expect(caughtUp, agent.output()).toBe(true);
    expect(e.code, agent.output()).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(10);

    expect(linesInStore(state)).toBe(truth.lines);
    const out = runCli(['stats', '--state-dir', state, '--hours', '2']);
    expect(out.status, out.stderr).toBe(0);
    const s = JSON.parse(out.stdout);
    expect(s.total_operations).toBe(truth.operations);
    expect(s.failed_operations).toBe(truth.failed);
    expect(s.error_codes).toEqual(truth.error_codes);
    for (const [stage, b] of Object.entries(truth.by_stage)) {
      expect(s.stage_breakdown[stage].count, stage).toBe(b.count);
      expect(s.stage_breakdown[stage].failure_count, stage).toBe(b.failed);
    }
  }, 180_000);
});
