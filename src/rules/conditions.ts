/**
 * The one place json-rules-engine is used: it decides whether a rule's `when`
 * holds, given fact values computed beforehand. The Engine is built once per
 * rule when the rule set is created; each evaluation only runs it with the
 * values of that evaluation as a runtime fact.
 */
import { Engine, type TopLevelCondition } from 'json-rules-engine';
import type { FactValue } from './facts.js';
import type { ConditionTree, FactUse } from './rule.js';

/** json-rules-engine's default operators. */
export const OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
] as const;
export type OperatorName = (typeof OPERATORS)[number];

export const NUMERIC_OPERATORS: readonly OperatorName[] = ['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
/** Operators whose value is a list the fact's value is looked up in. */
export const LIST_OPERATORS: readonly OperatorName[] = ['in', 'notIn'];
/** Operators that need a list-valued fact (none of vigil's facts is one). */
export const FACT_LIST_OPERATORS: readonly OperatorName[] = ['contains', 'doesNotContain'];

const VALUES = '__vigil_values';

type EngineCondition =
  | { all: EngineCondition[] }
  | { any: EngineCondition[] }
  | { not: EngineCondition }
  | { fact: string; params: Record<string, unknown>; operator: string; value: unknown };

function toEngine(tree: ConditionTree, uses: readonly FactUse[]): EngineCondition {
  if ('all' in tree) return { all: tree.all.map((t) => toEngine(t, uses)) };
  if ('any' in tree) return { any: tree.any.map((t) => toEngine(t, uses)) };
  if ('not' in tree) return { not: toEngine(tree.not, uses) };
  // The fact id keeps the real name (readable in engine results); params.use picks the precomputed value.
  return { fact: uses[tree.use]!.fact, params: { use: tree.use }, operator: tree.operator, value: tree.value };
}

export class CompiledCondition {
  private readonly engine: Engine;

  constructor(ruleName: string, when: ConditionTree, uses: readonly FactUse[]) {
    this.engine = new Engine([], { allowUndefinedFacts: false });
    const top = toEngine(when, uses);
    const conditions = ('fact' in top ? { all: [top] } : top) as TopLevelCondition;
    this.engine.addRule({ name: ruleName, conditions, event: { type: ruleName } });
    for (const name of new Set(uses.map((u) => u.fact))) {
      this.engine.addFact(
        name,
        async (params, almanac) => {
          const values = await almanac.factValue<readonly FactValue[]>(VALUES);
          return values[params['use'] as number] ?? null;
        },
        { cache: false },
      );
    }
  }

  /** `values[i]` is the value of uses[i] in this evaluation. A null value makes every numeric comparison false. */
  async holds(values: readonly FactValue[]): Promise<boolean> {
    // An array, not a function: json-rules-engine would treat a function value as a dynamic fact.
    const result = await this.engine.run({ [VALUES]: values });
    return result.results.length > 0;
  }
}
