import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchWriter, emptyBatch, HOUR, MINUTE, type WindowCell } from '../../src/store/batch.js';
import { openStore, type DB } from '../../src/store/db.js';
import { Histogram } from '../../src/store/histogram.js';
import { StoreReads } from '../../src/store/reads.js';
import { applyRetention, readPruned, type RetentionConfig } from '../../src/store/retention.js';
import { insertAlert, insertOutbox, insertRecent, insertSample, insertSession, tmpDir } from '../api/helpers.js';

const DAY = 24 * HOUR;
const END = Date.UTC(2026, 10, 22, 0, 0, 0);
const RET: RetentionConfig = { windows_ms: 7 * DAY, samples_ms: 7 * DAY, alerts_ms: 90 * DAY, recent_lines: 100, rejected_samples: 10 };

let dirs: string[] = [];
let dbs: DB[] = [];
afterEach(() => {
  for (const d of dbs) d.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
  dbs = [];
});

function store(): DB {
  const dir = tmpDir('retention');
  dirs.push(dir);
  const db = openStore(dir);
  dbs.push(db);
  return db;
}

const count = (db: DB, sql: string, ...p: unknown[]) => (db.prepare(sql).get(...p) as { n: number }).n;

/** Two cells a minute (upload ok with durations, compression failed) over [from, to), written a day per transaction. */
function history(db: DB, from: number, to: number): void {
  const w = new BatchWriter(db, { recentLines: 100, rejectedSamples: 10 });
  for (let day = from; day < to; day += DAY) {
    const b = emptyBatch();
    for (let t = day; t < Math.min(to, day + DAY); t += MINUTE) {
      const h = new Histogram();
      h.add(2, 3);
      const ok: WindowCell = { start: t, logger: 'm', level: 'INFO', stage: 'upload', errorCode: '', lines: 3, ops: 3, opsFailed: 0, durCount: 3, durSum: 6, durMin: 2, durMax: 2, hist: h };
      const bad: WindowCell = { start: t, logger: 'm', level: 'ERROR', stage: 'compression', errorCode: 'FFMPEG_FAILED', lines: 1, ops: 1, opsFailed: 1, durCount: 0, durSum: 0, durMin: null, durMax: null, hist: null };
      b.cells.set(`${t}a`, ok);
      b.cells.set(`${t}b`, bad);
    }
    w.commit(b);
  }
}

