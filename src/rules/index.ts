/** The rule layer's public surface: load/lint rule files, evaluate them, step alerts. */
export { lintRules, lintRuleSource, loadRules, ruleFiles, type LintOptions, type LintResult } from './load.js';
export { evaluate, alertKey, RuleSet, type Evaluation, type RuleError, type TrackedAlert, type Transition } from './engine.js';
export { step, INACTIVE, type AlertState, type AlertStateName, type NotifyKind, type StepResult, type StepTimings, type TransitionKind } from './state.js';
export {
  FACTS,
  GROUP_KEYS,
  DATE_TOKENS,
  type Awaitable,
  type BackupQuery,
  type BackupStatus,
  type BackupVerify,
  type CheckSource,
  type FactSource,
  type FactSpec,
  type FactValue,
  type OperationTotals,
  type SampleMetric,
  type Sources,
} from './facts.js';
export { OPERATORS, type OperatorName } from './conditions.js';
export { SEVERITIES, type Rule, type Severity, type FactUse, type ConditionTree, type ConditionValue } from './rule.js';
export { compileTemplate, renderTemplate, formatBytes, formatPercent, formatSeconds, FORMATTER_NAMES, type Template, type TemplateData } from './template.js';
