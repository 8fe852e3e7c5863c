import fs from 'node:fs';
import type { Command } from 'commander';
import { Agent, fallbackStateDir } from '../agent.js';
import { systemClock } from '../clock.js';
import { loadConfig, type Config } from '../config/load.js';
import { formatLocated, ValidationError } from '../errors.js';
import { createLogger } from '../log.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the agent: tail, aggregate, evaluate, notify, serve the API')
    .option('--config <file>', 'vigil.yaml (default: embedded defaults, or $VIGIL_CONFIG)')
    .action(async (opts: { config?: string }) => {
      const file = opts.config ?? process.env.VIGIL_CONFIG;
      let config = loadConfig({ file });
      const log = createLogger(config.log_level);
      if (!file) config = withWritableStateDir(config, (msg) => log.warn({}, msg));
      const agent = new Agent({ config, clock: systemClock, log, onFatal: () => process.exit(1) });
      await agent.start();
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping: committing the last batch');
        // Hard deadline: systemd expects us gone within its stop timeout.
        setTimeout(() => process.exit(1), 5000).unref();
        await agent.stop();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGHUP', () => {
        try {
          let next = loadConfig({ file });
          if (!file) next = { ...next, state_dir: config.state_dir };
          agent.reload(next);
        } catch (e) {
          const msg = e instanceof ValidationError ? e.problems.map(formatLocated).join('\n') : (e as Error).message;
          log.error({ code: (e as { code?: string }).code }, `SIGHUP: new configuration refused, the running one stays:\n${msg}`);
        }
      });
    });
}

/** On embedded defaults without root, /var/lib/vigil is not writable: say so and use the user's state dir. */
function withWritableStateDir(config: Config, warn: (m: string) => void): Config {
  try {
    fs.mkdirSync(config.state_dir, { recursive: true });
    fs.accessSync(config.state_dir, fs.constants.W_OK);
    return config;
  } catch {
    const dir = fallbackStateDir();
    warn(`${config.state_dir} is not writable; keeping state in ${dir} instead`);
    return { ...config, state_dir: dir };
  }
}
