/**
 * The demo's media worker: sessions of real ffmpeg jobs on tiny lavfi test sources
 * (160x90, one second), each stage logged through emit exactly as processing code would.
 *
 *   upload       two source clips arrive (rendered from lavfi testsrc / smptebars)
 *   analysis     ffprobe both
 *   preparation  scale both
 *   merging      concat them (concat demuxer, stream copy)
 *   compression  encode the result (libx264, or mpeg4 without it)
 *   cleanup      remove the session's files
 *
 * Every `failEvery`-th session its merged file is corrupted before compression, so ffmpeg
 * really fails (FFMPEG_FAILED with ffmpeg's own message) and the error-rate rules have
 * something to see. Without ffmpeg the same stages are simulated: a short sleep and a
 * plausible duration.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock.js';
import { probe, runJob } from '../collect/ffmpeg.js';
import type { Emitter } from '../emit/index.js';
import { mulberry32 } from '../util/random.js';

export type WorkerMode = { kind: 'ffmpeg'; codec: 'libx264' | 'mpeg4' } | { kind: 'simulated' };

export interface SessionReport {
  sessionId: string;
  /** The stage that failed and its error code; absent when the session went through. */
  failed?: { stage: string; errorCode: string; error: string };
  operations: number;
  seconds: number;
}

export interface WorkerOptions {
  emitter: Emitter;
  /** Scratch space for the session files. */
  workDir: string;
  mode: WorkerMode;
  clock: Clock;
  /** Every n-th session fails at compression. */
  failEvery: number;
  onSession?: (r: SessionReport) => void;
  /** A stage threw where it should not (a bug, a full disk): reported, the worker goes on. */
  onError?: (err: Error) => void;
}

const SIZE = '160x90';
const SOURCES = [`testsrc=duration=1:size=${SIZE}:rate=10`, `smptebars=duration=1:size=${SIZE}:rate=10`];
const JOB_TIMEOUT_MS = 60_000;
/** Between sessions: keeps the CPU modest. */
const PAUSE_MS = 1000;

class StageFailure extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

export class MediaWorker {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private n = 0;
  readonly totals = { sessions: 0, failed: 0 };
  private rand: () => number;

