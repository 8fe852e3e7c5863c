/**
 * System samples → the `samples` table: one row per metric (and per disk mount) at
 * the sample's slot time, which the sample facts and the system metrics API read.
 */
import type { Statement } from 'better-sqlite3';
import type { DB } from './db.js';

/** What the store keeps of a system sample (collect/system.ts's StoredSample is one). */
export interface StoredSample {
  cpuPercent: number;
  memoryPercent: number;
  load1: number;
  disks: readonly { mount: string; usedPercent: number }[];
}

const statements = new WeakMap<DB, { insert: Statement; tx: (s: StoredSample, ts: number) => void }>();

function prepared(db: DB) {
  let p = statements.get(db);
  if (!p) {
    // REPLACE: a slot sampled twice (a restart within one interval) keeps the later reading.
    const insert = db.prepare(`INSERT OR REPLACE INTO samples (metric, key, ts, value) VALUES (?, ?, ?, ?)`);
    const tx = db.transaction((s: StoredSample, ts: number) => {
      insert.run('cpu', '', ts, s.cpuPercent);
      insert.run('memory', '', ts, s.memoryPercent);
      insert.run('load1', '', ts, s.load1);
      for (const d of s.disks) insert.run('disk', d.mount, ts, d.usedPercent);
    });
    p = { insert, tx };
    statements.set(db, p);
  }
  return p;
}

/** Writes cpu, memory, load1 and one disk row per measured mount at `ts`, in one transaction. */
export function insertSystemSample(db: DB, sample: StoredSample, ts: number): void {
  prepared(db).tx(sample, ts);
}

/** One value of one metric (`key` is the mount for disk, '' otherwise); for replay and rule tests. */
export function insertSample(db: DB, metric: string, key: string, ts: number, value: number): void {
  prepared(db).insert.run(metric, key, ts, value);
}
