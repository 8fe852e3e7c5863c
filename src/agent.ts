import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApi } from './api/server.js';
import type { RuntimeView } from './api/types.js';
import type { Clock } from './clock.js';
import { CheckCache } from './collect/checks.js';
import { startSampler } from './collect/system.js';
import type { Config } from './config/load.js';
import { errorText, formatLocated, ValidationError } from './errors.js';
import { buildIngest } from './ingest/build.js';
import type { CommitInfo, Pipeline } from './ingest/pipeline.js';
import { logFn, type Logger } from './log.js';
import { buildChannels } from './notify/channels.js';
import { Dispatcher } from './notify/dispatcher.js';
import { Outbox } from './notify/outbox.js';
import { Router, assertRuleChannels } from './notify/router.js';
import type { Channel } from './notify/types.js';
import type { RuleSet } from './rules/engine.js';
import { RuleReloader } from './rules/reload.js';
import { RuleRunner, type EvalScope } from './rules/runner.js';
import { Backlog, type BacklogFile } from './replay/backlog.js';
import { AlertStore } from './store/alerts.js';
import { AGENT_BUSY_TIMEOUT_MS, checkpointWal, openStore, sizeWal, storeFileGone, storeFileId, DB_FILE, type DB, type StoreFileId } from './store/db.js';
import { StoreFacts } from './store/facts.js';
import { acquireLock } from './store/lock.js';
import { applyRetention } from './store/retention.js';
import { insertSystemSample } from './store/samples.js';
import { startWatcher, type Tailer, type WatchHandle } from './tail/index.js';

export interface AgentOptions {
  config: Config;
  clock: Clock;
  log: Logger;
  /** Batches committed per turn of the event loop before yielding (keeps the API responsive during a catch-up). */
  batchesPerTurn?: number;
  onCommit?: (c: CommitInfo) => void;
  /** The agent cannot go on (its store was lost and could not be rebuilt): `vigil run` exits non-zero, systemd restarts it. */
  onFatal?: (e: Error) => void;
}

/**
 * The rules shipped with vigil, used when the configured rules directory does not exist:
 * `rules/` at the package root, whether this module runs built (dist/src/agent.js) or
 * from source (src/agent.ts, in tests).
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SHIPPED_RULES = path.resolve(HERE, path.basename(path.dirname(HERE)) === 'dist' ? '../../rules' : '../rules');

/** After a commit, rules are evaluated again at most this often (the <1 s alert path). */
const EVAL_AFTER_COMMIT_MIN_GAP_MS = 200;
const RETENTION_INTERVAL_MS = 3_600_000;
/** How often the store file's identity is checked (two stat calls). */
const STORE_CHECK_INTERVAL_MS = 1000;
/** Every this many store checks, the WAL is checkpointed and resized to the free space (the time half of its bound). */
const WAL_CHECK_EVERY = 30;
/** Backoff after failed commits: 500 ms, 1 s, 2 s … at most 30 s. */
export function commitRetryDelayMs(failures: number): number {
  return Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
}

/**
 * The logs are behind: a backlog found at start being read on the logs' clock ('backlog'),
 * or lines waiting to be read by the live ingest ('live'). Rules that read the logs are
 * held meanwhile (no new firing, no resolve on half-read data).
 */
export interface CatchUp {
  phase: 'backlog' | 'live';
  since: number;
  /** "catching up" was logged (a live lag is logged only once it held a rule evaluation). */
  logged: boolean;
}

/** Commits to the store are failing (disk full, database locked): since when, how often, the last error. */
export interface CommitFailure {
  since: number;
  failures: number;
  error: string;
}

/**
 * The running agent. Stages start left to right — store → tail/ingest → collect →
 * rules → notify → api — and stop in reverse. Reading is driven by file-change events
 * plus a periodic reconcile scan; rules run on their interval and right after a
 * commit brings new lines, so an alert does not wait for the next tick.
 */
