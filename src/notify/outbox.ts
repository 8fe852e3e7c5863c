/**
 * The durable outbox: one `outbox` row per notification and channel, written in the same
 * transaction as the alert transition that causes it, so a crash can lose neither. The
 * dispatcher reads the rows back; every SQL statement on the table lives here.
 */
import type { Rule } from '../rules/rule.js';
import type { NotifyKind } from '../rules/state.js';
import type { DB } from '../store/db.js';
import { toAlertMessage, type NotifiableTransition } from './message.js';
import type { Router } from './router.js';
import { matchableLabels, SilenceStore, type Silence } from './silences.js';
import type { AlertMessage, Channel } from './types.js';

export type OutboxStatus = 'pending' | 'delivered' | 'failed' | 'expired' | 'silenced';

export interface OutboxRow {
  id: number;
  notificationId: string;
  channel: string;
  alertId: number | null;
  alertKey: string;
  kind: NotifyKind;
  message: AlertMessage;
  createdAt: number;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
}

interface RawRow {
  id: number;
  notification_id: string;
  channel: string;
  alert_id: number | null;
  alert_key: string;
  kind: NotifyKind;
  payload: string;
  created_at: number;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
}

function fromRaw(r: RawRow): OutboxRow {
  return {
    id: r.id,
    notificationId: r.notification_id,
    channel: r.channel,
    alertId: r.alert_id,
    alertKey: r.alert_key,
    kind: r.kind,
    message: JSON.parse(r.payload) as AlertMessage,
    createdAt: r.created_at,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
  };
}

export interface PendingChannel {
  channel: string;
  due: number;
  retryAt: number | null;
  oldest: number;
}

export interface ChannelCounts {
  pending: number;
  failed: number;
  expired: number;
  /** Age of the oldest pending row of the channel, ms; null when none. */
  oldestPendingAgeMs: number | null;
}

/** The totals over every channel, and each channel's own. */
export interface OutboxCounts extends ChannelCounts {
  channels: Record<string, ChannelCounts>;
}

export interface TriggerRow {
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
}

/**
 * Whether a resolve would announce an alert the receiver never heard of: every trigger on the
 * channel was muted before any attempt. A trigger muted after a failed attempt may still have
 * arrived (a timeout is no proof it did not), so its resolve goes out: a resolve too many is
 * harmless, an incident never closed is not.
 */
function triggersNeverSent(triggers: readonly TriggerRow[]): boolean {
  return triggers.length > 0 && triggers.every((r) => r.status === 'silenced' && r.attempts === 0);
}

/**
 * Why a notification is muted, or null: a silence matching its alert, or, for a resolve, that
 * its triggers on the channel never went out (`triggers` is read only then). The one rule for a
 * row being queued (Outbox.enqueue) and for a row about to be sent (the dispatcher, which says
 * in `when` how far the row got).
 */
export function muteReason(silence: Pick<Silence, 'id'> | undefined, kind: NotifyKind, triggers: () => readonly TriggerRow[], when = ''): string | null {
  if (silence) return `silenced by silence ${silence.id}${when}`;
  return kind === 'resolved' && triggersNeverSent(triggers()) ? 'its trigger was silenced' : null;
}

/** Messages stored in last_error are bounded: a receiver's error page is not worth a megabyte. */
const ERROR_MAX = 1000;
const bounded = (s: string) => (s.length > ERROR_MAX ? `${s.slice(0, ERROR_MAX - 1)}…` : s);

function prepareStatements(db: DB) {
  return {
    insert: db.prepare(
      `INSERT OR IGNORE INTO outbox (notification_id, channel, alert_id, alert_key, kind, payload, created_at, status, attempts, next_attempt_at, last_error)
       VALUES (@notificationId, @channel, @alertId, @alertKey, @kind, @payload, @createdAt, @status, 0, @nextAttemptAt, @lastError)`,
    ),
    waitingGroup: db.prepare(
      `SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'pending' AND channel = ? AND attempts = 0 AND next_attempt_at > ?`,
    ),
    lastNotified: db.prepare(
      `SELECT max(created_at) AS at FROM outbox WHERE alert_key = ? AND channel = ? AND kind IN ('firing', 'repeat') AND status <> 'silenced'`,
    ),
    triggers: db.prepare(`SELECT status, attempts, next_attempt_at AS nextAttemptAt FROM outbox WHERE alert_id = ? AND channel = ? AND kind IN ('firing', 'repeat')`),
    firingAt: db.prepare(`SELECT firing_at FROM alerts WHERE id = ?`),
    dueChannels: db.prepare(
      `SELECT channel, min(next_attempt_at) AS due, max(CASE WHEN attempts > 0 THEN next_attempt_at END) AS retryAt, min(created_at) AS oldest
       FROM outbox WHERE status = 'pending' GROUP BY channel`,
    ),
    takeDue: db.prepare(
      `SELECT * FROM outbox WHERE status = 'pending' AND channel = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
    ),
    delivered: db.prepare(
      `UPDATE outbox SET status = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND status = 'pending'`,
    ),
    retry: db.prepare(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'`),
    failed: db.prepare(`UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ? AND status = 'pending'`),
    silenced: db.prepare(`UPDATE outbox SET status = 'silenced', last_error = ? WHERE id = ? AND status = 'pending'`),
    expire: db.prepare(
      `UPDATE outbox SET status = 'expired', last_error = 'not delivered within max_age' || coalesce(': ' || last_error, '')
       WHERE status = 'pending' AND created_at < ?`,
    ),
    counts: db.prepare(
      `SELECT channel, status, count(*) AS n, min(created_at) AS oldest FROM outbox WHERE status IN ('pending', 'failed', 'expired') GROUP BY channel, status`,
    ),
    byStatus: db.prepare(`SELECT * FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?`),
    all: db.prepare(`SELECT * FROM outbox ORDER BY id`),
  };
}

