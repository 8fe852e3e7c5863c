/**
 * Rule test files (`*.test.yaml`), in the spirit of `promtool test rules`:
 *
 *   rule_files: [error_rate.yaml]         # relative to this file; directories allowed
 *   evaluation_interval: 15s              # default 15s
 *   tests:
 *     - name: fires after 5m of 20% errors
 *       start: 2026-11-22T10:00:00Z       # default 2026-01-01T00:00:00Z
 *       input_files: [../fixtures/incidents/x.log]
 *       input_lines:
 *         - at: 0m                        # offset from start; may be negative (-10m)
 *           repeat: 40x30s                # 40 lines, one every 30 s
 *           file: errors.log              # default application.log
 *           line: { event: stage_completed, stage: upload, session_id: "s{{i}}" }   # or a raw string
 *       samples: [{ at: 0m, repeat: 40x15s, metric: memory, value: 91 }]         # disk takes mount (default /)
 *       checks: { ffmpeg_available: false, backup: { present: true, age: 30h, size: 10MiB, intact: false } }
 *                                         # or a list of { at, ffmpeg_available?, backup? } changes
 *       alerts:
 *         - eval_time: 10m
 *           expect:
 *             - { rule: high_error_rate, state: firing, labels: {}, summary: "…", severity: error }
 *         - eval_time: 2m
 *           expect: []                    # nothing pending or firing
 *
 * Every problem is reported at once as file:line:col.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import type { Located } from '../errors.js';
import type { CheckChange, BackupFake } from '../replay/checks.js';
import { normalizeParam } from '../rules/facts.js';
import { didYouMean } from '../rules/suggest.js';
import { cannotRead, nodeKind, yamlErrors, type Field } from '../rules/yaml-nodes.js';
import { parseDuration } from '../util/duration.js';

export const DEFAULT_START = Date.UTC(2026, 0, 1, 0, 0, 0);
export const DEFAULT_INTERVAL_MS = 15_000;
/** Inline lines (after repeats) one test may generate. */
export const MAX_INLINE_LINES = 1_000_000;
const DEFAULT_FILE = 'application.log';
const TIMESTAMP_KEYS = ['timestamp', 'ts', 'time', '@timestamp', 'asctime', 'created'];

export type ExpectedState = 'pending' | 'firing' | 'resolved';

export interface ExpectedAlert {
  rule: string;
  state: ExpectedState;
  labels: Record<string, string>;
  summary?: string;
  severity?: string;
  line: number;
  col: number;
}

export interface EvalCheck {
  /** Offset from the test's start, ms. */
  offsetMs: number;
  /** As written (e.g. "10m"), for messages. */
  written: string;
  expect: ExpectedAlert[];
  line: number;
  col: number;
}

export interface InlineLine {
  /** Logical file name (relative names are kept as written: `application.log`). */
  file: string;
  at: number;
  text: string;
}

export interface TestCase {
  name: string;
  line: number;
  col: number;
  start: number;
  inputFiles: string[];
  inputLines: InlineLine[];
  samples: { metric: string; key: string; ts: number; value: number }[];
  checks: CheckChange[];
  evals: EvalCheck[];
}

export interface TestFile {
  file: string;
  ruleFiles: string[];
  /** Where rule_files is written (rule problems are reported at their own positions). */
  intervalMs: number;
  tests: TestCase[];
}

/** `key: null` or `key:` — written, but empty. */
function isNull(f: Field): boolean {
  return isScalar(f.value) && f.value.value === null;
}

class Reader {
  readonly problems: Located[] = [];
  constructor(
    readonly file: string,
    private readonly lc: LineCounter,
  ) {}

  pos(node: Node | null | undefined, fallback?: Node | null): { line: number; col: number } {
    const n = node?.range ? node : fallback;
    return this.lc.linePos(n?.range?.[0] ?? 0);
  }

  at(node: Node | null | undefined, message: string, fallback?: Node | null): void {
    this.problems.push({ file: this.file, ...this.pos(node, fallback), message });
  }