export class Agent {
  db!: DB;
  tailer!: Tailer;
  pipeline!: Pipeline;
  runner!: RuleRunner;
  dispatcher!: Dispatcher;
  api: FastifyInstance | null = null;
  apiAddress: string | null = null;
  rulesDir!: string;
  private reloader!: RuleReloader;
  /** Shared with the reloader, so rule files are checked against the channels configured now (SIGHUP may add some). */
  private readonly ruleLint: { channels: string[] } = { channels: [] };
  private outbox!: Outbox;
  private channels = new Map<string, Channel>();
  private checks!: CheckCache;
  private stopSampler: (() => Promise<void>) | null = null;
  private watcher: WatchHandle | null = null;
  private releaseLock: (() => void) | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private evalTimer: NodeJS.Timeout | null = null;
  private lastEvalKick = 0;
  private scheduled = false;
  private draining: Promise<void> | null = null;
  private drainAgain = false;
  private needScan = true;
  private stopped = false;
  private failures = 0;
  /** Set while commits fail: kick() does nothing until the backoff timer retries. */
  private retryTimer: NodeJS.Timeout | null = null;
  private commitFailure: CommitFailure | null = null;
  private storeTimer: NodeJS.Timeout | null = null;
  private storeId: StoreFileId | null = null;
  private rebuilding: Promise<void> | null = null;
  private stopRequested = false;
  private lastCommitAt: number | null = null;
  private catchUp: CatchUp | null = null;
  private backlog: Backlog | null = null;
  private backlogRun: Promise<void> | null = null;
  private readonly startedAt: number;

  constructor(private readonly o: AgentOptions) {
    this.startedAt = o.clock.now();
  }

  get stateDir(): string {
    return this.o.config.state_dir;
  }

  async start(): Promise<void> {
    const { config, log, clock } = this.o;
    // 1. store
    fs.mkdirSync(config.state_dir, { recursive: true });
    this.releaseLock = acquireLock(config.state_dir);
    // A short lock wait: the API, ingest and rules share this thread (see AGENT_BUSY_TIMEOUT_MS).
    this.db = openStore(config.state_dir, { busyTimeoutMs: AGENT_BUSY_TIMEOUT_MS });
    this.storeId = storeFileId(config.state_dir);

    // 2. notify configuration first: rules are checked against the channel names.
    this.channels = buildChannels(config.channels, { clock });
    const router = Router.fromConfig({ routes: config.routes, source: config.source }, [...this.channels.keys()], { defaultGroupWaitMs: config.notify.group_wait_ms });

    // 3. rules (refuse to start on a bad rule file: the operator is at the keyboard now)
    this.rulesDir = fs.existsSync(config.rules) ? config.rules : SHIPPED_RULES;
    if (this.rulesDir !== config.rules) log.warn({ configured: config.rules, using: this.rulesDir }, `rules directory ${config.rules} does not exist; using the shipped rules`);
    this.ruleLint.channels = [...this.channels.keys()];
    this.reloader = new RuleReloader({
      dir: this.rulesDir,
      lint: this.ruleLint,
      clock,
      log,
      onReload: (set) => this.onRulesReloaded(set),
    });
    const first = this.reloader.load();
    // Linted against the configured channels, so an unknown channel is already a problem here.
    if (first.problems.length > 0) throw new ValidationError('VIGIL_RULE_INVALID', first.problems);

    // 4. tail + ingest
    const parts = buildIngest({
      config,
      db: this.db,
      clock,
      log: logFn(log),
      onCommit: (c) => this.afterCommit(c),
    });
    this.tailer = parts.tailer;
    this.pipeline = parts.pipeline;

    // 5. collect
    this.checks = new CheckCache({ tz: 'utc', onError: (e) => log.warn({ code: e.code }, e.message) });
    await this.checks.warm(backupQueries(first.set), clock.now(), 5000).catch(() => {});
    this.stopSampler = startSampler({
      intervalMs: config.system.sample_interval_ms,
      disks: config.system.disks,
      clock,
      onSample: (s, at) => insertSystemSample(this.db, s, at),
      onError: (e) => log.warn({ code: e.code }, e.message),
    });

    // 6. notify: the outbox is written in the same transaction as the transition.
    this.dispatcher = new Dispatcher({
      db: this.db,
      channels: this.channels,
      clock,
      maxAgeMs: config.notify.max_age_ms,
      rateLimits: rateLimits(config),
      log: logFn(log),
    });
    this.outbox = new Outbox(this.db, { router, channels: this.channels, onEnqueue: () => this.dispatcher.kick() });
    this.runner = new RuleRunner({
      rules: first.set,
      sources: { facts: new StoreFacts(this.db, { abandonAfterMs: config.sessions.abandon_after_ms }), checks: this.checks },
      clock,
      alertStore: new AlertStore(this.db),
      tickScope: () => this.tickScope(),
      onNotify: (t, rule) => {
        // Every announced transition also goes to the agent's own log (journald), so an
        // alert is visible even with no channel configured.
        log[t.state === 'resolved' ? 'info' : 'warn'](
          { alert: t.alertKey, rule: t.rule, state: t.state, severity: t.severity, labels: t.labels, notify: t.notify },
          `alert ${t.notify === 'repeat' ? 'still firing' : t.state}: ${t.rule} — ${t.summary}`,
        );
        this.outbox.enqueue(t, rule, clock.now());
      },
      log,
    });
    this.dispatcher.start();
    this.runner.start(config.evaluation_interval_ms);
    await this.reloader.start();

    // 7. api
    if (config.api.enabled) await this.startApi();

    this.scheduleRetention();
    this.watcher = startWatcher(
      config.inputs.map((i) => i.path),
      () => {
        this.needScan = true;
        this.kick();
      },
      { mode: config.watch.mode, reconcileIntervalMs: config.watch.reconcile_interval_ms, pollIntervalMs: config.watch.poll_interval_ms, log: logFn(log) },
    );
    this.tailer.scan();
    this.startCatchUp();
    this.watchStore();
    const state = path.join(config.state_dir, DB_FILE);
    const inputs = config.inputs.map((i) => i.path).join(', ');
    const files = this.tailer.files().map((f) => f.path);
    log.info(
      { inputs: config.inputs.map((i) => i.path), files, state, rules: this.rulesDir, rule_count: first.set.rules.length, channels: [...this.channels.keys()], api: this.apiAddress },
      `vigil watching ${inputs} (${files.length === 0 ? 'no file there yet' : `${files.length} file(s)`}); state in ${state}; ` +
        `${first.set.rules.length} rules from ${this.rulesDir}; channels: ${this.channels.size === 0 ? 'none configured' : [...this.channels.keys()].join(', ')}` +
        (this.apiAddress ? `; API on http://${this.apiAddress}` : ''),
    );
    this.kick();
  }

