/**
 * The dispatcher when another connection holds the store's write lock between a send and the
 * recording of its outcome (the agent waits only AGENT_BUSY_TIMEOUT_MS for a lock). A real
 * file store, a second real SQLite connection in BEGIN EXCLUSIVE, a real HTTP receiver.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { buildChannels } from '../../src/notify/channels.js';
import { Dispatcher } from '../../src/notify/dispatcher.js';
import { Outbox } from '../../src/notify/outbox.js';
import { Router } from '../../src/notify/router.js';
import { AGENT_BUSY_TIMEOUT_MS, DB_FILE, openStore } from '../../src/store/db.js';
import { sleep, tmpDir, waitFor } from '../helpers/agent.js';
import { firing, rule, startReceiver } from './outbox-fixtures.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('dispatcher while the store is locked by another process', () => {
  it('store lock during a delivery: the outcome is recorded once the lock is released, and the notification is sent once, not again and again', async () => {
    const dir = tmpDir('dispatch-busy');
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const db = openStore(dir, { busyTimeoutMs: AGENT_BUSY_TIMEOUT_MS });
    cleanups.push(() => db.close());
    const other = new Database(path.join(dir, DB_FILE));
    cleanups.push(() => other.close());

    // The receiver takes the write lock (as a sqlite3 shell would) while it accepts the first send.
    let locked = false;
    const r = await startReceiver({
      fallback: () => {
        if (!locked) other.exec('BEGIN EXCLUSIVE');
        locked = true;
        return { status: 200, body: '{}' };
      },
    });
    cleanups.push(() => r.close());
    const logs: string[] = [];
    const channels = buildChannels({ webhook: { url: `${r.url}/hook` } }, { clock: systemClock });
    const d = new Dispatcher({ db, channels, clock: systemClock, log: (_level, msg) => logs.push(msg) });
    cleanups.push(() => d.stop());
    const outbox = new Outbox(db, { router: new Router([], ['webhook']), channels, onEnqueue: () => d.kick() });
    d.start();

    outbox.enqueue(firing(db, Date.now()), rule(['webhook']), Date.now());
    expect(await waitFor(() => other.inTransaction, 5000)).toBe(true);
    await sleep(800); // the lock is held: the outcome cannot be written
    const duringLock = r.requests.length;
    other.exec('COMMIT');

    expect(await waitFor(() => (db.prepare(`SELECT status FROM outbox`).get() as { status: string }).status === 'delivered', 10_000), logs.join('\n')).toBe(true);
    await sleep(300);
    expect(duringLock).toBe(1);
    expect(r.requests.length).toBe(1);
    expect(db.prepare(`SELECT status, attempts FROM outbox`).all()).toEqual([{ status: 'delivered', attempts: 1 }]);
    expect(logs.filter((m) => m.includes('locked by another process'))).toHaveLength(1);
  });
});
