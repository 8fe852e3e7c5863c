/**
 * The replay store: in memory by default; `--db FILE` keeps it in a new SQLite file
 * (set up exactly like the agent's store) for inspection afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VigilError } from '../errors.js';
import { DB_FILE, openStore, type DB } from '../store/db.js';

export interface ReplayStore {
  db: DB;
  /** Closes the store; a --db file is moved to its final name. */
  close(): void;
  /** Closes the store and leaves nothing behind (the replay failed). */
  discard(): void;
}

export function openReplayStore(file?: string): ReplayStore {
  if (file === undefined) {
    const db = openStore(':memory:');
    return { db, close: () => db.close(), discard: () => db.close() };
  }
  if (fs.existsSync(file)) {
    throw new VigilError('VIGIL_STATE_DIR', `${file} already exists; replay writes a fresh store (remove it or name another file)`);
  }
  // openStore names its file vigil.db inside a state directory: build it in a private
  // directory next to the target and move it into place when done.
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(path.dirname(path.resolve(file)), '.vigil-replay-'));
  } catch (e) {
    throw new VigilError('VIGIL_STATE_DIR', `cannot write next to ${file}: ${(e as Error).message}`, { cause: e });
  }
  const db = openStore(dir);
  return {
    db,
    close: () => {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.pragma('journal_mode = DELETE');
      db.close();
      fs.renameSync(path.join(dir, DB_FILE), file);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    discard: () => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
