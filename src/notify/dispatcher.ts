/**
 * Delivers the outbox. For each channel, the rows that are due go out together in one send()
 * (a group), never more than one send per channel at a time, paced by a token bucket. A
 * transient failure puts the whole group back with exponential backoff and full jitter (or the
 * receiver's Retry-After); a permanent one marks the row 'failed' for good; rows older than
 * max_age are 'expired'. Every decision is written to the row, so a restart — even after
 * kill -9 — picks up exactly where the last process left off, and a row is only ever marked
 * delivered after its send succeeded (at-least-once; the message ids make repeats harmless).
 *
 * Driven by kick() (a transition was just queued: the sub-second path) and by one timer armed
 * for the next due row. Time comes from the injected clock.
 */
import type { Clock } from '../clock.js';
import { errorText } from '../errors.js';
import { settleWithin } from './deadline.js';
import { muteReason, OutboxTable, type OutboxCounts, type OutboxRow } from './outbox.js';
import { matchableLabels, SilenceStore } from './silences.js';
import type { Channel, RateLimit, SendOutcome } from './types.js';
import { isStoreBusy, type DB } from '../store/db.js';

export type NotifyLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

export const DEFAULT_BASE_BACKOFF_MS = 1000;
export const DEFAULT_MAX_BACKOFF_MS = 5 * 60_000;
export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
export const DEFAULT_MAX_BATCH = 50;
export const DEFAULT_STOP_TIMEOUT_MS = 5000;
/** The timer never sleeps longer than this, so a row queued without a kick() still goes out. */
const MAX_SLEEP_MS = 30_000;
/** Recording a send's outcome while another process holds the store's lock: first retry after this, doubling up to the max. */
const RECORD_RETRY_MS = 100;
const RECORD_RETRY_MAX_MS = 2000;

export interface DispatcherOptions {
  db: DB;
  /** Configured channels by instance name (buildChannels' map). */
  channels: ReadonlyMap<string, Channel>;
  clock: Clock;
  /** [0, 1); injectable so backoff is reproducible in tests. Default Math.random. */
  random?: () => number;
  /** Backoff before the n-th retry: random in [0, min(max, base·2^(n-1))). Defaults 1 s and 5 min. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Rows not delivered this long after they were queued become 'expired'. Default 24 h. */
  maxAgeMs?: number;
  /** Most notifications in one send. Default 50. */
  maxBatch?: number;
  /** Per channel instance name; null turns a default off. A channel defaults to its own rateLimit (Slack's), others to none. */
  rateLimits?: Readonly<Record<string, RateLimit | null>>;
  /** How long stop() waits for in-flight sends before aborting them. Default 5 s. */
  stopTimeoutMs?: number;
  log?: NotifyLog;
  /**
   * Arm a real timer for the next due row (default true). Tests on a ManualClock turn it off
   * and call drain() after moving the clock.
   */
  timers?: boolean;
}

export interface DispatcherCounts extends OutboxCounts {
  /** Channels with a send in flight right now. */
  inFlight: string[];
}

class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.at) * this.limit.perSecond) / 1000);
    this.at = now;
  }

  /** When the next send may start (now, if a token is there). */
  readyAt(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? now : now + Math.ceil(((1 - this.tokens) * 1000) / this.limit.perSecond);
  }

  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }
}

export class Dispatcher {
  private readonly table: OutboxTable;
  private readonly silences: SilenceStore;
  private channels: ReadonlyMap<string, Channel>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly baseMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxAgeMs: number;
  private readonly maxBatch: number;
  private readonly stopTimeoutMs: number;
  private readonly log: NotifyLog;
  private readonly timers: boolean;
  private readonly rateLimits: Readonly<Record<string, RateLimit | null>>;
  private readonly buckets = new Map<string, TokenBucket | null>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly aborts = new Set<AbortController>();
  private timer: NodeJS.Timeout | null = null;
  private kickScheduled = false;
  private started = false;
  private stopping = false;
  /** After stop(): the database may be closed, so nothing more is written. */
  private closed = false;

  constructor(o: DispatcherOptions) {
    this.table = new OutboxTable(o.db);
    this.silences = new SilenceStore(o.db);
    this.channels = o.channels;
    this.clock = o.clock;
    this.random = o.random ?? Math.random;
    this.baseMs = o.baseBackoffMs ?? DEFAULT_BASE_BACKOFF_MS;
    this.maxBackoffMs = o.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.maxAgeMs = o.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.maxBatch = o.maxBatch ?? DEFAULT_MAX_BATCH;
    this.stopTimeoutMs = o.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.log = o.log ?? (() => {});
    this.timers = o.timers ?? true;
    this.rateLimits = o.rateLimits ?? {};
  }