  /** The fields of a map; unknown keys are reported (with a suggestion) and left out. */
  fields(node: Node | null, what: string, allowed: readonly string[], parent?: Node | null): Map<string, Field> | undefined {
    if (!isMap(node)) {
      this.at(node, `${what}: expected a map, got ${nodeKind(node)}`, parent);
      return undefined;
    }
    const out = new Map<string, Field>();
    for (const pair of node.items as Pair<Node, Node | null>[]) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!allowed.includes(k)) {
        this.at(pair.key, `${what}: unknown key "${k}"${didYouMean(k, allowed)} (known: ${allowed.join(', ')})`);
        continue;
      }
      out.set(k, { key: pair.key, value: pair.value });
    }
    return out;
  }

  require(f: Map<string, Field>, k: string, what: string, node: Node | null): Field | undefined {
    const v = f.get(k);
    if (!v) this.at(node, `${what}: missing required key "${k}"`);
    return v;
  }

  list(f: Field | undefined, what: string): Node[] | undefined {
    if (!f) return undefined;
    if (isNull(f)) return [];
    if (!isSeq(f.value)) {
      this.at(f.value, `${what}: expected a list, got ${nodeKind(f.value)}`, f.key);
      return undefined;
    }
    return f.value.items as Node[];
  }

  /** A scalar field's value when `fits` accepts it; otherwise "<what>: expected <expected>, got …" is reported. */
  private scalar<T>(f: Field | undefined, what: string, expected: string, fits: (v: unknown) => v is T): T | undefined {
    if (!f) return undefined;
    const v = isScalar(f.value) ? f.value.value : undefined;
    if (fits(v)) return v;
    this.at(f.value, `${what}: expected ${expected}, got ${nodeKind(f.value)}`, f.key);
    return undefined;
  }

  str(f: Field | undefined, what: string): string | undefined {
    return this.scalar(f, what, 'a string', (v): v is string => typeof v === 'string' && v !== '');
  }

  num(f: Field | undefined, what: string): number | undefined {
    return this.scalar(f, what, 'a number', (v): v is number => typeof v === 'number' && Number.isFinite(v));
  }

  bool(f: Field | undefined, what: string): boolean | undefined {
    return this.scalar(f, what, 'true or false', (v): v is boolean => typeof v === 'boolean');
  }

  /** A duration such as 90s, 5m, 1h30m; with `signed`, a leading minus is allowed. A bare number is seconds. */
  duration(f: Field | undefined, what: string, signed = false): number | undefined {
    if (!f) return undefined;
    const v = isScalar(f.value) ? f.value.value : undefined;
    if (typeof v === 'number' && Number.isFinite(v) && (signed || v >= 0)) return v * 1000;
    if (typeof v === 'string') {
      const neg = signed && v.trim().startsWith('-');
      try {
        const ms = parseDuration(neg ? v.trim().slice(1) : v);
        return neg ? -ms : ms;
      } catch {
        // reported below
      }
    }
    this.at(f.value, `${what}: expected a duration such as 30s, 5m or 1h30m${signed ? ' (may start with -)' : ''}, got ${nodeKind(f.value)}`, f.key);
    return undefined;
  }

  labels(f: Field | undefined, what: string): Record<string, string> | undefined {
    if (!f) return {};
    if (isNull(f)) return {};
    if (!isMap(f.value)) {
      this.at(f.value, `${what}: expected a map of name: value, got ${nodeKind(f.value)}`, f.key);
      return undefined;
    }
    const entries: [string, string][] = [];
    for (const pair of f.value.items as Pair<Node, Node | null>[]) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      const v = isScalar(pair.value) ? pair.value.value : undefined;
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        this.at(pair.value, `${what}.${k}: expected a string, got ${nodeKind(pair.value)}`, pair.key);
        return undefined;
      }
      entries.push([k, String(v)]);
    }
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  }
}

const TOP = ['rule_files', 'evaluation_interval', 'tests'] as const;
const TEST = ['name', 'start', 'input_files', 'input_lines', 'samples', 'checks', 'alerts'] as const;
const INPUT_LINE = ['at', 'repeat', 'file', 'line'] as const;
const SAMPLE = ['at', 'repeat', 'metric', 'mount', 'value'] as const;
const CHECKS = ['ffmpeg_available', 'backup'] as const;
const CHECK_CHANGE = ['at', 'ffmpeg_available', 'backup'] as const;
const BACKUP = ['present', 'age', 'size', 'intact'] as const;
const ALERT = ['eval_time', 'expect'] as const;
const EXPECT = ['rule', 'state', 'labels', 'summary', 'severity'] as const;
const METRICS = ['cpu', 'memory', 'disk', 'load1'];
const STATES: readonly ExpectedState[] = ['pending', 'firing', 'resolved'];

