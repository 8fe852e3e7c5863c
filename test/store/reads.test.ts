import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR, MINUTE } from '../../src/store/batch.js';
import { openStore, type DB } from '../../src/store/db.js';
import { StoreReads, type SessionPolicy } from '../../src/store/reads.js';
import { computeStats } from '../../src/store/stats.js';
import { insertAlert, insertOutbox, insertRecent, insertSample, insertSession, tmpDir, writeCells } from '../api/helpers.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
let dir = '';
let db: DB;
afterEach(() => {
  db?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function setup(policy: SessionPolicy = {}): StoreReads {
  dir = tmpDir('reads');
  db = openStore(dir);
  return new StoreReads(db, policy);
}

describe('StoreReads', () => {
  it('activeAt counts sessions active at each instant (started at or before, not yet finished)', () => {
    const r = setup();
    insertSession(db, { id: 'a', first: T0, finished: 1, finishedTs: T0 + 10 * MINUTE });
    insertSession(db, { id: 'b', first: T0 + 5 * MINUTE });
    insertSession(db, { id: 'c', first: T0 - HOUR, finished: 2, finishedTs: T0 - 30 * MINUTE });
    insertSession(db, { id: 'd', first: T0 + 20 * MINUTE, finished: 1, finishedTs: T0 + 21 * MINUTE });
    const times = [T0 - 45 * MINUTE, T0 - MINUTE, T0, T0 + 5 * MINUTE, T0 + 10 * MINUTE, T0 + 20 * MINUTE + 30_000, T0 + HOUR];
    expect(r.activeAt(times)).toEqual([1, 0, 1, 2, 1, 2, 1]);
    expect(r.activeAt([])).toEqual([]);
    expect(r.activeCount(T0 + HOUR)).toBe(1);
    expect(r.stuckCount(T0 + HOUR, 30 * MINUTE)).toBe(1);
    expect(r.stuckCount(T0 + 20 * MINUTE, 30 * MINUTE)).toBe(0);
  });

  it('a session quiet for abandon_after is abandoned: no longer active or stuck, counted once as abandoned, ended in the history', () => {
    const r = setup({ abandonAfterMs: 2 * HOUR });
    insertSession(db, { id: 'dead', first: T0, last: T0 + 10 * MINUTE }); // its worker died after 10 minutes
    insertSession(db, { id: 'slow', first: T0, last: T0 + 3 * HOUR }); // long, but still logging
    insertSession(db, { id: 'done', first: T0, last: T0 + 20 * MINUTE, finished: 1, finishedTs: T0 + 20 * MINUTE });
    const justBefore = T0 + 2 * HOUR + 10 * MINUTE - 1;
    const at = T0 + 2 * HOUR + 10 * MINUTE;
    expect(r.activeCount(justBefore)).toBe(2);
    expect(r.stuckCount(justBefore, 30 * MINUTE)).toBe(2);
    expect(r.activeCount(at)).toBe(1);
    expect(r.stuckCount(at, 30 * MINUTE)).toBe(1);
    expect(r.activeSessions(at, 10).map((s) => s.session_id)).toEqual(['slow']);
    expect(r.abandonedCount(justBefore, HOUR)).toBe(0);
    expect(r.abandonedCount(at, HOUR)).toBe(1);
    expect(r.abandonedCount(at + HOUR - 1, HOUR)).toBe(1);
    expect(r.abandonedCount(at + HOUR, HOUR)).toBe(0); // out of the window again
    // The history ends it at its last line plus abandon_after: 'slow' at last + 2 h, 'done' at its end.
    expect(r.activeAt([T0, T0 + 15 * MINUTE, T0 + 30 * MINUTE, justBefore, at, T0 + 5 * HOUR - 1, T0 + 5 * HOUR])).toEqual([3, 3, 2, 2, 1, 1, 0]);
    // The default: 6 h.
    expect(new StoreReads(db).activeCount(at)).toBe(2);
  });

  it('alerts: filters, newest first, total independent of limit, labels parsed', () => {
    const r = setup();
    insertAlert(db, { rule: 'x', severity: 'error', started: T0, labels: { stage: 'upload' } });
    insertAlert(db, { rule: 'y', severity: 'error', started: T0 + 1, state: 'resolved', resolved: T0 + 2 });
    insertAlert(db, { rule: 'z', severity: 'warning', started: T0 + 2 });
    db.prepare(`UPDATE alerts SET labels = 'not json' WHERE rule = 'z'`).run();
    const all = r.alerts({ limit: 2 });
    expect(all.total).toBe(3);
    expect(all.rows.map((a) => a.rule)).toEqual(['z', 'y']);
    expect(all.rows[0]!.labels).toEqual({});
    expect(r.alerts({ severity: 'error', state: 'firing', limit: 10 }).rows).toEqual([
      { id: 1, rule: 'x', severity: 'error', state: 'firing', summary: 'x summary', labels: { stage: 'upload' }, started_at: T0, firing_at: T0, resolved_at: null },
    ]);
    expect(r.firingAlertCounts().sort((a, b) => a.rule.localeCompare(b.rule))).toEqual([
      { rule: 'x', severity: 'error', n: 1 },
      { rule: 'z', severity: 'warning', n: 1 },
    ]);
  });

  it('recentLines: the last n (of a level), oldest first', () => {
    const r = setup();
    insertRecent(db, [
      { ts: 1, level: 'INFO', obj: { n: 1 } },
      { ts: 2, level: 'ERROR', obj: { n: 2 } },
      { ts: 3, level: 'INFO', obj: { n: 3 } },
      { ts: 4, level: 'ERROR', obj: { n: 4 } },
    ]);
    expect(r.recentLines(2)).toEqual(['{"n":3}', '{"n":4}']);
    expect(r.recentLines(10, 'ERROR')).toEqual(['{"n":2}', '{"n":4}']);
    expect(r.recentLines(10, 'DEBUG')).toEqual([]);
  });

  it('sampleSeries averages each series into steps and takes the fullest disk; latestSample respects now', () => {
    const r = setup();
    for (let i = 0; i < 8; i++) {
      const t = T0 + i * 15_000;
      insertSample(db, 'cpu', '', t, i < 4 ? 10 : 30);
      insertSample(db, 'disk', '/', t, 50);
      insertSample(db, 'disk', '/data', t, i < 4 ? 40 : 90);
    }
    insertSample(db, 'memory', '', T0 + 60_000, 70);
    const s = r.sampleSeries(T0, T0 + 2 * MINUTE, MINUTE, ['/', '/data']);
    expect(s).toEqual([
      { t: T0, cpu: 10, memory: null, disk: 50 },
      { t: T0 + MINUTE, cpu: 30, memory: 70, disk: 90 },
    ]);
    expect(r.latestSample('cpu', '', T0 + 30_000)).toEqual({ ts: T0 + 30_000, value: 10 });
    expect(r.latestSample('cpu', '', T0 - 1)).toBeNull();
    expect(r.latestSample('disk', '/nope', T0 + HOUR)).toBeNull();
  });

  it('opsSeries and stagesAllTime agree with computeStats', () => {
    const r = setup();
    writeCells(db, [
      { start: T0, stage: 'upload', ops: 5, durations: [1, 2, 3, 4, 5] },
      { start: T0 + MINUTE, stage: 'upload', ops: 2, failed: 1, errorCode: 'E', durations: [10, 20] },
      { start: T0 + 2 * HOUR, stage: 'cleanup', ops: 1 },
      { start: T0 + 2 * HOUR, level: 'WARNING', lines: 4 },
    ]);
    expect(r.opsSeries(T0, T0 + HOUR, MINUTE)).toEqual([
      { t: T0, operations: 5, failed: 0 },
      { t: T0 + MINUTE, operations: 2, failed: 1 },
    ]);
    expect(r.opsSeries(T0, T0 + 3 * HOUR, HOUR)).toEqual([
      { t: T0, operations: 7, failed: 1 },
      { t: T0 + 2 * HOUR, operations: 1, failed: 0 },
    ]);
    const all = r.stagesAllTime();
    const stats = computeStats(db, { from: T0 - HOUR, to: T0 + 3 * HOUR });
    expect(all.get('upload')!.ops).toBe(stats.stage_breakdown.upload!.count);
    expect(all.get('upload')!.failed).toBe(stats.stage_breakdown.upload!.failure_count);
    expect(all.get('upload')!.durSum).toBe(45);
    expect(all.get('upload')!.hist.total).toBe(7);
    expect(all.get('cleanup')!.ops).toBe(1);
    expect(Object.fromEntries(r.levelsAllTime())).toEqual({ INFO: 6, ERROR: 2, WARNING: 4 });
  });

  it('outbox counts by channel, failures since a time, file stats and the database size', () => {
    const r = setup();
    insertOutbox(db, { channel: 'slack', status: 'pending', created: T0 - HOUR });
    insertOutbox(db, { channel: 'slack', status: 'pending', created: T0 });
    insertOutbox(db, { channel: 'email', status: 'failed', created: T0 - 2 * HOUR });
    insertOutbox(db, { channel: 'email', status: 'delivered', created: T0 });
    expect(r.outbox()).toEqual({
      byChannel: [
        { channel: 'email', pending: 0, failed: 1 },
        { channel: 'slack', pending: 2, failed: 0 },
      ],
      oldestPendingAt: T0 - HOUR,
    });
    expect(r.outboxFailedSince(T0 - 3 * HOUR)).toBe(1);
    expect(r.outboxFailedSince(T0 - HOUR)).toBe(0);
    db.prepare(`INSERT INTO file_stats (file, lines, rejected, repaired, overlong, last_event_ts, last_read_at) VALUES ('/l/app.log', 10, 2, 0, 0, 5, 6)`).run();
    expect(r.fileStats()).toEqual([{ file: '/l/app.log', lines: 10, rejected: 2, last_event_ts: 5, last_read_at: 6 }]);
    const size = r.dbSize();
    expect(size.pages).toBeGreaterThan(0);
    expect(size.bytes).toBeGreaterThanOrEqual(size.pages * size.pageSize);
  });
});
