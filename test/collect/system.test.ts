import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { sampleSystem, startSampler, type SystemSample } from '../../src/collect/system.js';
import type { VigilError } from '../../src/errors.js';

function inPercentRange(x: number): void {
  expect(Number.isFinite(x)).toBe(true);
  expect(x).toBeGreaterThanOrEqual(0);
  expect(x).toBeLessThanOrEqual(100);
}

describe('sampleSystem (this machine)', () => {
  it('reports CPU, memory, load and the root filesystem in range', async () => {
    await sampleSystem({ disks: ['/'] }); // the first call in a process also sets the CPU baseline
    const s = await sampleSystem({ disks: ['/'] });
    inPercentRange(s.cpuPercent);
    inPercentRange(s.memoryPercent);
    expect(s.memoryTotalBytes).toBe(os.totalmem());
    expect(s.memoryUsedBytes).toBeGreaterThan(0);
    expect(s.memoryUsedBytes).toBeLessThanOrEqual(s.memoryTotalBytes);
    expect(s.memoryPercent).toBeCloseTo((s.memoryUsedBytes / s.memoryTotalBytes) * 100, 6);
    for (const l of [s.load1, s.load5, s.load15]) expect(l).toBeGreaterThanOrEqual(0);
    expect(s.disks.map((d) => d.mount)).toEqual(['/']);
    const root = s.disks[0]!;
    inPercentRange(root.usedPercent);
    expect(root.sizeBytes).toBeGreaterThan(0);
    expect(root.usedBytes).toBeLessThanOrEqual(root.sizeBytes);
    // same filesystem as statfs sees it (bytes may move a little between the two reads)
    const st = fs.statfsSync('/');
    expect(root.sizeBytes).toBe(st.blocks * st.bsize);
    expect(s.disksSkipped).toEqual([]);
  });

  it('uses memory the kernel cannot hand out (total - MemAvailable), not total - free', async () => {
    const s = await sampleSystem({ disks: [] });
    const meminfo = fs.readFileSync('/proc/meminfo', 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(meminfo)![1]) * 1024;
    const expectedUsed = kb('MemTotal') - kb('MemAvailable');
    // other processes allocate in between; 5% of RAM is far below the page cache gap this guards against
    expect(Math.abs(s.memoryUsedBytes - expectedUsed)).toBeLessThan(kb('MemTotal') * 0.05);
  });

  it('measures a directory as the filesystem holding it, and leaves out paths that do not exist, with a reason', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sys-'));
    try {
      const s = await sampleSystem({ disks: ['/', dir, '/no/such/mount'] });
      expect(s.disks.map((d) => d.mount)).toEqual(['/', dir]);
      const st = fs.statfsSync(dir);
      expect(s.disks[1]!.sizeBytes).toBe(st.blocks * st.bsize);
      expect(s.disksSkipped).toEqual([{ mount: '/no/such/mount', reason: expect.stringContaining('ENOENT') }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('startSampler', () => {
  /** Timers and clock the test moves itself: same code as live, no waiting. */
  function manualTime(start: number) {
    let now = start;
    let timers: { at: number; fn: () => void; id: number }[] = [];
    let nextId = 0;
    return {
      clock: { now: () => now },
      setTimer: (fn: () => void, ms: number) => {
        const id = nextId++;
        timers.push({ at: now + ms, fn, id });
        return () => {
          timers = timers.filter((t) => t.id !== id);
        };
      },
      pending: () => timers.length,
      async advanceTo(t: number) {
        for (;;) {
          timers.sort((a, b) => a.at - b.at);
          const due = timers[0];
          if (!due || due.at > t) break;
          timers.shift();
          now = due.at;
          due.fn();
          await new Promise((r) => setImmediate(r));
        }
        now = t;
        await new Promise((r) => setImmediate(r));
      },
    };
  }

  const fakeSample = (n: number): SystemSample => ({
    cpuPercent: n, memoryPercent: 0, memoryUsedBytes: 0, memoryTotalBytes: 1, load1: 0, load5: 0, load15: 0, disks: [], disksSkipped: [],
  });

  it('fires on multiples of the interval, whatever the start time, without drift', async () => {
    const t = manualTime(1_000_007);
    const at: number[] = [];
    let n = 0;
    const stop = startSampler({
      intervalMs: 15_000, disks: [], clock: t.clock, setTimer: t.setTimer,
      sample: async () => fakeSample(n++),
      onSample: (_s, when) => void at.push(when),
      onError: (e) => { throw e; },
    });
    await t.advanceTo(1_000_007 + 60_000);
    expect(at).toEqual([1_005_000, 1_020_000, 1_035_000, 1_050_000]);
    await stop();
    expect(t.pending()).toBe(0);
  });

  it('skips a slot while the previous sample is still running, and never runs two at once', async () => {
    const t = manualTime(0);
    let running = 0;
    let maxRunning = 0;
    const release: (() => void)[] = [];
    const skipped: number[] = [];
    const stored: number[] = [];
    const stop = startSampler({
      intervalMs: 1000, disks: [], clock: t.clock, setTimer: t.setTimer,
      sample: () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        return new Promise<SystemSample>((resolve) => release.push(() => { running--; resolve(fakeSample(0)); }));
      },
      onSample: (_s, when) => void stored.push(when),
      onSkip: (when) => void skipped.push(when),
      onError: (e) => { throw e; },
    });
    await t.advanceTo(3500); // slot 1000 starts and hangs; 2000 and 3000 are skipped
    expect(skipped).toEqual([2000, 3000]);
    expect(release).toHaveLength(1);
    release[0]!();
    await t.advanceTo(3600);
    expect(stored).toEqual([1000]);
    await t.advanceTo(4500); // slot 4000 runs
    expect(release).toHaveLength(2);
    release[1]!();
    await t.advanceTo(4600);
    expect(stored).toEqual([1000, 4000]);
    expect(maxRunning).toBe(1);
    await stop();
  });

  it('reports a failed sample as VIGIL_COLLECT_FAILED and keeps going', async () => {
    const t = manualTime(0);
    const errors: VigilError[] = [];
    const stored: number[] = [];
    let calls = 0;
    const stop = startSampler({
      intervalMs: 1000, disks: [], clock: t.clock, setTimer: t.setTimer,
      sample: async () => {
        if (calls++ === 0) throw new Error('df: /mnt/nfs: Stale file handle');
        return fakeSample(1);
      },
      onSample: (_s, when) => void stored.push(when),
      onError: (e) => void errors.push(e),
    });
    await t.advanceTo(2500);
    expect(errors.map((e) => [e.code, e.message])).toEqual([['VIGIL_COLLECT_FAILED', 'system sample failed: df: /mnt/nfs: Stale file handle']]);
    expect(stored).toEqual([2000]);
    await stop();
  });

  it('stop() waits for the sample in flight and drops its result', async () => {
    const t = manualTime(0);
    let release: (() => void) | null = null;
    const stored: number[] = [];
    const stop = startSampler({
      intervalMs: 1000, disks: [], clock: t.clock, setTimer: t.setTimer,
      sample: () => new Promise<SystemSample>((resolve) => { release = () => resolve(fakeSample(0)); }),
      onSample: (_s, when) => void stored.push(when),
      onError: (e) => { throw e; },
    });
    await t.advanceTo(1000);
    let stopped = false;
    const stopping = stop().then(() => { stopped = true; });
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release!();
    await stopping;
    expect(stored).toEqual([]);
    expect(t.pending()).toBe(0);
  });

  it('takes real samples of this machine on real timers', async () => {
    const samples: SystemSample[] = [];
    let stop!: () => Promise<void>;
    await new Promise<void>((resolve, reject) => {
      stop = startSampler({
        intervalMs: 250, disks: ['/'],
        onSample: (s) => { samples.push(s); if (samples.length === 2) resolve(); },
        onError: reject,
      });
    });
    await stop();
    for (const s of samples) {
      inPercentRange(s.cpuPercent);
      expect(s.disks[0]?.mount).toBe('/');
    }
  });
});
