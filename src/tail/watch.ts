/**
 * Tells the ingest loop when to scan. It watches the input directories (not every file:
 * rotation creates and renames files faster than per-file watches can follow) and also
 * ticks on a timer, because events are hints: writes through a deleted file's descriptor,
 * NFS and exhausted inotify limits send none. The tailer's scan() is the truth.
 *
 * When inotify runs out (ENOSPC: max_user_watches, EMFILE: max_user_instances) the
 * watchers are rebuilt in polling mode, once, with VIGIL_WATCH_FALLBACK logged.
 */
import { watch, type ChokidarOptions, type FSWatcher } from 'chokidar';
import { watchRoot } from './glob.js';
import type { TailLog } from './types.js';

export type WatchMode = 'auto' | 'inotify' | 'poll';

export interface WatchOptions {
  /** onChange is called at least this often, events or not (`watch.reconcile_interval`). Default 1000 ms. */
  reconcileIntervalMs?: number;
  /** In polling mode, how often the watched directories and files are stat'ed (`watch.poll_interval`). Default 250 ms. */
  pollIntervalMs?: number;
  /** auto: inotify, falling back to polling when it is exhausted. Default auto. */
  mode?: WatchMode;
  log?: TailLog;
  cwd?: string;
  /** The watcher factory (chokidar's watch); injectable so the fallback can be exercised. */
  createWatcher?: (paths: string[], opts: ChokidarOptions) => FSWatcher;
}

export interface WatchHandle {
  /** What is in use now: inotify events or stat polling. */
  readonly mode: 'inotify' | 'poll';
  close(): Promise<void>;
}

const EXHAUSTED = new Set(['ENOSPC', 'EMFILE']);

export function isInotifyExhausted(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && EXHAUSTED.has(code);
}

/** Why onChange was called: a filesystem event, or the periodic reconcile tick. */
export type ChangeReason = 'event' | 'tick';

export function startWatcher(patterns: string[], onChange: (reason: ChangeReason) => void, opts: WatchOptions = {}): WatchHandle {
  const tickMs = opts.reconcileIntervalMs ?? 1000;
  const pollMs = opts.pollIntervalMs ?? 250;
  const log = opts.log ?? (() => {});
  const create = opts.createWatcher ?? ((paths, o) => watch(paths, o));
  const roots = new Map<string, boolean>();
  for (const p of patterns) {
    const r = watchRoot(p, opts.cwd);
    roots.set(r.dir, (roots.get(r.dir) ?? false) || r.recursive);
  }

  let mode: 'inotify' | 'poll' = opts.mode === 'poll' ? 'poll' : 'inotify';
  let watchers: FSWatcher[] = [];
  let closed = false;
  let fellBack = false;

  const build = (): void => {
    watchers = [...roots].map(([dir, recursive]) => {
      const o: ChokidarOptions = {
        ignoreInitial: true,
        persistent: true,
        ignorePermissionErrors: true,
        atomic: false,
        usePolling: mode === 'poll',
        interval: pollMs,
        binaryInterval: pollMs,
      };
      if (!recursive) o.depth = 0;
      const w = create([dir], o);
      w.on('all', () => {
        if (!closed) onChange('event');
      });
      w.on('error', (err) => onError(err));
      return w;
    });
  };

  const onError = (err: unknown): void => {
    if (closed) return;
    if (isInotifyExhausted(err) && mode === 'inotify' && opts.mode !== 'inotify' && !fellBack) {
      fellBack = true;
      log('warn', 'inotify exhausted; polling the log directories instead', {
        code: 'VIGIL_WATCH_FALLBACK',
        errno: (err as NodeJS.ErrnoException).code,
      });
      const old = watchers;
      mode = 'poll';
      build();
      for (const w of old) void w.close();
      return;
    }
    log('warn', `file watcher error: ${(err as Error)?.message ?? String(err)}`, { errno: (err as NodeJS.ErrnoException)?.code });
  };

  build();
  const tick = setInterval(() => {
    if (!closed) onChange('tick');
  }, tickMs);
  tick.unref();

  return {
    get mode() {
      return mode;
    },
    async close() {
      closed = true;
      clearInterval(tick);
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
}
