/**
 * Rule files → validated Rules. Every problem in every file is collected and
 * reported at once, each at the YAML node it is about (file:line:col), the way
 * promtool reports rule files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { ValidationError, type Located } from '../errors.js';
import { FACT_LIST_OPERATORS, LIST_OPERATORS, NUMERIC_OPERATORS, OPERATORS, type OperatorName } from './conditions.js';
import { defaultParams, FACTS, GROUP_KEYS, normalizeParam, type FactSpec, type ParamSpec } from './facts.js';
import { SEVERITIES, type ConditionTree, type ConditionValue, type FactUse, type Rule, type Severity } from './rule.js';
import { closest, didYouMean } from './suggest.js';
import { compileTemplate, type Template, type TemplateProblem } from './template.js';
import { cannotRead, nodeKind, yamlErrors, type Field } from './yaml-nodes.js';

export interface LintOptions {
  /** Configured channel names; when given, a rule naming another channel is an error. */
  channels?: readonly string[];
}

export interface LintResult {
  /** The rules that are valid, even when other rules or files are not. */
  rules: Rule[];
  problems: Located[];
  /** The rule files the paths gave (a path that cannot be stat-ed is a problem, not a file). */
  files: string[];
}

/** Rule tests (`*.test.yaml`) live beside the rules they test and are not rules. */
const RULE_TEST_FILE = /\.test\.ya?ml$/;

/** A *.yaml / *.yml name (or path) that is not a rule test. */
export function isRuleFile(name: string): boolean {
  return /\.ya?ml$/.test(name) && !RULE_TEST_FILE.test(name);
}

const TOP_KEYS = ['rules'] as const;
const RULE_KEYS = [
  'name',
  'description',
  'when',
  'for',
  'keep_firing_for',
  'repeat_interval',
  'severity',
  'channels',
  'summary',
  'labels',
  'group_by',
] as const;
const LEAF_KEYS = ['fact', 'params', 'operator', 'value'] as const;
const BRANCH_KEYS = ['all', 'any', 'not'] as const;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DURATION_FIELD: ParamSpec = { kind: 'duration', description: '', min: 0 };

/** Paths → rule files: a directory gives its *.yaml and *.yml files, sorted; a file is taken as it is. */
export function ruleFiles(paths: readonly string[]): { files: string[]; problems: Located[] } {
  const files: string[] = [];
  const problems: Located[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      problems.push(cannotRead(p, e));
      continue;
    }
    if (st.isDirectory()) {
      const names = fs.readdirSync(p).filter(isRuleFile).sort();
      for (const n of names) files.push(path.join(p, n));
    } else files.push(p);
  }
  return { files: [...new Set(files)], problems };
}

/** Validates every rule file under `paths` and reports every problem at once. */
export function lintRules(paths: readonly string[], opts: LintOptions = {}): LintResult {
  const { files, problems } = ruleFiles(paths);
  const seen = new Map<string, Located>();
  const rules: Rule[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      problems.push(cannotRead(file, e));
      continue;
    }
    const r = lintFile(file, text, opts, seen);
    rules.push(...r.rules);
    problems.push(...r.problems);
  }
  return { rules, problems, files };
}

/** lintRules, throwing ValidationError(VIGIL_RULE_INVALID) with every problem when there is any. */
export function loadRules(paths: readonly string[], opts: LintOptions = {}): Rule[] {
  const r = lintRules(paths, opts);
  if (r.problems.length > 0) throw new ValidationError('VIGIL_RULE_INVALID', r.problems);
  return r.rules;
}

/** Validates one rule file's text (`file` only names it in problems). */
export function lintRuleSource(file: string, text: string, opts: LintOptions = {}): LintResult {
  return { ...lintFile(file, text, opts, new Map()), files: [file] };
}

