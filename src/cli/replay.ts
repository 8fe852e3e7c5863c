import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { ValidationError, VigilError } from '../errors.js';
import { createLogger } from '../log.js';
import { openReplayStore } from '../replay/db.js';
import { replay, type ReplayResult } from '../replay/run.js';
import { lintRuleSet } from '../rules/reload.js';
import { parseDuration } from '../util/duration.js';
import { duration, Progress } from '../util/progress.js';
import { systemClock } from '../clock.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * What replay tells stderr when it is done: a file without a single JSON line (else the
 * empty output would look like "nothing fired"), an unterminated last line, then one
 * summary line.
 */
export function replaySummary(r: ReplayResult, elapsedMs: number): string[] {
  const out: string[] = [];
  for (const f of r.files) {
    if (f.lines === 0) out.push(`vigil replay: ${f.file}: no JSON lines${f.rejected > 0 ? ` (${plural(f.rejected, 'line')} rejected, e.g. not JSON)` : ' (empty)'}`);
    if (f.unterminated > 0) out.push(`vigil replay: ${f.file}: the last ${plural(f.unterminated, 'byte')} have no newline: not a line yet, as for the agent`);
  }
  out.push(
    `vigil replay: ${plural(r.files.length, 'file')}, ${plural(r.lines, 'line')}, ${plural(r.rejected, 'rejected line')}, ` +
      `${plural(r.printed, 'transition')}, ${plural(r.evaluations, 'evaluation')} in ${duration(elapsedMs / 1000)}`,
  );
  return out;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay log files through the ingest and the rules on the clock of their own timestamps; one JSON line per alert transition')
    .argument('<path...>', 'log files, or directories (their *.log files and rotated *.log.N siblings, oldest first)')
    .option('--rules <dir>', 'rule files or directory (default: the config\'s rules)')
    .option('--config <file>', 'vigil.yaml for rules, evaluation_interval, limits (default: embedded defaults)')
    .option('--db <file>', 'keep the replay store in this new SQLite file (default: in memory)')
    .option('--step <duration>', 'evaluation step (default: the config\'s evaluation_interval, 15s)')
    .addOption(new Option('--all-states', 'also print pending and inactive transitions'))
    .addHelpText(
      'after',
      `
Output: one JSON object per line, keys in this order:
  {"at": ISO time, "rule", "state", "severity", "labels", "summary"}
By default only the transitions an operator is told about are printed: state
"firing" (when an alert starts firing; re-notifications are not printed) and
"resolved". --all-states adds "pending" (the condition started holding) and
"inactive" (a pending alert that stopped holding before it fired).

Lines are merged across files by timestamp; a line without one takes the previous
line's time. Rules are evaluated at every step from the first line to the last
line plus the longest for + keep_firing_for (of the rules that read the logs) and
one step, so alerts can settle.
Checks that describe the machine (backup, ffmpeg) answer "healthy" in a replay, and
no system samples exist, so system rules do not fire. The output is the same, byte
for byte, for the same input. Exit status 0.

Files are read by the agent's own ingest (formats from the config's inputs, the same
line limit; empty lines are no lines). stderr: progress on a terminal, then one
summary line (files, lines, rejected lines, transitions), and a word for a file
without a single JSON line.`,
    )
    .action(async (paths: string[], opts: { rules?: string; config?: string; db?: string; step?: string; allStates?: boolean }) => {
      const config = loadConfig({ file: opts.config });
      const stepMs = opts.step !== undefined ? parseDuration(opts.step) : config.evaluation_interval_ms;
      if (!(stepMs > 0)) throw new VigilError('VIGIL_DURATION_INVALID', `--step must be longer than 0s, got ${opts.step}`);
      const { set, problems } = lintRuleSet([opts.rules ?? config.rules]);
      if (problems.length > 0) throw new ValidationError('VIGIL_RULE_INVALID', problems);
      const log = createLogger('warn', process.stderr);
      const store = openReplayStore(opts.db);
      let out = '';
      const flush = () => {
        if (out.length > 0) process.stdout.write(out);
        out = '';
      };
      let ok = false;
      const progress = new Progress({ stream: process.stderr, clock: systemClock, label: 'replay' });
      let total = 0;
      try {
        const res = await replay({
          paths,
          rules: set,
          config,
          db: store.db,
          stepMs,
          allStates: opts.allStates ?? false,
          log,
          write: (line) => {
            out += line + '\n';
            if (out.length > 1 << 16) flush();
          },
          onStart: (_files, bytes) => (total = bytes),
          onProgress: (p) => progress.update({ lines: p.lines + p.rejected, bytes: p.bytes, totalBytes: total }),
        });
        flush();
        progress.clear();
        for (const line of replaySummary(res, progress.elapsedMs())) process.stderr.write(line + '\n');
        ok = true;
      } finally {
        progress.clear();
        if (ok) store.close();
        else store.discard();
      }
    });
}
