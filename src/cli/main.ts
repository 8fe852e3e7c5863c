#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { formatLocated, ValidationError, VigilError } from '../errors.js';
import { registerRun } from './run.js';
import { registerSilence } from './silence.js';
import { registerStats } from './stats.js';
import { registerReplay } from './replay.js';
import { registerRules } from './rules.js';
import { registerCheck } from './check.js';
import { registerDemo } from './demo.js';

const program = new Command();
program.name('vigil').description('log-first monitoring agent').version('0.1.0').showHelpAfterError();
registerRun(program);
registerStats(program);
registerReplay(program);
registerRules(program);
registerSilence(program);
registerCheck(program);
registerDemo(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof ValidationError) {
    for (const p of e.problems) process.stderr.write(formatLocated(p) + '\n');
    process.stderr.write(`vigil: ${e.code}: ${e.problems.length} problem(s)\n`);
  } else if (e instanceof VigilError) {
    process.stderr.write(`vigil: ${e.code}: ${e.message}\n`);
  } else {
    process.stderr.write(`vigil: ${(e as Error).stack ?? String(e)}\n`);
  }
  process.exit(2);
}
