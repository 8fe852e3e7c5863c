/** Reads of the alert tables for tests: the agent and the API read them through StoreReads. */
import type { DB } from '../../src/store/db.js';

export interface EpisodeRow {
  id: number;
  alertKey: string;
  rule: string;
  severity: string;
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'resolved' | 'inactive';
  summary: string;
  description: string | null;
  facts: Record<string, unknown> | null;
  startedAt: number;
  firingAt: number | null;
  resolvedAt: number | null;
  lastNotifiedAt: number | null;
}

/** Newest episodes first (for tests; the API reads alerts through StoreReads). */
export function recentEpisodes(db: DB, limit = 50): EpisodeRow[] {
  const rows = db
    .prepare(
      `SELECT id, alert_key AS alertKey, rule, severity, labels, state, summary, description, facts, started_at AS startedAt,
         firing_at AS firingAt, resolved_at AS resolvedAt, last_notified_at AS lastNotifiedAt FROM alerts ORDER BY id DESC LIMIT ?`,
    )
    .all(limit) as (Omit<EpisodeRow, 'labels' | 'facts'> & { labels: string; facts: string | null })[];
  return rows.map((r) => ({
    ...r,
    labels: JSON.parse(r.labels) as EpisodeRow['labels'],
    facts: r.facts === null ? null : (JSON.parse(r.facts) as EpisodeRow['facts']),
  }));
}

/** Transitions of one episode, oldest first. */
export function transitionsOf(db: DB, alertId: number): { at: number; state: string; summary: string }[] {
  return db.prepare(`SELECT at, state, summary FROM alert_transitions WHERE alert_id = ? ORDER BY id`).all(alertId) as {
    at: number;
    state: string;
    summary: string;
  }[];
}
