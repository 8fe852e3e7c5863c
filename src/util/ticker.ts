import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';

/** Schedules `fn` after `ms`; returns a function that cancels it. Injected so tests step time themselves. */
export type SetTimer = (fn: () => void, ms: number) => () => void;

export const realSetTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  // A sampler alone must not keep a CLI command (or a test run) alive.
  t.unref();
  return () => clearTimeout(t);
};

export interface TickerOptions {
  intervalMs: number;
  /** One unit of work for the slot starting at `slotMs` (a multiple of intervalMs since the epoch). */
  run: (slotMs: number) => Promise<void>;
  /** Called when a slot is skipped because the previous run is still going. */
  onSkip?: (slotMs: number) => void;
  clock?: Clock;
  setTimer?: SetTimer;
}

export interface Ticker {
  /** Stops scheduling; resolves once a run in flight has settled, so nothing runs after it. */
  stop(): Promise<void>;
}

/**
 * Runs `run` at every multiple of intervalMs on the clock. The next slot is computed
 * from the clock each time rather than by adding intervalMs to the last firing, so a
 * late timer never makes the series drift, and slots that passed while the process was
 * stalled are dropped instead of fired in a burst. A slot that comes while the previous
 * run is still going is skipped: samples never overlap and never queue up.
 */
export function startTicker(opts: TickerOptions): Ticker {
  const { intervalMs, run, onSkip } = opts;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
  const clock = opts.clock ?? systemClock;
  const setTimer = opts.setTimer ?? realSetTimer;
  let stopped = false;
  let cancel: (() => void) | null = null;
  let inFlight: Promise<void> | null = null;
  let lastSlot = -Infinity;

  const scheduleNext = (): void => {
    if (stopped) return;
    const now = clock.now();
    const next = (Math.floor(now / intervalMs) + 1) * intervalMs;
    cancel = setTimer(fire, next - now);
  };

  function fire(): void {
    cancel = null;
    if (stopped) return;
    // A timer may fire a hair early; round to the nearest slot so it still counts as that slot.
    const slot = Math.round(clock.now() / intervalMs) * intervalMs;
    if (slot <= lastSlot) {
      scheduleNext();
      return;
    }
    lastSlot = slot;
    if (inFlight) {
      onSkip?.(slot);
    } else {
      inFlight = Promise.resolve()
        .then(() => run(slot))
        .catch(() => {
          // run() reports its own errors; a throw here must not stop the series.
        })
        .finally(() => {
          inFlight = null;
        });
    }
    scheduleNext();
  }

  scheduleNext();
  return {
    async stop() {
      stopped = true;
      cancel?.();
      cancel = null;
      if (inFlight) await inFlight;
    },
  };
}
