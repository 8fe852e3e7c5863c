/**
 * DESIGN §1: "a test that replays a fixture exercises exactly the code that pages an
 * operator". The same files, ingested live (the agent's buildIngest: tailer, pipeline,
 * parse worker) and replayed (feed), must leave the same store, row for row.
 *
 * Columns that are each path's clock by definition are left out: when a rejected line
 * was read (`rejected_samples.at`, the minute of `parse_errors`), file_stats.last_read_at.
 * Lines without a time take the live clock in one and the logs' clock in the other, so
 * both runs start the clock at the same instant (the live ManualClock, replay's `from`)
 * and fixtures whose untimed lines follow timed ones are compared on everything else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { buildIngest } from '../../src/ingest/build.js';
import { feed } from '../../src/replay/feeder.js';
import { expandInputs } from '../../src/replay/files.js';
import { replayRunner } from '../../src/replay/run.js';
import { RuleSet } from '../../src/rules/engine.js';
import { openStore, type DB } from '../../src/store/db.js';
import { ROOT, tmpDir } from '../helpers/agent.js';

const T = Date.UTC(2026, 10, 22, 12, 0, 0);
const quiet = { info() {}, warn() {}, error() {} };

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function dump(db: DB, withClockColumns: boolean, timeless = false) {
  const all = (sql: string) => db.prepare(sql).all();
  if (timeless) {
    // Every figure, summed over time: where untimed lines land is each path's clock.
    return {
      windows: all(`SELECT res, logger, level, stage, error_code, sum(lines) AS lines, sum(ops) AS ops, sum(ops_failed) AS failed, sum(dur_count) AS n, sum(dur_sum) AS s
        FROM windows GROUP BY res, logger, level, stage, error_code ORDER BY 1, 2, 3, 4, 5`),
      sessions: all(`SELECT session_id, user_id, logger, stage, events, finished FROM sessions ORDER BY session_id`),
      recent: all(`SELECT level, logger, file, line FROM recent_lines ORDER BY file, line`),
      samples: all(`SELECT file, offset, reason, detail, sample FROM rejected_samples ORDER BY file, offset, reason, sample`),
      parseErrors: all(`SELECT file, reason, sum(count) AS n FROM parse_errors GROUP BY file, reason ORDER BY 1, 2`),
      files: all(`SELECT file, lines, rejected, repaired, overlong, format FROM file_stats ORDER BY file`),
      lastSeen: all(`SELECT kind, name FROM last_seen ORDER BY kind, name`),
    };
  }
  return {
    windows: all(`SELECT res, start, logger, level, stage, error_code, lines, ops, ops_failed, dur_count, dur_sum, dur_min, dur_max, hex(dur_hist) AS hist FROM windows
      ORDER BY res, start, logger, level, stage, error_code`),
    sessions: all(`SELECT * FROM sessions ORDER BY session_id`),
    recent: all(`SELECT ts, level, logger, file, line FROM recent_lines ORDER BY ts, file, line`),
    samples: all(`SELECT ${withClockColumns ? 'at, ' : ''}file, offset, reason, detail, sample FROM rejected_samples ORDER BY file, offset, reason, sample`),
    parseErrors: all(`SELECT ${withClockColumns ? 'start, ' : ''}file, reason, sum(count) AS n FROM parse_errors GROUP BY ${withClockColumns ? 'start, ' : ''}file, reason ORDER BY 1, 2, 3`),
    files: all(`SELECT file, lines, rejected, repaired, overlong, format, last_event_ts FROM file_stats ORDER BY file`),
    lastSeen: all(`SELECT * FROM last_seen ORDER BY kind, name`),
  };
}

function configFor(dir: string, over: Partial<Config> = {}): Config {
  const base = loadConfig({});
  return { ...base, ...over, inputs: [{ ...base.inputs[0]!, path: path.join(dir, '*.log') }] };
}

async function live(dir: string, config: Config): Promise<DB> {
  const db = openStore(':memory:');
  const { tailer, pipeline } = buildIngest({ config, db, clock: new ManualClock(T), parseWorkers: 1 });
  tailer.scan();
  try {
    while ((await pipeline.drainSome()).more) {
      /* until caught up */
    }
  } finally {
    await pipeline.close();
    tailer.close();
  }
  return db;
}

async function replayed(dir: string, config: Config): Promise<DB> {
  const db = openStore(':memory:');
  const runner = replayRunner({ db, rules: new RuleSet([]), log: quiet });
  const inputs = expandInputs([dir], config.inputs).map((f) => ({ file: f.name, parts: f.parts, ...(f.format ? { format: f.format } : {}) }));
  await feed(inputs, { db, config, runner, stepMs: 15_000, from: T });
  return db;
}