/** Parses and validates a rule test file; `problems` lists everything wrong with it. */
export function parseTestFile(file: string, text?: string): { test: TestFile | undefined; problems: Located[] } {
  let src = text;
  if (src === undefined) {
    try {
      src = fs.readFileSync(file, 'utf8');
    } catch (e) {
      return { test: undefined, problems: [cannotRead(file, e)] };
    }
  }
  const lc = new LineCounter();
  const doc = parseDocument(src, { lineCounter: lc, uniqueKeys: true });
  const r = new Reader(file, lc);
  if (doc.errors.length > 0) {
    return { test: undefined, problems: yamlErrors(file, doc.errors, lc) };
  }
  const top = r.fields(doc.contents as Node | null, 'a rule test file', TOP);
  if (!top) return { test: undefined, problems: r.problems };
  const dir = path.dirname(file);

  const ruleFiles: string[] = [];
  const rf = r.require(top, 'rule_files', 'a rule test file', doc.contents as Node);
  for (const item of r.list(rf, 'rule_files') ?? []) {
    const v = isScalar(item) ? item.value : undefined;
    if (typeof v !== 'string' || v === '') r.at(item, `rule_files: expected a path, got ${nodeKind(item)}`);
    else ruleFiles.push(path.resolve(dir, v));
  }
  if (rf && ruleFiles.length === 0 && r.problems.length === 0) r.at(rf.value, 'rule_files: name at least one rule file', rf.key);

  let intervalMs = r.duration(top.get('evaluation_interval'), 'evaluation_interval') ?? DEFAULT_INTERVAL_MS;
  if (intervalMs <= 0) {
    r.at(top.get('evaluation_interval')!.value, 'evaluation_interval: must be longer than 0s');
    intervalMs = DEFAULT_INTERVAL_MS;
  }

  const tests: TestCase[] = [];
  const tf = r.require(top, 'tests', 'a rule test file', doc.contents as Node);
  for (const item of r.list(tf, 'tests') ?? []) {
    const t = testCase(r, item, dir, intervalMs);
    if (t) tests.push(t);
  }
  const problems = r.problems.sort((a, b) => a.line - b.line || a.col - b.col);
  return { test: problems.length ? undefined : { file, ruleFiles, intervalMs, tests }, problems };
}

function testCase(r: Reader, node: Node, dir: string, intervalMs: number): TestCase | undefined {
  const f = r.fields(node, 'test', TEST);
  if (!f) return undefined;
  const { line, col } = r.pos(node);
  const name = r.str(r.require(f, 'name', 'test', node), 'name') ?? '(unnamed)';
  let start = DEFAULT_START;
  const sf = f.get('start');
  if (sf) {
    const v = isScalar(sf.value) ? sf.value.value : undefined;
    const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) r.at(sf.value, `start: expected an ISO-8601 time such as 2026-11-22T10:00:00Z, got ${nodeKind(sf.value)}`, sf.key);
    else start = ms;
  }

  const inputFiles: string[] = [];
  for (const item of r.list(f.get('input_files'), 'input_files') ?? []) {
    const v = isScalar(item) ? item.value : undefined;
    if (typeof v !== 'string' || v === '') {
      r.at(item, `input_files: expected a path, got ${nodeKind(item)}`);
      continue;
    }
    const p = path.resolve(dir, v);
    if (!fs.existsSync(p)) r.at(item, `input_files: ${v} does not exist (resolved to ${p})`);
    else inputFiles.push(p);
  }

  const inputLines: InlineLine[] = [];
  for (const item of r.list(f.get('input_lines'), 'input_lines') ?? []) inputLine(r, item, start, inputLines);
  // Each file's lines in time order (stable: lines given for the same instant keep their order).
  inputLines.sort((a, b) => a.at - b.at);

  const samples: TestCase['samples'] = [];
  for (const item of r.list(f.get('samples'), 'samples') ?? []) sample(r, item, start, samples);

  const checks = checkChanges(r, f.get('checks'), start);

  const evals: EvalCheck[] = [];
  const af = f.get('alerts');
  for (const item of r.list(af, 'alerts') ?? []) {
    const e = evalCheck(r, item, intervalMs);
    if (e) evals.push(e);
  }
  if (!af || evals.length === 0) r.at(af?.value ?? node, `test "${name}": alerts: give at least one eval_time with its expected alerts`, af?.key);
  evals.sort((a, b) => a.offsetMs - b.offsetMs);
  return { name, line, col, start, inputFiles, inputLines, samples, checks, evals };
}