function lintFile(file: string, text: string, opts: LintOptions, seen: Map<string, Located>): Omit<LintResult, 'files'> {
  const linter = new FileLinter(file, text, opts, seen);
  const rules = linter.run();
  const problems = linter.problems.sort((a, b) => a.line - b.line || a.col - b.col);
  return { rules, problems };
}

class FileLinter {
  readonly problems: Located[] = [];
  private readonly lc = new LineCounter();
  /** Known facts named by the current rule's conditions, valid or not. */
  private readonly mentionedFacts = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly text: string,
    private readonly opts: LintOptions,
    private readonly seen: Map<string, Located>,
  ) {}

  run(): Rule[] {
    const doc = parseDocument(this.text, { lineCounter: this.lc, prettyErrors: true });
    if (doc.errors.length > 0) {
      this.problems.push(...yamlErrors(this.file, doc.errors, this.lc));
      return [];
    }
    const top = doc.contents;
    if (top === null || (isScalar(top) && top.value === null)) return [];
    if (!isMap(top)) {
      this.at(top, 'a rule file is a map with a `rules:` list');
      return [];
    }
    const fields = this.fields(top, TOP_KEYS);
    const list = fields.get('rules');
    if (!list) {
      if (!fields.typos.has('rules')) this.at(top, 'missing key `rules`');
      return [];
    }
    if (list.value === null || (isScalar(list.value) && list.value.value === null)) return [];
    if (!isSeq(list.value)) {
      this.at(list.value, `rules: expected a list of rules, got ${nodeKind(list.value)}`);
      return [];
    }
    const rules: Rule[] = [];
    for (const item of list.value.items) {
      const rule = this.rule(item as Node);
      if (rule) rules.push(rule);
    }
    return rules;
  }

  // --- positions and messages -------------------------------------------------

  private pos(offset: number): { line: number; col: number } {
    return this.lc.linePos(offset);
  }

  private at(node: Node | null | undefined, message: string, fallback?: Node | null): void {
    const n = node ?? fallback;
    const offset = n?.range?.[0] ?? 0;
    this.problems.push({ file: this.file, ...this.pos(offset), message });
  }

  /** The pairs of a map by key name; unknown keys are reported with a suggestion. */
  private fields(map: YAMLMap, allowed: readonly string[]): Map<string, Field> & { typos: Set<string> } {
    const out = Object.assign(new Map<string, Field>(), { typos: new Set<string>() });
    for (const pair of map.items as Pair<unknown, unknown>[]) {
      const key = pair.key as Node | null;
      if (!isScalar(key) || (typeof key.value !== 'string' && typeof key.value !== 'number')) {
        this.at(key, 'keys must be plain names', map);
        continue;
      }
      const name = String(key.value);
      if (!allowed.includes(name)) {
        const meant = closest(name, allowed);
        if (meant !== undefined) out.typos.add(meant);
        this.at(key, `unknown key "${name}"${didYouMean(name, allowed)}`);
        continue;
      }
      out.set(name, { key, value: (pair.value as Node | null) ?? null });
    }
    return out;
  }

  private plain(node: Node | null): unknown {
    if (node === null) return null;
    if (isScalar(node)) return node.value;
    if (isSeq(node)) return node.items.map((i) => this.plain(i as Node));
    if (isMap(node)) return Object.fromEntries(node.items.map((p) => [String((p.key as Scalar).value), this.plain(p.value as Node)]));
    return undefined;
  }

  private string(f: Field, what: string): string | undefined {
    const v = isScalar(f.value) ? f.value.value : undefined;
    if (typeof v === 'string' && v.trim() !== '') return v;
    this.at(f.value, `${what}: expected a non-empty string, got ${nodeKind(f.value)}`, f.key);
    return undefined;
  }

  private duration(f: Field | undefined, what: string): number | undefined {
    if (!f) return 0;
    const n = normalizeParam(DURATION_FIELD, isScalar(f.value) ? f.value.value : this.plain(f.value));
    if ('error' in n) {
      this.at(f.value, `${what}: ${n.error}`, f.key);
      return undefined;
    }
    return n.value as number;
  }

  // --- one rule ----------------------------------------------------------------

  private rule(node: Node): Rule | undefined {
    if (!isMap(node)) {
      this.at(node, `a rule must be a map (name, when, severity, summary, …), got ${nodeKind(node)}`);
      return undefined;
    }
    const before = this.problems.length;
    const f = this.fields(node, RULE_KEYS);
    const need = (k: string) => {
      const v = f.get(k);
      // A misspelt key was already reported with its suggestion; "missing" would say the same thing twice.
      if (!v && !f.typos.has(k)) this.at(node, `missing required key "${k}"`);
      return v;
    };

    let name: string | undefined;
    const nameField = need('name');
    if (nameField) {
      name = this.string(nameField, 'name');
      if (name !== undefined && !NAME.test(name)) {
        this.at(nameField.value, `name: "${name}" must be letters, digits and _ (not starting with a digit)`);
        name = undefined;
      }
      if (name !== undefined) {
        const here = { file: this.file, ...this.pos(nameField.value!.range![0]), message: '' };
        const first = this.seen.get(name);
        if (first) this.at(nameField.value, `duplicate rule name "${name}" (first defined at ${first.file}:${first.line}:${first.col})`);
        else this.seen.set(name, here);
      }
    }

    let severity: Severity | undefined;
    const sevField = need('severity');
    if (sevField) {
      const v = isScalar(sevField.value) ? sevField.value.value : undefined;
      if (typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v)) severity = v as Severity;
      else this.at(sevField.value, `severity: expected one of ${SEVERITIES.join(', ')}, got ${nodeKind(sevField.value)}${typeof v === 'string' ? didYouMean(v, SEVERITIES) : ''}`, sevField.key);
    }

    const forMs = this.duration(f.get('for'), 'for');
    const keepFiringForMs = this.duration(f.get('keep_firing_for'), 'keep_firing_for');
    const repeatIntervalMs = this.duration(f.get('repeat_interval'), 'repeat_interval');

    const channels = this.channels(f.get('channels'));
    const labels = this.labels(f.get('labels'));
    const groupBy = this.groupBy(f.get('group_by'));

    const uses: FactUse[] = [];
    this.mentionedFacts.clear();
    let when: ConditionTree | undefined;
    const whenField = need('when');
    if (whenField) when = this.condition(whenField.value, whenField.key, uses, groupBy?.keys ?? [], true);

    if (groupBy) {
      for (const [i, key] of groupBy.keys.entries()) {
        if (![...this.mentionedFacts].some((name) => key in FACTS.get(name)!.params)) {
          this.at(groupBy.nodes[i], `group_by: no fact in this rule takes the param "${key}"`);
        }
        if (labels && key in labels.map) this.at(labels.nodes.get(key), `labels: "${key}" is also a group_by key; the group value is the label`);
      }
    }

    const labelNames = [...Object.keys(labels?.map ?? {}), ...(groupBy?.keys ?? [])];
    // Facts of conditions that have other problems still count, so one mistake is reported once.
    const factNames = [...this.mentionedFacts];
    const summaryField = need('summary');
    let summary: Template | undefined;
    if (summaryField) {
      const s = this.string(summaryField, 'summary');
      if (s !== undefined) summary = this.template(summaryField.value as Scalar, s, factNames, labelNames);
    }
    let description: Template | undefined;
    const descField = f.get('description');
    if (descField) {
      const s = this.string(descField, 'description');
      if (s !== undefined) description = this.template(descField.value as Scalar, s, factNames, labelNames);
    }

    if (this.problems.length > before) return undefined;
    const start = this.pos(node.range![0]);
    const rule: Rule = {
      name: name!,
      severity: severity!,
      when: when!,
      uses,
      forMs: forMs!,
      keepFiringForMs: keepFiringForMs!,
      repeatIntervalMs: repeatIntervalMs!,
      channels: channels ?? [],
      labels: labels?.map ?? {},
      groupBy: groupBy?.keys ?? [],
      summary: summary!,
      file: this.file,
      line: start.line,
      col: start.col,
    };
    if (description) rule.description = description;
    return rule;
  }

  private channels(f: Field | undefined): string[] | undefined {
    if (!f) return [];
    if (!isSeq(f.value)) {
      this.at(f.value, `channels: expected a list such as [slack, email], got ${nodeKind(f.value)}`, f.key);
      return undefined;
    }
    const out: string[] = [];
    for (const item of f.value.items as Node[]) {
      const v = isScalar(item) ? item.value : undefined;
      if (typeof v !== 'string' || v === '') {
        this.at(item, `channels: expected a channel name, got ${nodeKind(item)}`);
        continue;
      }
      const known = this.opts.channels;
      if (known && !known.includes(v)) {
        this.at(item, `unknown channel "${v}"${didYouMean(v, known)} (configured: ${known.length ? known.join(', ') : 'none'})`);
        continue;
      }
      if (!out.includes(v)) out.push(v);
    }
    return out;
  }

  private labels(f: Field | undefined): { map: Record<string, string>; nodes: Map<string, Node> } | undefined {
    if (!f) return undefined;
    if (!isMap(f.value)) {
      this.at(f.value, `labels: expected a map of name: value, got ${nodeKind(f.value)}`, f.key);
      return undefined;
    }
    const entries: [string, string][] = [];
    const nodes = new Map<string, Node>();
    for (const pair of f.value.items as Pair<Node, Node | null>[]) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!NAME.test(k)) {
        this.at(pair.key, `labels: "${k}" is not a valid label name (letters, digits and _)`);
        continue;
      }
      const v = isScalar(pair.value) ? pair.value.value : undefined;
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        this.at(pair.value, `labels.${k}: expected a string, got ${nodeKind(pair.value)}`, pair.key);
        continue;
      }
      entries.push([k, String(v)]);
      nodes.set(k, pair.key);
    }
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { map: Object.fromEntries(entries), nodes };
  }

  private groupBy(f: Field | undefined): { keys: string[]; nodes: Node[] } | undefined {
    if (!f) return undefined;
    if (!isSeq(f.value)) {
      this.at(f.value, `group_by: expected a list such as [stage], got ${nodeKind(f.value)}`, f.key);
      return undefined;
    }
    const keys: string[] = [];
    const nodes: Node[] = [];
    for (const item of f.value.items as Node[]) {
      const v = isScalar(item) ? item.value : undefined;
      if (typeof v !== 'string' || !GROUP_KEYS.has(v)) {
        this.at(item, `group_by: unknown key ${typeof v === 'string' ? `"${v}"` : nodeKind(item)}${typeof v === 'string' ? didYouMean(v, GROUP_KEYS.keys()) : ''} (known: ${[...GROUP_KEYS.keys()].join(', ')})`);
        continue;
      }
      if (!keys.includes(v)) {
        keys.push(v);
        nodes.push(item);
      }
    }
    return { keys, nodes };
  }

  // --- conditions --------------------------------------------------------------

  private condition(node: Node | null, parent: Node, uses: FactUse[], groupBy: string[], top = false): ConditionTree | undefined {
    if (!isMap(node)) {
      this.at(node, `a condition is a map with all, any, not or fact, got ${nodeKind(node)}`, parent);
      return undefined;
    }
    const names = node.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
    const branch = names.filter((n) => (BRANCH_KEYS as readonly string[]).includes(n));
    const isLeaf = names.includes('fact') || (branch.length === 0 && names.some((n) => (LEAF_KEYS as readonly string[]).includes(n)));
    if (branch.length > 1 || (branch.length === 1 && isLeaf)) {
      this.at(node, 'a condition has exactly one of all, any, not — or is a fact comparison');
      return undefined;
    }
    if (isLeaf) {
      const leaf = this.leaf(node, uses, groupBy);
      return leaf && top ? { all: [leaf] } : leaf;
    }
    const f = this.fields(node, BRANCH_KEYS);
    const kind = branch[0] as (typeof BRANCH_KEYS)[number] | undefined;
    if (!kind) {
      if (f.size === 0 && node.items.length === 0) this.at(node, 'a condition needs all, any, not or fact', parent);
      return undefined;
    }
    const { key, value } = f.get(kind)!;
    if (kind === 'not') {
      const inner = this.condition(value, key, uses, groupBy);
      return inner && { not: inner };
    }
    if (!isSeq(value) || value.items.length === 0) {
      this.at(value, `${kind}: expected a non-empty list of conditions, got ${nodeKind(value)}`, key);
      return undefined;
    }
    const items = (value.items as Node[]).map((i) => this.condition(i, key, uses, groupBy));
    if (items.some((i) => i === undefined)) return undefined;
    return kind === 'all' ? { all: items as ConditionTree[] } : { any: items as ConditionTree[] };
  }

  private leaf(node: YAMLMap, uses: FactUse[], groupBy: string[]): ConditionTree | undefined {
    const before = this.problems.length;
    const f = this.fields(node, LEAF_KEYS);
    let spec: FactSpec | undefined;
    const factField = f.get('fact');
    const factName = isScalar(factField?.value) ? factField.value.value : undefined;
    if (!factField) {
      if (!f.typos.has('fact')) this.at(node, 'missing required key "fact"');
    }
    else if (typeof factName !== 'string') this.at(factField.value, `fact: expected a fact name, got ${nodeKind(factField.value)}`, factField.key);
    else {
      spec = FACTS.get(factName);
      if (!spec) this.at(factField.value, `unknown fact "${factName}"${didYouMean(factName, FACTS.keys())}`);
      else this.mentionedFacts.add(spec.name);
    }

    const params = spec ? this.params(spec, f.get('params'), factField!, groupBy) : undefined;

    let operator: OperatorName | undefined;
    const opField = f.get('operator');
    const opName = isScalar(opField?.value) ? opField.value.value : undefined;
    if (!opField) {
      if (!f.typos.has('operator')) this.at(node, 'missing required key "operator"');
    }
    else if (typeof opName !== 'string' || !(OPERATORS as readonly string[]).includes(opName)) {
      const shown = typeof opName === 'string' ? `"${opName}"` : nodeKind(opField.value);
      this.at(opField.value, `unknown operator ${shown}${typeof opName === 'string' ? didYouMean(opName, OPERATORS) : ''} (known: ${OPERATORS.join(', ')})`, opField.key);
    } else operator = opName as OperatorName;

    let value: ConditionValue | undefined;
    const valueField = f.get('value');
    if (!valueField) {
      if (!f.typos.has('value')) this.at(node, 'missing required key "value"');
    }
    else if (spec && operator) value = this.value(spec, operator, opField!, valueField);

    if (this.problems.length > before || !spec || !operator || value === undefined || !params) return undefined;
    const { line, col } = this.pos(node.range![0]);
    uses.push({ fact: spec.name, params, line, col });
    return { use: uses.length - 1, operator, value };
  }

  private params(
    spec: FactSpec,
    f: Field | undefined,
    factField: Field,
    groupBy: string[],
  ): Record<string, string | number> | undefined {
    const out = defaultParams(spec);
    const accepted = Object.keys(spec.params);
    const given = new Set<string>();
    let ok = true;
    if (f && !(isScalar(f.value) && f.value.value === null)) {
      if (!isMap(f.value)) {
        this.at(f.value, `params: expected a map, got ${nodeKind(f.value)}`, f.key);
        return undefined;
      }
      for (const pair of f.value.items as Pair<Node, Node | null>[]) {
        const k = isScalar(pair.key) ? String(pair.key.value) : '';
        const p = spec.params[k];
        if (!p) {
          ok = false;
          this.at(
            pair.key,
            accepted.length
              ? `unknown param "${k}" of fact ${spec.name}${didYouMean(k, accepted)} (accepted: ${accepted.join(', ')})`
              : `fact ${spec.name} takes no params, got "${k}"`,
          );
          continue;
        }
        if (groupBy.includes(k)) {
          ok = false;
          this.at(pair.key, `param "${k}" is set by group_by: [${k}]; remove it here`);
          continue;
        }
        given.add(k);
        const n = normalizeParam(p, isScalar(pair.value) ? pair.value.value : this.plain(pair.value));
        if ('error' in n) {
          ok = false;
          this.at(pair.value, `${spec.name}.params.${k}: ${n.error}`, pair.key);
          continue;
        }
        out[k] = n.value;
      }
    }
    for (const [k, p] of Object.entries(spec.params)) {
      if (p.required && !given.has(k)) {
        ok = false;
        this.at(f?.value ?? factField.value, `fact ${spec.name} needs param "${k}" (${p.description})`, factField.key);
      }
    }
    return ok ? out : undefined;
  }

  private value(
    spec: FactSpec,
    op: OperatorName,
    opField: Field,
    f: Field,
  ): ConditionValue | undefined {
    const kindOf = spec.valueType === 'number' ? 'a number' : 'true or false';
    if (FACT_LIST_OPERATORS.includes(op)) {
      this.at(opField.value, `operator ${op} needs a list-valued fact; ${spec.name} is ${kindOf}`);
      return undefined;
    }
    if (NUMERIC_OPERATORS.includes(op) && spec.valueType !== 'number') {
      this.at(opField.value, `operator ${op} compares numbers; ${spec.name} is true or false (use equal)`);
      return undefined;
    }
    const fits = (v: unknown) => (spec.valueType === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === 'boolean');
    const raw = this.plain(f.value);
    if (LIST_OPERATORS.includes(op)) {
      if (!Array.isArray(raw) || raw.length === 0 || !raw.every(fits)) {
        this.at(f.value, `value: operator ${op} needs a non-empty list of ${spec.valueType === 'number' ? 'numbers' : 'booleans'}, got ${nodeKind(f.value)}`, f.key);
        return undefined;
      }
      return raw as ConditionValue;
    }
    if (!fits(raw)) {
      this.at(f.value, `value: ${spec.name} is ${kindOf}, got ${nodeKind(f.value)}`, f.key);
      return undefined;
    }
    return raw as ConditionValue;
  }

  // --- templates ---------------------------------------------------------------

  private template(node: Scalar, source: string, facts: string[], labels: string[]): Template | undefined {
    const { template, problems } = compileTemplate(source, { facts, labels });
    for (const p of problems) this.problems.push({ file: this.file, ...this.pos(this.templateOffset(node, source, p)), message: p.message });
    return problems.length ? undefined : template;
  }

  /** Maps a problem inside the template string to the file: exact when the `{{…}}` appears verbatim in the source, else the scalar's start. */
  private templateOffset(node: Scalar, source: string, p: TemplateProblem): number {
    const start = node.range![0];
    const open = source.lastIndexOf('{{', p.offset);
    if (open < 0) return start;
    const close = source.indexOf('}}', open);
    const token = source.slice(open, close < 0 ? source.length : close + 2);
    let nth = 0;
    for (let i = source.indexOf(token); i >= 0 && i < open; i = source.indexOf(token, i + 1)) nth++;
    const raw = this.text.slice(start, node.range![1]);
    let at = raw.indexOf(token);
    for (let k = 0; k < nth && at >= 0; k++) at = raw.indexOf(token, at + 1);
    return at < 0 ? start : start + at + (p.offset - open);
  }
}