describe('applyRetention', () => {
  it('keeps 7 days of a 30-day window history, and all-time counters do not move', () => {
    const db = store();
    history(db, END - 30 * DAY, END);
    const reads = new StoreReads(db);
    const before = reads.stagesAllTime();
    const levelsBefore = reads.levelsAllTime();
    expect(count(db, `SELECT count(*) AS n FROM windows WHERE res = ${MINUTE}`)).toBe(30 * 1440 * 2);

    const r = applyRetention(db, RET, END);
    const minutes = count(db, `SELECT count(*) AS n FROM windows WHERE res = ${MINUTE}`);
    const hours = count(db, `SELECT count(*) AS n FROM windows WHERE res = ${HOUR}`);
    expect(minutes).toBe(7 * 1440 * 2);
    expect(hours).toBe(7 * 24 * 2);
    expect(count(db, `SELECT count(*) AS n FROM windows WHERE res = ${DAY}`)).toBe(7 * 2);
    expect(count(db, `SELECT count(*) AS n FROM windows WHERE start < ?`, END - 7 * DAY)).toBe(0);
    expect(r.windows).toBe(23 * 1440 * 2 + 23 * 24 * 2 + 23 * 2);

    const after = reads.stagesAllTime();
    for (const stage of ['upload', 'compression']) {
      expect(after.get(stage)!.ops).toBe(before.get(stage)!.ops);
      expect(after.get(stage)!.failed).toBe(before.get(stage)!.failed);
      expect(after.get(stage)!.durSum).toBe(before.get(stage)!.durSum);
      expect(after.get(stage)!.hist.total).toBe(before.get(stage)!.hist.total);
    }
    expect(after.get('upload')!.ops).toBe(30 * 1440 * 3);
    expect(reads.levelsAllTime()).toEqual(levelsBefore);
    expect(readPruned(db).stages.upload!.ops).toBe(23 * 1440 * 3);
    // Idempotent.
    expect(Object.values(applyRetention(db, RET, END)).every((n) => n === 0)).toBe(true);
    expect(reads.stagesAllTime().get('upload')!.ops).toBe(30 * 1440 * 3);
  });

  it('an hour window straddling the cutoff stays until all of it is past', () => {
    const db = store();
    history(db, END - 8 * DAY, END - 8 * DAY + 2 * HOUR);
    const cutoffNow = END - 8 * DAY + 30 * MINUTE + 7 * DAY; // cutoff at 00:30 of the first day
    applyRetention(db, RET, cutoffNow);
    expect(count(db, `SELECT count(*) AS n FROM windows WHERE res = ${HOUR}`)).toBe(2 * 2);
    expect(count(db, `SELECT count(*) AS n FROM windows WHERE res = ${MINUTE}`)).toBe(90 * 2);
    applyRetention(db, RET, cutoffNow + 30 * MINUTE); // cutoff at 01:00
    expect(count(db, `SELECT count(*) AS n FROM windows WHERE res = ${HOUR}`)).toBe(1 * 2);
  });

  it('the database stops growing across daily cycles of insert + retention (freed pages are reused)', () => {
    const db = store();
    const pages: number[] = [];
    let now = END;
    for (let cycle = 0; cycle < 14; cycle++) {
      history(db, now, now + DAY);
      db.transaction(() => {
        for (let t = now; t < now + DAY; t += 15_000) insertSample(db, 'cpu', '', t, 10);
      })();
      now += DAY;
      applyRetention(db, RET, now);
      db.pragma('wal_checkpoint(TRUNCATE)');
      pages.push(db.pragma('page_count', { simple: true }) as number);
    }
    // 7 days fill the store; from then on every cycle deletes a day and inserts a day.
    const steady = pages[8]!;
    for (const p of pages.slice(9)) expect(p).toBeLessThanOrEqual(Math.ceil(steady * 1.05));
    expect(pages[13]!).toBeGreaterThan(pages[2]!); // it did grow while filling up
    const file = path.join(dirs[0]!, 'vigil.db');
    expect(fs.statSync(file).size).toBe(pages[13]! * (db.pragma('page_size', { simple: true }) as number));
    expect(count(db, `SELECT count(*) AS n FROM samples`)).toBe((7 * DAY) / 15_000);
  });

  it('prunes resolved and never-fired alerts past alerts retention with their transitions; live ones stay', () => {
    const db = store();
    const old = END - 100 * DAY;
    const resolved = insertAlert(db, { rule: 'a', state: 'resolved', started: old, resolved: old + HOUR });
    const inactive = insertAlert(db, { rule: 'b', state: 'inactive', started: old, firing: null });
    const firing = insertAlert(db, { rule: 'c', state: 'firing', started: old });
    const pending = insertAlert(db, { rule: 'd', state: 'pending', started: old });
    const recent = insertAlert(db, { rule: 'e', state: 'resolved', started: END - 10 * DAY, resolved: END - 9 * DAY });
    const tr = db.prepare(`INSERT INTO alert_transitions (alert_id, at, state, summary) VALUES (?, ?, ?, '')`);
    for (const id of [resolved, inactive, firing, recent]) tr.run(id, old, 'pending');
    tr.run(resolved, old + HOUR, 'resolved');
    const r = applyRetention(db, RET, END);
    expect(r.alerts).toBe(2);
    expect(r.alert_transitions).toBe(3);
    const left = (db.prepare(`SELECT id FROM alerts ORDER BY id`).all() as { id: number }[]).map((x) => x.id);
    expect(left).toEqual([firing, pending, recent]);
    expect(count(db, `SELECT count(*) AS n FROM alert_transitions`)).toBe(2);
  });

  it('prunes finished outbox rows and silences past alerts retention; pending notifications stay', () => {
    const db = store();
    const old = END - 91 * DAY;
    for (const status of ['delivered', 'failed', 'expired', 'silenced', 'pending']) insertOutbox(db, { channel: 'slack', status, created: old });
    insertOutbox(db, { channel: 'email', status: 'delivered', created: END - DAY });
    db.prepare(`INSERT INTO silences (matchers, starts_at, ends_at, created_at) VALUES ('[]', ?, ?, ?)`).run(old, old + HOUR, old);
    db.prepare(`INSERT INTO silences (matchers, starts_at, ends_at, created_at) VALUES ('[]', ?, ?, ?)`).run(END, END + HOUR, END);
    const r = applyRetention(db, RET, END);
    expect(r.outbox).toBe(4);
    expect(r.silences).toBe(1);
    expect(db.prepare(`SELECT channel, status FROM outbox ORDER BY id`).all()).toEqual([
      { channel: 'slack', status: 'pending' },
      { channel: 'email', status: 'delivered' },
    ]);
  });

  it('bounds recent lines and rejected samples, prunes samples, parse errors (folded) and old sessions', () => {
    const db = store();
    insertRecent(db, Array.from({ length: 250 }, (_, i) => ({ ts: END + i, level: 'INFO', obj: { i } })));
    const rs = db.prepare(`INSERT INTO rejected_samples (at, file, offset, reason, detail, sample) VALUES (?, 'f', 0, 'not_json', '', 'x')`);
    for (let i = 0; i < 25; i++) rs.run(END);
    insertSample(db, 'disk', '/', END - 8 * DAY, 50);
    insertSample(db, 'disk', '/', END - DAY, 50);
    const pe = db.prepare(`INSERT INTO parse_errors (start, file, reason, count) VALUES (?, 'app.log', 'not_json', ?)`);
    pe.run(END - 10 * DAY, 5);
    pe.run(END - HOUR, 2);
    insertSession(db, { id: 'done-old', first: END - 9 * DAY, finished: 1, finishedTs: END - 8 * DAY });
    insertSession(db, { id: 'abandoned', first: END - 9 * DAY, last: END - 8 * DAY });
    insertSession(db, { id: 'stuck-recent', first: END - 9 * DAY, last: END - DAY });
    insertSession(db, { id: 'done-recent', first: END - DAY, finished: 1, finishedTs: END - DAY });
    const reads = new StoreReads(db);
    const peBefore = reads.parseErrorsAllTime();

    const r = applyRetention(db, RET, END);
    expect(r).toMatchObject({ recent_lines: 150, rejected_samples: 15, samples: 1, parse_errors: 1, sessions: 2 });
    expect(count(db, `SELECT count(*) AS n FROM recent_lines`)).toBe(100);
    expect(count(db, `SELECT min(seq) AS n FROM recent_lines`)).toBe(151);
    expect(count(db, `SELECT count(*) AS n FROM rejected_samples`)).toBe(10);
    expect((db.prepare(`SELECT session_id FROM sessions ORDER BY session_id`).all() as { session_id: string }[]).map((s) => s.session_id)).toEqual([
      'done-recent',
      'stuck-recent',
    ]);
    expect(reads.parseErrorsAllTime()).toEqual(peBefore);
    expect(reads.parseErrorCount(END - 2 * HOUR, END)).toBe(2);
  });
});