/** `40x30s` → 40 lines, 30 s apart. */
function repeat(r: Reader, f: Field | undefined): { count: number; everyMs: number } | undefined {
  if (!f) return { count: 1, everyMs: 0 };
  const v = isScalar(f.value) ? f.value.value : undefined;
  const m = typeof v === 'string' ? /^\s*(\d+)\s*x\s*(\S+)\s*$/.exec(v) : null;
  let every: number | undefined;
  if (m) {
    try {
      every = parseDuration(m[2]!);
    } catch {
      every = undefined;
    }
  }
  if (!m || every === undefined || Number(m[1]) < 1) {
    r.at(f.value, `repeat: expected COUNTxINTERVAL such as 40x30s, got ${nodeKind(f.value)}`, f.key);
    return undefined;
  }
  return { count: Number(m[1]), everyMs: every };
}

function inputLine(r: Reader, node: Node, start: number, out: InlineLine[]): void {
  const f = r.fields(node, 'input_lines entry', INPUT_LINE);
  if (!f) return;
  const at = r.duration(r.require(f, 'at', 'input_lines entry', node), 'at', true);
  const rep = repeat(r, f.get('repeat'));
  const file = f.has('file') ? r.str(f.get('file'), 'file') : DEFAULT_FILE;
  const lf = r.require(f, 'line', 'input_lines entry', node);
  if (at === undefined || !rep || file === undefined || !lf) return;
  let template: unknown;
  if (isScalar(lf.value) && typeof lf.value.value === 'string') template = lf.value.value;
  else if (isMap(lf.value)) template = lf.value.toJSON();
  else {
    r.at(lf.value, `line: expected a map of log fields or a raw string, got ${nodeKind(lf.value)}`, lf.key);
    return;
  }
  if (out.length + rep.count > MAX_INLINE_LINES) {
    r.at(f.get('repeat')?.value ?? lf.value, `input_lines: more than ${MAX_INLINE_LINES} lines in one test; use input_files for big inputs`);
    return;
  }
  for (let i = 0; i < rep.count; i++) {
    const ts = start + at + i * rep.everyMs;
    const filled = fill(template, i);
    let text: string;
    if (typeof filled === 'string') text = filled;
    else {
      const o = filled as Record<string, unknown>;
      text = JSON.stringify(TIMESTAMP_KEYS.some((k) => k in o) ? o : { timestamp: new Date(ts).toISOString(), ...o });
    }
    out.push({ file, at: ts, text });
  }
}

/** Replaces `{{i}}` in string values with the repeat index (distinct session ids and the like). */
function fill(v: unknown, i: number): unknown {
  if (typeof v === 'string') return v.includes('{{i}}') ? v.replaceAll('{{i}}', String(i)) : v;
  if (Array.isArray(v)) return v.map((x) => fill(x, i));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, i)]));
  return v;
}

function sample(r: Reader, node: Node, start: number, out: TestCase['samples']): void {
  const f = r.fields(node, 'samples entry', SAMPLE);
  if (!f) return;
  const at = r.duration(r.require(f, 'at', 'samples entry', node), 'at', true);
  const rep = repeat(r, f.get('repeat'));
  const mf = r.require(f, 'metric', 'samples entry', node);
  const metric = r.str(mf, 'metric');
  if (metric !== undefined && !METRICS.includes(metric)) r.at(mf!.value, `metric: unknown metric "${metric}"${didYouMean(metric, METRICS)} (known: ${METRICS.join(', ')})`);
  if (f.has('mount') && metric !== 'disk') r.at(f.get('mount')!.key, 'mount: only disk samples have a mount');
  const mount = f.has('mount') ? r.str(f.get('mount'), 'mount') : '/';
  const value = r.num(r.require(f, 'value', 'samples entry', node), 'value');
  if (at === undefined || !rep || metric === undefined || !METRICS.includes(metric) || mount === undefined || value === undefined) return;
  for (let i = 0; i < rep.count; i++) out.push({ metric, key: metric === 'disk' ? mount : '', ts: start + at + i * rep.everyMs, value });
}

