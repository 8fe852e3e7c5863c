/**
 * One evaluation of a rule set at time `now`: compute the facts the rules use
 * (once per fact and params), decide each rule's condition (once per group
 * value), and step every alert's state. Time and sources are arguments, so
 * `vigil run`, `vigil replay` and `vigil rules test` share this code.
 */
import { CompiledCondition } from './conditions.js';
import { factKey, FACTS, GROUP_KEYS, type FactContext, type FactValue, type ResolvedParams, type Sources } from './facts.js';
import type { Rule, Severity } from './rule.js';
import { step, type AlertState, type NotifyKind, type TransitionKind } from './state.js';
import { renderTemplate, type TemplateData } from './template.js';
import { errorText } from '../errors.js';

/** An alert's state plus what identifies it (persisted by the store between evaluations and restarts). */
export interface TrackedAlert extends AlertState {
  rule: string;
  /** Static labels and group values, keys sorted. */
  labels: Record<string, string>;
}

export interface Transition {
  at: number;
  rule: string;
  /** 'inactive': a pending alert stopped holding before firing (never notified). A repeat notification has state 'firing'. */
  state: TransitionKind;
  severity: Severity;
  labels: Record<string, string>;
  summary: string;
  description?: string;
  /** Fact name → value at this evaluation (the first use of each fact in the rule). */
  values: Record<string, FactValue>;
  notify?: NotifyKind;
  alertKey: string;
}

export interface RuleError {
  rule: string;
  alertKey?: string;
  message: string;
}

export interface Evaluation {
  /** Every alert that is pending or firing after this evaluation (inactive ones are dropped), plus untouched alerts of rules not in the set. */
  states: Map<string, TrackedAlert>;
  transitions: Transition[];
  /** Rules whose facts could not be computed; their alerts keep their previous state. */
  errors: RuleError[];
}

