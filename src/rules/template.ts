/**
 * `{{ expr | formatter | … }}` templates of rule summaries and descriptions.
 * Names and formatters are checked when the rule file is loaded, so rendering
 * at 3 a.m. cannot fail: a missing value renders as "n/a".
 */
import { didYouMean } from './suggest.js';

export type TemplateValue = number | boolean | string | null | undefined;

export interface FormatterCall {
  name: string;
  arg?: number;
}

export type TemplateExpr =
  | { kind: 'value' | 'rule' | 'severity' }
  | { kind: 'fact'; name: string }
  | { kind: 'label'; name: string };

export type TemplatePart = { text: string } | { expr: TemplateExpr; formatters: FormatterCall[] };

export interface Template {
  source: string;
  parts: TemplatePart[];
}

/** A problem inside a template string: `offset`/`length` index the template text. */
export interface TemplateProblem {
  offset: number;
  length: number;
  message: string;
}

/** The names a rule's template may use. */
export interface TemplateNames {
  /** Facts used by the rule's conditions. */
  facts: Iterable<string>;
  /** Static labels and group_by keys. */
  labels: Iterable<string>;
}

export interface TemplateData {
  rule: string;
  severity: string;
  /** The value of the rule's first condition's fact. */
  value: TemplateValue;
  /** Fact name → value (first use of each fact in the rule). */
  values: Readonly<Record<string, TemplateValue>>;
  labels: Readonly<Record<string, string>>;
}

const RESERVED = ['value', 'rule', 'severity'] as const;

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** 0.123 → "12.3%". */
export function formatPercent(ratio: number): string {
  return `${trimZeros((ratio * 100).toFixed(1))}%`;
}

/** 303 → "5m 3s"; 0.25 → "250ms"; 90061 → "1d 1h 1m 1s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 0) return `-${formatSeconds(-seconds)}`;
  if (seconds > 0 && seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  let rest = Math.round(seconds);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join(' ');
}

/** 1610612736 → "1.5 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Math.abs(bytes);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const sign = bytes < 0 ? '-' : '';
  return i === 0 ? `${sign}${v} B` : `${sign}${trimZeros(v.toFixed(1))} ${units[i]}`;
}

function plain(v: TemplateValue): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'n/a';
    return Number.isInteger(v) ? String(v) : trimZeros(v.toFixed(4));
  }
  return String(v);
}

type FormatterFn = (v: number | boolean | string, arg: number | undefined) => number | boolean | string;

const numeric = (f: (n: number, arg: number | undefined) => string): FormatterFn => (v, arg) =>
  typeof v === 'number' && Number.isFinite(v) ? f(v, arg) : v;

const FORMATTERS: Record<string, { fn: FormatterFn; arg: 'none' | 'optional' }> = {
  percent: { fn: numeric(formatPercent), arg: 'none' },
  duration: { fn: numeric(formatSeconds), arg: 'none' },
  bytes: { fn: numeric(formatBytes), arg: 'none' },
  round: { fn: numeric((n, d) => trimZeros(n.toFixed(d ?? 0))), arg: 'optional' },
  upper: { fn: (v) => plain(v).toUpperCase(), arg: 'none' },
  lower: { fn: (v) => plain(v).toLowerCase(), arg: 'none' },
};

export const FORMATTER_NAMES: readonly string[] = Object.keys(FORMATTERS);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a template and checks every name and formatter; every problem is returned, not just the first. */
export function compileTemplate(source: string, names: TemplateNames): { template: Template; problems: TemplateProblem[] } {
  const facts = new Set(names.facts);
  const labels = new Set(names.labels);
  const parts: TemplatePart[] = [];
  const problems: TemplateProblem[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) {
      parts.push({ text: source.slice(pos) });
      break;
    }
    if (open > pos) parts.push({ text: source.slice(pos, open) });
    const close = source.indexOf('}}', open + 2);
    if (close < 0) {
      problems.push({ offset: open, length: 2, message: 'template: "{{" is never closed with "}}"' });
      break;
    }
    const inner = source.slice(open + 2, close);
    const part = compileExpression(inner, open + 2, facts, labels, problems);
    if (part) parts.push(part);
    pos = close + 2;
  }
  return { template: { source, parts }, problems };
}

