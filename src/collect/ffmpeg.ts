/**
 * Everything vigil does with ffmpeg lives here. fluent-ffmpeg is archived upstream, so
 * it is imported by this module only and can be swapped without touching callers.
 *
 * The health check spawns ffmpeg itself rather than going through fluent-ffmpeg:
 * fluent-ffmpeg keeps the binary path and the codec lists in process-wide caches (an
 * ffmpeg installed after the first failed lookup stays "missing" forever), and a
 * health check must answer for the binary it names, now.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import ffmpeg from 'fluent-ffmpeg';

export interface FfmpegCheck {
  /** The binary ran and said it is ffmpeg. */
  available: boolean;
  /** e.g. "5.1.6-0+deb12u1", when available. */
  version?: string;
  /** A one-second synthetic clip was encoded to MP4 with the build's default codec. */
  encodeOk: boolean;
  message: string;
}

export interface FfmpegCheckOptions {
  /** Default "ffmpeg", looked up in PATH. */
  ffmpegPath?: string;
  /** For the whole check (version + test encode). Default 20 s. */
  timeoutMs?: number;
}

const TEST_SOURCE = 'testsrc=duration=1:size=128x72:rate=10';

/** Never throws: every failure is a status with a message an operator can act on. */
export async function checkFfmpeg(opts: FfmpegCheckOptions = {}): Promise<FfmpegCheck> {
  const bin = opts.ffmpegPath ?? 'ffmpeg';
  const deadline = performance.now() + (opts.timeoutMs ?? 20_000);
  const left = (): number => Math.max(1, Math.round(deadline - performance.now()));

  const v = await run(bin, ['-hide_banner', '-version'], left());
  if (!v.ok) return { available: false, encodeOk: false, message: describeFailure(bin, '-version', v) };
  const version = /^ffmpeg version (\S+)/m.exec(v.stdout)?.[1];
  if (!version) {
    return { available: false, encodeOk: false, message: `${bin} -version did not print "ffmpeg version …"; is it ffmpeg? (${firstLine(v.stdout || v.stderr)})` };
  }

  const dir = await mkdtemp(join(os.tmpdir(), 'vigil-ffmpeg-check-'));
  try {
    const out = join(dir, 'check.mp4');
    const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', TEST_SOURCE, '-pix_fmt', 'yuv420p', out];
    const e = await run(bin, args, left());
    if (!e.ok) return { available: true, version, encodeOk: false, message: `ffmpeg ${version} found, but ${describeFailure(bin, 'the test encode', e)}` };
    const size = await stat(out).then((s) => s.size, () => 0);
    if (size === 0) return { available: true, version, encodeOk: false, message: `ffmpeg ${version} found, but the test encode wrote an empty file` };
    return { available: true, version, encodeOk: true, message: `ffmpeg ${version} encodes (1 s test clip, ${size} bytes)` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type RunResult =
  | { ok: true; stdout: string; stderr: string }
  | { ok: false; stdout: string; stderr: string; errno?: string; exitCode?: number | null; timedOut: boolean };

function run(bin: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number | null; signal?: string | null };
      resolve({
        ok: false,
        stdout,
        stderr,
        errno: typeof e.code === 'string' ? e.code : undefined,
        exitCode: typeof e.code === 'number' ? e.code : null,
        timedOut: Boolean(e.killed) && e.signal === 'SIGKILL',
      });
    });
  });
}

function describeFailure(bin: string, what: string, r: Extract<RunResult, { ok: false }>): string {
  if (r.errno === 'ENOENT') return `ffmpeg not found: no executable "${bin}"${bin.includes('/') ? '' : ' in PATH'} (install it, e.g. apt-get install ffmpeg, or set the path)`;
  if (r.errno === 'EACCES') return `"${bin}" is not executable (EACCES)`;
  if (r.errno) return `${what} could not start ${bin} (${r.errno})`;
  if (r.timedOut) return `${what} did not finish in time and was killed`;
  return `${what} failed (exit ${r.exitCode ?? '?'}): ${firstLine(r.stderr) || 'no error output'}`;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0]?.slice(0, 300) ?? '';
}

/** This build lists `encoder` (e.g. libx264) among its video encoders. Never throws: no ffmpeg is false. */
export async function hasVideoEncoder(encoder: string, opts: FfmpegCheckOptions = {}): Promise<boolean> {
  const r = await run(opts.ffmpegPath ?? 'ffmpeg', ['-hide_banner', '-encoders'], opts.timeoutMs ?? 10_000);
  return r.ok && new RegExp(`^\\s*V\\S*\\s+${encoder}\\s`, 'm').test(r.stdout);
}

export interface ProbeOptions {
  /** Default "ffprobe" in PATH. fluent-ffmpeg holds this path process-wide; it is set before every call. */
  ffprobePath?: string;
}

/** ffprobe runs, so probe() can work. Never throws. */
export async function ffprobeAvailable(opts: ProbeOptions & { timeoutMs?: number } = {}): Promise<boolean> {
  return (await run(opts.ffprobePath ?? 'ffprobe', ['-hide_banner', '-version'], opts.timeoutMs ?? 10_000)).ok;
}

/** ffprobe's view of a media file (format, streams, duration). */
export function probe(file: string, opts: ProbeOptions = {}): Promise<ffmpeg.FfprobeData> {
  // Always set: fluent-ffmpeg would otherwise reuse whatever path an earlier call left behind.
  ffmpeg.setFfprobePath(opts.ffprobePath ?? 'ffprobe');
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(file, (err: Error | null, data: ffmpeg.FfprobeData) => (err ? reject(err) : resolve(data)));
  });
}

export interface JobOptions {
  input: string;
  output: string;
  inputOptions?: string[];
  outputOptions?: string[];
  /** Default "ffmpeg" in PATH; fluent-ffmpeg holds it process-wide, so it is set before every job. */
  ffmpegPath?: string;
  /** ffmpeg is killed after this long. Default: no limit. */
  timeoutMs?: number;
  onProgress?: (p: { percent?: number; timemark?: string }) => void;
}

/** Runs one ffmpeg transcode; rejects with ffmpeg's own error output in the message. */
export function runJob(opts: JobOptions): Promise<void> {
  ffmpeg.setFfmpegPath(opts.ffmpegPath ?? 'ffmpeg');
  return new Promise((resolve, reject) => {
    const cmd = ffmpeg(opts.timeoutMs ? { timeout: Math.ceil(opts.timeoutMs / 1000) } : {}).input(opts.input);
    if (opts.inputOptions?.length) cmd.inputOptions(opts.inputOptions);
    if (opts.outputOptions?.length) cmd.outputOptions(opts.outputOptions);
    cmd
      .output(opts.output)
      .on('progress', (p: { percent?: number; timemark?: string }) => opts.onProgress?.({ percent: p.percent, timemark: p.timemark }))
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        const tail = stderr?.trim().split('\n').slice(-3).join(' | ');
        reject(new Error(tail ? `${err.message} (${tail})` : err.message, { cause: err }));
      })
      .on('end', () => resolve())
      .run();
  });
}