  private async startApi(): Promise<void> {
    const { config, clock, log } = this.o;
    const runtime: RuntimeView = {
      startedAt: this.startedAt,
      files: () => {
        // While the backlog is read by the catch-up, the tailer's offsets wait at the checkpoints it started from.
        const behind = new Map(this.backlog?.status().files.map((b) => [b.path, b.bytesBehind]) ?? []);
        return this.tailer.files().map((f) => {
          const lag = behind.get(f.path) ?? f.lagBytes;
          return { path: f.path, size: f.size, offset: f.size - lag, lagBytes: lag, lastReadAt: f.lastReadAt };
        });
      },
      lastRuleReload: () => {
        const r = this.reloader.lastReload();
        if (r.at === null) return null;
        return { at: r.at, ok: r.ok, ...(r.ok ? {} : { error: r.problems.map(formatLocated).join('\n') }) };
      },
      storeWrites: () => (this.commitFailure === null ? { failing: false } : { failing: true, ...this.commitFailure }),
      catchUp: () => this.catchUpView(),
      ingestLagMs: () => {
        if (this.lastCommitAt === null) return null;
        const behind = this.tailer.files().some((f) => f.lagBytes > 0);
        return behind ? clock.now() - this.lastCommitAt : 0;
      },
    };
    this.api = buildApi({
      db: this.db,
      clock,
      config,
      runtime,
      checks: {
        ffmpeg: () => {
          const r = this.checks.ffmpeg(clock.now());
          return r === null ? null : { available: r.available, message: r.message, encodeOk: r.encodeOk };
        },
      },
      log,
    });
    const [host, portText] = splitHostPort(config.api.listen);
    this.apiAddress = await this.api.listen({ host, port: Number(portText) }).then(() => {
      const a = this.api!.server.address();
      return typeof a === 'object' && a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : config.api.listen;
    });
  }

  private onRulesReloaded(set: RuleSet): void {
    this.runner.setRules(set);
    void this.checks.warm(backupQueries(set), this.o.clock.now(), 5000).catch(() => {});
  }

