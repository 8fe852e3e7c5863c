import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STAGE_DURATION_BUCKETS } from '../../src/api/metrics.js';
import { HOUR, MINUTE } from '../../src/store/batch.js';
import { applyRetention } from '../../src/store/retention.js';
import { closedPort } from '../notify/helpers.js';
import { T0, TOKEN, api, auth, fixture, insertAlert, insertOutbox, insertSample, insertSession, writeCells, type Fixture } from './helpers.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const hasPrometheus = fs.existsSync(PROMETHEUS);
const hasPromtool = fs.existsSync(PROMTOOL);
if (!hasPrometheus) console.warn(`skipping the real-Prometheus scrape test: ${PROMETHEUS} is missing (apt-get install prometheus)`);
if (!hasPromtool) console.warn(`skipping the promtool lint: ${PROMTOOL} is missing (apt-get install prometheus)`);

let f: Fixture;
let child: ChildProcess | null = null;
afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  child = null;
  f?.cleanup();
});

function seed(fx: Fixture): void {
  writeCells(fx.db, [
    { start: T0 - 30 * MINUTE, stage: 'upload', ops: 40, durations: [...Array(30).fill(0.3), ...Array(10).fill(7)] },
    { start: T0 - 20 * MINUTE, stage: 'compression', ops: 4, failed: 4, errorCode: 'FFMPEG_FAILED', level: 'ERROR', durations: [30, 40, 50, 4000] },
    { start: T0 - 10 * MINUTE, level: 'CRITICAL', lines: 2 },
  ]);
  fx.db.prepare(`INSERT INTO file_stats (file, lines, rejected, repaired, overlong) VALUES (?, ?, 0, 0, 0)`).run('/var/log/media/application.log', 46);
  fx.db.prepare(`INSERT INTO parse_errors (start, file, reason, count) VALUES (?, ?, ?, ?)`).run(T0 - MINUTE, '/var/log/media/errors.log', 'not_json', 3);
  insertSession(fx.db, { id: 'a', first: T0 - 45 * MINUTE });
  insertSession(fx.db, { id: 'b', first: T0 - 5 * MINUTE });
  insertSession(fx.db, { id: 'c', first: T0 - HOUR, finished: 1, finishedTs: T0 - MINUTE });
  insertAlert(fx.db, { rule: 'high_error_rate', severity: 'error', started: T0 - MINUTE });
  insertAlert(fx.db, { rule: 'old', severity: 'error', state: 'resolved', started: T0 - HOUR, resolved: T0 - 30 * MINUTE });
  insertOutbox(fx.db, { channel: 'slack', status: 'pending', created: T0 });
  insertOutbox(fx.db, { channel: 'slack', status: 'pending', created: T0 });
  insertOutbox(fx.db, { channel: 'email', status: 'failed', created: T0 });
  insertSample(fx.db, 'cpu', '', T0 - 15_000, 12.5);
  insertSample(fx.db, 'memory', '', T0 - 15_000, 40);
  insertSample(fx.db, 'disk', '/', T0 - 15_000, 55);
}