function compileExpression(
  inner: string,
  base: number,
  facts: Set<string>,
  labels: Set<string>,
  problems: TemplateProblem[],
): TemplatePart | undefined {
  const segments: { text: string; offset: number }[] = [];
  let start = 0;
  for (const piece of inner.split('|')) {
    const lead = piece.length - piece.trimStart().length;
    segments.push({ text: piece.trim(), offset: base + start + lead });
    start += piece.length + 1;
  }
  const [head, ...rest] = segments;
  const before = problems.length;
  let expr: TemplateExpr | undefined;
  if (!head || head.text === '') {
    problems.push({ offset: base, length: inner.length, message: 'template: empty expression in "{{ }}"' });
  } else {
    expr = resolveName(head.text, head.offset, facts, labels, problems);
  }
  const formatters: FormatterCall[] = [];
  for (const seg of rest) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*(-?\d+)\s*\))?$/.exec(seg.text);
    if (!m) {
      problems.push({ offset: seg.offset, length: Math.max(1, seg.text.length), message: `template: bad formatter ${JSON.stringify(seg.text)} (expected e.g. percent or round(2))` });
      continue;
    }
    const name = m[1]!;
    const spec = FORMATTERS[name];
    if (!spec) {
      problems.push({
        offset: seg.offset,
        length: name.length,
        message: `template: unknown formatter "${name}"${didYouMean(name, FORMATTER_NAMES)} (known: ${FORMATTER_NAMES.join(', ')})`,
      });
      continue;
    }
    if (m[2] !== undefined && spec.arg === 'none') {
      problems.push({ offset: seg.offset, length: seg.text.length, message: `template: formatter "${name}" takes no argument` });
      continue;
    }
    const arg = m[2] === undefined ? undefined : Number(m[2]);
    if (arg !== undefined && (arg < 0 || arg > 10)) {
      problems.push({ offset: seg.offset, length: seg.text.length, message: `template: ${name}(${arg}): digits must be 0–10` });
      continue;
    }
    formatters.push(arg === undefined ? { name } : { name, arg });
  }
  return problems.length === before && expr ? { expr, formatters } : undefined;
}

function resolveName(
  text: string,
  offset: number,
  facts: Set<string>,
  labels: Set<string>,
  problems: TemplateProblem[],
): TemplateExpr | undefined {
  const dotted = /^labels\.(.*)$/.exec(text);
  if (dotted) {
    const name = dotted[1]!;
    if (IDENT.test(name) && labels.has(name)) return { kind: 'label', name };
    problems.push({
      offset: offset + 'labels.'.length,
      length: Math.max(1, name.length),
      message: `template: unknown label "${name}"${didYouMean(name, labels)}${labels.size ? ` (labels: ${[...labels].join(', ')})` : ' (the rule has no labels)'}`,
    });
    return undefined;
  }
  if (!IDENT.test(text)) {
    problems.push({ offset, length: text.length, message: `template: bad expression ${JSON.stringify(text)} (expected a fact, a label, value, rule or severity)` });
    return undefined;
  }
  if ((RESERVED as readonly string[]).includes(text)) return { kind: text as (typeof RESERVED)[number] };
  if (facts.has(text)) return { kind: 'fact', name: text };
  if (labels.has(text)) return { kind: 'label', name: text };
  const known = [...RESERVED, ...facts, ...labels];
  problems.push({
    offset,
    length: text.length,
    message: `template: unknown name "${text}"${didYouMean(text, known)} (known here: ${known.join(', ')})`,
  });
  return undefined;
}

/** Never throws: unknown or missing values render as "n/a". */
export function renderTemplate(t: Template, data: TemplateData): string {
  let out = '';
  for (const part of t.parts) {
    if ('text' in part) {
      out += part.text;
      continue;
    }
    let v: TemplateValue;
    switch (part.expr.kind) {
      case 'value':
        v = data.value;
        break;
      case 'rule':
        v = data.rule;
        break;
      case 'severity':
        v = data.severity;
        break;
      case 'fact':
        v = data.values[part.expr.name];
        break;
      case 'label':
        v = data.labels[part.expr.name];
        break;
    }
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) {
      out += 'n/a';
      continue;
    }
    let cur: number | boolean | string = v;
    try {
      for (const f of part.formatters) cur = FORMATTERS[f.name]?.fn(cur, f.arg) ?? cur;
    } catch {
      cur = plain(v);
    }
    out += plain(cur);
  }
  return out;
}
