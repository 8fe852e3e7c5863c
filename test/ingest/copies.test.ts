import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { createEmitter } from '../../src/emit/index.js';
import { buildIngest } from '../../src/ingest/build.js';
import { openStore } from '../../src/store/db.js';
import { computeStats } from '../../src/store/stats.js';

describe('copies written by emit (copy_of)', () => {
  it('count as lines of errors.log / performance.log but never as a second operation', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-copies-'));
    try {
      const t0 = Date.UTC(2026, 10, 22, 10, 0, 0);
      const clock = new ManualClock(t0);
      const emit = createEmitter({ dir, clock, slowSeconds: 60 });
      emit.stageStarted({ sessionId: 's1', stage: 'compression' });
      emit.processingError({ sessionId: 's1', stage: 'compression', errorCode: 'FFMPEG_FAILED', error: 'exit 1', durationSeconds: 3 });
      emit.stageCompleted({ sessionId: 's2', stage: 'merging', durationSeconds: 120 }); // slow: copied to performance.log
      emit.critical('disk almost full');
      emit.close();
      expect(fs.readFileSync(path.join(dir, 'errors.log'), 'utf8')).toContain('"copy_of"');
      expect(fs.readFileSync(path.join(dir, 'performance.log'), 'utf8')).toContain('"copy_of"');

      const base = loadConfig({});
      const config = { ...base, inputs: [{ ...base.inputs[0]!, path: path.join(dir, '*.log') }] };
      const db = openStore(':memory:');
      const { tailer, pipeline } = buildIngest({ config, db, clock });
      tailer.scan();
      while ((await pipeline.drainSome()).more) {
        /* drain */
      }
      const s = computeStats(db, { from: t0 - 60_000, to: t0 + 60_000 });
      expect(s.total_operations).toBe(2);
      expect(s.failed_operations).toBe(1);
      expect(s.error_codes).toEqual({ FFMPEG_FAILED: 1 });
      const critical = db.prepare(`SELECT sum(lines) AS n FROM windows WHERE res = 60000 AND level = 'CRITICAL'`).get() as { n: number };
      expect(critical.n).toBe(1);
      const files = Object.fromEntries((db.prepare('SELECT file, lines FROM file_stats').all() as { file: string; lines: number }[]).map((r) => [path.basename(r.file), r.lines]));
      expect(files['errors.log']).toBe(2); // the error and the critical line, as copies
      expect(files['performance.log']).toBe(1);
      const sess = db.prepare('SELECT events FROM sessions WHERE session_id = ?').get('s1') as { events: number };
      expect(sess.events).toBe(2); // stage_started + processing_error, the copy not counted again
      tailer.close();
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
