// First: the heap settings apply before the other modules load (see heap.ts).
import './heap.js';
import { systemClock } from '../clock.js';
import { DEFAULTS, loadConfig } from '../config/load.js';
import { openStore } from '../store/db.js';
import { computeStats, type Stats } from '../store/stats.js';
import { buildIngest } from './build.js';

/**
 * Ingests files to the end once, from whatever state `stateDir` holds, and returns the
 * stats over everything. For the benchmark and tests: the same pipeline as the agent.
 */
export async function ingestFilesOnce(o: { inputs: string[]; stateDir: string; parseWorkers?: number }): Promise<{ lines: number; rejected: number; stats: Stats }> {
  const base = loadConfig({});
  const config = { ...base, inputs: o.inputs.map((p) => ({ ...DEFAULTS.inputs[0], path: p })) };
  const db = openStore(o.stateDir);
  try {
    const { tailer, pipeline } = buildIngest({ config, db, clock: systemClock, ...(o.parseWorkers !== undefined ? { parseWorkers: o.parseWorkers } : {}) });
    tailer.scan();
    try {
      while ((await pipeline.drainSome(64)).more) {
        /* until caught up */
      }
    } finally {
      await pipeline.close();
      tailer.close();
    }
    return { lines: pipeline.totals.lines, rejected: pipeline.totals.rejected, stats: computeStats(db, { from: 0, to: 8.64e15 }) };
  } finally {
    db.close();
  }
}
