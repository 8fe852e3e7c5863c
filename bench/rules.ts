/**
 * npm run bench:rules — the shipped rules against a realistic store, in one run.
 *
 *   cycle:  7 days of minute windows (7 stages × 4 error codes × 4 levels, hour
 *           rollups, ~100k sessions, a sample every 15 s), written through the
 *           BatchWriter into a file-backed store; then RuleRunner.evaluateAt — facts,
 *           conditions, states and the alert transaction — at every 15 s step of the
 *           last two hours. Prints p50 / p99 / max per evaluation cycle (target p99 < 50 ms).
 *   replay: `vigil replay` of the 1M-line generator fixture with the shipped rules,
 *           from the same code the CLI runs; prints lines/s.
 *
 * Env: BENCH_LINES (default 1e6), BENCH_DAYS (default 7).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../src/clock.js';
import { DEFAULTS, loadConfig } from '../src/config/load.js';
import { ScheduledChecks } from '../src/replay/checks.js';
import { replay } from '../src/replay/run.js';
import { lintRuleSet } from '../src/rules/reload.js';
import { RuleRunner } from '../src/rules/runner.js';
import { AlertStore } from '../src/store/alerts.js';
import { BatchWriter, emptyBatch, HOUR, MINUTE, type Batch } from '../src/store/batch.js';
import { openStore, type DB } from '../src/store/db.js';
import { StoreFacts } from '../src/store/facts.js';
import { insertSample } from '../src/store/samples.js';
import { addOperation, emptyCell } from './cells.js';
import { generate, rng, STAGES } from './generate.js';
import { quantile } from './quantile.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RULES = path.resolve(here, '../../rules');
const CODES = ['FFMPEG_FAILED', 'STORAGE_UPLOAD_FAILED', 'VALIDATION_FAILED', 'TIMEOUT'];
const quiet = { info() {}, warn() {}, error() {} };

/** Builds `days` of minute windows ending at `end` through the BatchWriter, one batch per hour. */
function buildStore(db: DB, end: number, days: number): { cells: number; sessions: number } {
  const r = rng(42);
  const writer = new BatchWriter(db, { recentLines: 1000, rejectedSamples: 100 });
  const start = end - days * 24 * HOUR;
  let cells = 0;
  let sessions = 0;
  for (let h = start; h < end; h += HOUR) {
    const b: Batch = emptyBatch();
    for (let m = h; m < h + HOUR; m += MINUTE) {
      for (const stage of STAGES) {
        const ok = emptyCell(m, 'INFO', stage, '');
        for (let i = 0; i < 10; i++) addOperation(ok, stage === 'compression' ? 30 + r() * 200 : 0.5 + r() * 40, false);
        b.cells.set(`${m}|ok|${stage}`, ok);
        const started = emptyCell(m, 'DEBUG', stage, '');
        started.lines = 10;
        b.cells.set(`${m}|debug|${stage}`, started);
        const warn = emptyCell(m, 'WARNING', stage, '');
        warn.lines = 1 + Math.floor(r() * 3);
        b.cells.set(`${m}|warn|${stage}`, warn);
        for (const code of CODES) {
          if (r() < 0.5) continue;
          const e = emptyCell(m, 'ERROR', stage, code);
          addOperation(e, 1 + r() * 10, true);
          b.cells.set(`${m}|err|${stage}|${code}`, e);
        }
      }
      // ~10 sessions a minute, each done within a few minutes.
      for (let i = 0; i < 10; i++) {
        sessions++;
        const first = m + Math.floor(r() * MINUTE);
        const done = first + 60_000 + Math.floor(r() * 240_000);
        const finished = done <= end ? 1 : 0;
        b.sessions.set(`s${sessions}`, { sessionId: `s${sessions}`, userId: `u${i}`, logger: 'media_processing', firstTs: first, lastTs: Math.min(done, end), stage: 'cleanup', events: 15, finished, finishedTs: finished ? done : null });
      }
    }
    b.files.set('/var/log/media/media_processing.log', { file: '/var/log/media/media_processing.log', lines: 60 * 7 * 25, rejected: 0, repaired: 0, overlong: 0, format: 'vigil', lastEventTs: h + HOUR - 1000, lastReadAt: h + HOUR });
    b.lastSeen.set('media_processing', { kind: 'logger', name: 'media_processing', eventTs: h + HOUR - 1000 });
    cells += b.cells.size;
    writer.commit(b);
  }
  const samples = db.transaction(() => {
    for (let t = start; t < end; t += 15_000) {
      insertSample(db, 'cpu', '', t, 20 + r() * 50);
      insertSample(db, 'memory', '', t, 40 + r() * 30);
      insertSample(db, 'load1', '', t, r() * 4);
      insertSample(db, 'disk', '/', t, 60 + r() * 5);
    }
  });
  samples();
  return { cells, sessions };
}

