import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from './clock.js';
import type { Config } from './config/load.js';
import { buildIngest } from './ingest/build.js';
import type { CommitInfo, Pipeline } from './ingest/pipeline.js';
import type { Logger } from './log.js';
import { openStore, DB_FILE, type DB } from './store/db.js';
import { acquireLock } from './store/lock.js';
import { startWatcher, type Tailer, type WatchHandle } from './tail/index.js';

export interface AgentOptions {
  config: Config;
  clock: Clock;
  log: Logger;
  /** Batches committed per turn of the event loop before yielding (keeps the API responsive during a catch-up). */
  batchesPerTurn?: number;
  onCommit?: (c: CommitInfo) => void;
}

/**
 * The running agent: stages start left to right (store → tail → ingest) and stop in
 * reverse. Reading is driven by file-change events plus a periodic reconcile scan.
 */
export class Agent {
  db!: DB;
  tailer!: Tailer;
  pipeline!: Pipeline;
  private watcher: WatchHandle | null = null;
  private releaseLock: (() => void) | null = null;
  private scheduled = false;
  private needScan = true;
  private stopped = false;
  private failures = 0;

  constructor(private readonly o: AgentOptions) {}

  get stateDir(): string {
    return this.o.config.state_dir;
  }

  async start(): Promise<void> {
    const { config, log, clock } = this.o;
    fs.mkdirSync(config.state_dir, { recursive: true });
    this.releaseLock = acquireLock(config.state_dir);
    this.db = openStore(config.state_dir);
    const parts = buildIngest({
      config,
      db: this.db,
      clock,
      log: (level, msg, data) => log[level](data ?? {}, msg),
      ...(this.o.onCommit ? { onCommit: this.o.onCommit } : {}),
    });
    this.tailer = parts.tailer;
    this.pipeline = parts.pipeline;
    this.tailer.scan();
    this.watcher = startWatcher(
      config.inputs.map((i) => i.path),
      () => {
        this.needScan = true;
        this.kick();
      },
      {
        mode: config.watch.mode,
        pollIntervalMs: config.watch.reconcile_interval_ms,
        log: (level, msg, data) => log[level]({ ...data }, msg),
      },
    );
    log.info(
      { inputs: config.inputs.map((i) => i.path), state: path.join(config.state_dir, DB_FILE), files: this.tailer.files().map((f) => f.path) },
      `vigil watching ${config.inputs.map((i) => i.path).join(', ')}; state in ${path.join(config.state_dir, DB_FILE)}`,
    );
    this.kick();
  }

  /** Something may have changed: drain soon (coalesces bursts of events). */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.drainTurn());
  }

  private drainTurn(): void {
    this.scheduled = false;
    if (this.stopped) return;
    try {
      if (this.needScan) {
        this.needScan = false;
        this.tailer.scan();
      }
      const r = this.pipeline.drainSome(this.o.batchesPerTurn ?? 4);
      this.failures = 0;
      if (r.more) this.kick();
    } catch (e) {
      // A failed commit (disk full, database locked): the tailer was rewound; try again
      // later with a growing pause instead of spinning.
      this.failures++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7));
      this.o.log.error({ err: (e as Error).message, retry_in_ms: delay }, 'ingest batch failed; retrying');
      setTimeout(() => this.kick(), delay).unref();
    }
  }

  /** Drains everything pending synchronously (replay, tests and shutdown). */
  drainAll(): void {
    this.tailer.scan();
    while (this.pipeline.drainSome(64).more) {
      /* keep going */
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.watcher?.close();
    try {
      // The last batch: whatever was written before SIGTERM is committed.
      this.tailer.scan();
      this.pipeline.drainSome(16);
    } catch (e) {
      this.o.log.error({ err: (e as Error).message }, 'final drain failed; the lines will be read at next start');
    }
    this.tailer.close();
    this.db.close();
    this.releaseLock?.();
    this.o.log.info({}, 'vigil stopped');
  }
}

/** Where state goes when the configured state_dir cannot be written (a newcomer without root). */
export function fallbackStateDir(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'vigil');
}
