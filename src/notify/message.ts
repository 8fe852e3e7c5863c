/**
 * A recorded alert transition → the AlertMessage a channel receives. The ids are what makes
 * at-least-once delivery safe: `id` is the same for every notification of one alert identity
 * (PagerDuty's dedup_key), `notificationId` is the same for every retry of one notification.
 */
import { createHash } from 'node:crypto';
import type { Transition } from '../rules/engine.js';
import type { NotifyKind } from '../rules/state.js';
import type { AlertMessage } from './types.js';

/** A transition once the store has given it its alert row (what AlertStore.record hands to onNotify). */
export type NotifiableTransition = Transition & { alertId: number };

/** rule + sorted labels (the engine's alertKey), hashed: stable across restarts and episodes. */
export function alertMessageId(alertKey: string): string {
  return createHash('sha256').update(alertKey).digest('hex').slice(0, 16);
}

/** Unique per transition (and per repeat) and channel; a retry of the same row keeps it. */
export function notificationId(alertId: number, kind: NotifyKind, at: number, channel: string): string {
  return `${alertId}:${kind}:${at}:${channel}`;
}

/**
 * Same set of notifications → same key, whatever their order in the batch: a retried batch
 * carries the key of its first attempt, so a receiver can recognise the repeat.
 */
export function batchKey(batch: readonly AlertMessage[]): string {
  const ids = batch.map((a) => a.notificationId).sort();
  return createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32);
}

export interface MessageTimes {
  /** When the alert started firing (repeat and resolved notifications carry the original start). */
  startsAt: number;
}

export function toAlertMessage(t: NotifiableTransition, kind: NotifyKind, channel: string, times: MessageTimes): AlertMessage {
  const resolved = kind === 'resolved';
  const msg: AlertMessage = {
    id: alertMessageId(t.alertKey),
    rule: t.rule,
    state: resolved ? 'resolved' : 'firing',
    severity: t.severity,
    labels: { ...t.labels },
    summary: t.summary,
    values: { ...t.values },
    startsAt: times.startsAt,
    notificationId: notificationId(t.alertId, kind, t.at, channel),
  };
  if (t.description !== undefined) msg.description = t.description;
  if (resolved) msg.endsAt = t.at;
  return msg;
}
