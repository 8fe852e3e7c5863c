import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watch } from 'chokidar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInotifyExhausted, startWatcher, type WatchHandle } from '../../src/tail/watch.js';
import { rmDir, tempDir } from './helpers.js';

let dir: string;
let handle: WatchHandle | undefined;
beforeEach(() => {
  dir = tempDir();
});
afterEach(async () => {
  await handle?.close();
  handle = undefined;
  rmDir(dir);
});

/** Resolves when `count()` exceeds `from`, or rejects after `ms`. */
async function waitFor(count: () => number, from: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (count() <= from) {
    if (Date.now() > until) throw new Error(`no change within ${ms} ms`);
    await sleep(10);
  }
}

describe('startWatcher', () => {
  for (const mode of ['inotify', 'poll'] as const) {
    it(`${mode}: a write in an input directory fires onChange long before the tick`, async () => {
      const log = path.join(dir, 'app.log');
      fs.writeFileSync(log, 'a\n');
      let n = 0;
      handle = startWatcher([path.join(dir, '*.log')], (why) => why === 'event' && n++, { mode, reconcileIntervalMs: 60_000 });
      expect(handle.mode).toBe(mode);
      await sleep(300); // let chokidar finish its initial walk
      const before = n;
      fs.appendFileSync(log, 'b\n');
      await waitFor(() => n, before, 5000);
      const afterWrite = n;
      fs.renameSync(log, `${log}.1`); // rotation is seen as well
      await waitFor(() => n, afterWrite, 5000);
    });
  }

  it('ticks without any event', async () => {
    let n = 0;
    handle = startWatcher([path.join(dir, 'none', '*.log')], (why) => why === 'tick' && n++, { reconcileIntervalMs: 50 });
    await waitFor(() => n, 2, 5000);
    await handle.close();
    const closedAt = n;
    await sleep(200);
    expect(n).toBe(closedAt);
  });

  it('falls back to polling once when inotify is exhausted, logging VIGIL_WATCH_FALLBACK', async () => {
    const logs: { msg: string; data?: Record<string, unknown> }[] = [];
    const created: boolean[] = [];
    const intervals: Array<number | undefined> = [];
    const log = path.join(dir, 'app.log');
    fs.writeFileSync(log, 'a\n');
    let n = 0;
    handle = startWatcher([path.join(dir, '*.log')], (why) => why === 'event' && n++, {
      reconcileIntervalMs: 60_000,
      pollIntervalMs: 123,
      log: (_l, msg, data) => logs.push({ msg, ...(data ? { data } : {}) }),
      // The real chokidar watcher, made to report what fs.watch reports when max_user_watches is hit.
      createWatcher: (paths, o) => {
        created.push(Boolean(o.usePolling));
        intervals.push(o.interval);
        const w = watch(paths, o);
        if (!o.usePolling) setTimeout(() => w.emit('error', Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' })), 50);
        return w;
      },
    });
    await sleep(400);
    expect(handle.mode).toBe('poll');
    expect(created).toEqual([false, true]);
    expect(intervals).toEqual([123, 123]); // watch.poll_interval is chokidar's stat interval

    expect(logs.filter((l) => l.data?.code === 'VIGIL_WATCH_FALLBACK').length).toBe(1);
    const before = n;
    fs.appendFileSync(log, 'b\n');
    await waitFor(() => n, before, 5000);
  });

  it('classifies exhaustion errors', () => {
    expect(isInotifyExhausted(Object.assign(new Error('x'), { code: 'EMFILE' }))).toBe(true);
    expect(isInotifyExhausted(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe(true);
    expect(isInotifyExhausted(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe(false);
    expect(isInotifyExhausted(undefined)).toBe(false);
  });
});