  /** Starts delivering: whatever a previous process left pending goes out as it falls due. */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.pump();
  }

  /** Something was queued: look at the outbox on the next turn of the event loop (bursts coalesce). */
  kick(): void {
    if (!this.started || this.stopping || this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.pump();
    });
  }

  /**
   * Sends everything due at the clock's current time and waits for those sends (and any that
   * become due meanwhile). For tests on a ManualClock and for replay; does not need start().
   */
  async drain(): Promise<void> {
    for (;;) {
      this.pump(true);
      if (this.inFlight.size === 0) return;
      await Promise.all([...this.inFlight.values()]);
    }
  }

  /** New channel instances after a reload; sends in flight finish on the old ones. */
  reconfigure(channels: ReadonlyMap<string, Channel>): void {
    this.channels = channels;
    this.buckets.clear();
    this.kick();
  }

  counts(): DispatcherCounts {
    return { ...this.table.counts(this.clock.now()), inFlight: [...this.inFlight.keys()] };
  }

  /**
   * Stops taking new work, waits up to stopTimeoutMs for the sends in flight (then aborts them)
   * and records their outcome. Pending rows stay in the outbox for the next start.
   */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const sendsWithin = (ms: number) => settleWithin(Promise.all([...this.inFlight.values()]).then(() => true), ms, () => false);
    if (this.inFlight.size > 0 && !(await sendsWithin(this.stopTimeoutMs))) {
      this.log('warn', 'stopping: aborting notification sends still in flight; they stay queued', { channels: [...this.inFlight.keys()] });
      for (const a of this.aborts) a.abort();
      await sendsWithin(1000);
    }
    this.closed = true;
  }

  private pump(draining = false): void {
    if (this.closed || (this.stopping && !draining) || (!this.started && !draining)) return;
    let wake = Number.POSITIVE_INFINITY;
    try {
      const now = this.clock.now();
      const expired = this.table.expireOlderThan(now - this.maxAgeMs);
      if (expired > 0) this.log('error', `${expired} notification(s) expired undelivered after max_age`, { code: 'VIGIL_CHANNEL_SEND', max_age_ms: this.maxAgeMs });
      for (const p of this.table.pendingChannels()) {
        wake = Math.min(wake, p.oldest + this.maxAgeMs + 1);
        const channel = this.channels.get(p.channel);
        if (!channel || this.inFlight.has(p.channel)) continue; // a finishing send kicks again
        // p.due is the earliest row; p.retryAt the backoff a failed group asked for: the channel waits for both
        const readyAt = Math.max(p.due, p.retryAt ?? 0, this.bucket(p.channel, channel, now)?.readyAt(now) ?? now);
        if (readyAt > now) {
          wake = Math.min(wake, readyAt);
          continue;
        }
        const rows = this.takeUnmuted(p.channel, now);
        if (rows.length === 0) {
          // Everything due was muted and no send will kick us: look again for the channel's later rows.
          wake = Math.min(wake, now + 1);
          continue;
        }
        this.bucket(p.channel, channel, now)?.take(now);
        const send = this.deliver(p.channel, channel, rows).finally(() => {
          this.inFlight.delete(p.channel);
          this.kick();
        });
        this.inFlight.set(p.channel, send);
      }
    } catch (e) {
      // The database is busy or failing: nothing was lost, try again shortly.
      this.log('error', 'outbox scan failed; retrying', { err: errorText(e) });
      wake = this.clock.now() + 1000;
    }
    this.arm(wake);
  }

  /** The first due rows of the channel that are not muted now; [] when every due row was (or none is due). */
  private takeUnmuted(channel: string, now: number): OutboxRow[] {
    for (;;) {
      const taken = this.table.takeDue(channel, now, this.maxBatch);
      if (taken.length === 0) return [];
      const rows = this.unsilenced(taken, now);
      if (rows.length > 0) return rows; // else all were muted: the rows behind them
    }
  }

  /**
   * Silences are checked again just before a send, not only when a row was queued: a silence an
   * operator adds while a notification waits (group_wait, a receiver down, backoff) mutes it.
   * The rule is enqueue's (muteReason), so a resolve is muted with its trigger. Muted rows are kept as 'silenced'.
   */
  private unsilenced(rows: OutboxRow[], now: number): OutboxRow[] {
    const out: OutboxRow[] = [];
    // IMMEDIATE: it reads the silences then writes, and a `vigil silence add` committing in between must make it wait, not fail.
    this.table.db
      .transaction(() => {
        const match = this.silences.matcherAt(now);
        for (const row of rows) {
          const reason = muteReason(
            match(matchableLabels(row.message)),
            row.kind,
            () => (row.alertId === null ? [] : this.table.triggers(row.alertId, row.channel)),
            ` before it was ${row.attempts === 0 ? 'sent' : 'delivered (an earlier attempt failed)'}`,
          );
          if (!reason) {
            out.push(row);
            continue;
          }
          this.table.markSilenced(row.id, reason); // in order, so a resolve later in this group sees its trigger muted
          this.log('info', 'notification muted by a silence before it was sent', { channel: row.channel, notification: row.notificationId, reason });
        }
      })
      .immediate();
    return out;
  }

  private arm(wake: number): void {
    if (!this.timers || this.stopping || this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const delay = Number.isFinite(wake) ? Math.min(MAX_SLEEP_MS, Math.max(0, wake - this.clock.now())) : MAX_SLEEP_MS;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, delay);
    // The agent's other handles keep the process alive; a dispatcher alone must not.
    this.timer.unref();
  }

  private bucket(name: string, channel: Channel, now: number): TokenBucket | null {
    if (!this.buckets.has(name)) {
      const configured = this.rateLimits[name];
      const limit = configured !== undefined ? configured : (channel.rateLimit ?? null);
      this.buckets.set(name, limit ? new TokenBucket(limit, now) : null);
    }
    return this.buckets.get(name)!;
  }

  private async deliver(name: string, channel: Channel, rows: OutboxRow[]): Promise<void> {
    const outcome = await this.send(channel, rows);
    if (this.closed) return;
    try {
      if (outcome.ok) return await this.recorded(name, () => this.delivered(name, rows));
      if (outcome.retry === 'transient') return await this.recorded(name, () => this.retry(name, rows, outcome));
      if (rows.length === 1) return await this.recorded(name, () => this.failed(name, rows, outcome));
      // One bad notification must not take its group down with it: find it by sending each alone.
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const alone = await this.send(channel, [row]);
        if (this.closed) return;
        if (alone.ok) await this.recorded(name, () => this.delivered(name, [row]));
        else if (alone.retry === 'permanent') await this.recorded(name, () => this.failed(name, [row], alone));
        else return await this.recorded(name, () => this.retry(name, rows.slice(i), alone));
      }
    } catch (e) {
      this.log('error', 'could not record a delivery outcome; the rows stay pending and will be sent again', { channel: name, err: errorText(e) });
    }
  }

  /**
   * Writes a send's outcome. While another process holds the store's write lock the agent
   * waits only briefly (AGENT_BUSY_TIMEOUT_MS), so the write is tried again later instead,
   * the channel staying in flight meanwhile: a delivered group is not taken and sent again
   * just because its outcome could not be written at once. After stop() it gives up, and
   * the rows stay pending for the next start (at-least-once, as after kill -9).
   */
  private async recorded(name: string, write: () => void): Promise<void> {
    for (let wait = RECORD_RETRY_MS, logged = false; ; wait = Math.min(RECORD_RETRY_MAX_MS, wait * 2)) {
      try {
        return write();
      } catch (e) {
        if (!isStoreBusy(e) || this.closed) throw e;
        if (!logged) this.log('warn', 'the store is locked by another process; recording the delivery outcome when it is released', { code: 'VIGIL_STORE_BUSY', channel: name, err: errorText(e) });
        logged = true;
      }
      await new Promise<void>((resolve) => setTimeout(resolve, wait).unref());
      if (this.closed) throw new Error('stopped while the store was locked');
    }
  }

  private async send(channel: Channel, rows: OutboxRow[]): Promise<SendOutcome> {
    const abort = new AbortController();
    this.aborts.add(abort);
    try {
      return await channel.send(
        rows.map((r) => r.message),
        abort.signal,
      );
    } catch (e) {
      return { ok: false, retry: 'transient', message: `${channel.name}: send threw: ${errorText(e)}` };
    } finally {
      this.aborts.delete(abort);
    }
  }

  private delivered(name: string, rows: OutboxRow[]): void {
    this.table.markDelivered(
      rows.map((r) => r.id),
      this.clock.now(),
    );
    this.log('info', `delivered ${rows.length} notification(s)`, { channel: name, notifications: rows.map((r) => r.notificationId) });
  }

  private failed(name: string, rows: OutboxRow[], outcome: Extract<SendOutcome, { ok: false }>): void {
    this.table.markFailed(
      rows.map((r) => r.id),
      outcome.message,
    );
    this.log('error', 'notification refused permanently; kept as failed, not retried', {
      code: 'VIGIL_CHANNEL_PERMANENT',
      channel: name,
      status: outcome.status,
      notifications: rows.map((r) => r.notificationId),
      err: outcome.message,
    });
  }

  private retry(name: string, rows: OutboxRow[], outcome: Extract<SendOutcome, { ok: false }>): void {
    const now = this.clock.now();
    // A send cut short by stop() is no sign of trouble at the receiver: due again at the next start.
    const delay = this.stopping ? 0 : (outcome.retryAfterMs ?? this.backoff(Math.max(...rows.map((r) => r.attempts)) + 1));
    this.table.markRetry(
      rows.map((r) => r.id),
      now + delay,
      outcome.message,
    );
    this.log('warn', 'notification delivery failed; will retry', {
      code: 'VIGIL_CHANNEL_SEND',
      channel: name,
      status: outcome.status,
      retry_in_ms: delay,
      notifications: rows.map((r) => r.notificationId),
      err: outcome.message,
    });
  }

  /** Full jitter (AWS architecture blog): uniform in [1, min(max, base·2^(n-1))]. */
  private backoff(n: number): number {
    const ceiling = Math.min(this.maxBackoffMs, this.baseMs * 2 ** Math.min(n - 1, 30));
    return Math.max(1, Math.floor(this.random() * ceiling));
  }
}