  private afterCommit(c: CommitInfo): void {
    this.lastCommitAt = this.o.clock.now();
    this.o.onCommit?.(c);
    // Behind: the rules reading the logs wait until everything is read (see caughtUp).
    if (c.lines > 0 && this.runner && this.catchUp === null) this.evaluateSoon();
  }

  /**
   * Files behind at start (unread bytes past their checkpoints) are read first, on the
   * logs' clock, by a Backlog (replay's feeder into this store, this RuleRunner stepping
   * the log rules at log times without paging). The live ingest waits meanwhile, then
   * goes on from the checkpoints the backlog committed.
   */
  private startCatchUp(): void {
    const { config, clock, log } = this.o;
    const cps = new Map(this.tailer.checkpoints().map((c) => [c.fingerprint, c]));
    const files: BacklogFile[] = [];
    for (const f of this.tailer.files()) {
      const cp = cps.get(f.streamId);
      if (f.lagBytes <= 0 || cp === undefined) continue;
      const fmt = config.inputs[f.input]?.format;
      const format = fmt === undefined || fmt === 'auto' ? undefined : fmt;
      files.push({ streamId: f.streamId, path: f.path, checkpoint: cp, size: f.size, ...(format !== undefined ? { format } : {}) });
    }
    if (files.length === 0) return;
    const bytes = files.reduce((s, f) => s + f.size - f.checkpoint.offset, 0);
    this.catchUp = { phase: 'backlog', since: clock.now(), logged: true };
    // Not before the time the alerts already stand at (the backlog may begin before the last run's last evaluation).
    let from = -Infinity;
    for (const st of this.runner.alerts().values()) from = Math.max(from, st.lastHeldAt ?? -Infinity, st.firingSince ?? -Infinity, st.resolvedAt ?? -Infinity);
    const step = config.evaluation_interval_ms;
    const backlog = new Backlog({
      files,
      db: this.db,
      config,
      runner: this.runner,
      stepMs: step,
      ...(Number.isFinite(from) ? { from: Math.floor(from / step) * step + step } : {}),
      now: () => clock.now(),
      shouldStop: () => this.stopped,
    });
    this.backlog = backlog;
    log.info(
      { phase: 'backlog', files: files.map((f) => ({ path: f.path, bytes_behind: f.size - f.checkpoint.offset })), bytes_behind: bytes },
      `catching up: ${files.length} file(s) ${fmtMiB(bytes)} behind; read on the logs' clock, rules on the logs are held (recorded at their log times, not paged) until caught up`,
    );
    const started = clock.now();
    this.backlogRun = backlog
      .run()
      .then(
        (r) => {
          log.info(
            { lines: r.lines, evaluations: r.evaluations, first: r.firstTs === null ? null : new Date(r.firstTs).toISOString(), last: r.lastTs === null ? null : new Date(r.lastTs).toISOString(), took_ms: clock.now() - started },
            `backlog read: ${r.lines} line(s) from ${r.firstTs === null ? '-' : new Date(r.firstTs).toISOString()} to ${r.lastTs === null ? '-' : new Date(r.lastTs).toISOString()}, rules evaluated ${r.evaluations} time(s) on their clock`,
          );
        },
        (e) => log.error({ err: errorText(e) }, `reading the backlog failed (${errorText(e)}); the live ingest reads the rest, rules on the logs stay held until it is caught up`),
      )
      .finally(() => {
        // The tailer goes on from what the backlog committed (also after a stop or a failure halfway).
        for (const [id, cp] of backlog.committed) this.tailer.rewind(id, cp);
        this.backlog = null;
        this.backlogRun = null;
        if (this.catchUp !== null) this.catchUp.phase = 'live';
        this.needScan = true;
        this.kick();
      });
  }

  /** A wall-clock rule slot: while the logs are behind only the machine's rules run (and the hold is logged once). */
  private tickScope(): EvalScope {
    const c = this.catchUp;
    if (c === null) return 'all';
    if (!c.logged) {
      c.logged = true;
      const lag = this.tailer.files().reduce((s, f) => s + f.lagBytes, 0);
      this.o.log.info({ phase: c.phase, bytes_behind: lag }, `catching up: ${fmtMiB(lag)} not read yet; rules on the logs are held until caught up`);
    }
    return 'machine';
  }

