import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock.js';
import { parseConfigText, type Config } from '../../src/config/load.js';
import { buildApi } from '../../src/api/server.js';
import { createLogger } from '../../src/log.js';
import type { ApiDeps, HealthInputs, RuntimeView, TailedFile, RuleReload } from '../../src/api/types.js';
import { BatchWriter, emptyBatch, MINUTE, type WindowCell } from '../../src/store/batch.js';
import { openStore, type DB } from '../../src/store/db.js';
import { Histogram } from '../../src/store/histogram.js';
import { tmpDir } from '../helpers/agent.js';

export { tmpDir };

export const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
export const TOKEN = 'test-token-0123456789abcdef';

export interface Fixture {
  dir: string;
  logDir: string;
  db: DB;
  clock: ManualClock;
  config: Config;
  runtime: Omit<RuntimeView, 'startedAt'> & { startedAt: number; files_: TailedFile[]; reload: RuleReload | null; lag: number | null };
  checks: HealthInputs;
  deps: ApiDeps;
  cleanup(): void;
}

/** A real store in a temp state dir, a config pointing at a temp log dir, and a plain runtime view. */
export function fixture(opts: { yaml?: string; tokens?: string[]; checks?: HealthInputs; now?: number } = {}): Fixture {
  const dir = tmpDir('api');
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir);
  const tokens = opts.tokens ?? [TOKEN];
  const yaml =
    opts.yaml ??
    [
      `inputs: [{ path: "${logDir}/*.log" }]`,
      `state_dir: "${path.join(dir, 'state')}"`,
      `api: { tokens_file: "${path.join(dir, 'tokens')}", tokens: ${JSON.stringify(tokens)} }`,
      `system: { sample_interval: 15s, disks: ["/"] }`,
    ].join('\n');
  const cfgFile = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(cfgFile, yaml);
  const config = parseConfigText(yaml, cfgFile, {});
  const db = openStore(config.state_dir);
  const clock = new ManualClock(opts.now ?? T0);
  const runtime = {
    files_: [] as TailedFile[],
    reload: null as RuleReload | null,
    lag: null as number | null,
    startedAt: (opts.now ?? T0) - 3_600_000,
    files() {
      return this.files_;
    },
    lastRuleReload() {
      return this.reload;
    },
    ingestLagMs() {
      return this.lag;
    },
  };
  const checks: HealthInputs = opts.checks ?? { tempDir: dir };
  const deps: ApiDeps = { db, clock, config, runtime, checks };
  return {
    dir,
    logDir,
    db,
    clock,
    config,
    runtime,
    checks,
    deps,
    cleanup() {
      try {
        db.close();
      } catch {
        /* already closed */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const auth = { authorization: `Bearer ${TOKEN}` };

export function api(f: Fixture) {
  return buildApi(f.deps);
}

/** The API with the agent's logger writing into a string, for tests of what gets logged. */
export function loggedApi(f: Fixture, level: 'debug' | 'info'): { app: ReturnType<typeof buildApi>; logged: () => string } {
  let out = '';
  const sink = new Writable({ write: (c, _e, cb) => ((out += c), cb()) });
  return { app: buildApi({ ...f.deps, log: createLogger(level, sink) }), logged: () => out };
}

export interface CellSpec {
  start: number;
  stage?: string;
  level?: string;
  logger?: string;
  errorCode?: string;
  ops?: number;
  failed?: number;
  lines?: number;
  /** Durations of the operations (seconds). */
  durations?: number[];
}

/** Writes window cells through the real BatchWriter (minute + hour rollups in one transaction). */
export function writeCells(db: DB, cells: CellSpec[]): void {
  const w = new BatchWriter(db, { recentLines: 10_000, rejectedSamples: 1000 });
  const b = emptyBatch();
  cells.forEach((c, i) => {
    const durs = c.durations ?? [];
    let hist: Histogram | null = null;
    if (durs.length) {
      hist = new Histogram();
      for (const d of durs) hist.add(d);
    }
    const cell: WindowCell = {
      start: c.start - (c.start % MINUTE),
      logger: c.logger ?? 'media_processing',
      level: c.level ?? (c.failed ? 'ERROR' : 'INFO'),
      stage: c.stage ?? '',
      errorCode: c.errorCode ?? '',
      lines: c.lines ?? c.ops ?? 1,
      ops: c.ops ?? 0,
      opsFailed: c.failed ?? 0,
      durCount: durs.length,
      durSum: durs.reduce((s, x) => s + x, 0),
      durMin: durs.length ? Math.min(...durs) : null,
      durMax: durs.length ? Math.max(...durs) : null,
      hist,
    };
    b.cells.set(String(i), cell);
  });
  w.commit(b);
}

export function insertSession(
  db: DB,
  s: { id: string; user?: string | null; stage?: string | null; first: number; last?: number; finished?: 0 | 1 | 2; finishedTs?: number | null },
): void {
  db.prepare(
    `INSERT INTO sessions (session_id, user_id, logger, first_ts, last_ts, stage, events, finished, finished_ts) VALUES (?, ?, 'media_processing', ?, ?, ?, 1, ?, ?)`,
  ).run(s.id, s.user ?? null, s.first, s.last ?? s.first, s.stage ?? null, s.finished ?? 0, s.finishedTs ?? null);
}

export function insertAlert(
  db: DB,
  a: { rule: string; severity?: string; state?: string; summary?: string; labels?: Record<string, string>; started: number; firing?: number | null; resolved?: number | null },
): number {
  const r = db
    .prepare(
      `INSERT INTO alerts (alert_key, rule, severity, labels, state, summary, started_at, firing_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      `${a.rule}{}`,
      a.rule,
      a.severity ?? 'warning',
      JSON.stringify(a.labels ?? {}),
      a.state ?? 'firing',
      a.summary ?? `${a.rule} summary`,
      a.started,
      a.firing ?? (a.state === 'pending' ? null : a.started),
      a.resolved ?? null,
    );
  return Number(r.lastInsertRowid);
}

export function insertSample(db: DB, metric: string, key: string, ts: number, value: number): void {
  db.prepare(`INSERT OR REPLACE INTO samples (metric, key, ts, value) VALUES (?, ?, ?, ?)`).run(metric, key, ts, value);
}

export function insertRecent(db: DB, lines: { ts: number; level: string; obj: Record<string, unknown> }[]): void {
  const st = db.prepare(`INSERT INTO recent_lines (ts, level, logger, file, line) VALUES (?, ?, 'media_processing', 'app.log', ?)`);
  for (const l of lines) st.run(l.ts, l.level, JSON.stringify(l.obj));
}

export function insertOutbox(db: DB, o: { channel: string; status: string; created: number; id?: string }): void {
  db.prepare(
    `INSERT INTO outbox (notification_id, channel, alert_key, kind, payload, created_at, status, next_attempt_at) VALUES (?, ?, 'k', 'firing', '{}', ?, ?, ?)`,
  ).run(o.id ?? `${o.channel}-${o.status}-${o.created}-${Math.random()}`, o.channel, o.created, o.status, o.created);
}
