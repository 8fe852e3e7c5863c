/** A validated rule as the loader hands it to the engine (DESIGN §5). */
import type { OperatorName } from './conditions.js';
import type { ResolvedParams } from './facts.js';
import type { Template } from './template.js';

export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One leaf condition's fact with its params (defaults applied, durations in ms, sizes in bytes; no group value yet). */
export interface FactUse {
  fact: string;
  params: ResolvedParams;
  /** Where the leaf condition is written. */
  line: number;
  col: number;
}

export type ConditionValue = number | boolean | string | Array<number | boolean | string>;

/** The `when` tree; a leaf points into Rule.uses by index. */
export type ConditionTree =
  | { all: ConditionTree[] }
  | { any: ConditionTree[] }
  | { not: ConditionTree }
  | { use: number; operator: OperatorName; value: ConditionValue };

export interface Rule {
  name: string;
  severity: Severity;
  when: ConditionTree;
  /** Leaf conditions in document order; `value` in templates is uses[0]'s fact. */
  uses: FactUse[];
  forMs: number;
  keepFiringForMs: number;
  /** 0: never re-notify a still-firing alert. */
  repeatIntervalMs: number;
  /** As written; empty means "the default route" (the notifier decides). */
  channels: string[];
  /** Static labels (keys sorted). */
  labels: Record<string, string>;
  /** group_by keys (e.g. ['stage']); each becomes a label of the alert. */
  groupBy: string[];
  summary: Template;
  description?: Template;
  /** Where the rule is written: the file and its `- name:` entry. */
  file: string;
  line: number;
  col: number;
}