/** All SQL on the `outbox` table. */
export class OutboxTable {
  private readonly st: ReturnType<typeof prepareStatements>;

  constructor(readonly db: DB) {
    this.st = prepareStatements(db);
  }

  insert(row: {
    notificationId: string;
    channel: string;
    alertId: number;
    alertKey: string;
    kind: NotifyKind;
    message: AlertMessage;
    createdAt: number;
    status: 'pending' | 'silenced';
    nextAttemptAt: number;
    lastError: string | null;
  }): boolean {
    const { message, ...rest } = row;
    return this.st.insert.run({ ...rest, payload: JSON.stringify(message) }).changes > 0;
  }

  /** When the group already waiting on this channel goes out (a first attempt still in its group_wait), if any. */
  waitingGroupAt(channel: string, now: number): number | null {
    return (this.st.waitingGroup.get(channel, now) as { at: number | null }).at;
  }

  lastNotifiedAt(alertKey: string, channel: string): number | null {
    return (this.st.lastNotified.get(alertKey, channel) as { at: number | null }).at;
  }

  /** The firing/repeat rows of one alert episode on one channel. */
  triggers(alertId: number, channel: string): TriggerRow[] {
    return this.st.triggers.all(alertId, channel) as TriggerRow[];
  }

  firingAt(alertId: number): number | null {
    const r = this.st.firingAt.get(alertId) as { firing_at: number | null } | undefined;
    return r?.firing_at ?? null;
  }

  /**
   * Per channel with pending rows: the earliest next attempt, the latest next attempt of a row
   * already tried (the channel's backoff or Retry-After, which holds fresh rows back too), and
   * when the oldest row was queued.
   */
  pendingChannels(): PendingChannel[] {
    return this.st.dueChannels.all() as PendingChannel[];
  }

  /** Due rows in the order they were queued, so a resolve never overtakes its trigger. */
  takeDue(channel: string, now: number, limit: number): OutboxRow[] {
    return (this.st.takeDue.all(channel, now, limit) as RawRow[]).map(fromRaw);
  }

  markDelivered(ids: readonly number[], now: number): void {
    this.db.transaction(() => {
      for (const id of ids) this.st.delivered.run(now, id);
    })();
  }

  markRetry(ids: readonly number[], nextAttemptAt: number, error: string): void {
    this.db.transaction(() => {
      for (const id of ids) this.st.retry.run(nextAttemptAt, bounded(error), id);
    })();
  }

  markFailed(ids: readonly number[], error: string): void {
    this.db.transaction(() => {
      for (const id of ids) this.st.failed.run(bounded(error), id);
    })();
  }

  /** A pending row muted by a silence that began after it was queued: kept for audit, never sent. */
  markSilenced(id: number, reason: string): void {
    this.st.silenced.run(bounded(reason), id);
  }

  /** Pending rows created before `before` become 'expired'; returns how many. */
  expireOlderThan(before: number): number {
    return this.st.expire.run(before).changes;
  }

  counts(now: number): OutboxCounts {
    const rows = this.st.counts.all() as Array<{ channel: string; status: 'pending' | 'failed' | 'expired'; n: number; oldest: number }>;
    const out: OutboxCounts = { channels: {}, pending: 0, failed: 0, expired: 0, oldestPendingAgeMs: null };
    for (const r of rows) {
      const c = (out.channels[r.channel] ??= { pending: 0, failed: 0, expired: 0, oldestPendingAgeMs: null });
      c[r.status] = r.n;
      out[r.status] += r.n;
      if (r.status === 'pending') {
        c.oldestPendingAgeMs = Math.max(0, now - r.oldest);
        out.oldestPendingAgeMs = Math.max(out.oldestPendingAgeMs ?? 0, c.oldestPendingAgeMs);
      }
    }
    return out;
  }

