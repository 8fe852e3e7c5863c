import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { formatLocated, VigilError } from '../errors.js';
import { lintRuleSet } from '../rules/reload.js';
import { systemClock } from '../clock.js';
import { formatFileResult, runTestFile } from '../ruletest/index.js';
import { Progress } from '../util/progress.js';

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('validate and test alert rule files');

  rules
    .command('lint')
    .description('validate rule files; prints each problem as file:line:col: message and exits 1 on any')
    .argument('[path...]', 'rule files or directories (default: the config\'s rules directory); *.test.yaml files in a directory are skipped')
    .option('--config <file>', 'vigil.yaml: its rules directory is the default path, and rules may only name its channels')
    .action((paths: string[], opts: { config?: string }) => {
      const file = opts.config ?? process.env.VIGIL_CONFIG;
      const config = loadConfig({ file });
      const targets = paths.length > 0 ? paths : [config.rules];
      const lint = file ? { channels: Object.keys(config.channels) } : {};
      const { set, problems, files } = lintRuleSet(targets, lint);
      for (const p of problems) process.stdout.write(formatLocated(p) + '\n');
      if (problems.length > 0) {
        process.stderr.write(`vigil: VIGIL_RULE_INVALID: ${problems.length} problem(s)\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`ok: ${set.rules.length} rules in ${files.length} files\n`);
    });

  rules
    .command('test')
    .description('run rule unit tests (see the format below); exits 1 on any failure, with a per-alert diff')
    .argument('<file...>', 'rule test files (*.test.yaml)')
    .option('--run <regex>', 'only the tests whose name matches')
    .addHelpText(
      'after',
      `
Test file format (paths are relative to the test file):
  rule_files: [error_rate.yaml]
  evaluation_interval: 15s
  tests:
    - name: fires after 5m of 20% errors
      start: 2026-11-22T10:00:00Z          # optional
      input_files: [../fixtures/incidents/ffmpeg_outage.log]
      input_lines:
        - { at: 0m, repeat: 40x30s, file: application.log,
            line: { event: stage_completed, stage: upload, success: true, session_id: "s{{i}}" } }
      samples: [{ at: 0m, repeat: 40x15s, metric: memory, value: 91 }]
      checks: { ffmpeg_available: false, backup: { present: true, age: 30h, size: 1MiB, intact: false } }
      alerts:
        - eval_time: 10m
          expect: [{ rule: high_error_rate, state: firing, labels: {}, summary: "…" }]
        - eval_time: 30m
          expect: []
At an eval_time the alerts compared are those pending or firing at that instant,
plus those that resolved since the previous eval_time (state: resolved).`,
    )
    .action(async (files: string[], opts: { run?: string }) => {
      let filter: RegExp | undefined;
      if (opts.run !== undefined) {
        try {
          filter = new RegExp(opts.run);
        } catch (e) {
          throw new VigilError('VIGIL_RULE_INVALID', `--run: invalid regular expression: ${(e as Error).message}`);
        }
      }
      let passed = 0;
      let failed = 0;
      let broken = 0;
      for (const file of files) {
        let progress: Progress | null = null;
        let total = 0;
        const r = await runTestFile(file, {
          ...(filter ? { filter } : {}),
          onTestStart: (name, bytes) => {
            progress?.clear();
            progress = new Progress({ stream: process.stderr, clock: systemClock, label: `${file}: ${name}` });
            total = bytes;
          },
          onProgress: (p) => progress?.update({ lines: p.lines + p.rejected, bytes: p.bytes, totalBytes: total }),
        });
        (progress as Progress | null)?.clear();
        process.stdout.write(formatFileResult(r).join('\n') + '\n');
        if (r.problems.length > 0) broken++;
        for (const t of r.results) {
          if (t.ok) passed++;
          else failed++;
        }
      }
      const parts = [`${passed} passed`, `${failed} failed`];
      if (broken > 0) parts.push(`${broken} file(s) not run`);
      process.stdout.write(`${parts.join(', ')}\n`);
      if (failed > 0 || broken > 0) {
        process.stderr.write(`vigil: VIGIL_RULE_TEST_FAILED: ${parts.join(', ')}\n`);
        process.exitCode = 1;
      }
    });
}
