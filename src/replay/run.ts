/**
 * `vigil replay` as a function: log files → the same ingest and rule engine as the
 * agent, on the logs' clock → one JSON line per alert transition.
 */
import fs from 'node:fs';
import type { Config } from '../config/load.js';
import { ManualClock } from '../clock.js';
import type { RuleSet, Transition } from '../rules/engine.js';
import { readsLogs, type CheckSource } from '../rules/facts.js';
import { RuleRunner, type RunnerLog } from '../rules/runner.js';
import { AlertStore } from '../store/alerts.js';
import type { DB } from '../store/db.js';
import { StoreFacts } from '../store/facts.js';
import { ScheduledChecks } from './checks.js';
import { feed, type FeedProgress, type FeedResult } from './feeder.js';
import { expandInputs } from './files.js';

export interface ReplayOptions {
  paths: readonly string[];
  rules: RuleSet;
  /** `inputs`: a replayed file is read in the format of the input whose glob (else file-name pattern) it matches; a directory gives the files those patterns match. */
  config: Pick<Config, 'retention' | 'cardinality' | 'max_line_bytes'> & Partial<Pick<Config, 'sessions' | 'inputs'>>;
  /** An empty, migrated store. */
  db: DB;
  stepMs: number;
  /** Also print pending and inactive transitions. */
  allStates?: boolean;
  /** Receives each output line (without the newline). */
  write: (line: string) => void;
  log: RunnerLog;
  /** Default: everything healthy (see ScheduledChecks). */
  checks?: CheckSource;
  /** Before reading: the logical files and their total size. */
  onStart?: (files: number, totalBytes: number) => void;
  /** After each chunk ingested. */
  onProgress?: (p: FeedProgress) => void;
}


/**
 * How long to keep evaluating after the last line so alerts can settle: the longest
 * for + keep_firing_for among the rules that read the logs, plus a step. (A rule on
 * machine facts alone cannot change state in a replay; its `for` — 6 h for a backup —
 * would only add hours of idle steps.)
 */
export function settleMs(set: RuleSet, stepMs: number): number {
  let longest = 0;
  for (const r of set.rules) {
    if (!readsLogs(r)) continue; // no system samples exist and the checks answer healthy throughout
    longest = Math.max(longest, r.forMs + r.keepFiringForMs);
  }
  return longest + stepMs;
}

/** One output line; keys in a fixed order so the output is byte-for-byte reproducible. */
export function formatTransition(t: Transition): string {
  return JSON.stringify({
    at: new Date(t.at).toISOString(),
    rule: t.rule,
    state: t.state,
    severity: t.severity,
    labels: t.labels,
    summary: t.summary,
  });
}

/** Printed by default: the transitions an operator is told about (not re-notifications). */
export function isAnnounced(t: Transition): boolean {
  return (t.state === 'firing' && t.notify !== 'repeat') || t.state === 'resolved';
}

/**
 * A RuleRunner over a replay store (replay and rule tests). feed() hands it each
 * step's time; its clock is read only by start(), which replay never calls.
 */
export function replayRunner(o: { db: DB; rules: RuleSet; checks?: CheckSource; log: RunnerLog; config?: Partial<Pick<Config, 'sessions'>> }): RuleRunner {
  return new RuleRunner({
    rules: o.rules,
    sources: { facts: new StoreFacts(o.db, { abandonAfterMs: o.config?.sessions?.abandon_after_ms }), checks: o.checks ?? new ScheduledChecks() },
    clock: new ManualClock(0),
    alertStore: new AlertStore(o.db),
    log: o.log,
  });
}

export interface ReplayResult extends FeedResult {
  /** Transitions written. */
  printed: number;
}

export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const files = expandInputs(o.paths, o.config.inputs);
  let total = 0;
  for (const f of files) for (const p of f.parts) total += sizeOf(p);
  o.onStart?.(files.length, total);
  const runner = replayRunner(o);
  const tail = settleMs(o.rules, o.stepMs);
  let printed = 0;
  const res = await feed(
    files.map((f) => ({ file: f.name, parts: f.parts, ...(f.format !== undefined ? { format: f.format } : {}) })),
    {
      db: o.db,
      config: o.config,
      runner,
      stepMs: o.stepMs,
      until: (last) => (last === null ? Number.NEGATIVE_INFINITY : last + tail),
      onStep: (_now, transitions) => {
        for (const t of transitions) {
          if (!o.allStates && !isAnnounced(t)) continue;
          o.write(formatTransition(t));
          printed++;
        }
      },
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    },
  );
  return { ...res, printed };
}

function sizeOf(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}
