import fs from 'node:fs';
import path from 'node:path';
import { VigilError } from '../errors.js';

/**
 * One agent per state directory: two would read the same files and count every line
 * twice. The lock is a pid file; a lock left by a process that no longer runs (after
 * kill -9 or a power cut) is taken over.
 */
export function acquireLock(stateDir: string, pid = process.pid): () => void {
  const file = path.join(stateDir, 'vigil.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new VigilError('VIGIL_STATE_DIR', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
      }
      const holder = Number.parseInt(safeRead(file), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && isAlive(holder)) {
        throw new VigilError('VIGIL_STORE_BUSY', `another vigil (pid ${holder}) is running on ${stateDir}`);
      }
      try {
        fs.unlinkSync(file); // stale
      } catch {
        /* raced with another starter; try again */
      }
    }
  }
  throw new VigilError('VIGIL_STORE_BUSY', `could not take the lock ${file}`);
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
