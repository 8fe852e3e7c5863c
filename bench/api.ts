/**
 * npm run bench:api — query API latency over a real socket on a week of data.
 *
 *   store: 7 days at 100 operations a minute (≈1M operations, 7 stages, a few error
 *          codes), written as pre-aggregated window cells through the real BatchWriter
 *          (minute + hour rollups), plus sessions, alerts and 15 s system samples.
 *   load:  N sequential requests per route (keep-alive fetch), after a warm-up.
 *
 * Prints p50/p99/max per route and the targets: /stats?hours=168 p99 < 50 ms, cached
 * /health p99 < 5 ms. Env: BENCH_REQUESTS (default 1000, at least 500); BENCH_KEEP=1 keeps
 * the store (its directory is printed) for profiling.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApi } from '../src/api/server.js';
import { ManualClock } from '../src/clock.js';
import { parseConfigText } from '../src/config/load.js';
import { BatchWriter, DAY, emptyBatch, MINUTE } from '../src/store/batch.js';
import { openStore, type DB } from '../src/store/db.js';
import { insertSample } from '../src/store/samples.js';
import { addOperation, emptyCell } from './cells.js';
import { quantile } from './quantile.js';
import { mulberry32 } from '../src/util/random.js';

const STAGES: [string, number][] = [
  ['upload', 4],
  ['analysis', 12],
  ['preparation', 3],
  ['merging', 20],
  ['compression', 60],
  ['storage_upload', 8],
  ['cleanup', 0.5],
];
const CODES = ['FFMPEG_FAILED', 'STORAGE_UPLOAD_FAILED', 'VALIDATION_FAILED'];
const TOKEN = 'bench-token';


function buildStore(db: DB, end: number): { operations: number } {
  // Deterministic, so two runs measure the same store.
  const rand = mulberry32(42);
  const writer = new BatchWriter(db, { recentLines: 10_000, rejectedSamples: 1000 });
  const from = end - 7 * DAY;
  let operations = 0;
  for (let hour = from; hour < end; hour += 60 * MINUTE) {
    const b = emptyBatch();
    for (let t = hour; t < hour + 60 * MINUTE; t += MINUTE) {
      for (let i = 0; i < 100; i++) {
        const [stage, mean] = STAGES[i % STAGES.length]!;
        const failed = rand() < 0.03;
        const code = failed ? CODES[Math.floor(rand() * CODES.length)]! : '';
        const level = failed ? 'ERROR' : 'INFO';
        const key = `${t}|${stage}|${level}|${code}`;
        let c = b.cells.get(key);
        if (c === undefined) b.cells.set(key, (c = emptyCell(t, level, stage, code)));
        // Log-normal-ish durations around the stage's mean.
        addOperation(c, mean * Math.exp((rand() - 0.5) * 1.5), failed);
        operations++;
      }
    }
    writer.commit(b);
  }
  db.transaction(() => {
    const s = db.prepare(
      `INSERT INTO sessions (session_id, user_id, logger, first_ts, last_ts, stage, events, finished, finished_ts) VALUES (?, ?, 'media_processing', ?, ?, ?, 14, ?, ?)`,
    );
    for (let i = 0; i < 10_000; i++) {
      const first = from + Math.floor(rand() * 7 * DAY);
      s.run(`done-${i}`, `user-${i % 300}`, first, first + 600_000, 'cleanup', 1, first + 600_000);
    }
    for (let i = 0; i < 40; i++) s.run(`active-${i}`, `user-${i}`, end - i * 60_000, end - 1000, STAGES[i % 7]![0], 0, null);
    const a = db.prepare(
      `INSERT INTO alerts (alert_key, rule, severity, labels, state, summary, started_at, firing_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const sev = ['info', 'warning', 'error', 'critical'];
    for (let i = 0; i < 2000; i++) {
      const at = from + Math.floor((i / 2000) * 7 * DAY);
      const firing = i >= 1995;
      a.run(`r${i % 9}{}`, `rule_${i % 9}`, sev[i % 4], JSON.stringify({ stage: STAGES[i % 7]![0] }), firing ? 'firing' : 'resolved', `alert ${i}`, at, at + 60_000, firing ? null : at + 600_000);
    }
    for (let t = from; t < end; t += 15_000) {
      insertSample(db, 'cpu', '', t, 20 + rand() * 30);
      insertSample(db, 'memory', '', t, 50 + rand() * 10);
      insertSample(db, 'disk', '/', t, 60);
    }
  })();
  return { operations };
}

async function measure(url: string, n: number): Promise<{ p50: number; p99: number; max: number; status: number }> {
  const headers = { authorization: `Bearer ${TOKEN}` };
  let status = 0;
  for (let i = 0; i < 50; i++) await (await fetch(url, { headers })).arrayBuffer();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
    status = res.status;
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: times[times.length - 1]!, status };
}

async function main(): Promise<void> {
  const n = Math.max(500, Number(process.env.BENCH_REQUESTS ?? 1000));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-api-'));
  try {
    const end = Math.floor(Date.now() / MINUTE) * MINUTE;
    const cfgFile = path.join(dir, 'vigil.yaml');
    const yaml = `state_dir: "${path.join(dir, 'state')}"\ninputs: [{ path: "${path.join(dir, 'logs')}/*.log" }]\napi: { tokens_file: "${path.join(dir, 'tokens')}", tokens: ["${TOKEN}"] }\n`;
    fs.writeFileSync(cfgFile, yaml);
    const config = parseConfigText(yaml, cfgFile, {});
    const db = openStore(config.state_dir);
    const t0 = performance.now();
    const { operations } = buildStore(db, end);
    const windows = (db.prepare('SELECT count(*) AS n FROM windows').get() as { n: number }).n;
    const size = fs.statSync(path.join(config.state_dir, 'vigil.db')).size;
    process.stdout.write(
      `store: ${operations} operations over 7 days, ${windows} window rows, ${(size / 2 ** 20).toFixed(1)} MiB, built in ${((performance.now() - t0) / 1000).toFixed(1)} s; node ${process.version}, ${os.cpus().length} cores\n`,
    );

    // A fixed clock: the health report, once computed, stays cached for the whole run.
    const clock = new ManualClock(end);
    const runtime = { startedAt: end - 3_600_000, files: () => [], lastRuleReload: () => null, ingestLagMs: () => 500 };
    const app = buildApi({ db, clock, config, runtime, checks: { cacheMs: 30_000 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const P = '/api/v1/monitoring';
    const routes: { name: string; url: string; target?: number }[] = [
      { name: 'GET /stats?hours=168', url: `${P}/stats?hours=168`, target: 50 },
      { name: 'GET /stats?hours=24', url: `${P}/stats?hours=24` },
      { name: 'GET /alerts', url: `${P}/alerts` },
      { name: 'GET /sessions/active', url: `${P}/sessions/active` },
      { name: 'GET /health (cached)', url: `${P}/health`, target: 5 },
      { name: 'GET /timeseries?hours=24', url: `${P}/timeseries?hours=24` },
      { name: 'GET /metrics', url: `/metrics` },
    ];
    process.stdout.write(`\n${n} sequential requests per route over keep-alive (after 50 warm-up):\n`);
    process.stdout.write(`${'route'.padEnd(28)} ${'status'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}  target\n`);
    let failed = false;
    for (const r of routes) {
      const m = await measure(base + r.url, n);
      const verdict = r.target === undefined ? '' : m.p99 < r.target ? `p99 < ${r.target} ms: ok` : `p99 < ${r.target} ms: MISSED`;
      if (r.target !== undefined && m.p99 >= r.target) failed = true;
      process.stdout.write(
        `${r.name.padEnd(28)} ${String(m.status).padStart(6)} ${m.p50.toFixed(2).padStart(8)} ${m.p99.toFixed(2).padStart(8)} ${m.max.toFixed(2).padStart(8)}  ${verdict}\n`,
      );
    }
    await app.close();
    db.close();
    process.stdout.write(failed ? '\nsome targets were missed\n' : '\nall targets met\n');
  } finally {
    if (process.env.BENCH_KEEP === '1') process.stdout.write(`store kept in ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
