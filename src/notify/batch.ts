import { describeError } from './http.js';
import type { AlertMessage, SendOutcome } from './types.js';

/** The alerts of a batch this channel should deliver (resolved ones only if it sends them). */
export function deliverable(batch: AlertMessage[], sendResolved: boolean): AlertMessage[] {
  return sendResolved ? batch : batch.filter((a) => a.state !== 'resolved');
}

/**
 * Runs a channel's delivery so that nothing escapes as an exception: a bug or an unexpected
 * library error still becomes a (transient) outcome the dispatcher can record and retry.
 */
export async function neverThrow(label: string, deliver: () => Promise<SendOutcome>): Promise<SendOutcome> {
  try {
    return await deliver();
  } catch (err) {
    return { ok: false, retry: 'transient', message: `${label}: unexpected error: ${describeError(err)}` };
  }
}
