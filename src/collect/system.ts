import os from 'node:os';
import { realpath } from 'node:fs/promises';
import si from 'systeminformation';
import type { Clock } from '../clock.js';
import { errorText, VigilError } from '../errors.js';
import { startTicker, type SetTimer } from '../util/ticker.js';

export interface DiskSample {
  /** The path as configured in `system.disks`. */
  mount: string;
  usedPercent: number;
  usedBytes: number;
  sizeBytes: number;
}

/** A configured disk that could not be measured; it is left out of `disks` rather than reported as NaN. */
export interface DiskSkipped {
  mount: string;
  reason: string;
}

export interface SystemSample {
  /**
   * Busy share of all CPUs since the previous sample. systeminformation keeps the
   * counters process-wide; its first call in a process measures over 0.5 s instead.
   */
  cpuPercent: number;
  memoryPercent: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  load1: number;
  load5: number;
  load15: number;
  disks: DiskSample[];
  /** Configured disks left out of `disks`, with why; empty when all were measured. */
  disksSkipped: DiskSkipped[];
}

/**
 * One sample of this machine. Measured on the 2-core dev VM: 18–40 ms wall time and
 * about 6 ms of this process's CPU per sample (the first one in a process takes ~0.6 s:
 * systeminformation waits 0.5 s to get a CPU baseline). systeminformation spawns
 * `sh -c "cat /proc/stat | grep cpu"` and `cat /proc/mounts` synchronously and `df`
 * asynchronously, so the event loop is blocked for roughly 10–30 ms of that.
 */
export async function sampleSystem(opts: { disks: string[] }): Promise<SystemSample> {
  const [load, mem, filesystems] = await Promise.all([si.currentLoad(), si.mem(), si.fsSize()]);
  // `used` from systeminformation is total - free, which counts the page cache; on a
  // media box that reads large files the cache fills RAM and `used` sits near 100%
  // while plenty can be reclaimed. `available` is the kernel's own estimate of what can
  // be handed out without swapping, so total - available is the pressure that matters.
  const memoryUsedBytes = Math.max(0, mem.total - mem.available);
  const [load1, load5, load15] = os.loadavg() as [number, number, number];
  const { disks, disksSkipped } = await matchDisks(opts.disks, filesystems);
  return {
    cpuPercent: clampPercent(load.currentLoad),
    memoryPercent: mem.total > 0 ? clampPercent((memoryUsedBytes / mem.total) * 100) : 0,
    memoryUsedBytes,
    memoryTotalBytes: mem.total,
    load1,
    load5,
    load15,
    disks,
    disksSkipped,
  };
}

type Filesystem = { mount: string; size: number; used: number; available: number; use: number };

/**
 * A configured disk is normally a mount point. A path inside a filesystem (say
 * /var/lib/vigil) is measured as the filesystem that holds it, so an operator can name
 * the directory they care about. A path that does not exist is left out with a reason:
 * a NaN would turn "max disk usage" into NaN and silently disable the disk rules.
 */
async function matchDisks(configured: string[], filesystems: Filesystem[]): Promise<{ disks: DiskSample[]; disksSkipped: DiskSkipped[] }> {
  const disks: DiskSample[] = [];
  const disksSkipped: DiskSkipped[] = [];
  for (const mount of configured) {
    let fsys = filesystems.find((f) => f.mount === mount);
    if (!fsys) {
      let real: string;
      try {
        real = await realpath(mount);
      } catch (e) {
        disksSkipped.push({ mount, reason: `no such path (${(e as NodeJS.ErrnoException).code ?? String(e)})` });
        continue;
      }
      fsys = longestMountPrefix(real, filesystems);
      if (!fsys) {
        disksSkipped.push({ mount, reason: `df lists no filesystem holding ${real}` });
        continue;
      }
    }
    disks.push({
      mount,
      // df's Use% convention: used / (used + available), i.e. blocks reserved for root count as full.
      usedPercent: fsys.used + fsys.available > 0 ? clampPercent((fsys.used / (fsys.used + fsys.available)) * 100) : 0,
      usedBytes: fsys.used,
      sizeBytes: fsys.size,
    });
  }
  return { disks, disksSkipped };
}

function longestMountPrefix(path: string, filesystems: Filesystem[]): Filesystem | undefined {
  let best: Filesystem | undefined;
  for (const f of filesystems) {
    const inside = f.mount === '/' || path === f.mount || path.startsWith(f.mount + '/');
    if (inside && (!best || f.mount.length > best.mount.length)) best = f;
  }
  return best;
}

function clampPercent(x: number): number {
  if (!Number.isFinite(x)) return 0;
  return Math.min(100, Math.max(0, x));
}

export interface SamplerOptions {
  intervalMs: number;
  disks: string[];
  /** `at` is the slot the sample belongs to: a multiple of intervalMs, so series line up across restarts. */
  onSample: (sample: SystemSample, at: number) => void | Promise<void>;
  onError: (err: VigilError) => void;
  /** A slot was skipped because the previous sample had not finished (a hung df, an overloaded box). */
  onSkip?: (at: number) => void;
  setTimer?: SetTimer;
  clock?: Clock;
  /** Replaces sampleSystem; for callers that sample something else on the same schedule. */
  sample?: () => Promise<SystemSample>;
}

/**
 * Samples every intervalMs, aligned to multiples of intervalMs, never two at once.
 * Returns stop(): after it resolves no sample is in flight and onSample is not called again.
 */
export function startSampler(opts: SamplerOptions): () => Promise<void> {
  const sample = opts.sample ?? (() => sampleSystem({ disks: opts.disks }));
  let stopped = false;
  const ticker = startTicker({
    intervalMs: opts.intervalMs,
    clock: opts.clock,
    setTimer: opts.setTimer,
    onSkip: opts.onSkip,
    run: async (at) => {
      let s: SystemSample;
      try {
        s = await sample();
      } catch (e) {
        if (!stopped) opts.onError(new VigilError('VIGIL_COLLECT_FAILED', `system sample failed: ${errorText(e)}`, { cause: e }));
        return;
      }
      if (stopped) return;
      try {
        await opts.onSample(s, at);
      } catch (e) {
        opts.onError(new VigilError('VIGIL_COLLECT_FAILED', `storing the system sample failed: ${errorText(e)}`, { cause: e }));
      }
    },
  });
  return async () => {
    stopped = true;
    await ticker.stop();
  };
}
