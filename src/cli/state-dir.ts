import fs from 'node:fs';
import path from 'node:path';
import { fallbackStateDir } from '../agent.js';
import { loadConfig } from '../config/load.js';
import { VigilError } from '../errors.js';
import { DB_FILE } from '../store/db.js';

/** The store-reading commands' --config / --state-dir. */
export interface StoreOpts {
  config?: string;
  stateDir?: string;
}

/**
 * --state-dir, else the config's state_dir; on embedded defaults, where `vigil run` would
 * have put it (its fallback when the default state_dir cannot be written). The directory
 * must hold a store: the commands that ask read or change one, they never create it.
 */
export function resolveStateDir(opts: StoreOpts): string {
  const dir = stateDirOf(opts);
  if (!fs.existsSync(path.join(dir, DB_FILE))) throw new VigilError('VIGIL_STATE_DIR', `no vigil store in ${dir} (has the agent run yet? give --config or --state-dir)`);
  return dir;
}

function stateDirOf(opts: StoreOpts): string {
  if (opts.config && opts.stateDir) throw new VigilError('VIGIL_CONFIG_INVALID', 'give either --config or --state-dir, not both');
  if (opts.stateDir) return path.resolve(opts.stateDir);
  const file = opts.config ?? process.env.VIGIL_CONFIG;
  const dir = loadConfig({ file }).state_dir;
  if (!file && !fs.existsSync(path.join(dir, DB_FILE)) && fs.existsSync(path.join(fallbackStateDir(), DB_FILE))) return fallbackStateDir();
  return dir;
}
