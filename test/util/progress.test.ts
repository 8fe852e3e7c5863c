import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { formatProgress, Progress } from '../../src/util/progress.js';

function stream(isTTY: boolean) {
  const out: string[] = [];
  return { out, s: { isTTY, write: (x: string) => out.push(x) } };
}

describe('Progress', () => {
  it('draws one line in place on a terminal: lines, MiB, rate, share and time left, at most every interval', () => {
    const clock = new ManualClock(0);
    const { out, s } = stream(true);
    const p = new Progress({ stream: s, clock, label: 'replay', intervalMs: 250, delayMs: 500 });
    p.update({ lines: 10, bytes: 1024, totalBytes: 4 * 1024 * 1024 });
    expect(out).toEqual([]); // short work stays quiet
    clock.set(1000);
    p.update({ lines: 100_000, bytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024 });
    clock.set(1100);
    p.update({ lines: 110_000, bytes: 1.1 * 1024 * 1024, totalBytes: 4 * 1024 * 1024 });
    expect(out).toEqual(['\rreplay: 100,000 lines, 1.0 MiB, 100k lines/s (1.0 MiB/s), 25%, 3 s left\x1b[K']);
    p.clear();
    expect(out[1]).toBe('\r\x1b[K');
  });

  it('stays silent when stderr is not a terminal', () => {
    const clock = new ManualClock(0);
    const { out, s } = stream(false);
    const p = new Progress({ stream: s, clock, label: 'replay' });
    clock.set(10_000);
    p.update({ lines: 1, bytes: 1 });
    p.clear();
    expect(out).toEqual([]);
    expect(p.enabled).toBe(false);
  });

  it('shows no time left without a total', () => {
    expect(formatProgress({ lines: 2_500_000, bytes: 0 }, 2000)).toBe('2,500,000 lines, 0.0 MiB, 1.3M lines/s (0.0 MiB/s)');
  });
});
