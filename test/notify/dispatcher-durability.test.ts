/**
 * kill -9 mid-outage loses nothing: a dispatcher in a child process queues alerts (in the same
 * transaction as their transitions) while both receivers are down — the webhook answers 503,
 * PagerDuty hangs — and is SIGKILLed while retrying. A new process over the same database
 * delivers everything once the receivers recover: every notification accepted exactly once,
 * each resolve after its trigger with the same dedup_key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutboxTable } from '../../src/notify/outbox.js';
import { openStore } from '../../src/store/db.js';
import { exited, ROOT, sleep, tmpDir, waitFor } from '../helpers/agent.js';
import { acceptedCounts, startReceiver, type Receiver, type ReceivedRequest } from './outbox-fixtures.js';

// The child runs the built JS (node 20 cannot run the .ts sources); VIGIL_DIST points elsewhere than ./dist if wanted.
const DIST = process.env.VIGIL_DIST ?? path.join(ROOT, 'dist');
const CHILD = path.join(import.meta.dirname, 'dispatcher-child.mjs');

function requireDist(): void {
  for (const f of ['src/notify/dispatcher.js', 'src/notify/outbox.js', 'src/store/alerts.js']) {
    if (!fs.existsSync(path.join(DIST, f))) throw new Error(`${path.join(DIST, f)} is missing: run "npm run build" first (npm test does)`);
  }
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  if (!(await waitFor(cond, ms, 20))) throw new Error(`timed out waiting for ${what}`);
}

function child(stateDir: string, hook: Receiver, pd: Receiver, phase: 'enqueue' | 'deliver'): ChildProcess & { lines: () => string[] } {
  const p = spawn(process.execPath, [CHILD, DIST, stateDir, `${hook.url}/hook`, `${pd.url}/v2/enqueue`, phase], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (out += d));
  return Object.assign(p, { lines: () => out.split('\n').filter(Boolean) });
}

describe('outbox durability across kill -9', () => {
  const dir = tmpDir('durability');
  const children: ChildProcess[] = [];
  const receivers: Receiver[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(receivers.map((r) => r.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a dispatcher killed mid-outage loses nothing; the next one delivers every notification exactly once', async () => {
    requireDist();
    let up = false;
    const hook = await startReceiver({ fallback: () => (up ? { status: 200 } : { status: 503 }) });
    const pd = await startReceiver({ fallback: () => (up ? { status: 202, body: '{"status":"success"}' } : 'hang') });
    receivers.push(hook, pd);

    const first = child(dir, hook, pd, 'enqueue');
    children.push(first);
    await until(() => first.lines().some((l) => l.includes('"enqueued"')) || first.exitCode !== null, 20_000, 'the child to queue its alerts');
    expect(first.exitCode, first.lines().join('\n')).toBeNull();
    // several failed rounds on both channels, then kill -9 (a PagerDuty request is likely hung in flight)
    await until(() => hook.requests.length >= 4 && pd.requests.length >= 2, 20_000, 'retries against the failing receivers');
    first.kill('SIGKILL');
    await exited(first);
    expect(first.signalCode).toBe('SIGKILL');
    expect(hook.accepted()).toHaveLength(0);
    expect(pd.accepted()).toHaveLength(0);

    const db = openStore(dir);
    const table = new OutboxTable(db);
    const queued = table.all();
    // 5 firing + 2 resolved, each on 2 channels: all still pending, none lost
    expect(queued.map((r) => r.status)).toEqual(Array(14).fill('pending'));
    expect(queued.filter((r) => r.attempts > 0).length).toBeGreaterThan(0);

    up = true;
    const second = child(dir, hook, pd, 'deliver');
    children.push(second);
    await until(() => table.all().every((r) => r.status === 'delivered'), 30_000, 'the new process to deliver everything');
    await sleep(300); // anything sent twice would arrive now
    second.kill('SIGKILL');
    await exited(second);

    // webhook: every notification accepted exactly once
    const hookIds = acceptedCounts(hook);
    expect([...hookIds.keys()].sort()).toEqual(queued.filter((r) => r.channel === 'webhook').map((r) => r.notificationId).sort());
    expect([...hookIds.values()].every((n) => n === 1)).toBe(true);

    // PagerDuty: each trigger once, each resolve once and after its trigger, same dedup_key
    const events = pd.accepted().map((q: ReceivedRequest) => q.json as { event_action: string; dedup_key: string; payload?: { custom_details: { notification_id: string } } });
    const triggers = events.filter((e) => e.event_action === 'trigger').map((e) => e.payload!.custom_details.notification_id);
    expect(triggers.sort()).toEqual(queued.filter((r) => r.channel === 'pagerduty' && r.kind === 'firing').map((r) => r.notificationId).sort());
    const resolves = events.filter((e) => e.event_action === 'resolve');
    expect(resolves).toHaveLength(2);
    expect(new Set(resolves.map((e) => e.dedup_key)).size).toBe(2);
    for (const res of resolves) {
      const trigger = events.findIndex((e) => e.event_action === 'trigger' && e.dedup_key === res.dedup_key);
      expect(trigger).toBeGreaterThanOrEqual(0);
      expect(trigger).toBeLessThan(events.indexOf(res));
    }
    expect(table.counts(Date.now())).toMatchObject({ pending: 0, failed: 0, expired: 0 });
    db.close();
  });
});
