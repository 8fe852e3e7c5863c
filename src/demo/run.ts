/**
 * `vigil demo`: a workspace, the agent in this process, a media worker writing real logs
 * beside it, and a console telling a newcomer where to look. Alerts reach the console
 * channel's file and are echoed here as they arrive.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Agent } from '../agent.js';
import type { Clock } from '../clock.js';
import { checkFfmpeg, ffprobeAvailable, hasVideoEncoder } from '../collect/ffmpeg.js';
import { loadConfig } from '../config/load.js';
import { createEmitter } from '../emit/index.js';
import { createLogger } from '../log.js';
import { followJsonLines } from './follow.js';
import { MediaWorker, type SessionReport, type WorkerMode } from './worker.js';
import { createWorkspace, findFreePort, writeConfig } from './workspace.js';

export interface DemoOptions {
  clock: Clock;
  /** Workspace directory (created, reused, kept). Default: a new temp dir. */
  dir?: string;
  /** Stop by itself after this long; default: until `signal` aborts. */
  durationMs?: number;
  /** First API port tried; the next ones when busy. Default 8000. */
  startPort?: number;
  /** Simulate the stages even when ffmpeg is there. */
  simulate?: boolean;
  /** Stops the demo (Ctrl-C). */
  signal?: AbortSignal;
  /** How to call the CLI in the hints printed (e.g. "vigil" or "node dist/src/cli/main.js"). */
  cli?: string;
  out?: (line: string) => void;
}

const HEALTH = '/api/v1/monitoring/health';
/** Every n-th session's compression fails on purpose, so the error-rate rules have something to see. */
const FAIL_EVERY = 4;

export async function runDemo(o: DemoOptions): Promise<void> {
  const out = o.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const clock = o.clock;
  const t0 = clock.now();
  const since = () => `+${Math.round((clock.now() - t0) / 1000)}s`.padStart(5);

  const mode = o.simulate ? ({ kind: 'simulated' } as const) : await detectFfmpeg(out);
  if (o.simulate) out('--simulate: the worker simulates the stages (a short sleep and a plausible duration per stage).');

  let port = await findFreePort(o.startPort ?? 8000);
  const ws = createWorkspace({ ...(o.dir ? { dir: o.dir } : {}), port });
  const logStream = fs.createWriteStream(ws.agentLog, { flags: 'a' });
  const log = createLogger('info', logStream);

  // The agent, in this process, on the config written to the workspace.
  let agent: Agent | null = null;
  for (let attempt = 0; ; attempt++) {
    const a = new Agent({ config: loadConfig({ file: ws.configFile }), clock, log });
    try {
      await a.start();
      agent = a;
      break;
    } catch (e) {
      await a.stop().catch(() => {});
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 3) {
        logStream.end();
        throw e;
      }
      // Taken between the probe and the listen: the next free one.
      port = await findFreePort(port + 1);
      ws.port = port;
      writeConfig(ws);
    }
  }

  const base = `http://${agent.apiAddress}`;
  const cli = o.cli ?? 'vigil';
  const auth = `-H "Authorization: Bearer ${ws.token}"`;
  const worker = mode.kind === 'ffmpeg' ? `real ffmpeg jobs (compression with ${mode.codec})` : 'simulated stages (no ffmpeg)';
  out('');
  out(`vigil demo — workspace ${ws.dir}`);
  out(`  media worker  ${worker}; every ${FAIL_EVERY}th session's compression fails on purpose`);
  out(`  agent         watching ${path.join(ws.logs, '*.log')}; ${agent.runner.ruleSet.rules.length} rules from ${ws.rules}`);
  out('');
  out('Where to look');
  out(`  dashboard   ${base}/#token=${ws.token}`);
  out(`  API token   ${ws.token}`);
  out(`  health      curl -s ${base}${HEALTH}`);
  out(`  stats       curl -s ${auth} "${base}/api/v1/monitoring/stats?hours=1"`);
  out(`  alerts      curl -s ${auth} ${base}/api/v1/monitoring/alerts`);
  out(`  alert file  tail -f ${ws.alertsFile}`);
  out(`  store       ${cli} stats --state-dir ${ws.state} --hours 1`);
  out(`  logs        ${ws.logs}/ (application, media_processing, errors, performance)`);
  out(`  agent log   ${ws.agentLog}`);
  out(`  config      ${ws.configFile}   (run it yourself: ${cli} run --config ${ws.configFile})`);
  out('');
  out(`The API answered: GET ${HEALTH} → ${await health(base)}`);
  out(`Alerts are printed below as they arrive (the demo rule needs about half a minute). ${o.durationMs ? `Stops after ${Math.round(o.durationMs / 1000)} s; ` : ''}Ctrl-C stops.`);
  out('');

  let firing = 0;
  /** Time from start to the first firing alert on screen; null while none came. */
  let firstAlertAfterMs: number | null = null;
  const follower = followJsonLines(ws.alertsFile, (a) => {
    const state = String(a.state);
    if (state === 'firing') {
      firing++;
      firstAlertAfterMs ??= clock.now() - t0;
    }
    out(`${since()}  >>> ALERT ${state.toUpperCase()} [${String(a.severity)}] ${String(a.rule)}: ${String(a.summary)}`);
  });

  const emitter = createEmitter({ dir: ws.logs, service: 'demo_worker', slowSeconds: mode.kind === 'ffmpeg' ? 0.5 : 10, clock });
  const mediaWorker = new MediaWorker({
    emitter,
    workDir: ws.work,
    mode,
    clock,
    failEvery: FAIL_EVERY,
    onSession: (r) => out(`${since()}  ${describeSession(r)}`),
    onError: (e) => out(`${since()}  worker error: ${e.message}`),
  });
  mediaWorker.start();

  await new Promise<void>((resolve) => {
    const timer = o.durationMs ? setTimeout(resolve, o.durationMs) : null;
    o.signal?.addEventListener('abort', () => {
      if (timer) clearTimeout(timer);
      resolve();
    });
    if (o.signal?.aborted) resolve();
  });

  out('');
  out(`${since()}  stopping: the worker finishes its stage, the agent commits the last lines …`);
  await mediaWorker.stop();
  emitter.close();
  await agent.stop();
  follower.stop();
  await new Promise<void>((resolve) => logStream.end(resolve));

  out(
    `Done: ${mediaWorker.totals.sessions} sessions (${mediaWorker.totals.failed} failed), ${firing} alert(s) fired` +
      (firstAlertAfterMs !== null ? `, the first ${Math.round(firstAlertAfterMs / 1000)} s after start` : '') +
      '.',
  );
  out(`Everything is kept in ${ws.dir} (${cli} demo --dir ${ws.dir} continues there; rm -rf it when done).`);
}

