/**
 * Realistic media-pipeline log lines (DESIGN §2, every field), deterministic for a
 * seed: sessions walk the seven stages, ~4 % of stages fail with an error code, and
 * ~20 sessions interleave at any time. Lines average ~270 bytes, as the benchmark asks.
 */
import fs from 'node:fs';

export const STAGES = ['upload', 'analysis', 'preparation', 'merging', 'compression', 'storage_upload', 'cleanup'] as const;
const CODES = ['FFMPEG_FAILED', 'STORAGE_UPLOAD_FAILED', 'VALIDATION_FAILED', 'TIMEOUT'];
const SIZED = new Set<string>(['upload', 'compression', 'storage_upload']);
const STACK = 'Traceback (most recent call last):\n  File "worker.py", line 88, in run_stage\nRuntimeError: exit code 1';

export interface Truth {
  lines: number;
  operations: number;
  failed: number;
  byStage: Record<string, { count: number; failed: number }>;
  errorCodes: Record<string, number>;
  firstTs: number;
  lastTs: number;
}

/** A small LCG: the same seed gives the same lines (and the same stores) on every run. */
export function rng(seed: number): () => number {
  return () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const hex = (r: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += ((r() * 16) | 0).toString(16);
  return s;
};

/** Writes `lines` lines to `file` (or returns them through `sink`); returns the truth to compare with. */
export function generate(file: string, lines: number, opts: { seed?: number; start?: number; stepMs?: number } = {}): Truth {
  const r = rng(opts.seed ?? 7);
  let ts = opts.start ?? Date.UTC(2026, 10, 21, 0, 0, 0);
  const step = opts.stepMs ?? 80;
  const truth: Truth = { lines: 0, operations: 0, failed: 0, byStage: {}, errorCodes: {}, firstTs: ts, lastTs: ts };
  const fd = fs.openSync(file, 'w');
  let buf = '';
  type S = { id: string; user: string; stage: number; started: boolean };
  const active: S[] = [];
  for (let i = 0; i < lines; i++) {
    while (active.length < 20) active.push({ id: `sess-${hex(r, 8)}`, user: `user-${(r() * 5000) | 0}`, stage: 0, started: false });
    const k = (r() * active.length) | 0;
    const s = active[k]!;
    ts += (r() * step * 2) | 0;
    const stage = STAGES[s.stage]!;
    const corr = hex(r, 8);
    let o: Record<string, unknown>;
    if (s.stage >= STAGES.length) {
      o = { timestamp: new Date(ts).toISOString(), level: 'INFO', logger: 'media_processing', message: 'Session completed', event: 'session_completed', session_id: s.id, user_id: s.user, correlation_id: corr, video_count: 1 + ((r() * 4) | 0) };
      active.splice(k, 1);
    } else if (!s.started) {
      o = { timestamp: new Date(ts).toISOString(), level: 'INFO', logger: 'media_processing', message: `${stage} started`, event: 'stage_started', session_id: s.id, user_id: s.user, correlation_id: corr, stage };
      s.started = true;
    } else {
      const failed = r() < 0.04;
      const dur = Math.round((stage === 'compression' ? 30 + r() * 240 : 0.5 + r() * 40) * 1000) / 1000;
      truth.operations++;
      const b = (truth.byStage[stage] ??= { count: 0, failed: 0 });
      b.count++;
      if (failed) {
        truth.failed++;
        b.failed++;
        const code = CODES[(r() * CODES.length) | 0]!;
        truth.errorCodes[code] = (truth.errorCodes[code] ?? 0) + 1;
        o = { timestamp: new Date(ts).toISOString(), level: 'ERROR', logger: 'media_processing', message: `${stage} failed: ${code}`, event: 'processing_error', session_id: s.id, user_id: s.user, correlation_id: corr, stage, success: false, duration_seconds: dur, error_code: code, error: 'exit code 1', stack: STACK };
        s.stage = STAGES.length; // the session ends after a failure
      } else {
        o = { timestamp: new Date(ts).toISOString(), level: 'INFO', logger: 'media_processing', message: `${stage} completed`, event: 'stage_completed', session_id: s.id, user_id: s.user, correlation_id: corr, stage, success: true, duration_seconds: dur };
        // The stages that move files report their size.
        if (SIZED.has(stage)) o.file_size_bytes = (r() * 5e8) | 0;
        o.video_count = 1;
        s.stage++;
      }
      s.started = false;
    }
    buf += JSON.stringify(o) + '\n';
    truth.lines++;
    truth.lastTs = ts;
    if (buf.length > 1 << 20) {
      fs.writeSync(fd, buf);
      buf = '';
    }
  }
  fs.writeSync(fd, buf);
  fs.closeSync(fd);
  return truth;
}
