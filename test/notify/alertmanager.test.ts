import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/clock.js';
import { AlertmanagerChannel, type AlertmanagerAlert } from '../../src/notify/alertmanager.js';
import { tmpDir } from '../helpers/agent.js';
import { alert, closedPort, startServer, type TestServer } from './helpers.js';

/** Stand-ins answering like Alertmanager members in different states. */
let healthy: TestServer;
let broken: TestServer;
let refusing: TestServer;
beforeAll(async () => {
  healthy = await startServer((req, res) => {
    if (req.url === '/-/healthy') return res.writeHead(200).end('OK');
    if (req.url === '/api/v2/alerts' && req.method === 'POST') return res.writeHead(200).end();
    res.writeHead(404).end();
  });
  broken = await startServer((req, res) => res.writeHead(req.url === '/-/healthy' ? 503 : 500).end('down'));
  refusing = await startServer((_req, res) => res.writeHead(400).end('{"code":400,"message":"bad alert"}'));
});
afterAll(async () => {
  await Promise.all([healthy.close(), broken.close(), refusing.close()]);
});

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

describe('AlertmanagerChannel (against stand-in members)', () => {
  it('posts the Alertmanager v2 shape: alertname/severity labels, annotations, ISO times', async () => {
    const ch = new AlertmanagerChannel({ url: `${healthy.url}/`, generator_url: 'http://vigil:8000/' }, { clock: new ManualClock(NOW) });
    const a = alert({ id: 'am-1', labels: { stage: 'merging', 'error.code': 'FFMPEG_FAILED' } });
    expect(await ch.send([a, { ...a, id: 'am-2', state: 'resolved', endsAt: NOW - 1000 }])).toEqual({ ok: true });
    const req = healthy.requests.at(-1)!;
    expect(req.url).toBe('/api/v2/alerts');
    const body = req.json as AlertmanagerAlert[];
    expect(body[0]).toEqual({
      labels: { alertname: 'high_error_rate', severity: 'error', stage: 'merging', error_code: 'FFMPEG_FAILED' },
      annotations: { summary: a.summary, description: a.description, vigil_id: 'am-1' },
      startsAt: '2024-05-01T10:00:00.000Z',
      endsAt: '2024-05-02T12:00:00.000Z', // firing: now + resolve_timeout (24h default)
      generatorURL: 'http://vigil:8000/',
    });
    expect(body[1]!.endsAt).toBe(new Date(NOW - 1000).toISOString());
  });

  it('a resolved alert without endsAt ends now; resolve_timeout sets a firing alert’s endsAt', async () => {
    const ch = new AlertmanagerChannel({ url: healthy.url, resolve_timeout: '10m' }, { clock: new ManualClock(NOW) });
    expect(ch.toAlertmanager(alert({ state: 'resolved' }), NOW).endsAt).toBe(new Date(NOW).toISOString());
    expect(ch.toAlertmanager(alert(), NOW).endsAt).toBe(new Date(NOW + 600_000).toISOString());
  });

  it('is ok when any member accepts, and sends to every member', async () => {
    const before = broken.requests.length;
    const ch = new AlertmanagerChannel({ url: [broken.url, healthy.url] });
    expect(await ch.send([alert()])).toEqual({ ok: true });
    expect(broken.requests.length).toBe(before + 1);
  });

  it('fails transient when no member accepts and one might later; permanent when all refuse', async () => {
    const port = await closedPort();
    const t = await new AlertmanagerChannel({ url: [refusing.url, `http://127.0.0.1:${port}`] }).send([alert()]);
    expect(t).toMatchObject({ ok: false, retry: 'transient' });
    expect(await new AlertmanagerChannel({ url: broken.url }).send([alert()])).toMatchObject({ retry: 'transient', status: 500 });
    const p = await new AlertmanagerChannel({ url: [refusing.url] }).send([alert()]);
    expect(p).toMatchObject({ ok: false, retry: 'permanent', status: 400, message: expect.stringContaining('bad alert') });
  });

  it('healthcheck GETs /-/healthy on each member; healthy when any is', async () => {
    const some = await new AlertmanagerChannel({ url: [broken.url, healthy.url] }).healthcheck();
    expect(some.ok).toBe(true);
    expect(some.message).toContain('HTTP 503');
    expect(healthy.requests.at(-1)).toMatchObject({ method: 'GET', url: '/-/healthy' });
    expect((await new AlertmanagerChannel({ url: broken.url }).healthcheck()).ok).toBe(false);
  });

  it('validates url', () => {
    expect(() => new AlertmanagerChannel({ url: [] })).toThrow(/option "url" must be a non-empty/);
    expect(() => new AlertmanagerChannel({ url: ['http://ok', 'nope'] })).toThrow(/option "url" must be an absolute http\(s\) URL/);
  });
});

const AM_BIN = '/usr/bin/prometheus-alertmanager';
const hasAm = existsSync(AM_BIN);
if (!hasAm) console.warn(`skipping the real Alertmanager test: ${AM_BIN} is absent (Debian package prometheus-alertmanager)`);

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  endsAt: string;
  status: { state: string };
}

describe('AlertmanagerChannel (against a real Alertmanager)', () => {
  it.skipIf(!hasAm)('fires an alert, reads it back from /api/v2/alerts, then resolves it', async () => {
    const dir = tmpDir('am');
    const port = await closedPort();
    const base = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'am.yml'), 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n');
    const log: string[] = [];
    const am: ChildProcess = spawn(
      AM_BIN,
      [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    am.stdout!.on('data', (c: Buffer) => log.push(c.toString()));
    am.stderr!.on('data', (c: Buffer) => log.push(c.toString()));
    try {
      const ch = new AlertmanagerChannel({ url: base, timeout: '2s' }, { clock: systemClock });
      let health = await ch.healthcheck();
      for (let i = 0; i < 100 && !health.ok; i++) {
        await new Promise((r) => setTimeout(r, 150));
        health = await ch.healthcheck();
      }
      expect(health.ok, `alertmanager did not become healthy:\n${log.join('')}`).toBe(true);

      const startsAt = systemClock.now() - 60_000;
      const firing = alert({ id: 'real-am-1', rule: 'vigil_test_rule', labels: { stage: 'merging' }, startsAt });
      expect(await ch.send([firing])).toEqual({ ok: true });
      const list = async () => {
        const res = await fetch(`${base}/api/v2/alerts`);
        return ((await res.json()) as GettableAlert[]).filter((a) => a.labels.alertname === 'vigil_test_rule');
      };
      let got = await list();
      // a new alert is `unprocessed` until Alertmanager's dispatcher has routed it
      for (let i = 0; i < 30 && got[0]?.status.state !== 'active'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        got = await list();
      }
      expect(got).toHaveLength(1);
      expect(got[0]!.labels).toMatchObject({ alertname: 'vigil_test_rule', severity: 'error', stage: 'merging' });
      expect(got[0]!.annotations).toMatchObject({ summary: firing.summary, vigil_id: 'real-am-1' });
      expect(got[0]!.status.state).toBe('active');

      const resolvedAt = systemClock.now();
      expect(await ch.send([{ ...firing, state: 'resolved', endsAt: resolvedAt, notificationId: 'n-resolve' }])).toEqual({ ok: true });
      await new Promise((r) => setTimeout(r, 200));
      const after = await list();
      // Alertmanager drops resolved alerts from the list, or shows them with endsAt in the past
      for (const a of after) expect(Date.parse(a.endsAt)).toBeLessThanOrEqual(resolvedAt + 1000);
    } finally {
      am.kill('SIGTERM');
      await new Promise((r) => am.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
