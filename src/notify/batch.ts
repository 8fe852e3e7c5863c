import { describeError } from './http.js';
import type { AlertMessage, SendOutcome } from './types.js';

/**
 * Every channel's send(): hands `deliver` the alerts of the batch this channel delivers (resolved
 * ones only if it sends them; no call at all when none are left), and lets nothing escape as an
 * exception — a bug or an unexpected library error still becomes a (transient) outcome the
 * dispatcher can record and retry.
 */
export async function sendBatch(
  label: string,
  batch: AlertMessage[],
  sendResolved: boolean,
  deliver: (alerts: AlertMessage[]) => Promise<SendOutcome>,
): Promise<SendOutcome> {
  try {
    const alerts = sendResolved ? batch : batch.filter((a) => a.state !== 'resolved');
    if (alerts.length === 0) return { ok: true };
    return await deliver(alerts);
  } catch (err) {
    return { ok: false, retry: 'transient', message: `${label}: unexpected error: ${describeError(err)}` };
  }
}
