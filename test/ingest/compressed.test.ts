/**
 * Through the store: a file logrotate compressed while vigil was stopped is finished from
 * the .gz, using the checkpoint (and its tail) that SQLite kept across the restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFilesOnce } from '../../src/ingest/once.js';
import { loadCheckpoints } from '../../src/store/batch.js';
import { openStore } from '../../src/store/db.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const lineOf = (n: number) =>
  `${JSON.stringify({ timestamp: new Date(T0 + n * 1000).toISOString(), level: 'INFO', message: `done ${n}`, logger: 'media_processing', event: 'stage_completed', stage: 'upload', success: true, duration_seconds: 1, session_id: `s${n}` })}\n`;
const linesOf = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => lineOf(a + i)).join('');

describe('compressed rotation after a restart, through the store', () => {
  it('every line once: the checkpoint and its tail survive in SQLite and the .gz is read from there', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-gz-'));
    dirs.push(root);
    const logs = path.join(root, 'logs');
    fs.mkdirSync(logs);
    const log = path.join(logs, 'app.log');
    fs.writeFileSync(log, linesOf(1, 100));
    const once = () => ingestFilesOnce({ inputs: [path.join(logs, '*.log')], stateDir: path.join(root, 'state'), parseWorkers: 0 });
    await once();
    const mid = openStore(path.join(root, 'state'));
    expect(loadCheckpoints(mid)).toEqual([expect.objectContaining({ path: log, offset: fs.statSync(log).size, tail: expect.stringMatching(/^[0-9a-f]{20}$/) })]);
    mid.close();
    // Stopped: more lines, then logrotate compress (no delaycompress) and a new file.
    fs.appendFileSync(log, linesOf(101, 250));
    fs.writeFileSync(`${log}.1.gz`, zlib.gzipSync(fs.readFileSync(log)));
    fs.unlinkSync(log);
    fs.writeFileSync(log, linesOf(251, 300));
    expect((await once()).stats.total_operations).toBe(300);
    const db = openStore(path.join(root, 'state'));
    expect((db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n).toBe(300);
    db.close();
  });
});
