import path from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../clock.js';
import { runDemo } from '../demo/run.js';
import { VigilError } from '../errors.js';
import { parseDuration } from '../util/duration.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('a newcomer\'s first run: a media worker runs ffmpeg jobs and logs them, the agent watches, alerts arrive here; Ctrl-C stops')
    .option('--dir <dir>', 'workspace directory (default: a new one under the temp dir; kept afterwards)')
    .option('--duration <time>', 'stop by itself after this long, e.g. 90s')
    .option('--port <n>', 'first API port to try (the next ones when busy)', '8000')
    .option('--simulate', 'simulate the stages even when ffmpeg is installed')
    .action(async (opts: { dir?: string; duration?: string; port: string; simulate?: boolean }) => {
      let durationMs: number | undefined;
      if (opts.duration !== undefined) {
        durationMs = parseDuration(opts.duration);
        if (!(durationMs > 0)) throw new VigilError('VIGIL_DURATION_INVALID', `--duration must be longer than 0s (got ${opts.duration})`);
      }
      const startPort = Number(opts.port);
      if (!Number.isInteger(startPort) || startPort < 1 || startPort > 65535) throw new VigilError('VIGIL_CONFIG_INVALID', `--port must be a port number (got ${opts.port})`);

      const stop = new AbortController();
      let signals = 0;
      const onSignal = () => {
        // The first Ctrl-C stops cleanly; a second one does not wait.
        if (++signals > 1) process.exit(130);
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      await runDemo({
        clock: systemClock,
        ...(opts.dir ? { dir: opts.dir } : {}),
        ...(durationMs ? { durationMs } : {}),
        startPort,
        simulate: opts.simulate === true,
        signal: stop.signal,
        cli: cliName(),
      });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Anything still holding the event loop (an idle HTTP keep-alive) must not delay the prompt.
      process.exit(0);
    });
}

/** `vigil` when installed; the way it was started when run from a checkout. */
function cliName(): string {
  const script = process.argv[1] ?? '';
  if (path.basename(script) !== 'main.js') return 'vigil';
  const rel = path.relative(process.cwd(), script);
  return `node ${rel.startsWith('..') ? script : rel}`;
}
