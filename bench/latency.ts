/**
 * npm run bench:latency — from a log line written to the webhook message that reports it.
 *
 * The built agent (`dist/src/cli/main.js run`) runs on its defaults plus what the path needs: an
 * input glob, a rules dir holding one error-rate rule with `for: 0`, and a `webhook` channel
 * pointing at a local HTTP receiver. Each trial appends one failed operation for a stage never
 * seen before (`group_by: [stage]` makes it a new alert), and the receiver notes when the
 * firing notification for that stage arrives. Prints p50 / p99 / max of
 * (message received − line written) over BENCH_TRIALS trials (default 25). Target: p99 ≤ 1 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from './generate.js';
import { quantile } from './quantile.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// VIGIL_DIST: a build elsewhere than ./dist
const CLI = path.join(process.env.VIGIL_DIST ?? path.join(ROOT, 'dist'), 'src/cli/main.js');
const TRIALS = Number(process.env.BENCH_TRIALS ?? 25);
const TRIAL_TIMEOUT_MS = Number(process.env.BENCH_TRIAL_TIMEOUT_MS ?? 30_000);
const TARGET_P99_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Arrival time (ms) of the first firing notification per stage. */
const arrivals = new Map<string, number>();

async function startReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts?: Array<{ state: string; labels: Record<string, string> }> };
        for (const a of body.alerts ?? []) {
          const stage = a.labels.stage;
          if (a.state === 'firing' && stage && !arrivals.has(stage)) arrivals.set(stage, at);
        }
      } catch {
        /* not ours */
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function failedOperation(stage: string, n: number): string {
  return `${JSON.stringify({
    timestamp: new Date().toISOString(),
    level: 'ERROR',
    logger: 'media_processing',
    event: 'processing_error',
    message: `stage ${stage} failed`,
    session_id: `bench-${n}`,
    stage,
    success: false,
    duration_seconds: 1.5,
    error_code: 'FFMPEG_FAILED',
  })}\n`;
}

async function waitForArrival(stage: string, timeoutMs: number, agent: ChildProcess): Promise<number | null> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const at = arrivals.get(stage);
    if (at !== undefined) return at;
    if (agent.exitCode !== null) return null;
    await sleep(2);
  }
  return null;
}

async function main(): Promise<number> {
  if (!fs.existsSync(CLI)) {
    process.stderr.write(`${CLI} is missing: run "npm run build" first (npm run bench:latency does)\n`);
    return 2;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-latency-'));
  const logs = path.join(dir, 'logs');
  const rules = path.join(dir, 'rules');
  fs.mkdirSync(logs);
  fs.mkdirSync(rules);
  const receiver = await startReceiver();
  fs.writeFileSync(
    path.join(rules, 'error_rate.yaml'),
    [
      'rules:',
      '  - name: bench_error_rate',
      '    description: More than half of the operations of a stage failed in the last 5 minutes',
      '    when:',
      '      all:',
      '        - { fact: error_rate, params: { window: 5m }, operator: greaterThan, value: 0.5 }',
      '    for: 0s',
      '    severity: critical',
      '    group_by: [stage]',
      '    summary: "Error rate {{ error_rate | percent }} in {{ stage }}"',
      '',
    ].join('\n'),
  );
  const config = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(
    config,
    [
      'inputs:',
      `  - path: ${logs}/*.log`,
      `state_dir: ${path.join(dir, 'state')}`,
      `rules: ${rules}`,
      'api: { enabled: false }',
      'channels:',
      `  webhook: { url: "${receiver.url}" }`,
      `cardinality: { stage: ${TRIALS + 20} }`,
      '',
    ].join('\n'),
  );
  const logFile = path.join(logs, 'media_processing.log');
  fs.writeFileSync(logFile, '');

  const agent = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  agent.stdout!.on('data', (d) => (output += d));
  agent.stderr!.on('data', (d) => (output += d));
  const stop = async () => {
    if (agent.exitCode === null) {
      agent.kill('SIGTERM');
      await Promise.race([new Promise((r) => agent.once('exit', r)), sleep(6000)]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const started = Date.now();
    while (!output.includes('vigil watching') && agent.exitCode === null && Date.now() - started < 20_000) await sleep(20);
    if (agent.exitCode !== null || !output.includes('vigil watching')) {
      process.stderr.write(`the agent did not start:\n${output}\n`);
      return 1;
    }

    // Warm-up (not counted): the first evaluation, the first connection to the receiver.
    fs.appendFileSync(logFile, failedOperation('warmup', 0));
    if ((await waitForArrival('warmup', 60_000, agent)) === null) {
      process.stderr.write(
        'no notification arrived within 60 s of the warm-up line: does `vigil run` evaluate rules and deliver the outbox yet?\n' +
          `agent output (last 2000 chars):\n${output.slice(-2000)}\n`,
      );
      return 1;
    }

    const latencies: number[] = [];
    let missed = 0;
    const rand = rng(7);
    for (let i = 1; i <= TRIALS; i++) {
      const stage = `trial_${i}`;
      const written = Date.now();
      fs.appendFileSync(logFile, failedOperation(stage, i));
      const at = await waitForArrival(stage, TRIAL_TIMEOUT_MS, agent);
      if (at === null) missed++;
      else latencies.push(at - written);
      // an irregular pause, so trials do not lock into step with any periodic timer of the agent
      await sleep(100 + Math.floor(rand() * 400));
    }

    const sorted = [...latencies].sort((a, b) => a - b);
    const lines = [
      `vigil alert latency: log line written → webhook message received (${TRIALS} trials, ${missed} missed after ${TRIAL_TIMEOUT_MS} ms)`,
    ];
    if (sorted.length > 0) {
      const p50 = quantile(sorted, 0.5);
      const p99 = quantile(sorted, 0.99);
      lines.push(`  p50  ${p50} ms`, `  p99  ${p99} ms`, `  min  ${sorted[0]} ms   max  ${sorted[sorted.length - 1]} ms`);
      lines.push(`  target p99 ≤ ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS && missed === 0 ? 'met' : 'NOT met'}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return missed === 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

process.exitCode = await main();
