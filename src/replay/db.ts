/**
 * The replay store: in memory by default; `--db FILE` keeps it in a new SQLite file
 * (set up exactly like the agent's store) for inspection afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { VigilError } from '../errors.js';
import { DB_FILE, openStore, type DB } from '../store/db.js';

export interface ReplayStore {
  db: DB;
  /** Closes the store; a --db file is moved to its final name. */
  close(): void;
}

export function openReplayStore(file?: string): ReplayStore {
  if (file === undefined) {
    const db = openStore(':memory:');
    return { db, close: () => db.close() };
  }
  if (fs.existsSync(file)) {
    throw new VigilError('VIGIL_STATE_DIR', `${file} already exists; replay writes a fresh store (remove it or name another file)`);
  }
  // openStore names its file vigil.db inside a state directory: build it in a private
  // directory next to the target and move it into place when done.
  const dir = fs.mkdtempSync(path.join(path.dirname(path.resolve(file)) || os.tmpdir(), '.vigil-replay-'));
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
  };
}