  /** Everything is read: rules on the logs run again, at once (and announce what still fires from the backlog). */
  private caughtUp(): void {
    const c = this.catchUp;
    if (c === null || this.backlogRun !== null) return;
    this.catchUp = null;
    if (c.logged) {
      const held = this.runner.held();
      this.o.log.info(
        { behind_for_ms: this.o.clock.now() - c.since, held_alerts: held },
        `caught up after ${Math.round((this.o.clock.now() - c.since) / 100) / 10}s; rules on the logs run again` + (held.length > 0 ? ` (${held.length} alert(s) that fired during the backlog are announced if they still hold)` : ''),
      );
    }
    this.api?.vigil.health.invalidate();
    this.evaluateSoon();
  }

  private catchUpView() {
    const c = this.catchUp;
    if (c === null) return null;
    const b = this.backlog?.status();
    const files = b?.files ?? this.tailer.files().filter((f) => f.lagBytes > 0).map((f) => ({ path: f.path, bytesBehind: f.lagBytes }));
    return { phase: c.phase, since: c.since, bytesBehind: files.reduce((s, f) => s + f.bytesBehind, 0), logTime: b?.logTime ?? null, files, heldAlerts: this.runner.held().length };
  }

  /** Evaluate the rules right after fresh lines are committed, coalescing bursts. */
  private evaluateSoon(): void {
    if (this.evalTimer || this.stopped) return;
    const wait = Math.max(0, this.lastEvalKick + EVAL_AFTER_COMMIT_MIN_GAP_MS - this.o.clock.now());
    this.evalTimer = setTimeout(() => {
      this.evalTimer = null;
      if (this.stopped) return;
      this.lastEvalKick = this.o.clock.now();
      this.runner.evaluateAt(this.o.clock.now()).catch((e) => this.o.log.error({ err: (e as Error).message }, 'rule evaluation failed'));
    }, wait);
  }

