/**
 * Drives the rule engine: evaluate at `now`, store what changed, hand due
 * notifications over. The same evaluateAt serves `vigil run` (wall clock, via
 * start()), `vigil replay` and `vigil rules test` (the logs' clock), so what a test
 * proves is what pages an operator.
 */
import { startTicker, type SetTimer, type Ticker } from '../util/ticker.js';
import type { Clock } from '../clock.js';
import type { AlertStore, Recorded } from '../store/alerts.js';
import { evaluate, RuleSet, type RuleError, type TrackedAlert, type Transition } from './engine.js';
import type { Rule, Severity } from './rule.js';
import { backupQuery, readsLogs, type BackupQuery, type Sources } from './facts.js';

/**
 * Which rules an evaluation steps: every rule, only those reading log facts, or only
 * those reading machine facts (samples, checks). Alerts of the rules left out keep
 * their state untouched, so each kind can run on its own clock: while the logs are
 * behind, their rules are stepped on the logs' time and the machine's on the wall clock.
 */
export type EvalScope = 'all' | 'logs' | 'machine';

export interface EvaluateOptions {
  scope?: EvalScope;
  /**
   * false while catching up on a backlog: transitions are recorded with their true (log)
   * times but nothing is paged. An alert that goes firing is *held* (its state keeps
   * lastNotifiedAt null, so the hold survives a restart); the first announcing evaluation
   * that finds it still firing notifies it once, one that finds it resolved records the end
   * unannounced. Repeats are not sent while held. Default true.
   */
  announce?: boolean;
}

/** A pino Logger fits; tests can pass a small object. */
export interface RunnerLog {
  info(data: object, msg: string): void;
  warn(data: object, msg: string): void;
  error(data: object, msg: string): void;
}

/** A transition as stored: `alertId` is the episode's row in `alerts`. */
export type RecordedTransition = Recorded<Transition>;

/**
 * Called inside the transaction that records an evaluation, for every transition with
 * `notify` set, with the rule it came from (undefined once a reload removed it); a throw
 * rolls the whole evaluation back, so a notification exists iff its transition does.
 */
export type OnNotify = (t: RecordedTransition, rule: Rule | undefined) => void;

export interface RuleRunnerOptions {
  rules: RuleSet;
  sources: Sources;
  clock: Clock;
  alertStore: AlertStore;
  onNotify?: OnNotify;
  log: RunnerLog;
  /** Which rules a wall-clock slot of start() evaluates (the agent: only machine rules while the logs are behind). Default all. */
  tickScope?: () => EvalScope;
  /** Timer for start(); tests inject one. */
  setTimer?: SetTimer;
}

export interface RunnerStatus {
  /** Time of the last finished evaluation (the evaluation's `now`), null before the first. */
  lastEvaluationAt: number | null;
  /** Wall-clock milliseconds the last evaluation took (facts, conditions, store). */
  lastDurationMs: number | null;
  evaluations: number;
  /** Evaluations whose result could not be stored (retried at the next one). */
  failures: number;
  /** Rule errors of the last evaluation (facts that could not be computed). */
  lastErrors: RuleError[];
  /** Wall-clock slots skipped because an evaluation was still running. */
  skipped: number;
}

export class RuleRunner {
  private rules: RuleSet;
  private states: Map<string, TrackedAlert>;
  private chain: Promise<unknown> = Promise.resolve();
  private ticker: Ticker | null = null;
  private scoped = new Map<EvalScope, RuleSet>();
  private readonly status: RunnerStatus = { lastEvaluationAt: null, lastDurationMs: null, evaluations: 0, failures: 0, lastErrors: [], skipped: 0 };

  constructor(private readonly o: RuleRunnerOptions) {
    this.rules = o.rules;
    this.states = o.alertStore.loadStates();
  }

  get ruleSet(): RuleSet {
    return this.rules;
  }

  /** Alerts pending or firing after the last evaluation (keyed by alertKey). */
  alerts(): ReadonlyMap<string, TrackedAlert> {
    return this.states;
  }

  stats(): Readonly<RunnerStatus> {
    return this.status;
  }

  /**
   * New rules from the next evaluation on. States are kept: an alert whose rule is still
   * there (same name and labels) keeps its pending timer or firing state.
   */
  setRules(set: RuleSet): void {
    this.rules = set;
    this.scoped.clear();
  }

  /** Alerts firing whose notification is held (they fired while catching up and were not announced yet). */
  held(): string[] {
    return [...this.states].filter(([, st]) => isHeld(st)).map(([k]) => k);
  }

  private scopedSet(scope: EvalScope): RuleSet {
    if (scope === 'all') return this.rules;
    let set = this.scoped.get(scope);
    if (!set) {
      set = new RuleSet(this.rules.rules.filter((r) => readsLogs(r) === (scope === 'logs')));
      this.scoped.set(scope, set);
    }
    return set;
  }

