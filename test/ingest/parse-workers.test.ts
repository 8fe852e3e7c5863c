/** The pipeline with a parse worker thread, on the built ingest (see dist.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../bench/generate.js';
import { loadDist, type IngestModules } from './dist.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-workers-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** 15k generated lines with hostile ones among them: not JSON, an array, an over-long line, invalid UTF-8. */
function writeInput(): { file: string; lines: number; operations: number; overlong: number; rejected: number } {
  const file = path.join(dir, 'media.log');
  const truth = generate(file, 15_000, { seed: 11 });
  const bad = ['not json password=hunter2', '[1,2,3]', 'x'.repeat(5000), '{"truncated": '];
  const text = fs.readFileSync(file, 'utf8').split('\n');
  const out: string[] = [];
  let overlong = 0;
  let rejected = 1; // the invalid UTF-8 line at the end
  text.forEach((l, i) => {
    out.push(l);
    if (i % 397 === 5) {
      out.push(bad[i % bad.length]!);
      rejected++;
      if (i % bad.length === 2) overlong++;
    }
  });
  fs.writeFileSync(file, out.join('\n'));
  fs.appendFileSync(file, Buffer.from([0x7b, 0xff, 0x7d, 0x0a]));
  return { file, lines: truth.lines, operations: truth.operations, overlong, rejected };
}

function dump(db: import('../../src/store/db.js').DB): Record<string, unknown[]> {
  const q = (sql: string) => db.prepare(sql).all();
  return {
    windows: q('SELECT * FROM windows ORDER BY res, start, logger, level, stage, error_code'),
    sessions: q('SELECT * FROM sessions ORDER BY session_id'),
    recent: q('SELECT ts, level, logger, file, line FROM recent_lines ORDER BY seq'),
    files: q('SELECT file, lines, rejected, repaired, overlong, format, last_event_ts FROM file_stats'),
    errors: q('SELECT * FROM parse_errors ORDER BY start, file, reason'),
    samples: q('SELECT file, offset, reason, detail, sample FROM rejected_samples ORDER BY id'),
    checkpoints: q('SELECT fingerprint, offset, skipping FROM checkpoints'),
  };
}

async function ingest(
  d: IngestModules,
  file: string,
  parseWorkers: number,
  failCommit?: number,
  killWorkerAfter?: number,
): Promise<{ tables: Record<string, unknown[]>; failures: number; toWorkers: number }> {
  const base = d.loadConfig({});
  const config = { ...base, max_line_bytes: 2048, inputs: [{ ...base.inputs[0]!, path: file }] };
  const db = d.openStore(':memory:');
  const { tailer, pipeline } = d.buildIngest({ config, db, clock: new d.ManualClock(Date.UTC(2026, 10, 22)), parseWorkers, batchBytes: 256 * 1024 });
  const commit = d.BatchWriter.prototype.commit;
  let commits = 0;
  let failures = 0;
  if (failCommit !== undefined) {
    // The store refuses one batch (disk full, say): nothing of it may count, all of it must come back.
    d.BatchWriter.prototype.commit = function (this: InstanceType<IngestModules['BatchWriter']>, b) {
      if (++commits === failCommit) throw new Error('disk full');
      commit.call(this, b);
    };
  }
  let drains = 0;
  try {
    tailer.scan();
    for (;;) {
      if (++drains === killWorkerAfter) {
        // The worker dies with chunks in flight (a crash, an out-of-memory).
        const pool = (pipeline as unknown as { pool: { slots: ({ worker: { terminate(): Promise<number> } } | null)[] } }).pool;
        void pool.slots[0]!.worker.terminate();
      }
      try {
        if (!(await pipeline.drainSome(3)).more) break;
      } catch (e) {
        expect((e as Error).message).toMatch(killWorkerAfter !== undefined ? /parse worker/ : /disk full/);
        failures++;
      }
    }
    return { tables: dump(db), failures, toWorkers: pipeline.chunksToWorkers };
  } finally {
    d.BatchWriter.prototype.commit = commit;
    await pipeline.close();
    tailer.close();
    db.close();
  }
}

describe('parse workers', () => {
  it('store exactly what parsing on one thread stores, hostile lines included', async () => {
    const d = await loadDist();
    const input = writeInput();
    const inline = await ingest(d, input.file, 0);
    const worker = await ingest(d, input.file, 1);
    expect(inline.toWorkers).toBe(0);
    expect(worker.toWorkers).toBeGreaterThan(0);
    expect(worker.tables).toEqual(inline.tables);
    const files = inline.tables.files as { lines: number; rejected: number; overlong: number }[];
    expect(files).toEqual([expect.objectContaining({ lines: input.lines, rejected: input.rejected, overlong: input.overlong })]);
    expect(input.overlong).toBeGreaterThan(5);
    const ops = (inline.tables.windows as { res: number; ops: number }[]).filter((w) => w.res === 60_000).reduce((a, w) => a + w.ops, 0);
    expect(ops).toBe(input.operations);
  });

  it('read again, once, everything of a batch the store refused, including what was read ahead', async () => {
    const d = await loadDist();
    const input = writeInput();
    const clean = await ingest(d, input.file, 1);
    const failed = await ingest(d, input.file, 1, 7);
    expect(failed.failures).toBe(1);
    expect(failed.toWorkers).toBeGreaterThan(0);
    // recent_lines differ by design: a failed batch discards the ring of latest lines.
    expect({ ...failed.tables, recent: [] }).toEqual({ ...clean.tables, recent: [] });
  });

  it('survive a worker that dies mid-batch: the batch is read again, a new worker takes over', async () => {
    const d = await loadDist();
    const input = writeInput();
    const clean = await ingest(d, input.file, 1);
    const crashed = await ingest(d, input.file, 1, undefined, 2);
    expect(crashed.failures).toBe(1);
    expect({ ...crashed.tables, recent: [] }).toEqual({ ...clean.tables, recent: [] });
  });
});
