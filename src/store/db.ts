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
    if (file !== ':memory:') sizeWal(db, stateDirOrMemory);
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

/** WAL pages between automatic checkpoints on a roomy disk (~40 MB): see sizeWal. */
export const WAL_MAX_AUTOCHECKPOINT_PAGES = 10_000;
/** ...and never fewer than this (~400 KB), so a tiny disk still batches its checkpoints. */
const WAL_MIN_AUTOCHECKPOINT_PAGES = 100;
/** Share of the state directory's free space the WAL may take before it is checkpointed. */
const WAL_SHARE_OF_FREE = 0.1;

/**
 * Bounds the WAL by the room the state directory has. On a roomy disk a catch-up batch
 * rewrites pages all over the sessions table, so the WAL is checkpointed every ~40 MB
 * (a page rewritten by several batches is copied into the database once: commit CPU
 * -10 % on 1M lines). On a small one a 40 MB WAL filled a 16 MB filesystem before its
 * first checkpoint and ingestion stopped for good: the checkpoint interval is then a
 * tenth of the free space, and journal_size_limit truncates the WAL file back to that
 * size once a checkpoint has copied it all, so the space a big batch took is given back.
 * Called at open and again on the agent's store timer (free space changes).
 */
export function sizeWal(db: DB, stateDir: string): { autocheckpointPages: number; freeBytes: number | null } {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  let freeBytes: number | null = null;
  try {
    const s = fs.statfsSync(stateDir);
    freeBytes = s.bavail * s.bsize;
  } catch {
    /* statfs unsupported: keep the roomy-disk setting */
  }
  const byFree = freeBytes === null ? WAL_MAX_AUTOCHECKPOINT_PAGES : Math.floor((freeBytes * WAL_SHARE_OF_FREE) / pageSize);
  const pages = Math.max(WAL_MIN_AUTOCHECKPOINT_PAGES, Math.min(WAL_MAX_AUTOCHECKPOINT_PAGES, byFree));
  db.pragma(`wal_autocheckpoint = ${pages}`);
  db.pragma(`journal_size_limit = ${pages * pageSize}`);
  walBudgets.set(db, pages * pageSize);
  return { autocheckpointPages: pages, freeBytes };
}

const walBudgets = new WeakMap<DB, number>();
/**
 * Log bytes one batch may read. A catch-up batch's transaction writes about 0.4 byte of WAL
 * per byte of log read (16 MiB of generated lines: ~6 MB); a transaction cannot be
 * checkpointed until it commits, so on a small disk it must stay under the WAL bound or
 * it fills the disk by itself (and its checkpoint then has no room to grow the database).
 */
export function batchBytesRoom(db: DB): number {
  const wal = walBudgets.get(db);
  return wal === undefined ? Infinity : 2 * wal;
}

/**
 * Copies what the WAL holds into the database without waiting for any reader (PASSIVE:
 * never blocks the event loop on another process's lock). The next write then starts the
 * WAL over and journal_size_limit truncates it. The time half of the WAL bound: a quiet
 * agent's WAL does not sit at its high-water mark until the next big batch. Returns the
 * frames still not copied (a reader holds them), or null when the checkpoint failed (the
 * disk is full and the database cannot grow: the caller retries later).
 */
export function checkpointWal(db: DB): number | null {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    const row = r[0];
    return row === undefined ? 0 : Math.max(0, row.log - row.checkpointed);
  } catch {
    return null;
  }
}

/** The identity of the database file at a path: device and inode, or null when no file is there. */
export interface StoreFileId {
  dev: number;
  ino: number;
}

export function storeFileId(stateDir: string): StoreFileId | null {
  try {
    const st = fs.statSync(path.join(stateDir, DB_FILE));
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/**
 * Why the store an open handle writes to is no longer the one at its path, or null when
 * it still is: vigil.db deleted (the handle writes to an unlinked file nobody will ever
 * read), replaced by another file (a restored backup), or its WAL deleted (committed
 * transactions would vanish with the handle).
 */
export function storeFileGone(stateDir: string, opened: StoreFileId): string | null {
  const now = storeFileId(stateDir);
  if (now === null) return `${path.join(stateDir, DB_FILE)} was deleted`;
  if (now.dev !== opened.dev || now.ino !== opened.ino) return `${path.join(stateDir, DB_FILE)} was replaced by another file`;
  if (!fs.existsSync(path.join(stateDir, `${DB_FILE}-wal`))) return `${path.join(stateDir, `${DB_FILE}-wal`)} was deleted`;
  return null;
}
