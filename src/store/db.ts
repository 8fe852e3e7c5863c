import fs from 'node:fs';
import path from 'node:path';
import Database, { type Statement } from 'better-sqlite3';
import { VigilError } from '../errors.js';
import { addEncodedInto, encodeDense, mergeEncoded } from './histogram.js';
import { MIGRATIONS } from './migrations.js';

export type DB = Database.Database;

export const DB_FILE = 'vigil.db';

export interface OpenOptions {
  readonly?: boolean;
}

/** Opens (creating and migrating if needed) the store in `stateDir`, or `:memory:`. */
export function openStore(stateDirOrMemory: string, opts: OpenOptions = {}): DB {
  let file = stateDirOrMemory;
  if (stateDirOrMemory !== ':memory:') {
    try {
      fs.mkdirSync(stateDirOrMemory, { recursive: true });
    } catch (e) {
      throw new VigilError('VIGIL_STATE_DIR', `cannot create state directory ${stateDirOrMemory}: ${(e as Error).message}`, { cause: e });
    }
    file = path.join(stateDirOrMemory, DB_FILE);
  }
  let db: DB;
  try {
    db = new Database(file, opts.readonly ? { readonly: true, fileMustExist: true } : {});
  } catch (e) {
    throw new VigilError('VIGIL_STATE_DIR', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
  }
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a power cut may lose the last transactions, never corrupt or
    // split one — and the offsets live in the same transactions, so lines are re-read, not lost.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // better-sqlite3 compiles in a 16 MB page cache. 8 MB holds the pages a catch-up
    // batch rewrites (SQLite's share of the ingest profile unchanged on 1M lines) and
    // keeps peak RSS ~5 MB further from the 150 MB budget.
    db.pragma('cache_size = -8000');
  }
  db.function('hist_merge', { deterministic: true }, (a: unknown, b: unknown) =>
    mergeEncoded(a as Uint8Array | null, b as Uint8Array | null),
  );
  // hist_sum(blob): merges a column of histograms inside SQLite, so a 7-day question
  // hands JavaScript one blob per group instead of thousands of rows.
  db.aggregate('hist_sum', {
    start: () => [] as number[],
    step: (acc: number[], blob: unknown) => {
      addEncodedInto(acc, blob as Uint8Array | null);
      return acc;
    },
    result: (acc: number[]) => encodeDense(acc),
  });
  if (!opts.readonly) migrate(db);
  else checkVersion(db);
  return db;
}

/** Prepares each distinct SQL text once, for a reader whose statements depend on its arguments. */
export function statementCache(db: DB): (sql: string) => Statement<unknown[]> {
  const cache = new Map<string, Statement<unknown[]>>();
  return (sql) => {
    let s = cache.get(sql);
    if (s === undefined) cache.set(sql, (s = db.prepare(sql)));
    return s;
  };
}

function checkVersion(db: DB): void {
  const v = db.pragma('user_version', { simple: true }) as number;
  if (v > MIGRATIONS.length) {
    throw new VigilError('VIGIL_STORE_MIGRATION', `database schema version ${v} is newer than this vigil (${MIGRATIONS.length}); upgrade vigil`);
  }
}

export function migrate(db: DB): void {
  checkVersion(db);
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    const run = db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    });
    try {
      run();
    } catch (e) {
      throw new VigilError('VIGIL_STORE_MIGRATION', `migration ${v + 1} failed: ${(e as Error).message}`, { cause: e });
    }
  }
}
