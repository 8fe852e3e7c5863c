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
  /**
   * How long a statement waits for a lock another process holds before it fails with
   * SQLITE_BUSY, once the store is open (opening and migrating always wait OPEN_BUSY_TIMEOUT_MS).
   * Default OPEN_BUSY_TIMEOUT_MS: right for a CLI command, which may wait. The agent passes
   * AGENT_BUSY_TIMEOUT_MS: better-sqlite3 is synchronous, so the wait freezes its event loop.
   */
  busyTimeoutMs?: number;
}

/** Opening and migrating wait this long for another process's lock (nothing else runs yet). */
export const OPEN_BUSY_TIMEOUT_MS = 5000;

/**
 * The agent's wait for another process's lock. A `vigil silence add` holds the write lock for
 * a few milliseconds, so it is waited for; a lock held longer (a sqlite3 shell in BEGIN
 * EXCLUSIVE, a backup tool) fails the statement with VIGIL_STORE_BUSY after at most this
 * freeze of the event loop, and the writer retries later (ingest with its backoff, rules at
 * the next evaluation, the dispatcher after a second). Measured with a sqlite3 shell holding
 * BEGIN EXCLUSIVE: in WAL mode reads never wait for it, only writes do.
 */
export const AGENT_BUSY_TIMEOUT_MS = 50;

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
  db.pragma(`busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
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
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? OPEN_BUSY_TIMEOUT_MS))}`);
  return db;
}

/**
 * The error is SQLite saying another connection holds a lock it needs (SQLITE_BUSY and its
 * extended codes, SQLITE_LOCKED): the store is fine, the statement can be tried again later.
 */
export function isStoreBusy(e: unknown): boolean {
  if (e instanceof VigilError) return e.code === 'VIGIL_STORE_BUSY';
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Database.SqliteError && typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)(_|$)/.test(code);
}

/** A busy SQLite error as the typed VIGIL_STORE_BUSY (what `what` could not do, and why). */
export function storeBusyError(what: string, e: unknown): VigilError {
  return new VigilError('VIGIL_STORE_BUSY', `${what}: the store is locked by another process (${(e as Error).message}); try again shortly`, { cause: e });
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