  private scheduleRetention(): void {
    const run = () => {
      try {
        const r = applyRetention(this.db, this.o.config.retention, this.o.clock.now());
        this.o.log.info({ deleted: r }, 'retention applied');
      } catch (e) {
        this.o.log.error({ err: (e as Error).message }, 'retention failed');
      }
    };
    this.retentionTimer = setInterval(run, RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
    setImmediate(run);
  }

  /** Something may have changed: drain soon (coalesces bursts of events). */
  kick(): void {
    // While commits fail, only the backoff timer retries: file events and the reconcile
    // scan (every second) kicking past it made a full disk spin at ~60 ms a try.
    // While the backlog is read on the logs' clock, the live ingest waits for its checkpoints.
    if (this.scheduled || this.stopped || this.retryTimer !== null || this.backlogRun !== null) return;
    this.scheduled = true;
    setImmediate(() => this.drainTurn());
  }

  private drainTurn(): void {
    this.scheduled = false;
    if (this.stopped) return;
    // Draining is asynchronous (chunks are parsed on a worker thread): one turn at a
    // time; a kick during a turn runs another turn after it.
    if (this.draining !== null) {
      this.drainAgain = true;
      return;
    }
    this.draining = this.runDrainTurn().finally(() => {
      this.draining = null;
      if (this.drainAgain) {
        this.drainAgain = false;
        this.kick();
      }
    });
  }

  private async runDrainTurn(): Promise<void> {
    try {
      if (this.needScan) {
        this.needScan = false;
        this.tailer.scan();
      }
      const r = await this.pipeline.drainSome(this.o.batchesPerTurn ?? 4);
      this.commitsRecovered();
      if (r.more) {
        this.catchUp ??= { phase: 'live', since: this.o.clock.now(), logged: false };
        this.kick();
      } else this.caughtUp();
    } catch (e) {
      // A failed commit (disk full, database locked): the tailer was rewound, nothing is
      // lost; try again later with a growing pause instead of spinning.
      if (this.stopped) return;
      this.failures++;
      const delay = commitRetryDelayMs(this.failures);
      this.commitFailed(errorText(e), delay);
      // Give the WAL's space back to the database if it can be (the retry needs room).
      checkpointWal(this.db);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.kick();
      }, delay);
      this.retryTimer.unref();
    }
  }

  /** Logged once when commits start failing (and when the error changes), not once per try. */
  private commitFailed(error: string, delay: number): void {
    const { log, clock } = this.o;
    const f = this.commitFailure;
    if (f === null) {
      this.commitFailure = { since: clock.now(), failures: 1, error };
      log.error({ code: 'VIGIL_STATE_DIR', err: error, retry_in_ms: delay }, `ingest commits failing: ${error}; lines stay in the log files and are read again once the store takes them`);
      this.api?.vigil.health.invalidate();
      return;
    }
    f.failures++;
    if (error !== f.error) {
      f.error = error;
      log.error({ code: 'VIGIL_STATE_DIR', err: error, failures: f.failures, retry_in_ms: delay }, `ingest commits still failing, now with: ${error}`);
    } else log.debug({ failures: f.failures, retry_in_ms: delay }, 'ingest commit retry failed');
  }

  private commitsRecovered(): void {
    this.failures = 0;
    const f = this.commitFailure;
    if (f === null) return;
    this.commitFailure = null;
    this.o.log.info({ failures: f.failures, failing_for_ms: this.o.clock.now() - f.since }, `ingest commits recovered after ${f.failures} failure(s)`);
    this.api?.vigil.health.invalidate();
  }

  /**
   * Checks every second that vigil.db (and its WAL) at the state directory is still the
   * file this agent writes to; every 30 s also checkpoints the WAL and resizes its bound
   * to the free space.
   */
  private watchStore(): void {
    const dir = this.o.config.state_dir;
    let ticks = 0;
    this.storeTimer = setInterval(() => {
      if (this.stopped || this.rebuilding !== null || this.storeId === null) return;
      const gone = storeFileGone(dir, this.storeId);
      if (gone !== null) {
        void this.rebuildStore(gone);
        return;
      }
      if (++ticks % WAL_CHECK_EVERY === 0) {
        try {
          sizeWal(this.db, dir);
        } catch {
          /* the next tick tries again */
        }
        checkpointWal(this.db);
      }
    }, STORE_CHECK_INTERVAL_MS);
    this.storeTimer.unref();
  }

  /**
   * The store was deleted (or replaced) under the running agent: everything it committed
   * since went to an unlinked file. Every stage holding the old handle is stopped and
   * started again on whatever is at the path now — a fresh store when nothing is, whose
   * empty checkpoints make each file read again from its start_at (so each line counts
   * once in the new store). When that fails the agent cannot go on: onFatal.
   */
  private rebuildStore(why: string): Promise<void> {
    const { log, config } = this.o;
    const file = path.join(config.state_dir, DB_FILE);
    log.error({ code: 'VIGIL_STORE_LOST', reason: why, state: file }, `the store was lost under the running agent (${why}); rebuilding ${file}: a fresh store reads each file again from its start_at, alert history and pending notifications are gone`);
    this.rebuilding = (async () => {
      await this.shutdown(false);
      if (this.stopRequested) return;
      this.stopped = false;
      this.needScan = true;
      this.failures = 0;
      this.commitFailure = null;
      await this.start();
      log.warn({ code: 'VIGIL_STORE_LOST', state: file }, `store rebuilt at ${file}; ingesting into it`);
    })()
      .catch((e) => {
        log.error({ code: 'VIGIL_STORE_LOST', err: errorText(e) }, `rebuilding the store failed: ${errorText(e)}; vigil cannot go on`);
        this.o.onFatal?.(e as Error);
      })
      .finally(() => {
        this.rebuilding = null;
      });
    return this.rebuilding;
  }

  /** Drains everything pending (tests and shutdown). */
  async drainAll(): Promise<void> {
    await this.backlogRun;
    await this.draining;
    this.tailer.scan();
    while ((await this.pipeline.drainSome(64)).more) {
      /* keep going */
    }
  }

  /** SIGHUP: channels, routes and tokens from a new config; rules from their directory. */
  reload(config: Config): void {
    const { log } = this.o;
    const channels = buildChannels(config.channels, { clock: this.o.clock });
    const router = Router.fromConfig({ routes: config.routes, source: config.source }, [...channels.keys()], { defaultGroupWaitMs: config.notify.group_wait_ms });
    assertRuleChannels(router, this.runner.ruleSet.rules);
    const old = this.channels;
    this.channels = channels;
    this.ruleLint.channels = [...channels.keys()];
    this.outbox.reconfigure(router, channels);
    this.dispatcher.reconfigure(channels);
    for (const [name, ch] of old) if (channels.get(name) !== ch) void ch.close?.();
    this.api?.vigil.reloadTokens(config.api.tokens_file, config.api.tokens);
    this.reloader.reload();
    const needRestart = keysNeedingRestart(config, this.o.config);
    if (needRestart.length > 0) log.warn({ keys: needRestart }, `these settings change only at restart: ${needRestart.join(', ')}`);
    log.info({ channels: [...channels.keys()] }, 'configuration reloaded');
  }

  async stop(): Promise<void> {
    if (this.stopRequested) return;
    this.stopRequested = true;
    // A store rebuild cannot be interrupted halfway: let it end, then stop what it started.
    await this.rebuilding;
    if (this.stopped) return;
    await this.shutdown(true);
    this.o.log.info({}, 'vigil stopped');
  }

  /** Stops every stage in reverse order; `finalDrain` commits what was written before the stop. */
  private async shutdown(finalDrain: boolean): Promise<void> {
    this.stopped = true;
    if (this.evalTimer) clearTimeout(this.evalTimer);
    this.evalTimer = null;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.storeTimer) clearInterval(this.storeTimer);
    this.storeTimer = null;
    await this.api?.close();
    this.api = null;
    this.apiAddress = null;
    await this.backlogRun; // stopped at its next step, its last batch committed
    await this.watcher?.close();
    this.watcher = null;
    await this.reloader?.close();
    await this.runner?.stop();
    await this.dispatcher?.stop();
    for (const ch of this.channels.values()) await ch.close?.();
    await this.stopSampler?.();
    try {
      await this.draining;
      // The last batch: whatever was written before SIGTERM is committed.
      if (finalDrain) {
        this.tailer.scan();
        await this.pipeline.drainSome(16);
      }
    } catch (e) {
      this.o.log.error({ err: (e as Error).message }, 'final drain failed; the lines will be read at next start');
    }
    await this.pipeline.close();
    this.tailer.close();
    this.db.close();
    this.releaseLock?.();
    this.releaseLock = null;
  }
}

