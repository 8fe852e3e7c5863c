/**
 * Alert persistence: the engine's per-alert state (so a restart neither forgets a
 * firing alert nor announces it again), one `alerts` row per episode (pending →
 * firing → resolved) and every transition. One evaluation is recorded in ONE
 * transaction, and the notifications it makes due are enqueued inside that same
 * transaction by `onNotify`: a notification exists iff its transition does.
 */
import type { Statement } from 'better-sqlite3';
import type { DB } from './db.js';

/**
 * What the store keeps of an alert between evaluations and restarts. It is the engine's
 * TrackedAlert (rules/engine.ts) spelled where it is stored: the store builds on nothing
 * above it, and the rule runner reads and records TrackedAlerts through it, so the compiler
 * holds the two shapes equal.
 */
export interface PersistedAlert {
  rule: string;
  /** Static labels and group values, keys sorted. */
  labels: Record<string, string>;
  state: 'inactive' | 'pending' | 'firing';
  activeSince: number | null;
  firingSince: number | null;
  lastHeldAt: number | null;
  lastNotifiedAt: number | null;
  keepFiringSince: number | null;
  resolvedAt: number | null;
}

/** What the store reads of a transition (the engine's Transition is one). */
export interface StoredTransition {
  at: number;
  rule: string;
  alertKey: string;
  state: 'pending' | 'firing' | 'resolved' | 'inactive';
  severity: string;
  labels: Record<string, string>;
  summary: string;
  description?: string;
  values: Readonly<Record<string, unknown>>;
  notify?: 'firing' | 'repeat' | 'resolved';
}

/** A transition as stored: `alertId` is the episode's row in `alerts`. */
export type Recorded<T extends StoredTransition> = T & { alertId: number };

export interface RecordInput<T extends StoredTransition> {
  /** Every alert pending or firing after the evaluation (evaluate()'s `states`). */
  states: ReadonlyMap<string, PersistedAlert>;
  transitions: readonly T[];
  /**
   * Firing alerts whose notification was held (they fired while catching up): each is
   * notified now as its episode fired — same summary, the true firing time — without a
   * new transition row (its history already has one).
   */
  announce?: readonly string[];
  /** The time of an announcement (last_notified_at); default: the episode's firing time. */
  now?: number;
}

/** Called inside the recording transaction for every transition with `notify` set; a throw rolls the whole evaluation back. */
export type OnNotify<T extends StoredTransition> = (t: Recorded<T>) => void;

export class AlertStore {
  private readonly s: Record<
    'openEpisode' | 'openFiring' | 'announced' | 'insertAlert' | 'toFiring' | 'repeat' | 'close' | 'insertTransition' | 'upsertState' | 'deleteState' | 'allStates',
    Statement
  >;
  /** alert_key → the JSON stored in alert_state; only changed states are written. */
  private stored: Map<string, string> | null = null;
  private readonly tx: (input: RecordInput<StoredTransition>, onNotify: OnNotify<StoredTransition> | undefined) => Recorded<StoredTransition>[];

  constructor(private readonly db: DB) {
    this.s = {
      openEpisode: db.prepare(`SELECT id FROM alerts WHERE alert_key = ? AND state IN ('pending', 'firing') ORDER BY id DESC LIMIT 1`),
      openFiring: db.prepare(`SELECT id, rule, severity, labels, summary, description, facts, firing_at AS firingAt FROM alerts
        WHERE alert_key = ? AND state = 'firing' ORDER BY id DESC LIMIT 1`),
      announced: db.prepare(`UPDATE alerts SET last_notified_at = ? WHERE id = ?`),
      insertAlert: db.prepare(`INSERT INTO alerts (alert_key, rule, severity, labels, state, summary, description, facts, started_at, firing_at, resolved_at, last_notified_at)
        VALUES (@alertKey, @rule, @severity, @labels, @state, @summary, @description, @facts, @startedAt, @firingAt, NULL, @lastNotifiedAt)`),
      toFiring: db.prepare(`UPDATE alerts SET state = 'firing', severity = @severity, summary = @summary, description = @description, facts = @facts,
        firing_at = @at, last_notified_at = coalesce(@notifiedAt, last_notified_at) WHERE id = @id`),
      repeat: db.prepare(`UPDATE alerts SET summary = @summary, description = @description, facts = @facts, last_notified_at = @at WHERE id = @id`),
      // The summary stays the one the alert fired (or went pending) with: that is what an
      // operator was told; what the facts read at the end is kept in alert_transitions.
      close: db.prepare(`UPDATE alerts SET state = @state, facts = @facts, resolved_at = @at, last_notified_at = coalesce(@notifiedAt, last_notified_at) WHERE id = @id`),
      insertTransition: db.prepare(`INSERT INTO alert_transitions (alert_id, at, state, summary) VALUES (?, ?, ?, ?)`),
      upsertState: db.prepare(`INSERT INTO alert_state (alert_key, state) VALUES (?, ?) ON CONFLICT (alert_key) DO UPDATE SET state = excluded.state`),
      deleteState: db.prepare(`DELETE FROM alert_state WHERE alert_key = ?`),
      allStates: db.prepare(`SELECT alert_key AS key, state FROM alert_state ORDER BY alert_key`),
    };
    this.tx = db.transaction((input: RecordInput<StoredTransition>, onNotify: OnNotify<StoredTransition> | undefined) => this.write(input, onNotify));
  }

  /** The engine state saved by the last record(): pending timers and firing alerts survive a restart. */
  loadStates(): Map<string, PersistedAlert> {
    const out = new Map<string, PersistedAlert>();
    const stored = new Map<string, string>();
    for (const row of this.s.allStates.all() as { key: string; state: string }[]) {
      stored.set(row.key, row.state);
      let parsed: unknown;
      try {
        parsed = JSON.parse(row.state);
      } catch {
        continue; // unreadable: the alert starts over as inactive
      }
      if (isTracked(parsed)) out.set(row.key, parsed);
    }
    this.stored = stored;
    return out;
  }