function describeSession(r: SessionReport): string {
  const head = `session ${r.sessionId}`;
  if (!r.failed) return `${head} ok       ${r.operations} stages in ${r.seconds.toFixed(1)} s`;
  const why = r.failed.error.split('\n')[0]!.slice(0, 120);
  return `${head} FAILED   at ${r.failed.stage}: ${r.failed.errorCode} (${why})`;
}

async function health(base: string): Promise<string> {
  try {
    const res = await fetch(base + HEALTH, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { overall_status?: string };
    return `${body.overall_status ?? '?'} (HTTP ${res.status})`;
  } catch (e) {
    return `no answer (${(e as Error).message})`;
  }
}

/** ffmpeg and ffprobe present and encoding? Says so plainly either way. */
async function detectFfmpeg(out: (l: string) => void): Promise<WorkerMode> {
  const check = await checkFfmpeg({ timeoutMs: 20_000 });
  const probeOk = await ffprobeAvailable();
  if (!check.available || !check.encodeOk || !probeOk) {
    const why = !check.encodeOk ? check.message : 'ffprobe not found in PATH';
    out(`ffmpeg is not usable here: ${why}`);
    out('The worker simulates the stages instead (a short sleep and a plausible duration each; the log lines are the same).');
    out('Install ffmpeg (e.g. sudo apt-get install ffmpeg) to watch real jobs.');
    return { kind: 'simulated' };
  }
  const codec = (await hasVideoEncoder('libx264')) ? 'libx264' : 'mpeg4';
  out(`${check.message}; compression uses ${codec}${codec === 'mpeg4' ? ' (libx264 is not in this build)' : ''}.`);
  return { kind: 'ffmpeg', codec };
}