  /**
   * Evaluates every rule at `now`, records states and transitions in one transaction
   * (notifications enqueued inside it) and returns the recorded transitions.
   * Calls are serialized: a second call waits for the first to finish.
   */
  evaluateAt(now: number, opts: EvaluateOptions = {}): Promise<RecordedTransition[]> {
    const run = this.chain.then(() => this.evaluateNow(now, opts.scope ?? 'all', opts.announce ?? true));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async evaluateNow(now: number, scope: EvalScope, announce: boolean): Promise<RecordedTransition[]> {
    const started = performance.now();
    const rules = this.rules;
    const ev = await evaluate(this.scopedSet(scope), this.o.sources, now, this.states);
    // Removed rules are retired by a full evaluation only (a scoped one does not see them all).
    if (scope === 'all') this.retireRemoved(rules, ev.states, ev.transitions, now);
    for (const e of ev.errors) this.o.log.warn({ rule: e.rule, alert: e.alertKey, at: new Date(now).toISOString() }, `rule ${e.rule}: ${e.message}`);
    const announced = this.hold(ev.states, ev.transitions, announce, now, scope);
    let recorded: RecordedTransition[];
    try {
      const onNotify = this.o.onNotify;
      const ruleOf = onNotify && new Map(rules.rules.map((r) => [r.name, r]));
      recorded = this.o.alertStore.record<Transition>(
        { states: ev.states, transitions: ev.transitions, announce: announced, now },
        onNotify && ((t) => onNotify(t, ruleOf!.get(t.rule))),
      );
    } catch (e) {
      // Nothing was stored, so the states stay as they were: the same transitions are
      // found again (and notified once) at the next evaluation.
      this.status.failures++;
      this.o.log.error({ err: (e as Error).message, at: new Date(now).toISOString() }, 'storing the rule evaluation failed; retrying at the next one');
      throw e;
    }
    this.states = ev.states;
    this.status.lastEvaluationAt = now;
    this.status.lastDurationMs = performance.now() - started;
    this.status.evaluations++;
    this.status.lastErrors = ev.errors;
    return recorded;
  }

  /**
   * Applies the catch-up hold to one evaluation's result (in place): while not announcing,
   * a new firing is held and a repeat or the end of a held alert is not sent; when
   * announcing, the end of a held alert is recorded unannounced and every alert still
   * held is returned to be announced now (its state marked notified).
   */
  private hold(states: Map<string, TrackedAlert>, transitions: Transition[], announce: boolean, now: number, scope: EvalScope): string[] {
    for (const t of transitions) {
      if (!t.notify) continue;
      const before = this.states.get(t.alertKey);
      if (!announce && t.notify === 'firing') {
        const st = states.get(t.alertKey);
        if (st) states.set(t.alertKey, { ...st, lastNotifiedAt: null });
        delete t.notify;
      } else if (!announce && t.notify === 'repeat') delete t.notify;
      else if (t.notify === 'resolved' && before !== undefined && isHeld(before)) delete t.notify; // it ended before anyone was told it began
    }
    if (!announce) return [];
    const evaluated = new Set(this.scopedSet(scope).rules.map((r) => r.name));
    const out: string[] = [];
    for (const [key, st] of states) {
      if (!isHeld(st) || !evaluated.has(st.rule)) continue;
      states.set(key, { ...st, lastNotifiedAt: now });
      out.push(key);
    }
    return out.sort();
  }

  /**
   * Alerts whose rule is gone (its file deleted or the rule renamed, now or while the
   * agent was down) end here: a firing one resolves — and notifies, so a paging
   * channel closes its incident — a pending one goes inactive. Left alone they would
   * stay firing forever with nothing to resolve them.
   */
  private retireRemoved(rules: RuleSet, states: Map<string, TrackedAlert>, transitions: Transition[], now: number): void {
    const names = new Set(rules.rules.map((r) => r.name));
    for (const [key, st] of [...states].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (names.has(st.rule)) continue;
      states.delete(key);
      const last = this.o.alertStore.lastEpisode(key);
      const firing = st.state === 'firing';
      const t: Transition = {
        at: now,
        rule: st.rule,
        state: firing ? 'resolved' : 'inactive',
        severity: (last?.severity ?? 'info') as Severity,
        labels: st.labels,
        summary: last?.summary ?? st.rule,
        description: `${st.rule} was removed from the rule files`,
        values: {},
        alertKey: key,
      };
      if (firing) t.notify = 'resolved';
      transitions.push(t);
      this.o.log.info({ rule: st.rule, alert: key }, `alert ${key} ended: its rule was removed`);
    }
  }

  /** Evaluates at every multiple of intervalMs on the clock until stop(). */
  start(intervalMs: number): void {
    if (this.ticker) return;
    this.ticker = startTicker({
      intervalMs,
      clock: this.o.clock,
      ...(this.o.setTimer ? { setTimer: this.o.setTimer } : {}),
      onSkip: (slot) => {
        this.status.skipped++;
        this.o.log.warn({ slot: new Date(slot).toISOString() }, 'rule evaluation skipped: the previous one is still running');
      },
      run: async (slot) => {
        try {
          await this.evaluateAt(slot, { scope: this.o.tickScope?.() ?? 'all' });
        } catch {
          // logged in evaluateNow; the next slot retries
        }
      },
    });
  }

  /** Stops the wall-clock loop; resolves when no evaluation is running. */
  async stop(): Promise<void> {
    const t = this.ticker;
    this.ticker = null;
    await t?.stop();
    await this.chain;
  }
}

/** Firing, never announced: it fired while the agent was catching up. */
function isHeld(st: TrackedAlert): boolean {
  return st.state === 'firing' && st.lastNotifiedAt === null;
}

/**
 * The backup checks a rule set asks for (distinct), so the agent can warm its check
 * cache before the first evaluation and after a reload.
 */
export function backupQueries(set: RuleSet): BackupQuery[] {
  const out = new Map<string, BackupQuery>();
  for (const r of set.rules) {
    for (const u of r.uses) {
      if (u.fact !== 'backup_present' && u.fact !== 'backup_age_seconds') continue;
      const q = backupQuery(u.params);
      out.set(JSON.stringify(q), q);
    }
  }
  return [...out.values()];
}
