/**
 * `vigil check`: everything `vigil run` would refuse or stumble on, found without starting
 * the agent — the config, the routes, the rules (against the configured channel names)
 * and every channel's health check — through the very loaders the agent uses. One line
 * per check; every problem as file:line:col; exit 1 on any FAIL. Meant for CI, for
 * `ExecStartPre=` and for an operator before `systemctl reload vigil`.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { SHIPPED_RULES } from '../agent.js';
import { loadConfig, type Config } from '../config/load.js';
import { errorText, formatLocated, ValidationError, VigilError } from '../errors.js';
import { buildChannels } from '../notify/channels.js';
import { settleWithin } from '../notify/deadline.js';
import { ChannelOptionError } from '../notify/options.js';
import { configLocator, Router } from '../notify/router.js';
import type { Channel } from '../notify/types.js';
import { lintRuleSet } from '../rules/reload.js';

export interface CheckLine {
  ok: boolean;
  /** config, routes, rules, channel NAME */
  check: string;
  message: string;
}

export interface CheckOptions {
  /** vigil.yaml; undefined: the embedded defaults. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Per channel health check. Default 30 s (a channel's own timeout usually answers first). */
  healthTimeoutMs?: number;
  /** Called with each line as soon as it is known (the CLI prints as it goes). */
  onLine?: (l: CheckLine) => void;
}

export function formatCheckLine(l: CheckLine): string {
  return `${l.ok ? 'ok  ' : 'FAIL'}  ${l.check}: ${l.message}`;
}

/** Runs every check; never throws for a problem it can report. */
export async function runChecks(o: CheckOptions = {}): Promise<CheckLine[]> {
  const out: CheckLine[] = [];
  const add = (ok: boolean, check: string, message: string) => {
    const l = { ok, check, message };
    out.push(l);
    o.onLine?.(l);
  };
  const fail = (check: string, e: unknown) => {
    if (e instanceof ValidationError) for (const p of e.problems) add(false, check, formatLocated(p));
    else if (e instanceof VigilError) add(false, check, `${e.code}: ${e.message}`);
    else add(false, check, errorText(e));
  };

  let config: Config;
  try {
    config = loadConfig({ file: o.file, ...(o.env ? { env: o.env } : {}) });
    add(true, 'config', o.file ? `${o.file} is valid` : 'no --config: the embedded defaults');
  } catch (e) {
    fail('config', e);
    return out; // nothing else can be judged without a config
  }

  let channels = new Map<string, Channel>();
  let channelsOk = true;
  try {
    channels = buildChannels(config.channels);
    add(true, 'channels', channels.size === 0 ? 'none configured (alerts are stored and shown by the API only)' : [...channels.keys()].join(', '));
  } catch (e) {
    channelsOk = false;
    if (e instanceof ChannelOptionError) add(false, 'channels', formatLocated(configLocator(config.source)(['channels', ...e.path], e.message)));
    else fail('channels', e);
  }
  // Rules may only name configured channels, even when one of them is broken.
  const names = channelsOk ? [...channels.keys()] : Object.keys(config.channels);

  try {
    Router.fromConfig({ routes: config.routes, source: config.source }, names);
    add(true, 'routes', config.routes.length === 0 ? 'none (alerts go to their rules\' channels, or to every channel)' : `${config.routes.length} route(s)`);
  } catch (e) {
    fail('routes', e);
  }

  const dir = fs.existsSync(config.rules) ? config.rules : SHIPPED_RULES;
  // Given the channel names, the lint reports a rule naming an unknown one at its YAML node.
  const { set, problems, files } = lintRuleSet([dir], { channels: names });
  if (problems.length > 0) for (const p of problems) add(false, 'rules', formatLocated(p));
  else {
    const where = dir === config.rules ? dir : `${dir} (the shipped rules: ${config.rules} does not exist)`;
    add(true, 'rules', `${set.rules.length} rules in ${files.length} files from ${where}`);
  }

  const timeout = o.healthTimeoutMs ?? 30_000;
  const results = await Promise.all(
    [...channels].map(async ([name, ch]) => {
      try {
        return [name, await settleWithin(ch.healthcheck(), timeout, () => ({ ok: false, message: `${name}: no answer within ${timeout} ms` }))] as const;
      } catch (e) {
        return [name, { ok: false, message: `${name}: ${errorText(e)}` }] as const;
      } finally {
        await ch.close?.().catch(() => {});
      }
    }),
  );
  for (const [name, r] of results) add(r.ok, `channel ${name}`, r.message);
  return out;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate config and rules and run every channel\'s health check, without starting the agent; exit 1 on any problem')
    .option('--config <file>', 'vigil.yaml (default: embedded defaults, or $VIGIL_CONFIG)')
    .action(async (opts: { config?: string }) => {
      const file = opts.config ?? process.env.VIGIL_CONFIG;
      const lines = await runChecks({ file, onLine: (l) => process.stdout.write(formatCheckLine(l) + '\n') });
      const failed = lines.filter((l) => !l.ok).length;
      if (failed > 0) {
        process.stderr.write(`vigil check: ${failed} problem(s)\n`);
        process.exitCode = 1;
      } else process.stdout.write('vigil check: all good\n');
    });
}
