/**
 * The schema migrations as an upgrading operator meets them: a store left at any earlier
 * version reaches the same schema as a fresh one and keeps its rows; a store from a newer
 * vigil, or a migration that fails, is refused with VIGIL_STORE_MIGRATION and left as it was.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_FILE, openStore } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/migrations.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-migrations-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A state directory whose store has run the first `version` migrations only, as an older vigil left it. */
function storeAt(version: number): string {
  const dir = path.join(root, `s${n++}`);
  fs.mkdirSync(dir);
  const db = new Database(path.join(dir, DB_FILE));
  for (let v = 0; v < version; v++) {
    db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${v + 1}`);
  }
  db.close();
  return dir;
}

function schemaOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`).all() as { type: string; name: string; sql: string | null }[]).map(
      (r) => `${r.type} ${r.name}: ${(r.sql ?? '').replace(/\s+/g, ' ')}`,
    );
  } finally {
    db.close();
  }
}

const versionOf = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
};

describe('store migrations', () => {
  it('a fresh store is at the last version, and opening it again runs nothing', () => {
    const dir = storeAt(0);
    openStore(dir).close();
    const file = path.join(dir, DB_FILE);
    expect(versionOf(file)).toBe(MIGRATIONS.length);
    const before = schemaOf(file);
    openStore(dir).close();
    expect(schemaOf(file)).toEqual(before);
  });

  it('a store left at every earlier version reaches the schema of a fresh one', () => {
    const fresh = storeAt(0);
    openStore(fresh).close();
    const want = schemaOf(path.join(fresh, DB_FILE));
    for (let v = 1; v < MIGRATIONS.length; v++) {
      const dir = storeAt(v);
      openStore(dir).close();
      expect(schemaOf(path.join(dir, DB_FILE)), `upgraded from version ${v}`).toEqual(want);
      expect(versionOf(path.join(dir, DB_FILE))).toBe(MIGRATIONS.length);
    }
  });

  it('rows written by the first version survive every later migration', () => {
    const dir = storeAt(1);
    const file = path.join(dir, DB_FILE);
    const db = new Database(file);
    db.prepare(
      `INSERT INTO windows (res, start, logger, level, stage, error_code, lines, ops, ops_failed, dur_count, dur_sum, dur_min, dur_max, dur_hist)
       VALUES (60000, 1700000000000, 'media', 'ERROR', 'merging', 'FFMPEG_FAILED', 3, 2, 1, 2, 5.5, 1.5, 4, NULL)`,
    ).run();
    db.close();
    const store = openStore(dir);
    try {
      expect(store.prepare(`SELECT lines, ops, ops_failed, error_code FROM windows`).all()).toEqual([{ lines: 3, ops: 2, ops_failed: 1, error_code: 'FFMPEG_FAILED' }]);
    } finally {
      store.close();
    }
  });

  it('a store written by a newer vigil is refused with VIGIL_STORE_MIGRATION and left untouched', () => {
    const dir = storeAt(MIGRATIONS.length);
    const file = path.join(dir, DB_FILE);
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    const before = schemaOf(file);
    expect(() => openStore(dir)).toThrow(expect.objectContaining({ code: 'VIGIL_STORE_MIGRATION', message: expect.stringMatching(/newer than this vigil/) }));
    expect(versionOf(file)).toBe(MIGRATIONS.length + 1);
    expect(schemaOf(file)).toEqual(before);
  });

  it('a migration that fails is rolled back whole: the version and schema stay where they were', () => {
    // Make migration 2 fail: one table it creates already exists (as a stray hand-made one would).
    const table = /CREATE TABLE (\w+)/.exec(MIGRATIONS[1]!)?.[1];
    expect(table, 'migration 2 creates a table (without IF NOT EXISTS)').toBeDefined();
    const dir = storeAt(1);
    const file = path.join(dir, DB_FILE);
    const db = new Database(file);
    db.exec(`CREATE TABLE ${table} (x INTEGER)`);
    db.close();
    const before = schemaOf(file);
    expect(() => openStore(dir)).toThrow(expect.objectContaining({ code: 'VIGIL_STORE_MIGRATION', message: expect.stringMatching(/^migration 2 failed/) }));
    expect(versionOf(file)).toBe(1);
    expect(schemaOf(file)).toEqual(before);
  });
});
