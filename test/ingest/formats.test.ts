/**
 * inputs[].format: a configured format is applied to every line of that input (in the parse
 * workers, on the built ingest, as on the main thread); `auto` detects each line's own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { computeStats } from '../../src/store/stats.js';
import { loadDist, SOURCE_MODULES } from './dist.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

// An OpenTelemetry-style record as some exporters write it: no @timestamp, no severity_text or
// severity_number, so nothing in the line says "ECS/OTel" and auto-detection cannot know to
// read its time_unix_nano, body and attributes.
const EVENT_AT = Date.UTC(2026, 10, 22, 9, 30, 0);
const otel = JSON.stringify({
  time_unix_nano: String(BigInt(EVENT_AT) * 1_000_000n),
  level: 'error',
  body: 'ffmpeg exited with 1',
  attributes: { event: 'processing_error', stage: 'compression', error_code: 'FFMPEG_FAILED', success: false, duration_seconds: 3 },
});

describe('inputs[].format', () => {
  for (const parseWorkers of [0, 2]) {
    it(`reads every line of an input as its configured format; auto inputs detect (${parseWorkers} parse workers)`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-format-'));
      dirs.push(dir);
      fs.mkdirSync(path.join(dir, 'otel'));
      fs.mkdirSync(path.join(dir, 'plain'));
      fs.writeFileSync(path.join(dir, 'otel', 'worker.log'), `${otel}\n`);
      fs.writeFileSync(path.join(dir, 'plain', 'worker.log'), `${otel}\n`);
      const cfgFile = path.join(dir, 'vigil.yaml');
      fs.writeFileSync(cfgFile, `inputs:\n  - { path: otel/*.log, format: ecs }\n  - { path: plain/*.log }\nstate_dir: state\n`);
      const m = parseWorkers > 0 ? await loadDist() : SOURCE_MODULES;
      const config = m.loadConfig({ file: cfgFile });
      const now = Date.UTC(2026, 10, 22, 12, 0, 0);
      const db = m.openStore(':memory:');
      const { tailer, pipeline } = m.buildIngest({ config, db, clock: new m.ManualClock(now), parseWorkers });
      try {
        tailer.scan();
        while ((await pipeline.drainSome()).more) {
          /* drain */
        }
        if (parseWorkers > 0) expect(pipeline.chunksToWorkers).toBeGreaterThan(0); // the format crossed to a worker
        else expect(pipeline.chunksToWorkers).toBe(0);
        const files = db.prepare('SELECT file, format, lines FROM file_stats ORDER BY file').all() as Array<{ file: string; format: string; lines: number }>;
        expect(files.map((f) => [path.relative(dir, f.file), f.format, f.lines])).toEqual([
          ['otel/worker.log', 'ecs', 1],
          ['plain/worker.log', 'unknown', 1],
        ]);
        // The ecs input's line lands in its own minute, as a failed compression with its code…
        const atEvent = computeStats(db, { from: EVENT_AT, to: EVENT_AT + 60_000 });
        expect(atEvent).toMatchObject({ total_operations: 1, failed_operations: 1, error_codes: { FFMPEG_FAILED: 1 } });
        expect(Object.keys(atEvent.stage_breakdown)).toEqual(['compression']);
        // …the auto one only as a line read at `now`, with no time, stage or outcome of its own.
        const lines = db.prepare('SELECT start, level, sum(lines) AS n FROM windows WHERE res = 60000 GROUP BY start, level ORDER BY start').all();
        expect(lines).toEqual([
          { start: EVENT_AT, level: 'ERROR', n: 1 },
          { start: now, level: 'ERROR', n: 1 },
        ]);
      } finally {
        await pipeline.close();
        tailer.close();
        db.close();
      }
    });
  }
});