  /** Newest rows in a status, e.g. the permanent failures an operator must look at. */
  list(status: OutboxStatus, limit = 50): OutboxRow[] {
    return (this.st.byStatus.all(status, limit) as RawRow[]).map(fromRaw);
  }

  all(): OutboxRow[] {
    return (this.st.all.all() as RawRow[]).map(fromRaw);
  }
}

/** What the outbox needs to know of a channel. */
export type ChannelInfo = Pick<Channel, 'sendResolved'>;

export interface OutboxOptions {
  router: Router;
  /** Configured channels by instance name (buildChannels' map). */
  channels: ReadonlyMap<string, ChannelInfo>;
  /** Called after rows were queued, e.g. `() => dispatcher.kick()` — it runs before the caller's transaction commits, so it must only schedule. */
  onEnqueue?: () => void;
}

export interface EnqueueResult {
  /** Channels a pending row was written for. */
  queued: string[];
  /** Channels a 'silenced' row was written for (kept for audit, never sent). */
  silenced: string[];
  /** Channels left out: resolved on a channel without send_resolved, a repeat inside the route's repeat_interval, or already queued. */
  skipped: string[];
}

export class Outbox {
  readonly table: OutboxTable;
  private readonly silences: SilenceStore;
  private router: Router;
  private channels: ReadonlyMap<string, ChannelInfo>;
  private readonly onEnqueue: (() => void) | undefined;

  constructor(
    private readonly db: DB,
    opts: OutboxOptions,
  ) {
    this.table = new OutboxTable(db);
    this.silences = new SilenceStore(db);
    this.router = opts.router;
    this.channels = opts.channels;
    this.onEnqueue = opts.onEnqueue;
  }

  /** After a reload: new routes and channels apply to the next enqueue; queued rows stay as they are. */
  reconfigure(router: Router, channels: ReadonlyMap<string, ChannelInfo>): void {
    this.router = router;
    this.channels = channels;
  }

  /**
   * Queues the notifications of one recorded transition (nothing for pending/inactive ones).
   * Synchronous and transactional: inside the caller's transaction it becomes part of it (a
   * savepoint), so the transition and its notifications commit or roll back together.
   * Enqueueing the same transition twice writes nothing new (notification ids are unique).
   * Fits AlertStore.record's onNotify: `store.record(ev, (t, rule) => outbox.enqueue(t, rule, now))`;
   * a rule that is unknown (removed by a reload) routes by `routes:` alone.
   */
  enqueue(t: NotifiableTransition, rule: Pick<Rule, 'channels'> | undefined, now: number): EnqueueResult {
    const result: EnqueueResult = { queued: [], silenced: [], skipped: [] };
    const kind = t.notify;
    if (!kind) return result;
    this.db.transaction(() => {
      const targets = this.router.route(t, rule?.channels ?? []);
      const silence = this.silences.match(matchableLabels(t), now);
      const startsAt = kind === 'firing' ? t.at : (this.table.firingAt(t.alertId) ?? t.at);
      for (const target of targets) {
        const channel = this.channels.get(target.channel);
        if (!channel) continue;
        if (kind === 'resolved' && !channel.sendResolved) {
          result.skipped.push(target.channel);
          continue;
        }
        if (kind === 'repeat' && target.repeatIntervalMs !== undefined) {
          const last = this.table.lastNotifiedAt(t.alertKey, target.channel);
          if (last !== null && now - last < target.repeatIntervalMs) {
            result.skipped.push(target.channel);
            continue;
          }
        }
        const triggers = kind === 'resolved' ? this.table.triggers(t.alertId, target.channel) : [];
        const mutedBy = muteReason(silence, kind, () => triggers);
        let ownAt = now + target.groupWaitMs;
        // Never due before a trigger still waiting in its group: the resolve must follow it.
        for (const r of triggers) if (r.status === 'pending') ownAt = Math.max(ownAt, r.nextAttemptAt);
        const groupAt = mutedBy ? null : this.table.waitingGroupAt(target.channel, now);
        const message = toAlertMessage(t, kind, target.channel, { startsAt });
        const inserted = this.table.insert({
          notificationId: message.notificationId,
          channel: target.channel,
          alertId: t.alertId,
          alertKey: t.alertKey,
          kind,
          message,
          createdAt: now,
          status: mutedBy ? 'silenced' : 'pending',
          // Join a group already waiting on this channel when it goes out no later than our own wait would.
          nextAttemptAt: groupAt !== null && groupAt <= ownAt ? groupAt : ownAt,
          lastError: mutedBy,
        });
        if (!inserted) result.skipped.push(target.channel);
        else if (mutedBy) result.silenced.push(target.channel);
        else result.queued.push(target.channel);
      }
    })();
    if (result.queued.length > 0) this.onEnqueue?.();
    return result;
  }
}
