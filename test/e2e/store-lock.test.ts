import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, hasCommand, linesInStore, operationLine, requireBuild, sleep, startAgent, tmpDir, waitFor, writeConfig } from '../helpers/agent.js';

const hasSqlite = hasCommand('sqlite3');
if (!hasSqlite) console.warn('store-lock test skipped: the sqlite3 shell is not installed');

const TOKEN = 'store-lock-test-token-0123456789';
const PROBES = ['/api/v1/monitoring/health', '/api/v1/monitoring/stats', '/api/v1/monitoring/alerts', '/api/v1/monitoring/logs/recent', '/metrics'];
/** The agent must answer every probe within this (the bug: 3 of 4 probes timed out). */
const ANSWER_MS = 1000;
const LOCK_MS = 6000;

interface Probe {
  path: string;
  method: string;
  ms: number;
  status: number | 'timeout';
  body: string;
  retryAfter: string | null;
}

async function probe(base: string, p: string, method = 'GET'): Promise<Probe> {
  const t0 = performance.now();
  try {
    // Aborted well past the bound, so a frozen agent fails the test instead of hanging it.
    const res = await fetch(base + p, { method, headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(4 * ANSWER_MS) });
    const body = await res.text();
    return { path: p, method, ms: performance.now() - t0, status: res.status, body, retryAfter: res.headers.get('retry-after') };
  } catch {
    return { path: p, method, ms: performance.now() - t0, status: 'timeout', body: '', retryAfter: null };
  }
}

describe('the API while another process holds the SQLite write lock', () => {
  const dir = tmpDir('store-lock');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasSqlite)(
    'api blocks while another process holds BEGIN EXCLUSIVE: every probe answers within 1 s (200, or 503 VIGIL_STORE_BUSY), and ingest catches up after',
    async () => {
      requireBuild();
      const logs = path.join(dir, 'logs');
      const state = path.join(dir, 'state');
      fs.mkdirSync(logs);
      const config = writeConfig(
        dir,
        `inputs:\n  - path: ${logs}/*.log\nstate_dir: ${state}\nevaluation_interval: 1s\nsystem: { sample_interval: 1s }\n` +
          `watch: { reconcile_interval: 200ms }\napi: { listen: "127.0.0.1:0", tokens: ["${TOKEN}"] }\n`,
      );
      const live = path.join(logs, 'media_processing.log');
      let written = 0;
      const write = (n: number) => {
        for (let i = 0; i < n; i++) fs.appendFileSync(live, operationLine(written++));
      };

      write(50);
      const agent = startAgent(config);
      try {
        const address = async () => {
          let api: string | null = null;
          await waitFor(() => {
            const m = /"api":"([^"]+)"/.exec(agent.output());
            api = m ? m[1]! : null;
            return api !== null;
          }, 15_000);
          return api;
        };
        const api = await address();
        expect(api, agent.output()).not.toBeNull();
        const base = `http://${api}`;
        expect(await waitFor(() => linesInStore(state) === 50, 15_000), agent.output()).toBe(true);

        // Another process takes the write lock and writes under it, as an operator's sqlite3 shell would.
        const shell = spawn('sqlite3', [path.join(state, 'vigil.db')], { stdio: ['pipe', 'pipe', 'pipe'] });
        let shellOut = '';
        shell.stdout.on('data', (d) => (shellOut += d));
        shell.stderr.on('data', (d) => (shellOut += d));
        shell.stdin.write(`BEGIN EXCLUSIVE;\nINSERT INTO meta (key, value) VALUES ('store-lock-test', 'held');\nSELECT 'locked';\n`);
        expect(await waitFor(() => shellOut.includes('locked'), 5000), shellOut).toBe(true);
        const lockedAt = Date.now();

        // While the lock is held: new lines arrive (the agent's commits hit the lock), and
        // every endpoint is probed again and again, one probe after another.
        const results: Probe[] = [];
        while (Date.now() - lockedAt < LOCK_MS) {
          write(5);
          for (const p of PROBES) results.push(await probe(base, p));
          results.push(await probe(base, '/api/v1/monitoring/cleanup', 'POST'));
          await sleep(100);
        }
        // Nothing was committed meanwhile (the lock was really held).
        const duringLock = linesInStore(state);
        shell.stdin.end('COMMIT;\n');
        expect((await exited(shell)).code, shellOut).toBe(0);

        const slow = results.filter((r) => r.status === 'timeout' || r.ms >= ANSWER_MS);
        expect(slow.map((r) => `${r.method} ${r.path}: ${r.status} in ${Math.round(r.ms)} ms`), agent.output()).toEqual([]);
        for (const r of results) {
          if (r.status === 200) continue;
          // Busy is said plainly: 503, a stable code, when to retry.
          expect(r.status, `${r.method} ${r.path}: ${r.body}`).toBe(503);
          const body = JSON.parse(r.body) as Record<string, unknown>;
          if (r.path.endsWith('/health') && 'overall_status' in body) {
            // Health answers 503 because it is critical: the agent's commits fail while the lock is held.
            expect(body.overall_status, r.body).toBe('critical');
            expect(JSON.stringify(body.checks), r.body).toMatch(/commits to the store have been failing/);
            continue;
          }
          expect(body, r.path).toMatchObject({ statusCode: 503, error: 'Service Unavailable', code: 'VIGIL_STORE_BUSY', retry_after: 1 });
          expect(body.message, r.path).toMatch(/locked/);
          expect(r.retryAfter).toBe('1');
        }
        // The reads are served (WAL readers are not blocked by a writer); the write is refused.
        // (Health is served too, as a 503 whose body says the store is critical.)
        for (const p of PROBES) expect(results.filter((r) => r.path === p && (r.status === 200 || p.endsWith('/health'))).length, p).toBeGreaterThan(0);
        expect(results.filter((r) => r.method === 'POST').every((r) => r.status === 503)).toBe(true);
        expect(duringLock).toBe(50);

        // Released: the agent catches up, nothing lost or counted twice, and the shell's row survived.
        expect(await waitFor(() => linesInStore(state) === written, 45_000, 100), agent.output()).toBe(true);
        await sleep(500);
        expect(linesInStore(state)).toBe(written);
        const db = new Database(path.join(state, 'vigil.db'), { readonly: true });
        try {
          expect(db.prepare(`SELECT value FROM meta WHERE key = 'store-lock-test'`).get()).toEqual({ value: 'held' });
        } finally {
          db.close();
        }
        const after = await probe(base, '/api/v1/monitoring/cleanup', 'POST');
        expect(after.status, after.body).toBe(200);

        agent.kill('SIGTERM');
        expect((await exited(agent)).code, agent.output()).toBe(0);
      } finally {
        if (agent.exitCode === null) agent.kill('SIGKILL');
      }
    },
    120_000,
  );
});