/** Copies fixture files into a fresh directory as `*.log` (the input glob). */
function workspace(files: Record<string, string>): string {
  const d = tmpDir('live-replay');
  dirs.push(d);
  for (const [name, from] of Object.entries(files)) fs.copyFileSync(path.join(ROOT, from), path.join(d, name));
  return d;
}

async function expectSameStore(dir: string, config: Config, opts: { clockColumns: boolean; timeless?: boolean }) {
  const a = await live(dir, config);
  const b = await replayed(dir, config);
  try {
    const l = dump(a, opts.clockColumns, opts.timeless);
    const r = dump(b, opts.clockColumns, opts.timeless);
    expect(r.files).toEqual(l.files);
    expect(r.windows).toEqual(l.windows);
    expect(r.sessions).toEqual(l.sessions);
    expect(r.recent).toEqual(l.recent);
    expect(r.samples).toEqual(l.samples);
    expect(r.parseErrors).toEqual(l.parseErrors);
    expect(r.lastSeen).toEqual(l.lastSeen);
    return l;
  } finally {
    a.close();
    b.close();
  }
}

const incidents = fs.readdirSync(path.join(ROOT, 'fixtures/incidents')).filter((f) => f.endsWith('.log'));
const splits = fs.readdirSync(path.join(ROOT, 'fixtures/rotation/split')).filter((f) => f.endsWith('.log'));

describe('live ingest and replay leave the same store', () => {
  it.each(incidents)('incident fixture %s', async (name) => {
    const d = workspace({ [name]: `fixtures/incidents/${name}` });
    const l = await expectSameStore(d, configFor(d), { clockColumns: false });
    expect(l.windows.length).toBeGreaterThan(100);
  });

  it.each(splits)('rotation split fixture %s (max_line_bytes 64, as its .out)', async (name) => {
    // No line has a time: both paths take the same start instant, so even the clock columns agree.
    const d = workspace({ [name]: `fixtures/rotation/split/${name}` });
    await expectSameStore(d, configFor(d, { max_line_bytes: 64 }), { clockColumns: true });
  });

  it('a rotated family (numbered and dateext siblings, a compressed one never read)', async () => {
    const d = tmpDir('live-replay-family');
    dirs.push(d);
    const line = (n: number) => JSON.stringify({ timestamp: new Date(T + n * 1000).toISOString(), level: n % 5 === 0 ? 'ERROR' : 'INFO', n, event: 'stage_completed', stage: 'upload', success: n % 5 !== 0 });
    const write = (f: string, a: number, b: number) => fs.writeFileSync(path.join(d, f), Array.from({ length: b - a + 1 }, (_, i) => line(a + i)).join('\n') + '\n');
    write('app.log-20261121', 1, 10);
    write('app.log.2', 11, 20);
    write('app.log.1', 21, 30);
    write('app.log', 31, 40);
    write('errors.log', 5, 25);
    fs.writeFileSync(path.join(d, 'app.log.3.gz'), 'not read');
    const l = await expectSameStore(d, configFor(d), { clockColumns: true });
    expect(l.files).toMatchObject([{ file: path.join(d, 'app.log'), lines: 40 }, { file: path.join(d, 'errors.log'), lines: 21 }]);
  });

  it('the format fixtures, each read as its input says and as auto', async () => {
    const d = workspace({ 'ecs.log': 'fixtures/formats/ecs.log', 'pino.log': 'fixtures/formats/pino.log', 'python.log': 'fixtures/formats/python.log', 'winston.log': 'fixtures/formats/winston.log', 'vigil.log': 'fixtures/formats/vigil.log' });
    await expectSameStore(d, configFor(d), { clockColumns: false });
    const base = loadConfig({});
    const pinoOnly: Config = { ...base, inputs: [{ ...base.inputs[0]!, path: path.join(d, 'pino.log'), format: 'pino' }, { ...base.inputs[0]!, path: path.join(d, '*.log'), format: 'python' }] };
    await expectSameStore(d, pinoOnly, { clockColumns: false });
  });

  it('the hostile fixture (bad lines, secrets, NULs, huge lines; untimed lines among timed ones)', async () => {
    const d = workspace({ 'hostile.log': 'fixtures/hostile/hostile.log' });
    const l = await expectSameStore(d, configFor(d), { clockColumns: false, timeless: true });
    expect(l.samples.length).toBeGreaterThan(5);
  });
});
