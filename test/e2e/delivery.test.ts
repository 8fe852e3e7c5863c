import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, requireBuild, sleep, startAgent, tmpDir, waitFor, writeConfig } from '../helpers/agent.js';

interface Received {
  notificationId: string;
  state: string;
  id: string;
}

/** A webhook receiver that can be taken down (port closed: connection refused) and brought back on the same port. */
class Receiver {
  got: Received[] = [];
  private server: http.Server | null = null;
  port = 0;
  async up(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        for (const a of JSON.parse(body).alerts) this.got.push({ notificationId: a.notificationId, state: a.state, id: a.id });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
    this.port = (this.server!.address() as AddressInfo).port;
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

function outboxRows(state: string): { status: string; attempts: number }[] {
  const file = path.join(state, 'vigil.db');
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT status, attempts FROM outbox ORDER BY id').all() as { status: string; attempts: number }[];
  } catch {
    return [];
  } finally {
    db.close();
  }
}

const op = (ok: boolean) =>
  JSON.stringify({ timestamp: new Date().toISOString(), level: ok ? 'INFO' : 'ERROR', logger: 'media_processing', message: 'stage done', event: ok ? 'stage_completed' : 'processing_error', stage: 'compression', success: ok, ...(ok ? {} : { error_code: 'FFMPEG_FAILED' }) }) + '\n';

describe('alert delivery through the real agent', () => {
  const dir = tmpDir('delivery');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('kill -9 of the agent while the receiver is down loses nothing; trigger and resolve arrive once each, in order', async () => {
    requireBuild();
    const receiver = new Receiver();
    await receiver.up(); // learn a free port, then take it down: connection refused
    await receiver.down();
    const logs = path.join(dir, 'logs');
    const rules = path.join(dir, 'rules');
    const state = path.join(dir, 'state');
    fs.mkdirSync(logs);
    fs.mkdirSync(rules);
    fs.writeFileSync(
      path.join(rules, 'errors.yaml'),
      'rules:\n  - name: e2e_error_rate\n    when:\n      all:\n        - { fact: error_rate, params: { window: 10m }, operator: greaterThan, value: 0.5 }\n    for: 0s\n    severity: critical\n    summary: "error rate {{ error_rate | percent }}"\n',
    );
    const config = writeConfig(
      dir,
      `inputs:\n  - path: ${logs}/*.log\nstate_dir: ${state}\nrules: ${rules}\nevaluation_interval: 1s\napi: { enabled: false }\nchannels:\n  webhook: { url: "http://127.0.0.1:${receiver.port}/hook" }\n`,
    );
    const log = path.join(logs, 'media_processing.log');
    for (let i = 0; i < 10; i++) fs.appendFileSync(log, op(false));

    let agent = startAgent(config);
    // The trigger is queued and its delivery has failed at least once.
    expect(await waitFor(() => outboxRows(state).some((r) => r.status === 'pending' && r.attempts >= 1), 20_000), agent.output()).toBe(true);
    agent.kill('SIGKILL');
    await exited(agent);
    // Restart during the outage, and kill again.
    agent = startAgent(config);
    await sleep(1500);
    agent.kill('SIGKILL');
    await exited(agent);
    expect(receiver.got).toEqual([]);

    await receiver.up();
    agent = startAgent(config);
    expect(await waitFor(() => receiver.got.length >= 1, 30_000), agent.output()).toBe(true);
    // Recovery: many good operations bring the rate down; the resolve follows.
    for (let i = 0; i < 40; i++) fs.appendFileSync(log, op(true));
    expect(await waitFor(() => receiver.got.some((g) => g.state === 'resolved'), 30_000), agent.output()).toBe(true);
    await sleep(1500); // a duplicate would show up by now
    agent.kill('SIGTERM');
    expect((await exited(agent)).code).toBe(0);
    await receiver.down();

    expect(receiver.got.map((g) => g.state)).toEqual(['firing', 'resolved']);
    expect(new Set(receiver.got.map((g) => g.notificationId)).size).toBe(2);
    expect(receiver.got[0]!.id).toBe(receiver.got[1]!.id); // same alert identity (PagerDuty's dedup_key is this id)
    expect(outboxRows(state).every((r) => r.status === 'delivered')).toBe(true);
  }, 120_000);
});
