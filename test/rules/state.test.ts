import { describe, expect, it } from 'vitest';
import { INACTIVE, step, type AlertState, type StepResult, type StepTimings } from '../../src/rules/state.js';

const base = Date.UTC(2024, 0, 1, 12, 0, 0);
const MIN = 60_000;
const t = (i: number) => base + i * MIN;

type Row = [minute: number, holds: boolean, state: AlertState['state'], transition?: StepResult['transition'], notify?: StepResult['notify']];

/** Steps through the rows in order and checks every result (Prometheus-style: eval at base, base+1m, …). */
function run(timings: StepTimings, rows: Row[]): AlertState {
  let s: AlertState | undefined;
  for (const [i, holds, state, transition, notify] of rows) {
    const r = step(s, holds, t(i), timings);
    expect({ at: i, state: r.next.state, transition: r.transition, notify: r.notify }).toEqual({ at: i, state, transition, notify });
    s = r.next;
  }
  return s!;
}

const T = (forMin: number, keepMin = 0, repeatMin = 0): StepTimings => ({ forMs: forMin * MIN, keepFiringForMs: keepMin * MIN, repeatIntervalMs: repeatMin * MIN });

describe('step', () => {
  it('stays inactive without a previous state while nothing holds', () => {
    run(T(5), [
      [0, false, 'inactive'],
      [1, false, 'inactive'],
    ]);
    expect(step(undefined, false, t(0), T(5)).next).toEqual(INACTIVE);
  });

  it('for: 0 fires at once, resolves on the first evaluation that does not hold', () => {
    const s = run(T(0), [
      [0, true, 'firing', 'firing', 'firing'],
      [1, true, 'firing'],
      [2, false, 'inactive', 'resolved', 'resolved'],
      [3, false, 'inactive'],
    ]);
    expect(s.resolvedAt).toBe(t(2));
    expect(s.firingSince).toBe(t(0));
  });

  it('for: 5m goes pending, then fires exactly 5m after it started holding', () => {
    const s = run(T(5), [
      [0, true, 'pending', 'pending'],
      [1, true, 'pending'],
      [2, true, 'pending'],
      [3, true, 'pending'],
      [4, true, 'pending'],
      [5, true, 'firing', 'firing', 'firing'],
      [6, true, 'firing'],
    ]);
    expect(s).toMatchObject({ state: 'firing', activeSince: t(0), firingSince: t(5), lastHeldAt: t(6), lastNotifiedAt: t(5) });
  });

  it('a pending alert that stops holding goes back to inactive without notifying, and starts over', () => {
    run(T(5), [
      [0, true, 'pending', 'pending'],
      [3, true, 'pending'],
      [4, false, 'inactive', 'inactive'],
      [5, true, 'pending', 'pending'],
      [9, true, 'pending'],
      [10, true, 'firing', 'firing', 'firing'],
    ]);
  });

  it('evaluations further apart than `for` still go through pending first', () => {
    run(T(5), [
      [0, true, 'pending', 'pending'],
      [30, true, 'firing', 'firing', 'firing'],
    ]);
  });

  it('keep_firing_for keeps a firing alert firing from the first evaluation that no longer holds', () => {
    const s = run(T(0, 2), [
      [0, true, 'firing', 'firing', 'firing'],
      [1, false, 'firing'],
      [2, false, 'firing'],
      [3, false, 'inactive', 'resolved', 'resolved'],
    ]);
    expect(s.keepFiringSince).toBeNull();
  });

  it('keep_firing_for restarts when the condition holds again meanwhile', () => {
    run(T(0, 2), [
      [0, true, 'firing', 'firing', 'firing'],
      [1, false, 'firing'],
      [2, true, 'firing'],
      [3, false, 'firing'],
      [4, false, 'firing'],
      [5, false, 'inactive', 'resolved', 'resolved'],
    ]);
  });

  it('keep_firing_for does not apply to a pending alert', () => {
    run(T(5, 10), [
      [0, true, 'pending', 'pending'],
      [1, false, 'inactive', 'inactive'],
    ]);
  });

  it('repeat_interval re-notifies a still-firing alert, counted from the last notification', () => {
    run(T(0, 0, 3), [
      [0, true, 'firing', 'firing', 'firing'],
      [1, true, 'firing'],
      [2, true, 'firing'],
      [3, true, 'firing', undefined, 'repeat'],
      [4, true, 'firing'],
      [5, true, 'firing'],
      [6, true, 'firing', undefined, 'repeat'],
      [7, false, 'inactive', 'resolved', 'resolved'],
    ]);
  });

  it('repeat_interval also runs while keep_firing_for keeps the alert firing', () => {
    run(T(0, 5, 2), [
      [0, true, 'firing', 'firing', 'firing'],
      [1, false, 'firing'],
      [2, false, 'firing', undefined, 'repeat'],
      [3, false, 'firing'],
      [4, false, 'firing', undefined, 'repeat'],
      [5, false, 'firing'],
      [6, false, 'inactive', 'resolved', 'resolved'],
    ]);
  });

  it('without repeat_interval a firing alert notifies once, however long it fires', () => {
    let s: AlertState | undefined;
    const notes: string[] = [];
    for (let i = 0; i <= 24 * 60; i += 15) {
      const r = step(s, true, t(i), T(0));
      if (r.notify) notes.push(r.notify);
      s = r.next;
    }
    expect(notes).toEqual(['firing']);
  });

  it('a resolved alert that holds again is a new alert: pending, then firing with a new firingSince', () => {
    const s = run(T(2), [
      [0, true, 'pending', 'pending'],
      [2, true, 'firing', 'firing', 'firing'],
      [3, false, 'inactive', 'resolved', 'resolved'],
      [4, true, 'pending', 'pending'],
      [5, true, 'pending'],
      [6, true, 'firing', 'firing', 'firing'],
    ]);
    expect(s).toMatchObject({ activeSince: t(4), firingSince: t(6), resolvedAt: null });
  });

  it('never mutates the previous state', () => {
    const prev = Object.freeze({ ...INACTIVE, state: 'firing' as const, activeSince: t(0), firingSince: t(0), lastHeldAt: t(0), lastNotifiedAt: t(0) });
    expect(() => step(prev, false, t(1), T(0, 5, 1))).not.toThrow();
    expect(() => step(prev, true, t(1), T(0, 5, 1))).not.toThrow();
    expect(prev.keepFiringSince).toBeNull();
  });

  // Every holds-sequence of 8 evaluations under every combination of for / keep_firing_for / repeat_interval,
  // checked against the lifecycle rules rather than against a second implementation.
  it('obeys the lifecycle on every sequence of 8 evaluations', () => {
    const N = 8;
    let checked = 0;
    for (const forMin of [0, 1, 3]) {
      for (const keepMin of [0, 2]) {
        for (const repeatMin of [0, 2]) {
          const timings = T(forMin, keepMin, repeatMin);
          for (let mask = 0; mask < 1 << N; mask++) {
            const holds = Array.from({ length: N }, (_, i) => (mask & (1 << i)) !== 0);
            let s: AlertState | undefined;
            let lastTransition: string | undefined;
            for (let i = 0; i < N; i++) {
              const r = step(s, holds[i]!, t(i), timings);
              const was = s?.state ?? 'inactive';
              // notifications go with their transitions; repeats only while firing and when due
              if (r.notify === 'firing') expect(r.transition).toBe('firing');
              if (r.notify === 'resolved') expect(r.transition).toBe('resolved');
              if (r.transition === 'firing' || r.transition === 'resolved') expect(r.notify).toBe(r.transition);
              if (r.notify === 'repeat') {
                expect(r.transition).toBeUndefined();
                expect(was).toBe('firing');
                expect(repeatMin).toBeGreaterThan(0);
                expect(t(i) - s!.lastNotifiedAt!).toBeGreaterThanOrEqual(repeatMin * MIN);
              }
              // firing needs `for` minutes of uninterrupted holding, ending now
              if (r.transition === 'firing') {
                for (let k = i - forMin; k <= i; k++) expect(holds[k]).toBe(true);
                expect(was).not.toBe('firing');
              }
              // pending only when `for` > 0; 'inactive' only out of pending
              if (r.transition === 'pending') expect(forMin).toBeGreaterThan(0);
              if (r.transition === 'inactive') expect(was).toBe('pending');
              // resolved only out of firing, after keep_firing_for evaluations without holding
              if (r.transition === 'resolved') {
                expect(was).toBe('firing');
                for (let k = i - keepMin; k <= i; k++) expect(holds[k]).toBe(false);
              }
              // a firing alert that still holds stays firing
              if (was === 'firing' && holds[i]) expect(r.next.state).toBe('firing');
              if (r.transition) {
                if (lastTransition === 'firing') expect(r.transition).toBe('resolved');
                lastTransition = r.transition;
              }
              s = r.next;
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe(3 * 2 * 2 * 256 * 8);
  });
});