function backupQueries(set: RuleSet) {
  const out: { pathPattern: string; minSizeBytes: number; verify: 'gzip' | 'tar' | 'none' }[] = [];
  for (const r of set.rules)
    for (const u of r.uses) {
      if (u.fact !== 'backup_present' && u.fact !== 'backup_age_seconds') continue;
      const p = u.params as Record<string, unknown>;
      out.push({ pathPattern: String(p.path), minSizeBytes: Number(p.min_size ?? 1), verify: (p.verify as 'gzip' | 'tar' | 'none') ?? 'none' });
    }
  return out;
}

/** notify.rate_limits: messages per second per channel; null lifts a default (Slack's 1/s). */
function rateLimits(config: Config): Record<string, { perSecond: number; burst: number } | null> {
  const out: Record<string, { perSecond: number; burst: number } | null> = {};
  for (const [name, v] of Object.entries(config.notify.rate_limits)) out[name] = v === null ? null : { perSecond: v, burst: Math.max(1, Math.ceil(v)) };
  return out;
}

function fmtMiB(bytes: number): string {
  return bytes >= 1 << 20 ? `${Math.round((bytes / (1 << 20)) * 10) / 10} MiB` : `${bytes} bytes`;
}

function splitHostPort(listen: string): [string, string] {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return [host, listen.slice(i + 1)];
}

/**
 * The settings SIGHUP changed but cannot apply (they take effect at restart): everything but
 * channels, routes, api tokens and notify.group_wait, which reload() applies.
 */
export function keysNeedingRestart(next: Config, running: Config): string[] {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const out: string[] = [];
  for (const k of Object.keys(next) as Array<keyof Config>) {
    if (k === 'source' || k === 'channels' || k === 'routes') continue;
    if (k === 'api') {
      if (next.api.listen !== running.api.listen || next.api.enabled !== running.api.enabled) out.push('api.listen');
    } else if (k === 'notify') {
      if (!same({ ...next.notify, group_wait_ms: 0 }, { ...running.notify, group_wait_ms: 0 })) out.push('notify.max_age/rate_limits');
    } else if (!same(next[k], running[k])) out.push(k.replace(/_ms$/, '')); // as written in vigil.yaml
  }
  return out;
}

/** Where state goes when the configured state_dir cannot be written (a newcomer without root). */
export function fallbackStateDir(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'vigil');
}
