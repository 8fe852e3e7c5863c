import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'dist/src/cli/main.js');

/** The built CLI must exist: `npm test` builds before running vitest. */
export function requireBuild(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vigil-${prefix}-`));
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** The built CLI as a child process; output() is its stdout and stderr so far, interleaved. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return Object.assign(child, { output: () => out });
}

export function startAgent(config: string, env: NodeJS.ProcessEnv = {}): ChildProcess & { output: () => string } {
  return startCli(['run', '--config', config], env);
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lines counted so far by the agent in `stateDir` (read-only peek at the store). */
export function linesInStore(stateDir: string): number {
  const file = path.join(stateDir, 'vigil.db');
  if (!fs.existsSync(file)) return 0;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    const row = db.prepare('SELECT coalesce(sum(lines), 0) AS n FROM file_stats').get() as { n: number };
    return row.n;
  } catch {
    return 0; // not migrated yet
  } finally {
    db.close();
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One successful `upload` operation of DESIGN §2 (1.5 s, session s<i>), stamped now; `extra` overrides any field. */
export function operationLine(i: number, extra: Record<string, unknown> = {}): string {
  return (
    JSON.stringify({ timestamp: new Date().toISOString(), level: 'INFO', logger: 'media_processing', message: `op ${i}`, event: 'stage_completed', stage: 'upload', success: true, duration_seconds: 1.5, session_id: `s${i}`, ...extra }) + '\n'
  );
}

/** The objects of a JSON-lines file (a console channel's alerts); [] while it does not exist. */
export function readJsonLines<T = Record<string, unknown>>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

export function writeConfig(dir: string, body: string): string {
  const file = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(file, body);
  return file;
}
