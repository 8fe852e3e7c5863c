import type { Command } from 'commander';
import { systemClock } from '../clock.js';
import { openStore } from '../store/db.js';
import { computeStats } from '../store/stats.js';
import { resolveStateDir } from './state-dir.js';
import { resolveRange } from '../util/time-range.js';

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('print operation statistics from the store (the same object as GET /api/v1/monitoring/stats)')
    .option('--config <file>', 'vigil.yaml to take state_dir from')
    .option('--state-dir <dir>', 'the state directory (instead of --config)')
    .option('--hours <n>', 'the last N hours (default 24)')
    .option('--from <time>', 'start (ISO-8601 or epoch seconds)')
    .option('--to <time>', 'end (ISO-8601 or epoch seconds; default now)')
    .action((opts: { config?: string; stateDir?: string; hours?: string; from?: string; to?: string }) => {
      const stateDir = resolveStateDir(opts);
      const range = resolveRange(opts, systemClock.now());
      const db = openStore(stateDir, { readonly: true });
      try {
        process.stdout.write(JSON.stringify(computeStats(db, range), null, 2) + '\n');
      } finally {
        db.close();
      }
    });
}
