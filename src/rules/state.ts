/**
 * The alert state machine, Prometheus style: a pure step from the previous state,
 * whether the condition holds now, and the time. `vigil run`, `vigil replay` and
 * `vigil rules test` all drive this same function.
 *
 *   inactive ──holds──▶ pending ──held for `for`──▶ firing ──stops holding
 *      ▲                  │ (for: 0 fires at once)     │   (after keep_firing_for)
 *      └──stops holding───┘                            └──▶ resolved (= inactive)
 */

export type AlertStateName = 'inactive' | 'pending' | 'firing';

export interface AlertState {
  state: AlertStateName;
  /** When the condition started holding (the pending start); null when inactive. */
  activeSince: number | null;
  firingSince: number | null;
  lastHeldAt: number | null;
  /** Last firing/repeat/resolved notification. */
  lastNotifiedAt: number | null;
  /** First evaluation at which a firing alert stopped holding (keep_firing_for runs from here). */
  keepFiringSince: number | null;
  resolvedAt: number | null;
}

export interface StepTimings {
  forMs: number;
  keepFiringForMs: number;
  /** 0: never re-notify. */
  repeatIntervalMs: number;
}

/** 'inactive' is a pending alert that stopped holding before it fired: recorded, never notified. */
export type TransitionKind = 'pending' | 'firing' | 'resolved' | 'inactive';
export type NotifyKind = 'firing' | 'repeat' | 'resolved';

export interface StepResult {
  next: AlertState;
  transition?: TransitionKind;
  notify?: NotifyKind;
}

export const INACTIVE: AlertState = Object.freeze({
  state: 'inactive',
  activeSince: null,
  firingSince: null,
  lastHeldAt: null,
  lastNotifiedAt: null,
  keepFiringSince: null,
  resolvedAt: null,
});

function fire(s: AlertState, now: number): StepResult {
  return { next: { ...s, state: 'firing', firingSince: now, lastNotifiedAt: now }, transition: 'firing', notify: 'firing' };
}

function stayFiring(s: AlertState, now: number, t: StepTimings): StepResult {
  const due = t.repeatIntervalMs > 0 && s.lastNotifiedAt !== null && now - s.lastNotifiedAt >= t.repeatIntervalMs;
  return due ? { next: { ...s, lastNotifiedAt: now }, notify: 'repeat' } : { next: s };
}

export function step(prev: AlertState | undefined, holds: boolean, now: number, t: StepTimings): StepResult {
  const p = prev ?? INACTIVE;
  if (holds) {
    switch (p.state) {
      case 'inactive': {
        const pending: AlertState = {
          ...INACTIVE,
          state: 'pending',
          activeSince: now,
          lastHeldAt: now,
        };
        return t.forMs <= 0 ? fire(pending, now) : { next: pending, transition: 'pending' };
      }
      case 'pending': {
        const held = { ...p, lastHeldAt: now };
        return now - (p.activeSince ?? now) >= t.forMs ? fire(held, now) : { next: held };
      }
      case 'firing':
        return stayFiring({ ...p, lastHeldAt: now, keepFiringSince: null }, now, t);
    }
  }
  switch (p.state) {
    case 'inactive':
      return { next: p };
    case 'pending':
      return { next: { ...INACTIVE, lastHeldAt: p.lastHeldAt }, transition: 'inactive' };
    case 'firing': {
      if (t.keepFiringForMs > 0) {
        const since = p.keepFiringSince ?? now;
        if (now - since < t.keepFiringForMs) return stayFiring({ ...p, keepFiringSince: since }, now, t);
      }
      return {
        next: { ...p, state: 'inactive', keepFiringSince: null, resolvedAt: now, lastNotifiedAt: now },
        transition: 'resolved',
        notify: 'resolved',
      };
    }
  }
}