/** `high_error_rate{severity="x",stage="upload"}` — rule name plus sorted labels. */
export function alertKey(rule: string, labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  return `${rule}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}

function sortedLabels(...maps: Readonly<Record<string, string>>[]): Record<string, string> {
  const all: Record<string, string> = Object.assign({}, ...maps);
  return Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]!]));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Rules in a fixed order (file, then position) with their conditions compiled once. */
export class RuleSet {
  readonly rules: readonly Rule[];
  private readonly conditions: ReadonlyMap<Rule, CompiledCondition>;

  constructor(rules: readonly Rule[]) {
    this.rules = [...rules].sort((a, b) => cmp(a.file, b.file) || a.line - b.line || a.col - b.col);
    this.conditions = new Map(this.rules.map((r) => [r, new CompiledCondition(r.name, r.when, r.uses)]));
  }

  condition(rule: Rule): CompiledCondition {
    const c = this.conditions.get(rule);
    if (!c) throw new Error(`rule ${rule.name} is not part of this rule set`);
    return c;
  }
}

/** The largest `window` among the rule's facts that take the group key: the values seen there are the groups. */
function groupWindowMs(rule: Rule, key: string): number {
  let w = 0;
  for (const u of rule.uses) {
    if (!(key in FACTS.get(u.fact)!.params)) continue;
    const uw = u.params['window'];
    if (typeof uw === 'number' && uw > w) w = uw;
  }
  return w > 0 ? w : 3_600_000;
}

function groups(rule: Rule, sources: Sources, now: number): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const key of rule.groupBy) {
    const values = [...new Set(GROUP_KEYS.get(key)!(sources.facts, { from: now - groupWindowMs(rule, key), to: now }))].sort(cmp);
    out = out.flatMap((g) => values.map((v) => ({ ...g, [key]: v })));
  }
  return out;
}

class Evaluator {
  private readonly memoCache = new Map<string, unknown>();
  private readonly factCache = new Map<string, Promise<FactValue>>();
  private readonly ctx: FactContext;

  constructor(sources: Sources, now: number) {
    this.ctx = {
      sources,
      now,
      memo: <T>(key: string, compute: () => T): T => {
        if (!this.memoCache.has(key)) this.memoCache.set(key, compute());
        return this.memoCache.get(key) as T;
      },
    };
  }

  fact(name: string, params: ResolvedParams): Promise<FactValue> {
    const key = factKey(name, params);
    let v = this.factCache.get(key);
    if (!v) {
      const spec = FACTS.get(name)!;
      v = (async () => {
        const r = await spec.compute(this.ctx, params);
        return typeof r === 'number' && !Number.isFinite(r) ? null : r;
      })();
      this.factCache.set(key, v);
    }
    return v;
  }

  async values(rule: Rule, group: Readonly<Record<string, string>>): Promise<FactValue[]> {
    const out: FactValue[] = [];
    // One at a time, in document order: deterministic calls into the sources.
    for (const u of rule.uses) {
      const params: Record<string, string | number> = { ...u.params };
      const accepted = FACTS.get(u.fact)!.params;
      for (const [k, v] of Object.entries(group)) if (k in accepted) params[k] = v;
      out.push(await this.fact(u.fact, params));
    }
    return out;
  }
}

export async function evaluate(
  set: RuleSet,
  sources: Sources,
  now: number,
  prev: ReadonlyMap<string, TrackedAlert>,
): Promise<Evaluation> {
  const ev = new Evaluator(sources, now);
  const states = new Map<string, TrackedAlert>();
  const transitions: Transition[] = [];
  const errors: RuleError[] = [];
  const ruleNames = new Set(set.rules.map((r) => r.name));
  const byRule = new Map<string, [string, TrackedAlert][]>();
  for (const [k, s] of prev) {
    if (!ruleNames.has(s.rule)) states.set(k, s);
    else if (byRule.has(s.rule)) byRule.get(s.rule)!.push([k, s]);
    else byRule.set(s.rule, [[k, s]]);
  }

  for (const rule of set.rules) {
    const previous = byRule.get(rule.name) ?? [];
    let current: Record<string, string>[];
    try {
      current = groups(rule, sources, now);
    } catch (e) {
      errors.push({ rule: rule.name, message: `group_by: ${errorText(e)}` });
      for (const [k, s] of previous) states.set(k, s);
      continue;
    }
    const alerts = new Map<string, { labels: Record<string, string>; group: Record<string, string>; present: boolean }>();
    for (const g of current) {
      const labels = sortedLabels(rule.labels, g);
      alerts.set(alertKey(rule.name, labels), { labels, group: g, present: true });
    }
    // Alerts whose group value disappeared (or whose labels changed on reload) are stepped with holds=false.
    for (const [k, s] of previous) {
      if (alerts.has(k)) continue;
      const group = Object.fromEntries(rule.groupBy.filter((g) => g in s.labels).map((g) => [g, s.labels[g]!]));
      alerts.set(k, { labels: s.labels, group, present: false });
    }

    for (const key of [...alerts.keys()].sort(cmp)) {
      const a = alerts.get(key)!;
      const before = prev.get(key);
      let values: FactValue[];
      let holds: boolean;
      try {
        values = await ev.values(rule, a.group);
        holds = a.present ? await set.condition(rule).holds(values) : false;
      } catch (e) {
        errors.push({ rule: rule.name, alertKey: key, message: errorText(e) });
        if (before) states.set(key, before);
        continue;
      }
      const r = step(before, holds, now, rule);
      if (r.next.state !== 'inactive') states.set(key, { ...r.next, rule: rule.name, labels: a.labels });
      if (!r.transition && !r.notify) continue;

      const byFact: Record<string, FactValue> = {};
      rule.uses.forEach((u, i) => {
        if (!(u.fact in byFact)) byFact[u.fact] = values[i] ?? null;
      });
      const data: TemplateData = { rule: rule.name, severity: rule.severity, value: values[0] ?? null, values: byFact, labels: a.labels };
      const t: Transition = {
        at: now,
        rule: rule.name,
        state: r.transition ?? 'firing',
        severity: rule.severity,
        labels: a.labels,
        summary: renderTemplate(rule.summary, data),
        values: byFact,
        alertKey: key,
      };
      if (rule.description) t.description = renderTemplate(rule.description, data);
      if (r.notify) t.notify = r.notify;
      transitions.push(t);
    }
  }
  return { states, transitions, errors };
}
