/**
 * Runs rule tests: each test gets a fresh in-memory store, its input goes through
 * the replay feeder (the agent's own ingest) and its rules through the RuleRunner
 * the agent uses, stepped on the test's clock. At each eval_time the alerts that
 * are pending or firing — plus those that resolved since the previous eval_time —
 * are compared with the expectation.
 */
import fs from 'node:fs';
import { DEFAULTS } from '../config/load.js';
import type { Located } from '../errors.js';
import { ScheduledChecks } from '../replay/checks.js';
import type { ReplayInput } from '../replay/cursor.js';
import { feed, type FeedProgress } from '../replay/feeder.js';
import { expandInputs } from '../replay/files.js';
import { replayRunner } from '../replay/run.js';
import { openStore } from '../store/db.js';
import { insertSample } from '../store/samples.js';
import type { RuleSet } from '../rules/engine.js';
import { lintRuleSet } from '../rules/reload.js';
import type { RunnerLog } from '../rules/runner.js';
import { parseTestFile, type EvalCheck, type ExpectedAlert, type TestCase, type TestFile } from './format.js';

export interface GotAlert {
  rule: string;
  state: 'pending' | 'firing' | 'resolved';
  severity: string;
  labels: Record<string, string>;
  summary: string;
}

export interface EvalFailure {
  eval: EvalCheck;
  /** The evaluation instant. */
  at: number;
  expected: ExpectedAlert[];
  got: GotAlert[];
  missing: ExpectedAlert[];
  unexpected: GotAlert[];
}

export interface TestResult {
  file: string;
  name: string;
  line: number;
  col: number;
  ok: boolean;
  failures: EvalFailure[];
  /** Rule errors (facts that failed) seen while the test ran. */
  errors: string[];
}

export interface FileResult {
  file: string;
  /** Problems with the test file or its rule files; its tests did not run. */
  problems: Located[];
  results: TestResult[];
}

const FEED_CONFIG = {
  max_line_bytes: DEFAULTS.max_line_bytes,
  retention: { windows_ms: 0, samples_ms: 0, alerts_ms: 0, recent_lines: 100, rejected_samples: 100 },
  cardinality: { ...DEFAULTS.cardinality },
};

/** Runs every test of one file whose name matches `filter`. */
export interface RunOptions {
  filter?: RegExp;
  /** Before each test's input is read: its name and the size of its input files. */
  onTestStart?: (name: string, inputBytes: number) => void;
  /** After each chunk of a test's input. */
  onProgress?: (p: FeedProgress) => void;
}

export async function runTestFile(file: string, opts: RunOptions = {}): Promise<FileResult> {
  const parsed = parseTestFile(file);
  if (!parsed.test) return { file, problems: parsed.problems, results: [] };
  const tf = parsed.test;
  const { set, problems } = lintRuleSet(tf.ruleFiles);
  if (problems.length > 0) return { file, problems, results: [] };
  const results: TestResult[] = [];
  for (const t of tf.tests) {
    if (opts.filter && !opts.filter.test(t.name)) continue;
    results.push(await runTest(tf, t, set, opts));
  }
  return { file, problems: [], results };
}

export async function runTest(tf: TestFile, t: TestCase, set: RuleSet, opts: RunOptions = {}): Promise<TestResult> {
  const db = openStore(':memory:');
  const errors: string[] = [];
  const log: RunnerLog = {
    info: () => {},
    warn: (_d, msg) => {
      if (errors.length < 20) errors.push(msg);
    },
    error: (_d, msg) => {
      if (errors.length < 20) errors.push(msg);
    },
  };
  try {
    for (const s of t.samples) insertSample(db, s.metric, s.key, s.ts, s.value);
    const runner = replayRunner({ db, rules: set, checks: new ScheduledChecks(t.checks), log });
    const severityOf = new Map(set.rules.map((r) => [r.name, r.severity as string]));
    const summaries = new Map<string, string>();
    let resolvedSince: GotAlert[] = [];
    const pendingEvals = [...t.evals];
    const failures: EvalFailure[] = [];
    const last = t.evals.length ? t.start + t.evals[t.evals.length - 1]!.offsetMs : t.start;

    const inputs = sources(t);
    if (opts.onTestStart) {
      let bytes = 0;
      for (const i of inputs) for (const p of i.parts ?? []) bytes += sizeOf(p);
      opts.onTestStart(t.name, bytes);
    }
    await feed(inputs, {
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      db,
      config: FEED_CONFIG,
      runner,
      stepMs: tf.intervalMs,
      from: t.start,
      until: last,
      onStep: (now, transitions) => {
        for (const tr of transitions) {
          if (tr.state === 'resolved') {
            resolvedSince.push({ rule: tr.rule, state: 'resolved', severity: tr.severity, labels: tr.labels, summary: tr.summary });
            summaries.delete(tr.alertKey);
          } else if (tr.state === 'inactive') summaries.delete(tr.alertKey);
          else summaries.set(tr.alertKey, tr.summary);
        }
        while (pendingEvals.length > 0 && t.start + pendingEvals[0]!.offsetMs === now) {
          const ev = pendingEvals.shift()!;
          const got: GotAlert[] = [...resolvedSince];
          for (const [key, st] of runner.alerts()) {
            if (st.state === 'inactive') continue;
            got.push({ rule: st.rule, state: st.state, severity: severityOf.get(st.rule) ?? '', labels: st.labels, summary: summaries.get(key) ?? '' });
          }
          resolvedSince = [];
          const f = compare(ev, now, got);
          if (f) failures.push(f);
        }
      },
    });
    // Eval times before the first evaluation step cannot happen (they are offsets >= 0 on the grid).
    return { file: tf.file, name: t.name, line: t.line, col: t.col, ok: failures.length === 0 && pendingEvals.length === 0, failures, errors };
  } finally {
    db.close();
  }
}

function sizeOf(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

function sources(t: TestCase): ReplayInput[] {
  const out: ReplayInput[] = [];
  for (const f of expandInputs(t.inputFiles)) out.push({ file: f.name, parts: f.parts, ...(f.format !== undefined ? { format: f.format } : {}) });
  const byFile = new Map<string, { text: string; at: number }[]>();
  for (const l of t.inputLines) {
    const list = byFile.get(l.file) ?? [];
    list.push({ text: l.text, at: l.at });
    byFile.set(l.file, list);
  }
  for (const [file, lines] of [...byFile].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.push({ file, lines });
  return out;
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
};

function matches(e: ExpectedAlert, g: GotAlert): boolean {
  return (
    e.rule === g.rule &&
    e.state === g.state &&
    sameLabels(e.labels, g.labels) &&
    (e.summary === undefined || e.summary === g.summary) &&
    (e.severity === undefined || e.severity === g.severity)
  );
}

function compare(ev: EvalCheck, at: number, got: GotAlert[]): EvalFailure | undefined {
  const left = [...got];
  const missing: ExpectedAlert[] = [];
  for (const e of ev.expect) {
    const i = left.findIndex((g) => matches(e, g));
    if (i === -1) missing.push(e);
    else left.splice(i, 1);
  }
  if (missing.length === 0 && left.length === 0) return undefined;
  const order = (a: GotAlert, b: GotAlert) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1);
  return { eval: ev, at, expected: ev.expect, got: got.sort(order), missing, unexpected: left.sort(order) };
}
