import { severityRank, type AlertMessage } from './types.js';

/** `{k="v", …}` with keys sorted, the way Prometheus prints a label set. */
export function formatLabels(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(', ')}}`;
}

export function stateWord(state: AlertMessage['state']): 'FIRING' | 'RESOLVED' {
  return state === 'firing' ? 'FIRING' : 'RESOLVED';
}

/** Cuts text to `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * A one-line title for a batch: `FIRING warning high_error_rate {stage="merging"}` for one
 * alert; for a group, the counts per state, the highest severity, the rule(s) and the labels
 * every alert shares.
 */
export function batchTitle(batch: AlertMessage[]): string {
  const first = batch[0];
  if (!first) return '';
  if (batch.length === 1) return [stateWord(first.state), first.severity, first.rule, formatLabels(first.labels)].filter(Boolean).join(' ');
  const firing = batch.filter((a) => a.state === 'firing').length;
  const resolved = batch.length - firing;
  const states = [firing ? `FIRING:${firing}` : '', resolved ? `RESOLVED:${resolved}` : ''].filter(Boolean).join(' ');
  const severity = batch.reduce((s, a) => (severityRank(a.severity) > severityRank(s) ? a.severity : s), first.severity);
  const rules = [...new Set(batch.map((a) => a.rule))].sort().join(', ');
  return [states, severity, rules, formatLabels(commonLabels(batch))].filter(Boolean).join(' ');
}

export function commonLabels(batch: AlertMessage[]): Record<string, string> {
  const [first, ...rest] = batch;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first.labels)) {
    if (rest.every((a) => a.labels[k] === v)) out[k] = v;
  }
  return out;
}

function formatValue(v: number | boolean | string | null): string {
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toPrecision(6)));
  return String(v);
}

/** `error_rate=0.125, total_operations=40`: an alert's fact values in one line ('' when none). */
export function formatValues(values: AlertMessage['values']): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(', ');
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