  constructor(private readonly o: WorkerOptions) {
    this.rand = mulberry32(7);
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /** Finishes the stage in progress (a second of video at most), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const em = this.o.emitter;
    em.info('demo worker started', { mode: this.o.mode.kind, ...(this.o.mode.kind === 'ffmpeg' ? { codec: this.o.mode.codec } : {}) });
    while (!this.stopping) {
      try {
        const r = await this.session(++this.n);
        if (r) {
          this.totals.sessions++;
          if (r.failed) this.totals.failed++;
          this.o.onSession?.(r);
        }
      } catch (e) {
        this.o.onError?.(e as Error);
      }
      await this.pause(PAUSE_MS);
    }
    em.info('demo worker stopped', { sessions: this.totals.sessions, failed: this.totals.failed });
  }

  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One session; null when stopped before it began. */
  private async session(n: number): Promise<SessionReport | null> {
    if (this.stopping) return null;
    const em = this.o.emitter;
    const clock = this.o.clock;
    const sessionId = `demo-${String(n).padStart(4, '0')}`;
    const userId = `user-${(n % 3) + 1}`;
    const dir = path.join(this.o.workDir, sessionId);
    const inject = n % this.o.failEvery === 0;
    const started = clock.now();
    let operations = 0;
    let failed: SessionReport['failed'];

    fs.mkdirSync(dir, { recursive: true });
    em.info('session picked up', { session_id: sessionId, user_id: userId });
    const steps: Array<[string, () => Promise<{ fileSizeBytes?: number; videoCount?: number } | void>]> = [
      ['upload', () => this.upload(dir)],
      ['analysis', () => this.analysis(dir)],
      ['preparation', () => this.preparation(dir)],
      ['merging', () => this.merging(dir)],
      ['compression', () => this.compression(dir, inject)],
    ];
    for (const [stage, run] of steps) {
      const t0 = clock.now();
      em.stageStarted({ sessionId, userId, stage });
      try {
        const r = (await run()) ?? {};
        em.stageCompleted({ sessionId, userId, stage, durationSeconds: this.seconds(stage, t0), ...r });
      } catch (e) {
        const code = e instanceof StageFailure ? e.errorCode : 'FFMPEG_FAILED';
        const msg = (e as Error).message;
        em.processingError({ sessionId, userId, stage, errorCode: code, error: msg, stack: (e as Error).stack, durationSeconds: this.seconds(stage, t0) });
        failed = { stage, errorCode: code, error: msg };
      }
      operations++;
      if (failed) break;
    }

    // Cleanup runs whatever happened, and ends the session.
    const t0 = clock.now();
    em.stageStarted({ sessionId, userId, stage: 'cleanup' });
    fs.rmSync(dir, { recursive: true, force: true });
    if (this.o.mode.kind === 'simulated') await sleep(20);
    em.stageCompleted({ sessionId, userId, stage: 'cleanup', durationSeconds: this.seconds('cleanup', t0) });
    operations++;

    const seconds = (clock.now() - started) / 1000;
    if (failed) em.sessionFailed({ sessionId, userId, stage: failed.stage, error: `${failed.stage} failed`, durationSeconds: seconds });
    else em.sessionCompleted({ sessionId, userId, videoCount: 2, durationSeconds: seconds });
    return { sessionId, ...(failed ? { failed } : {}), operations, seconds };
  }

  /** Measured in ffmpeg mode; a plausible figure when simulated (the sleep is only a token of it). */
  private seconds(stage: string, t0: number): number {
    if (this.o.mode.kind === 'ffmpeg') return Math.round(this.o.clock.now() - t0) / 1000;
    const typical: Record<string, number> = { upload: 4, analysis: 1, preparation: 6, merging: 3, compression: 12, cleanup: 0.2 };
    return Math.round((typical[stage] ?? 1) * (0.6 + this.rand() * 0.8) * 1000) / 1000;
  }

  private async simulate(failWith?: StageFailure): Promise<void> {
    await sleep(80 + Math.floor(this.rand() * 200));
    if (failWith) throw failWith;
  }

  private async upload(dir: string): Promise<{ fileSizeBytes: number; videoCount: number }> {
    if (this.o.mode.kind === 'simulated') {
      await this.simulate();
      return { fileSizeBytes: 180_000 + Math.floor(this.rand() * 40_000), videoCount: 2 };
    }
    let size = 0;
    for (const [i, src] of SOURCES.entries()) {
      const out = path.join(dir, `source-${i}.mp4`);
      await this.job({ input: src, inputOptions: ['-f', 'lavfi'], output: out, outputOptions: ['-c:v', 'mpeg4', '-pix_fmt', 'yuv420p'] });
      size += fs.statSync(out).size;
    }
    return { fileSizeBytes: size, videoCount: 2 };
  }

  private async analysis(dir: string): Promise<void> {
    if (this.o.mode.kind === 'simulated') return this.simulate();
    for (let i = 0; i < SOURCES.length; i++) {
      const info = await probe(path.join(dir, `source-${i}.mp4`)).catch((e: Error) => {
        throw new StageFailure('VALIDATION_FAILED', `ffprobe: ${e.message}`);
      });
      if (!info.streams.some((s) => s.codec_type === 'video')) throw new StageFailure('VALIDATION_FAILED', `source-${i}.mp4 has no video stream`);
    }
  }

  private async preparation(dir: string): Promise<{ fileSizeBytes: number }> {
    if (this.o.mode.kind === 'simulated') {
      await this.simulate();
      return { fileSizeBytes: 90_000 + Math.floor(this.rand() * 20_000) };
    }
    let size = 0;
    for (let i = 0; i < SOURCES.length; i++) {
      const out = path.join(dir, `prepared-${i}.mp4`);
      await this.job({ input: path.join(dir, `source-${i}.mp4`), output: out, outputOptions: ['-vf', 'scale=128:72', '-c:v', 'mpeg4', '-pix_fmt', 'yuv420p'] });
      size += fs.statSync(out).size;
    }
    return { fileSizeBytes: size };
  }

  private async merging(dir: string): Promise<{ fileSizeBytes: number; videoCount: number }> {
    if (this.o.mode.kind === 'simulated') {
      await this.simulate();
      return { fileSizeBytes: 95_000 + Math.floor(this.rand() * 20_000), videoCount: 2 };
    }
    const list = path.join(dir, 'concat.txt');
    fs.writeFileSync(list, SOURCES.map((_, i) => `file '${path.join(dir, `prepared-${i}.mp4`)}'\n`).join(''));
    const out = path.join(dir, 'merged.mp4');
    await this.job({ input: list, inputOptions: ['-f', 'concat', '-safe', '0'], output: out, outputOptions: ['-c', 'copy'] });
    return { fileSizeBytes: fs.statSync(out).size, videoCount: 2 };
  }

  private async compression(dir: string, inject: boolean): Promise<{ fileSizeBytes: number }> {
    if (this.o.mode.kind === 'simulated') {
      await this.simulate(inject ? new StageFailure('FFMPEG_FAILED', 'ffmpeg exited with code 1: merged.mp4: Invalid data found when processing input (simulated)') : undefined);
      return { fileSizeBytes: 40_000 + Math.floor(this.rand() * 10_000) };
    }
    const input = path.join(dir, 'merged.mp4');
    // The injected failure: a merged file corrupted on its way to the encoder.
    if (inject) fs.writeFileSync(input, Buffer.alloc(4096, 0x5a));
    const out = path.join(dir, 'final.mp4');
    const codec = this.o.mode.codec === 'libx264' ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '30'] : ['-c:v', 'mpeg4', '-q:v', '8'];
    await this.job({ input, output: out, outputOptions: [...codec, '-pix_fmt', 'yuv420p', '-movflags', '+faststart'] });
    return { fileSizeBytes: fs.statSync(out).size };
  }

  private job(o: Parameters<typeof runJob>[0]): Promise<void> {
    return runJob({ ...o, timeoutMs: JOB_TIMEOUT_MS }).catch((e: Error) => {
      throw new StageFailure('FFMPEG_FAILED', e.message);
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