/** `name{labels} value` lines → Map of `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

async function scrape(fx: Fixture) {
  const app = api(fx);
  const r = await app.inject({ url: '/metrics', headers: auth });
  await app.close();
  expect(r.statusCode).toBe(200);
  return { text: r.body, m: parse(r.body), type: r.headers['content-type'] };
}

describe('/metrics', () => {
  it('exposes the store figures with bounded labels', async () => {
    f = fixture();
    seed(f);
    const { m, type, text } = await scrape(f);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.get('vigil_lines_ingested_total{file="/var/log/media/application.log"}')).toBe(46);
    expect(m.get('vigil_log_lines_total{level="INFO"}')).toBe(40);
    expect(m.get('vigil_log_lines_total{level="ERROR"}')).toBe(4);
    expect(m.get('vigil_log_lines_total{level="CRITICAL"}')).toBe(2);
    expect(m.get('vigil_parse_errors_total{file="/var/log/media/errors.log",reason="not_json"}')).toBe(3);
    expect(m.get('vigil_operations_total{stage="upload"}')).toBe(40);
    expect(m.get('vigil_operations_total{stage="compression"}')).toBe(4);
    expect(m.get('vigil_operation_failures_total{stage="compression"}')).toBe(4);
    expect(m.get('vigil_operation_failures_total{stage="upload"}')).toBe(0);
    expect([...m.keys()].some((k) => k.includes('stage=""'))).toBe(false);
    expect(m.get('vigil_active_sessions')).toBe(2);
    expect(m.get('vigil_stuck_sessions')).toBe(1);
    expect(m.get('vigil_alerts_firing{rule="high_error_rate",severity="error"}')).toBe(1);
    expect([...m.keys()].some((k) => k.includes('rule="old"'))).toBe(false);
    expect(m.get('vigil_outbox_pending{channel="slack"}')).toBe(2);
    expect(m.get('vigil_outbox_failed{channel="email"}')).toBe(1);
    expect(m.get('vigil_system_cpu_percent')).toBe(12.5);
    expect(m.get('vigil_system_memory_percent')).toBe(40);
    expect(m.get('vigil_system_disk_percent{mount="/"}')).toBe(55);
    expect(m.get('vigil_uptime_seconds')).toBe(3600);
    expect(text).not.toMatch(/^vigil_ingest_lag_seconds /m); // no read yet: absent, not 0

    // The histogram: 30 × 0.3 s and 10 × 7 s for upload.
    const b = (le: string, stage = 'upload') => m.get(`vigil_stage_duration_seconds_bucket{le="${le}",stage="${stage}"}`);
    expect(b('0.1')).toBe(0);
    expect(b('0.5')).toBe(30);
    expect(b('5')).toBe(30);
    expect(b('10')).toBe(40);
    expect(b('+Inf')).toBe(40);
    expect(m.get('vigil_stage_duration_seconds_count{stage="upload"}')).toBe(40);
    expect(m.get('vigil_stage_duration_seconds_sum{stage="upload"}')).toBeCloseTo(30 * 0.3 + 70, 6);
    expect(b('3600', 'compression')).toBe(3);
    expect(b('+Inf', 'compression')).toBe(4);
    const les = STAGE_DURATION_BUCKETS.map((x) => b(String(x))!);
    expect(les).toEqual([...les].sort((x, y) => x - y)); // cumulative
  });

  it('shows ingest lag once the agent reports one, and drops stale system samples', async () => {
    f = fixture();
    seed(f);
    f.runtime.lag = 2500;
    f.clock.advance(HOUR);
    const { m, text } = await scrape(f);
    expect(m.get('vigil_ingest_lag_seconds')).toBe(2.5);
    expect(text).not.toMatch(/^vigil_system_cpu_percent /m);
    expect(text).not.toMatch(/^vigil_system_disk_percent\{/m);
  });

  it('counters do not go down when retention prunes the windows behind them', async () => {
    f = fixture();
    seed(f);
    const before = (await scrape(f)).m;
    f.clock.advance(30 * 24 * HOUR);
    applyRetention(f.db, f.config.retention, f.clock.now());
    expect((f.db.prepare('SELECT count(*) AS n FROM windows').get() as { n: number }).n).toBe(0);
    const after = (await scrape(f)).m;
    for (const [k, v] of before) {
      if (/_total\{|_bucket\{|_count\{|_sum\{/.test(k)) expect(after.get(k), k).toBe(v);
    }
    writeCells(f.db, [{ start: f.clock.now() - MINUTE, stage: 'upload', ops: 1, durations: [1] }]);
    const more = (await scrape(f)).m;
    expect(more.get('vigil_operations_total{stage="upload"}')).toBe(41);
    expect(more.get('vigil_stage_duration_seconds_count{stage="upload"}')).toBe(41);
  });

  it('keeps at most 50 series per label: the heaviest 49, the rest summed into OTHER', async () => {
    f = fixture();
    // 60 stages and 60 levels; the i-th has i + 1 operations (and lines), each lasting 1 s.
    writeCells(
      f.db,
      Array.from({ length: 60 }, (_, i) => ({ start: T0 - MINUTE, stage: `s${i}`, level: `L${i}`, ops: i + 1, durations: Array(i + 1).fill(1) })),
    );
    const { m } = await scrape(f);
    const series = (name: string) => [...m.keys()].filter((k) => k.startsWith(`${name}{`));
    expect(series('vigil_log_lines_total')).toHaveLength(50);
    expect(m.get('vigil_log_lines_total{level="L59"}')).toBe(60);
    expect(m.get('vigil_log_lines_total{level="L11"}')).toBe(12);
    expect(m.get('vigil_log_lines_total{level="L10"}')).toBeUndefined();
    expect(m.get('vigil_log_lines_total{level="OTHER"}')).toBe(66); // 1 + 2 + … + 11
    expect(series('vigil_operations_total')).toHaveLength(50);
    expect(m.get('vigil_operations_total{stage="s11"}')).toBe(12);
    expect(m.get('vigil_operations_total{stage="s10"}')).toBeUndefined();
    expect(m.get('vigil_operations_total{stage="OTHER"}')).toBe(66);
    expect(m.get('vigil_stage_duration_seconds_count{stage="OTHER"}')).toBe(66);
    expect(m.get('vigil_stage_duration_seconds_sum{stage="OTHER"}')).toBe(66);
    expect(m.get('vigil_stage_duration_seconds_bucket{le="1",stage="OTHER"}')).toBe(66);
  });

  it.skipIf(!hasPromtool)('passes `promtool check metrics`', async () => {
    f = fixture();
    seed(f);
    const { text } = await scrape(f);
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    // promtool lints (exit 3) about style, errors (exit 1) about the format; neither may occur.
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!hasPrometheus)('is scraped by a real Prometheus with the bearer token', async () => {
    f = fixture();
    seed(f);
    const app = api(f);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    try {
      const promPort = await closedPort();
      const cfg = path.join(f.dir, 'prometheus.yml');
      fs.writeFileSync(
        cfg,
        [
          'global: { scrape_interval: 1s, evaluation_interval: 1s }',
          'scrape_configs:',
          '  - job_name: vigil',
          '    scrape_interval: 1s',
          `    authorization: { type: Bearer, credentials: "${TOKEN}" }`,
          `    static_configs: [{ targets: ["127.0.0.1:${port}"] }]`,
        ].join('\n'),
      );
      let log = '';
      child = spawn(
        PROMETHEUS,
        [`--config.file=${cfg}`, `--storage.tsdb.path=${path.join(f.dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout!.on('data', (d) => (log += d));
      child.stderr!.on('data', (d) => (log += d));
      const base = `http://127.0.0.1:${promPort}`;
      const deadline = Date.now() + 45_000;
      let result: { metric: Record<string, string>; value: [number, string] }[] = [];
      let up: string | undefined;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}:\n${log}`);
        try {
          const q = await fetch(`${base}/api/v1/query?query=vigil_active_sessions`);
          if (!q.ok) continue;
          result = ((await q.json()) as { data: { result: typeof result } }).data.result;
          const t = await fetch(`${base}/api/v1/targets`);
          up = ((await t.json()) as { data: { activeTargets: { health: string }[] } }).data.activeTargets[0]?.health;
          if (result.length > 0) break;
        } catch {
          /* not listening yet */
        }
      }
      expect(result, `prometheus log:\n${log}`).toHaveLength(1);
      expect(result[0]!.metric).toMatchObject({ __name__: 'vigil_active_sessions', job: 'vigil' });
      expect(Number(result[0]!.value[1])).toBe(2);
      expect(up).toBe('up');
      const h = await fetch(`${base}/api/v1/query?query=${encodeURIComponent('vigil_stage_duration_seconds_bucket{stage="upload",le="10"}')}`);
      const hr = ((await h.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
      expect(Number(hr[0]?.value[1])).toBe(40);
    } finally {
      await app.close();
    }
  });
});
