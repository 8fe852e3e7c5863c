/**
 * Hot reload of the rules directory. Any add, change or delete of a rule file is
 * picked up (debounced, well within 2 s); a bad edit is logged with every problem as
 * file:line:col and the last good RuleSet keeps running — with its pending timers,
 * since the runner keeps alert states across setRules().
 */
import { watch, type FSWatcher } from 'chokidar';
import type { Clock } from '../clock.js';
import { formatLocated, type Located } from '../errors.js';
import { RuleSet } from './engine.js';
import { isRuleFile, lintRules, type LintOptions } from './load.js';
import type { RunnerLog } from './runner.js';

/** Lints rule files/dirs (rule tests skipped) and builds the RuleSet of the valid rules. */
export function lintRuleSet(paths: readonly string[], opts: LintOptions = {}): { set: RuleSet; problems: Located[]; files: string[] } {
  const r = lintRules(paths, opts);
  return { set: new RuleSet(r.rules), problems: r.problems, files: r.files };
}

export interface ReloadStatus {
  /** Clock time of the last reload attempt (the initial load counts); null before any. */
  at: number | null;
  ok: boolean;
  /** Every problem of the last attempt (empty when ok). */
  problems: Located[];
  /** Rules running now (from the last good load). */
  rules: number;
  /** Reload attempts and how many of them were refused. */
  attempts: number;
  failures: number;
}

export interface RuleReloaderOptions {
  dir: string;
  lint?: LintOptions;
  clock: Clock;
  log: RunnerLog;
  /** Receives every good RuleSet (after the initial one). */
  onReload: (set: RuleSet) => void;
  /** Quiet time after the last file event before reloading (editors write in bursts). Default 250 ms. */
  debounceMs?: number;
  /** Poll instead of inotify (network filesystems, tests). */
  usePolling?: boolean;
}

export class RuleReloader {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private current: RuleSet | null = null;
  private readonly status: ReloadStatus = { at: null, ok: true, problems: [], rules: 0, attempts: 0, failures: 0 };

  constructor(private readonly o: RuleReloaderOptions) {}

  /**
   * Loads the rules once, synchronously; the caller decides what a bad initial load
   * means (the agent refuses to start). Does not call onReload.
   */
  load(): { set: RuleSet; problems: Located[] } {
    const r = lintRuleSet([this.o.dir], this.o.lint);
    this.note(r.problems, r.problems.length === 0 ? r.set : null);
    if (r.problems.length === 0) this.current = r.set;
    return r;
  }

  /** The last good rule set (null before a good load). */
  get ruleSet(): RuleSet | null {
    return this.current;
  }

  lastReload(): Readonly<ReloadStatus> {
    return this.status;
  }

  /** Starts watching; resolves once the watcher is ready. */
  async start(): Promise<void> {
    if (this.watcher) return;
    const w = watch(this.o.dir, {
      ignoreInitial: true,
      depth: 0,
      usePolling: this.o.usePolling ?? false,
      interval: 100,
      ignored: (p, stats) => stats?.isFile() === true && !/\.ya?ml$/.test(p),
    });
    this.watcher = w;
    const kick = (p: string) => {
      if (p !== this.o.dir && !isRuleFile(p)) return;
      this.schedule();
    };
    w.on('add', kick).on('change', kick).on('unlink', kick).on('addDir', kick).on('unlinkDir', kick);
    w.on('error', (e) => this.o.log.warn({ dir: this.o.dir, err: (e as Error).message }, 'watching the rules directory failed'));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
  }

  /** Reloads now (SIGHUP, and the watcher after its debounce). Returns the resulting status. */
  reload(): Readonly<ReloadStatus> {
    const r = lintRuleSet([this.o.dir], this.o.lint);
    this.note(r.problems, r.problems.length === 0 ? r.set : null);
    if (r.problems.length > 0) {
      this.o.log.error(
        { dir: this.o.dir, problems: r.problems.length, code: 'VIGIL_RULE_INVALID' },
        `rule reload refused, the last good rules keep running (${this.status.rules} rules):\n${r.problems.map(formatLocated).join('\n')}`,
      );
      return this.status;
    }
    this.current = r.set;
    this.o.log.info({ dir: this.o.dir, rules: r.set.rules.length, files: r.files.length }, `rules reloaded: ${r.set.rules.length} rules from ${r.files.length} files`);
    this.o.onReload(r.set);
    return this.status;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const w = this.watcher;
    this.watcher = null;
    await w?.close();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.watcher) return;
      try {
        this.reload();
      } catch (e) {
        this.o.log.error({ dir: this.o.dir, err: (e as Error).message }, 'rule reload failed');
      }
    }, this.o.debounceMs ?? 250);
  }

  private note(problems: Located[], good: RuleSet | null): void {
    this.status.at = this.o.clock.now();
    this.status.attempts++;
    this.status.ok = problems.length === 0;
    this.status.problems = problems;
    if (!this.status.ok) this.status.failures++;
    if (good) this.status.rules = good.rules.length;
  }
}
