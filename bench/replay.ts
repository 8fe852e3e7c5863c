/**
 * npm run bench:replay — `vigil replay` of the 1M-line generator fixture with the shipped
 * rules, side by side with the agent's live ingest (the same pipeline `vigil run` runs, to
 * committed windows) of the same file, in one run. Prints both times, lines/s, the ratio
 * replay/ingest and the load average (the figures mean little on a busy machine).
 *
 * Replay does more than ingest: it commits at every 15 s step of the logs' clock and
 * evaluates every rule there (5,321 evaluations for the 22 h of this file).
 *
 * Env: BENCH_LINES (default 1e6).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, loadConfig } from '../src/config/load.js';
import { ingestFilesOnce } from '../src/ingest/once.js';
import { replay } from '../src/replay/run.js';
import { lintRuleSet } from '../src/rules/reload.js';
import { openStore } from '../src/store/db.js';
import { generate } from './generate.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RULES = path.resolve(here, '../../rules');
const quiet = { info() {}, warn() {}, error() {} };

const n = Number(process.env.BENCH_LINES ?? 1_000_000);
const cache = path.resolve('.bench');
fs.mkdirSync(cache, { recursive: true });
const file = path.join(cache, `lines-${n}.log`);
if (!fs.existsSync(file)) {
  process.stdout.write(`generating ${n} lines into ${file} …\n`);
  fs.writeFileSync(file + '.truth.json', JSON.stringify(generate(file, n)));
}
const mib = fs.statSync(file).size / 2 ** 20;
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
process.stdout.write(`node ${process.version}, ${os.cpus().length} cores, load average ${load()}; ${n} lines, ${mib.toFixed(0)} MiB\n`);

// Live ingest: a fresh state directory, the agent's tailer + pipeline + parse workers.
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-replay-'));
let t0 = performance.now();
const live = await ingestFilesOnce({ inputs: [file], stateDir: state });
const ingestS = (performance.now() - t0) / 1000;
fs.rmSync(state, { recursive: true, force: true });
process.stdout.write(`ingest: ${live.lines} lines in ${ingestS.toFixed(2)} s, ${Math.round(live.lines / ingestS)} lines/s\n`);

const { set } = lintRuleSet([RULES]);
const config = { ...loadConfig({}), cardinality: { ...DEFAULTS.cardinality } };
const db = openStore(':memory:');
t0 = performance.now();
const res = await replay({ paths: [file], rules: set, config, db, stepMs: config.evaluation_interval_ms, write: () => {}, log: quiet });
const replayS = (performance.now() - t0) / 1000;
db.close();
process.stdout.write(
  `replay: ${res.lines} lines in ${replayS.toFixed(2)} s, ${Math.round(res.lines / replayS)} lines/s (${res.evaluations} evaluations, ${res.printed} transitions)\n` +
    `ratio replay/ingest: ${(replayS / ingestS).toFixed(2)}; load average ${load()}\n`,
);