async function cycleBench(): Promise<void> {
  const days = Number(process.env.BENCH_DAYS ?? 7);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-rules-'));
  try {
    const db = openStore(dir);
    const end = Date.UTC(2026, 10, 22, 12, 0, 0);
    const t0 = performance.now();
    const built = buildStore(db, end, days);
    const rows = db.prepare(`SELECT res, count(*) AS n FROM windows GROUP BY res ORDER BY res`).all() as { res: number; n: number }[];
    process.stdout.write(
      `store: ${days} days, ${rows.map((r) => `${r.n} ${r.res === MINUTE ? 'minute' : 'hour'} rows`).join(' + ')}, ${built.sessions} sessions, ` +
        `${(fs.statSync(path.join(dir, 'vigil.db')).size / 2 ** 20).toFixed(0)} MiB (built in ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
    );
    const { set, problems } = lintRuleSet([RULES]);
    if (problems.length) throw new Error(`shipped rules do not lint: ${JSON.stringify(problems)}`);
    const runner = new RuleRunner({
      rules: set,
      sources: { facts: new StoreFacts(db), checks: new ScheduledChecks() },
      clock: new ManualClock(end),
      alertStore: new AlertStore(db),
      log: quiet,
    });
    const times: number[] = [];
    const steps = (2 * HOUR) / 15_000;
    for (let i = 0; i < 40; i++) await runner.evaluateAt(end - 3 * HOUR + i * 15_000); // warm-up
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      await runner.evaluateAt(end - 2 * HOUR + i * 15_000);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    process.stdout.write(
      `evaluation cycle (${set.rules.length} shipped rules, ${times.length} cycles): p50 ${quantile(times, 0.5).toFixed(2)} ms, ` +
        `p99 ${quantile(times, 0.99).toFixed(2)} ms, max ${times[times.length - 1]!.toFixed(2)} ms (target p99 < 50 ms)\n`,
    );
    db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function replayBench(): Promise<void> {
  const n = Number(process.env.BENCH_LINES ?? 1_000_000);
  const cache = path.resolve('.bench');
  fs.mkdirSync(cache, { recursive: true });
  const file = path.join(cache, `lines-${n}.log`);
  if (!fs.existsSync(file)) {
    process.stdout.write(`generating ${n} lines into ${file} …\n`);
    fs.writeFileSync(file + '.truth.json', JSON.stringify(generate(file, n)));
  }
  const { set } = lintRuleSet([RULES]);
  const config = { ...loadConfig({}), cardinality: { ...DEFAULTS.cardinality } };
  const db = openStore(':memory:');
  let transitions = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const res = await replay({ paths: [file], rules: set, config, db, stepMs: config.evaluation_interval_ms, write: () => transitions++, log: quiet });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  db.close();
  const spanH = ((res.lastTs ?? 0) - (res.firstTs ?? 0)) / HOUR;
  process.stdout.write(
    `replay: ${res.lines} lines (${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MiB, ${spanH.toFixed(1)} h of logs), ${res.evaluations} evaluations, ` +
      `${transitions} transitions printed: ${seconds.toFixed(1)} s, ${Math.round(res.lines / seconds)} lines/s ` +
      `(cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)\n`,
  );
}

process.stdout.write(`node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}\n`);
await cycleBench();
await replayBench();
