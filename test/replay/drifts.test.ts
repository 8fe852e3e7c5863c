/**
 * Regression tests for the ways replay had drifted from live ingest while it had a
 * splitter and an aggregation entry of its own (issue 17). Each goes through the public
 * `replay()` (and, for the sample bound, the agent's buildIngest).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { buildIngest } from '../../src/ingest/build.js';
import { replay } from '../../src/replay/run.js';
import { RuleSet } from '../../src/rules/engine.js';
import { openStore, type DB } from '../../src/store/db.js';
import { tmpDir } from '../helpers/agent.js';

const T = Date.UTC(2026, 10, 22, 10, 0, 0);
const quiet = { info() {}, warn() {}, error() {} };
const good = (i: number) => JSON.stringify({ timestamp: new Date(T + i * 1000).toISOString(), level: 'INFO', message: `ok ${i}` });

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function dirWith(files: Record<string, string | Buffer>): string {
  const d = tmpDir('replay-drift');
  dirs.push(d);
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(d, name), body);
  return d;
}

async function replayInto(paths: string[], config: Config): Promise<DB> {
  const db = openStore(':memory:');
  await replay({ paths, rules: new RuleSet([]), config, db, stepMs: 15_000, write: () => {}, log: quiet });
  return db;
}

describe('replay reads as live ingest does', () => {
  it('replay_ignored_inputs_format: a file is read in the format of the config input it belongs to', async () => {
    const pino = JSON.stringify({ level: 50, time: T, msg: 'boom', name: 'worker' });
    const d = dirWith({ 'app.log': pino + '\n' });
    const base = loadConfig({});
    const config = { ...base, inputs: [{ ...base.inputs[0]!, path: path.join(d, '*.log'), format: 'python' as const }] };
    const db = await replayInto([d], config);
    expect(db.prepare('SELECT format FROM file_stats').get()).toEqual({ format: 'python' });
    db.close();
  });

  it('replay_stored_rejected_samples_unredacted: a secret in a rejected line never reaches rejected_samples', async () => {
    const d = dirWith({ 'app.log': `${good(0)}\nlogin failed password=hunter2 token: abc123\n{"password": "hunter2", \n${good(1)}\n` });
    const db = await replayInto([d], loadConfig({}));
    const samples = db.prepare('SELECT sample FROM rejected_samples').all() as { sample: string }[];
    expect(samples).toHaveLength(2);
    for (const s of samples) expect(s.sample).not.toContain('hunter2');
    db.close();
  });

  it('replay_accepted_overlong_line: a 1.5 MiB line is over-long (max_line_bytes 1 MiB), as live rejects it', async () => {
    const huge = JSON.stringify({ timestamp: new Date(T).toISOString(), message: 'x'.repeat(1.5 * 1024 * 1024) });
    const d = dirWith({ 'app.log': `${good(0)}\n${huge}\n${good(1)}\n` });
    const db = await replayInto([d], loadConfig({}));
    expect(db.prepare('SELECT lines, rejected, overlong FROM file_stats').get()).toEqual({ lines: 2, rejected: 1, overlong: 1 });
    expect(db.prepare(`SELECT reason, sum(count) AS n FROM parse_errors GROUP BY reason`).all()).toEqual([{ reason: 'too_long', n: 1 }]);
    db.close();
  });

  it('replay_counted_empty_lines_as_not_json: empty lines are no lines at all', async () => {
    const d = dirWith({ 'app.log': `${good(0)}\n\n\r\n\n${good(1)}\n\n` });
    const db = await replayInto([d], loadConfig({}));
    expect(db.prepare('SELECT lines, rejected FROM file_stats').get()).toEqual({ lines: 2, rejected: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM parse_errors').get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('rejected samples keep the retention bound, live and replayed alike', () => {
  const bad = Array.from({ length: 300 }, (_, i) => `garbage line ${i}`);
  const body = [good(0), ...bad, good(1)].join('\n') + '\n';

  it('live_kept_100_rejected_samples_per_batch: a catch-up batch keeps retention.rejected_samples, not 100', async () => {
    const d = dirWith({ 'app.log': body });
    const base = loadConfig({});
    const config = { ...base, inputs: [{ ...base.inputs[0]!, path: path.join(d, '*.log') }] };
    const db = openStore(':memory:');
    const { tailer, pipeline } = buildIngest({ config, db, clock: new ManualClock(T), parseWorkers: 0 });
    tailer.scan();
    while ((await pipeline.drainSome()).more) {
      /* drain */
    }
    tailer.close();
    await pipeline.close();
    expect(db.prepare('SELECT count(*) AS n FROM rejected_samples').get()).toEqual({ n: 300 });
    db.close();
  });

  it('replay_kept_100_rejected_samples_per_batch: replay keeps the same, and the newest when over the bound', async () => {
    const d = dirWith({ 'app.log': body });
    const db = await replayInto([d], loadConfig({}));
    expect(db.prepare('SELECT count(*) AS n FROM rejected_samples').get()).toEqual({ n: 300 });
    db.close();
    const base = loadConfig({});
    const small = await replayInto([d], { ...base, retention: { ...base.retention, rejected_samples: 10 } });
    const kept = small.prepare('SELECT sample FROM rejected_samples ORDER BY id').all() as { sample: string }[];
    expect(kept.map((k) => k.sample)).toEqual(bad.slice(-10));
    small.close();
  });
});