function checkChanges(r: Reader, f: Field | undefined, start: number): CheckChange[] {
  if (!f) return [];
  if (isMap(f.value)) {
    const c = checkChange(r, f.value, start, false);
    return c ? [c] : [];
  }
  if (isSeq(f.value)) {
    const out: CheckChange[] = [];
    for (const item of f.value.items as Node[]) {
      const c = checkChange(r, item, start, true);
      if (c) out.push(c);
    }
    return out;
  }
  r.at(f.value, `checks: expected a map (from the start on) or a list of { at, … } changes, got ${nodeKind(f.value)}`, f.key);
  return [];
}

function checkChange(r: Reader, node: Node, start: number, timed: boolean): CheckChange | undefined {
  const f = r.fields(node, 'checks', timed ? CHECK_CHANGE : CHECKS);
  if (!f) return undefined;
  // Checks set "from the start" also hold for lines and evaluations before it.
  const at = timed ? r.duration(r.require(f, 'at', 'checks entry', node), 'at', true) : Number.NEGATIVE_INFINITY;
  const c: CheckChange = { at: at === undefined ? start : start + at };
  const ff = r.bool(f.get('ffmpeg_available'), 'ffmpeg_available');
  if (ff !== undefined) c.ffmpegAvailable = ff;
  const bf = f.get('backup');
  if (bf) {
    const b = r.fields(bf.value, 'backup', BACKUP, bf.key);
    if (b) {
      const present = r.bool(r.require(b, 'present', 'backup', bf.value), 'present');
      const fake: BackupFake = { present: present ?? false };
      const age = b.get('age');
      if (age) {
        const ms = isNull(age) ? null : r.duration(age, 'age');
        if (ms !== undefined) fake.ageSeconds = ms === null ? null : ms / 1000;
      }
      if (b.has('size')) {
        const sf = b.get('size')!;
        const n = normalizeParam({ kind: 'bytes', description: '', min: 0 }, isScalar(sf.value) ? sf.value.value : undefined);
        if ('error' in n) r.at(sf.value, `size: ${n.error}`, sf.key);
        else fake.sizeBytes = n.value as number;
      }
      const intact = b.get('intact');
      if (intact) {
        const ok = isNull(intact) ? null : r.bool(intact, 'intact');
        if (ok !== undefined) fake.intact = ok;
      }
      c.backup = fake;
    }
  }
  return c;
}

function evalCheck(r: Reader, node: Node, intervalMs: number): EvalCheck | undefined {
  const f = r.fields(node, 'alerts entry', ALERT);
  if (!f) return undefined;
  const tf = r.require(f, 'eval_time', 'alerts entry', node);
  const offsetMs = r.duration(tf, 'eval_time');
  if (offsetMs !== undefined && offsetMs % intervalMs !== 0) {
    r.at(tf!.value, `eval_time: must be a multiple of evaluation_interval (${intervalMs / 1000}s): rules are only evaluated at those instants`);
  }
  const ef = r.require(f, 'expect', 'alerts entry', node);
  const expect: ExpectedAlert[] = [];
  for (const item of r.list(ef, 'expect') ?? []) {
    const e = expected(r, item);
    if (e) expect.push(e);
  }
  if (offsetMs === undefined || !ef) return undefined;
  const written = isScalar(tf!.value) ? String(tf!.value.value) : String(offsetMs / 1000) + 's';
  return { offsetMs, written, expect, ...r.pos(node) };
}

function expected(r: Reader, node: Node): ExpectedAlert | undefined {
  const f = r.fields(node, 'expected alert', EXPECT);
  if (!f) return undefined;
  const rule = r.str(r.require(f, 'rule', 'expected alert', node), 'rule');
  const sf = r.require(f, 'state', 'expected alert', node);
  const state = r.str(sf, 'state');
  if (state !== undefined && !(STATES as readonly string[]).includes(state)) {
    r.at(sf!.value, `state: expected one of ${STATES.join(', ')}, got "${state}"${didYouMean(state, STATES)}`);
    return undefined;
  }
  const labels = r.labels(f.get('labels'), 'labels');
  const summary = f.has('summary') ? r.str(f.get('summary'), 'summary') : undefined;
  const severity = f.has('severity') ? r.str(f.get('severity'), 'severity') : undefined;
  if (rule === undefined || state === undefined || labels === undefined) return undefined;
  const e: ExpectedAlert = { rule, state: state as ExpectedState, labels, ...r.pos(node) };
  if (summary !== undefined) e.summary = summary;
  if (severity !== undefined) e.severity = severity;
  return e;
}