  /**
   * Stores one evaluation: alert_state follows `states` exactly, each transition updates
   * its episode in `alerts` and gets an `alert_transitions` row, and `onNotify` runs for
   * each due notification — all in one transaction. Returns the transitions with their
   * episode ids, in the order given. Every transition carries its own time (`at`).
   */
  record<T extends StoredTransition>(input: RecordInput<T>, onNotify?: OnNotify<T>): Recorded<T>[] {
    if (this.stored === null) this.loadStates();
    const before = new Map(this.stored!);
    try {
      // The transaction adds alertId to each transition it is given, and an announcement is
      // rebuilt from the row an earlier record() wrote from a T: either way a T comes out.
      return this.tx(input, onNotify as OnNotify<StoredTransition> | undefined) as Recorded<T>[];
    } catch (e) {
      this.stored = before; // the transaction rolled back: so does what we believe is stored
      throw e;
    }
  }

  /** Severity and summary of the newest episode of an alert (what its last notification said). */
  lastEpisode(alertKey: string): { severity: string; summary: string } | undefined {
    return this.db.prepare(`SELECT severity, summary FROM alerts WHERE alert_key = ? ORDER BY id DESC LIMIT 1`).get(alertKey) as
      | { severity: string; summary: string }
      | undefined;
  }

  private write(input: RecordInput<StoredTransition>, onNotify: OnNotify<StoredTransition> | undefined): Recorded<StoredTransition>[] {
    const stored = this.stored!;
    for (const [key, st] of input.states) {
      const json = JSON.stringify(st);
      if (stored.get(key) === json) continue;
      this.s.upsertState.run(key, json);
      stored.set(key, json);
    }
    for (const key of [...stored.keys()]) {
      if (input.states.has(key)) continue;
      this.s.deleteState.run(key);
      stored.delete(key);
    }

    const out: Recorded<StoredTransition>[] = [];
    for (const t of input.transitions) {
      const alertId = this.episode(t, input.states.get(t.alertKey));
      const rt: Recorded<StoredTransition> = { ...t, alertId };
      out.push(rt);
      if (t.notify && onNotify) onNotify(rt);
    }
    for (const key of input.announce ?? []) {
      const row = this.s.openFiring.get(key) as
        | { id: number; rule: string; severity: string; labels: string; summary: string; description: string | null; facts: string | null; firingAt: number | null }
        | undefined;
      if (!row) continue; // its episode was pruned: nothing to say it about
      const at = row.firingAt ?? input.now ?? 0;
      this.s.announced.run(input.now ?? at, row.id);
      const rt: Recorded<StoredTransition> = {
        at,
        rule: row.rule,
        state: 'firing',
        severity: row.severity,
        labels: JSON.parse(row.labels) as Record<string, string>,
        summary: row.summary,
        values: row.facts === null ? {} : (JSON.parse(row.facts) as Record<string, unknown>),
        notify: 'firing',
        alertKey: key,
        alertId: row.id,
      };
      if (row.description !== null) rt.description = row.description;
      onNotify?.(rt);
    }
    return out;
  }

  /** Updates (or opens) the episode a transition belongs to and returns its id. */
  private episode(t: StoredTransition, st: PersistedAlert | undefined): number {
    const open = this.s.openEpisode.get(t.alertKey) as { id: number } | undefined;
    const facts = JSON.stringify(t.values);
    const description = t.description ?? null;
    const notifiedAt = t.notify ? t.at : null;
    const isRepeat = t.notify === 'repeat';
    if (isRepeat && open) {
      this.s.repeat.run({ id: open.id, summary: t.summary, description, facts, at: t.at });
      return open.id; // a re-notification is not a state change: no transition row
    }
    let id: number;
    if (t.state === 'pending' || (t.state === 'firing' && !open)) {
      id = this.insertEpisode(t, facts, st?.activeSince ?? t.at);
      if (isRepeat) return id; // a repeat whose episode row was pruned: re-opened, nothing transitioned
    } else if (t.state === 'firing') {
      id = open!.id;
      this.s.toFiring.run({ id, severity: t.severity, summary: t.summary, description, facts, at: t.at, notifiedAt });
    } else {
      // resolved / inactive. Without an open episode (pruned by retention) the end is
      // still recorded, on a row of its own, so the transition is never lost.
      id = open ? open.id : this.insertEpisode(t, facts, t.at);
      this.s.close.run({ id, state: t.state, facts, at: t.at, notifiedAt });
    }
    this.s.insertTransition.run(id, t.at, t.state, t.summary);
    return id;
  }

  /** A new episode row in the transition's state (firing since `t.at` when it is firing); returns its id. */
  private insertEpisode(t: StoredTransition, facts: string, startedAt: number): number {
    const row = {
      alertKey: t.alertKey,
      rule: t.rule,
      severity: t.severity,
      labels: JSON.stringify(t.labels),
      state: t.state,
      summary: t.summary,
      description: t.description ?? null,
      facts,
      startedAt,
      firingAt: t.state === 'firing' ? t.at : null,
      lastNotifiedAt: t.notify ? t.at : null,
    };
    return Number(this.s.insertAlert.run(row).lastInsertRowid);
  }
}

function isTracked(v: unknown): v is PersistedAlert {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.rule === 'string' &&
    typeof o.labels === 'object' &&
    o.labels !== null &&
    (o.state === 'pending' || o.state === 'firing' || o.state === 'inactive')
  );
}
