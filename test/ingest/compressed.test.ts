/**
 * Through the store: a file logrotate compressed while vigil was stopped is finished from
 * the .gz, using the checkpoint (and its tail) that SQLite kept across the restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { buildIngest } from '../../src/ingest/build.js';
import { loadCheckpoints } from '../../src/store/batch.js';
import { openStore, type DB } from '../../src/store/db.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const lineOf = (n: number) =>
  `${JSON.stringify({ timestamp: new Date(T0 + n * 1000).toISOString(), level: 'INFO', message: `done ${n}`, logger: 'media_processing', event: 'stage_completed', stage: 'upload', success: true, duration_seconds: 1, session_id: `s${n}` })}\n`;
const linesOf = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => lineOf(a + i)).join('');

async function runOnce(dbDir: string, logs: string): Promise<void> {
  const base = loadConfig({});
  const config = { ...base, inputs: [{ ...base.inputs[0]!, path: path.join(logs, '*.log') }] };
  const db = openStore(dbDir);
  const { tailer, pipeline } = buildIngest({ config, db, clock: new ManualClock(T0 + 3_600_000), parseWorkers: 0 });
  try {
    for (let i = 0; i < 3; i++) {
      tailer.scan();
      while ((await pipeline.drainSome()).more) {
        /* drain */
      }
    }
  } finally {
    await pipeline.close();
    tailer.close();
    db.close();
  }
}

const operations = (db: DB) => (db.prepare(`SELECT sum(ops) AS n FROM windows WHERE res = 60000`).get() as { n: number }).n;

describe('compressed rotation after a restart, through the store', () => {
  it('every line once: the checkpoint and its tail survive in SQLite and the .gz is read from there', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-gz-'));
    dirs.push(root);
    const logs = path.join(root, 'logs');
    fs.mkdirSync(logs);
    const log = path.join(logs, 'app.log');
    fs.writeFileSync(log, linesOf(1, 100));
    await runOnce(path.join(root, 'state'), logs);
    const mid = openStore(path.join(root, 'state'));
    expect(loadCheckpoints(mid)).toEqual([expect.objectContaining({ path: log, offset: fs.statSync(log).size, tail: expect.stringMatching(/^[0-9a-f]{20}$/) })]);
    mid.close();
    // Stopped: more lines, then logrotate compress (no delaycompress) and a new file.
    fs.appendFileSync(log, linesOf(101, 250));
    fs.writeFileSync(`${log}.1.gz`, zlib.gzipSync(fs.readFileSync(log)));
    fs.unlinkSync(log);
    fs.writeFileSync(log, linesOf(251, 300));
    await runOnce(path.join(root, 'state'), logs);
    const db = openStore(path.join(root, 'state'));
    expect(operations(db)).toBe(300);
    expect((db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n).toBe(300);
    db.close();
  });
});
