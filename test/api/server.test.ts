import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { computeStats } from '../../src/store/stats.js';
import { HOUR, MINUTE } from '../../src/store/batch.js';
import {
  T0,
  TOKEN,
  api,
  auth,
  fixture,
  insertAlert,
  insertOutbox,
  insertRecent,
  insertSample,
  insertSession,
  loggedApi,
  writeCells,
  type Fixture,
} from './helpers.js';

const P = '/api/v1/monitoring';
let f: Fixture;
afterEach(() => f?.cleanup());

const PROTECTED: [string, string][] = [
  ['GET', `${P}/health/detailed`],
  ['GET', `${P}/stats`],
  ['GET', `${P}/alerts`],
  ['GET', `${P}/metrics/system`],
  ['GET', `${P}/sessions/active`],
  ['GET', `${P}/logs/recent`],
  ['GET', `${P}/timeseries`],
  ['POST', `${P}/cleanup`],
  ['GET', '/metrics'],
];

function seedOps(db: Fixture['db']) {
  // Last hour: upload 40 ok + 4 failed (FFMPEG_FAILED in compression), 3 hours ago: 10 ok merging.
  writeCells(db, [
    { start: T0 - 30 * MINUTE, stage: 'upload', ops: 40, durations: Array.from({ length: 40 }, (_, i) => 1 + i / 10) },
    { start: T0 - 20 * MINUTE, stage: 'compression', ops: 4, failed: 4, errorCode: 'FFMPEG_FAILED', level: 'ERROR', durations: [30, 40, 50, 60] },
    { start: T0 - 3 * HOUR, stage: 'merging', ops: 10, durations: Array(10).fill(5) },
    { start: T0 - 10 * MINUTE, level: 'CRITICAL', lines: 2 },
  ]);
}

describe('auth', () => {
  it('answers 401 with WWW-Authenticate on every protected route without, with a wrong, or with a non-Bearer token', async () => {
    f = fixture();
    const app = api(f);
    for (const [method, url] of PROTECTED) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }, { authorization: 'Bearer' }]) {
        const r = await app.inject({ method: method as 'GET', url, headers });
        expect(r.statusCode, `${method} ${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(r.json()).toMatchObject({ statusCode: 401, code: 'VIGIL_API_UNAUTHORIZED' });
      }
      const ok = await app.inject({ method: method as 'GET', url, headers: auth });
      expect(ok.statusCode, `${method} ${url}`).toBe(200);
    }
    await app.close();
  });

  it('accepts the scheme in any case and tokens from the tokens file (comments and blank lines ignored)', async () => {
    f = fixture({ tokens: [] });
    fs.writeFileSync(path.join(f.dir, 'tokens'), '# ops team\n\n  file-token-1  \n#not-a-token\nfile-token-2\n', { mode: 0o600 });
    const app = api(f);
    expect((await app.inject({ url: `${P}/stats`, headers: { authorization: 'bearer file-token-1' } })).statusCode).toBe(200);
    expect((await app.inject({ url: `${P}/stats`, headers: { authorization: 'Bearer file-token-2' } })).statusCode).toBe(200);
    expect((await app.inject({ url: `${P}/stats`, headers: { authorization: 'Bearer #not-a-token' } })).statusCode).toBe(401);
    expect((await app.inject({ url: `${P}/stats`, headers: { authorization: 'Bearer # ops team' } })).statusCode).toBe(401);
    // reloadTokens picks up a new file (SIGHUP)
    fs.writeFileSync(path.join(f.dir, 'tokens'), 'rotated\n', { mode: 0o600 });
    expect(app.vigil.reloadTokens().count).toBe(1);
    expect((await app.inject({ url: `${P}/stats`, headers: { authorization: 'Bearer file-token-1' } })).statusCode).toBe(401);
    expect((await app.inject({ url: `${P}/stats`, headers: { authorization: 'Bearer rotated' } })).statusCode).toBe(200);
    await app.close();
  });

  it('with no token configured every protected route is 401 and the log says how to add one', async () => {
    f = fixture({ tokens: [] });
    const { app, logged } = loggedApi(f, 'debug');
    for (const [method, url] of PROTECTED) {
      const r = await app.inject({ method: method as 'GET', url, headers: { authorization: 'Bearer anything' } });
      expect(r.statusCode).toBe(401);
      expect(r.json().message).toMatch(/no token configured/);
    }
    expect((await app.inject({ url: `${P}/health` })).statusCode).toBeLessThan(500);
    expect(logged()).toMatch(/no bearer token/);
    expect(logged()).toContain(path.join(f.dir, 'tokens'));
    await app.close();
  });

  it('never logs a token, valid or not, even at debug level', async () => {
    f = fixture();
    const { app, logged } = loggedApi(f, 'debug');
    await app.inject({ url: `${P}/stats`, headers: auth });
    await app.inject({ url: `${P}/stats?hours=0`, headers: auth });
    await app.inject({ url: `${P}/stats`, headers: { authorization: 'Bearer wrong-secret-value' } });
    await app.inject({ url: `/nope`, headers: auth });
    await app.close();
    const out = logged();
    expect(out).toContain('api request'); // something was logged per request…
    expect(out).not.toContain(TOKEN); // …but never the token
    expect(out).not.toContain('wrong-secret-value');
    expect(out.toLowerCase()).not.toContain('authorization');
  });

  it('serves /health and the dashboard without a token', async () => {
    f = fixture();
    const app = api(f);
    const h = await app.inject({ url: `${P}/health` });
    expect([200, 503]).toContain(h.statusCode);
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'sha256-/);
    expect(page.body).toContain('id="token-form"');
    expect(page.body).not.toMatch(/<script[^>]+src=|<link|fetch\(['"]https?:|@import/);
    await app.close();
  });
});

describe('routes', () => {
  it('stats: the computeStats object, over the requested hours', async () => {
    f = fixture();
    seedOps(f.db);
    const app = api(f);
    const r = await app.inject({ url: `${P}/stats?hours=1`, headers: auth });
    expect(r.statusCode).toBe(200);
    const s = r.json();
    expect(s).toEqual(computeStats(f.db, { from: T0 - HOUR, to: T0 }));
    expect(s.total_operations).toBe(44);
    expect(s.failed_operations).toBe(4);
    expect(s.error_rate).toBeCloseTo(4 / 44, 4);
    expect(s.success_rate).toBeCloseTo(40 / 44, 4);
    expect(s.stage_breakdown.compression).toMatchObject({ count: 4, failure_count: 4, success_count: 0, average_duration: 45 });
    expect(s.error_codes).toEqual({ FFMPEG_FAILED: 4 });
    expect(s.period_hours).toBe(1);
    const day = (await app.inject({ url: `${P}/stats`, headers: auth })).json();
    expect(day.total_operations).toBe(54);
    expect(day.period_hours).toBe(24);
    expect(Object.keys(day.stage_breakdown).sort()).toEqual(['compression', 'merging', 'upload']);
    await app.close();
  });

  it('alerts: newest first, level and state filters in any case, limit, total of all matching', async () => {
    f = fixture();
    for (let i = 0; i < 5; i++) insertAlert(f.db, { rule: 'high_error_rate', severity: 'error', started: T0 - (10 - i) * MINUTE, labels: { stage: `s${i}` } });
    insertAlert(f.db, { rule: 'disk_full', severity: 'critical', started: T0 - 2 * MINUTE, state: 'resolved', resolved: T0 - MINUTE });
    insertAlert(f.db, { rule: 'cpu', severity: 'warning', started: T0 - HOUR, state: 'pending' });
    const app = api(f);
    const all = (await app.inject({ url: `${P}/alerts`, headers: auth })).json();
    expect(all.total).toBe(7);
    expect(all.alerts).toHaveLength(7);
    expect(all.alerts[0]).toMatchObject({ rule: 'disk_full', level: 'critical', state: 'resolved', resolved_at: new Date(T0 - MINUTE).toISOString() });
    const errs = (await app.inject({ url: `${P}/alerts?level=ERROR&limit=2`, headers: auth })).json();
    expect(errs.total).toBe(5);
    expect(errs.alerts).toHaveLength(2);
    expect(errs.alerts.map((a: { labels: { stage: string } }) => a.labels.stage)).toEqual(['s4', 's3']);
    expect(errs.alerts[0]).toEqual({
      id: expect.any(Number),
      rule: 'high_error_rate',
      level: 'error',
      state: 'firing',
      summary: 'high_error_rate summary',
      labels: { stage: 's4' },
      started_at: new Date(T0 - 6 * MINUTE).toISOString(),
      firing_at: new Date(T0 - 6 * MINUTE).toISOString(),
      resolved_at: null,
    });
    const pending = (await app.inject({ url: `${P}/alerts?state=Pending`, headers: auth })).json();
    expect(pending.total).toBe(1);
    expect(pending.alerts[0].firing_at).toBeNull();
    const none = (await app.inject({ url: `${P}/alerts?level=info`, headers: auth })).json();
    expect(none).toEqual({ alerts: [], total: 0 });
    await app.close();
  });

  it('sessions/active: unfinished sessions with their stage and running time', async () => {
    f = fixture();
    insertSession(f.db, { id: 'a', user: 'u1', stage: 'compression', first: T0 - 45 * MINUTE, last: T0 - MINUTE });
    insertSession(f.db, { id: 'b', stage: 'upload', first: T0 - 90_000 });
    insertSession(f.db, { id: 'done', first: T0 - HOUR, finished: 1, finishedTs: T0 - 10 * MINUTE });
    insertSession(f.db, { id: 'failed', first: T0 - HOUR, finished: 2, finishedTs: T0 - 10 * MINUTE });
    insertSession(f.db, { id: 'abandoned', first: T0 - 8 * HOUR, last: T0 - 6 * HOUR - MINUTE }); // quiet for longer than sessions.abandon_after (6h)
    const app = api(f);
    const r = (await app.inject({ url: `${P}/sessions/active`, headers: auth })).json();
    expect(r.total_active).toBe(2);
    expect(r.active_sessions).toEqual([
      {
        session_id: 'a',
        user_id: 'u1',
        stage: 'compression',
        started_at: new Date(T0 - 45 * MINUTE).toISOString(),
        last_event_at: new Date(T0 - MINUTE).toISOString(),
        duration_minutes: 45,
      },
      { session_id: 'b', user_id: null, stage: 'upload', started_at: new Date(T0 - 90_000).toISOString(), last_event_at: new Date(T0 - 90_000).toISOString(), duration_minutes: 1.5 },
    ]);
    const one = (await app.inject({ url: `${P}/sessions/active?limit=1`, headers: auth })).json();
    expect(one.total_active).toBe(2);
    expect(one.active_sessions).toHaveLength(1);
    await app.close();
  });

  it('logs/recent: the last N parsed lines, oldest first, optionally one level (any case)', async () => {
    f = fixture();
    insertRecent(
      f.db,
      Array.from({ length: 20 }, (_, i) => ({ ts: T0 + i, level: i % 5 === 0 ? 'ERROR' : 'INFO', obj: { message: `m${i}`, level: i % 5 === 0 ? 'ERROR' : 'INFO', extra: { n: i } } })),
    );
    const app = api(f);
    const last3 = (await app.inject({ url: `${P}/logs/recent?lines=3`, headers: auth })).json();
    expect(last3.logs.map((l: { message: string }) => l.message)).toEqual(['m17', 'm18', 'm19']);
    expect(last3.logs[2]).toEqual({ message: 'm19', level: 'INFO', extra: { n: 19 } });
    const errors = (await app.inject({ url: `${P}/logs/recent?level=error`, headers: auth })).json();
    expect(errors.logs.map((l: { message: string }) => l.message)).toEqual(['m0', 'm5', 'm10', 'm15']);
    const dflt = (await app.inject({ url: `${P}/logs/recent`, headers: auth })).json();
    expect(dflt.logs).toHaveLength(20);
    await app.close();
  });

  it('metrics/system: cpu, memory and the fullest disk per step, with active sessions at the time', async () => {
    f = fixture({
      yaml: undefined,
    });
    // 15 s samples over the last 10 minutes; one more disk mount that is fuller half of the time.
    for (let t = T0 - 10 * MINUTE; t < T0; t += 15_000) {
      insertSample(f.db, 'cpu', '', t, 20);
      insertSample(f.db, 'memory', '', t, 50);
      insertSample(f.db, 'disk', '/', t, 70);
    }
    insertSample(f.db, 'cpu', '', T0 - 30 * HOUR, 99); // outside 24 h
    insertSession(f.db, { id: 's1', first: T0 - 5 * MINUTE, finished: 1, finishedTs: T0 - 2 * MINUTE });
    insertSession(f.db, { id: 's2', first: T0 - 20 * MINUTE });
    const app = api(f);
    const r = (await app.inject({ url: `${P}/metrics/system?hours=0.25`, headers: auth })).json();
    expect(r.step_seconds).toBe(15);
    expect(r.metrics).toHaveLength(40);
    expect(r.metrics[0]).toEqual({
      timestamp: new Date(T0 - 10 * MINUTE).toISOString(),
      cpu_usage_percent: 20,
      memory_usage_percent: 50,
      disk_usage_percent: 70,
      active_sessions: 1,
    });
    const at = (ms: number) => r.metrics.find((m: { timestamp: string }) => m.timestamp === new Date(ms).toISOString());
    expect(at(T0 - 4 * MINUTE).active_sessions).toBe(2);
    expect(at(T0 - MINUTE).active_sessions).toBe(1);
    const day = (await app.inject({ url: `${P}/metrics/system?hours=24`, headers: auth })).json();
    expect(day.step_seconds).toBe(60);
    expect(day.metrics).toHaveLength(10);
    expect(day.metrics.every((m: { cpu_usage_percent: number }) => m.cpu_usage_percent === 20)).toBe(true);
    await app.close();
  });

  it('timeseries: operations and failures per minute with empty minutes as zeros, per hour past 24 h', async () => {
    f = fixture();
    seedOps(f.db);
    const app = api(f);
    const r = (await app.inject({ url: `${P}/timeseries?hours=1`, headers: auth })).json();
    expect(r.step_seconds).toBe(60);
    expect(r.points).toHaveLength(61);
    const by = new Map(r.points.map((p: { t: string }) => [p.t, p]));
    expect(by.get(new Date(T0 - 30 * MINUTE).toISOString())).toEqual({ t: new Date(T0 - 30 * MINUTE).toISOString(), operations: 40, failed: 0, error_rate: 0 });
    expect(by.get(new Date(T0 - 20 * MINUTE).toISOString())).toMatchObject({ operations: 4, failed: 4, error_rate: 1 });
    expect(r.points.reduce((s: number, p: { operations: number }) => s + p.operations, 0)).toBe(44);
    const week = (await app.inject({ url: `${P}/timeseries?hours=48`, headers: auth })).json();
    expect(week.step_seconds).toBe(3600);
    expect(week.points.reduce((s: number, p: { operations: number }) => s + p.operations, 0)).toBe(54);
    await app.close();
  });

  it('health/detailed: every check with details, 24 h stats and the 10 most recent alerts', async () => {
    f = fixture();
    seedOps(f.db);
    for (let i = 0; i < 12; i++) insertAlert(f.db, { rule: `r${i}`, started: T0 - (20 - i) * MINUTE });
    const app = api(f);
    const r = await app.inject({ url: `${P}/health/detailed`, headers: auth });
    expect(r.statusCode).toBe(200);
    const d = r.json();
    expect(d.checks.map((c: { component: string }) => c.component)).toEqual([
      'system_resources',
      'ffmpeg',
      'storage',
      'temp_dir',
      'log_files',
      'processing_pipeline',
      'monitoring',
    ]);
    expect(d.checks.every((c: { details: unknown }) => typeof c.details === 'object')).toBe(true);
    expect(d.checks.find((c: { component: string }) => c.component === 'processing_pipeline').details).toMatchObject({ operations_last_hour: 44, failed_last_hour: 4 });
    expect(d.stats.total_operations).toBe(54);
    expect(d.recent_alerts).toHaveLength(10);
    expect(d.recent_alerts[0].rule).toBe('r11');
    expect(d.uptime_seconds).toBe(3600);
    await app.close();
  });

  it('cleanup: applies retention and returns what it deleted', async () => {
    f = fixture();
    writeCells(f.db, [{ start: T0 - 10 * 24 * HOUR, stage: 'upload', ops: 3 }, { start: T0 - HOUR, stage: 'upload', ops: 1 }]);
    insertSample(f.db, 'cpu', '', T0 - 8 * 24 * HOUR, 10);
    insertSample(f.db, 'cpu', '', T0 - HOUR, 10);
    insertOutbox(f.db, { channel: 'slack', status: 'delivered', created: T0 - 100 * 24 * HOUR });
    insertOutbox(f.db, { channel: 'slack', status: 'pending', created: T0 - 100 * 24 * HOUR });
    const app = api(f);
    const r = await app.inject({ method: 'POST', url: `${P}/cleanup`, headers: auth });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.deleted).toMatchObject({ windows: 3, samples: 1, outbox: 1 }); // its minute, hour and day rows
    expect(body.database.pages).toBeGreaterThan(0);
    expect((f.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n).toBe(1);
    const again = (await app.inject({ method: 'POST', url: `${P}/cleanup`, headers: auth })).json();
    expect(Object.values(again.deleted).every((n) => n === 0)).toBe(true);
    await app.close();
  });
});

describe('bad input', () => {
  const BAD: string[] = [
    `${P}/stats?hours=0`,
    `${P}/stats?hours=-1`,
    `${P}/stats?hours=8761`,
    `${P}/stats?hours=abc`,
    `${P}/stats?hours=`,
    `${P}/stats?hours=Infinity`,
    `${P}/stats?hours=1&hours=2`,
    `${P}/stats?hour=1`,
    `${P}/metrics/system?hours=0`,
    `${P}/metrics/system?hours=1e9`,
    `${P}/timeseries?hours=9000`,
    `${P}/alerts?limit=0`,
    `${P}/alerts?limit=1001`,
    `${P}/alerts?limit=1.5`,
    `${P}/alerts?limit=ten`,
    `${P}/alerts?level=debug`,
    `${P}/alerts?level=ERR`,
    `${P}/alerts?state=open`,
    `${P}/sessions/active?limit=0`,
    `${P}/logs/recent?lines=0`,
    `${P}/logs/recent?lines=10001`,
    `${P}/logs/recent?level=verbose`,
    `${P}/logs/recent?level=error%27%20OR%201=1--`,
    `${P}/health/detailed?x=1`,
    `/metrics?name[]=1`,
  ];

  it('answers 400 with {error, message, code: VIGIL_API_BAD_REQUEST}, never a 500 or a stack', async () => {
    f = fixture();
    const app = api(f);
    for (const url of BAD) {
      const r = await app.inject({ url, headers: auth });
      expect(r.statusCode, url).toBe(400);
      const b = r.json();
      expect(b, url).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'VIGIL_API_BAD_REQUEST' });
      expect(typeof b.message).toBe('string');
      expect(r.body).not.toMatch(/\bat .+\.(js|ts):\d+/);
    }
    const msg = (await app.inject({ url: `${P}/stats?hours=0`, headers: auth })).json().message;
    expect(msg).toMatch(/hours/);
    expect((await app.inject({ url: `${P}/stats?hour=1`, headers: auth })).json().message).toMatch(/unknown query parameter "hour"/);
    await app.close();
  });

  it('accepts the boundary values', async () => {
    f = fixture();
    const app = api(f);
    for (const url of [
      `${P}/stats?hours=8760`,
      `${P}/stats?hours=0.01`,
      `${P}/alerts?limit=1000&level=CrItIcAl`,
      `${P}/alerts?limit=1`,
      `${P}/logs/recent?lines=10000&level=Warning`,
      `${P}/logs/recent?lines=1`,
      `${P}/metrics/system?hours=8760`,
      `${P}/timeseries?hours=8760`,
    ]) {
      expect((await app.inject({ url, headers: auth })).statusCode, url).toBe(200);
    }
    await app.close();
  });

  it('unknown routes are JSON 404 (after auth), bodies over 16 KiB are 413', async () => {
    f = fixture();
    const app = api(f);
    const nf = await app.inject({ url: `${P}/nope`, headers: auth });
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toMatchObject({ statusCode: 404, code: 'VIGIL_API_NOT_FOUND' });
    expect((await app.inject({ method: 'GET', url: `${P}/cleanup`, headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `${P}/alerts`, headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ url: '/../../etc/passwd', headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ url: `${P}/nope` })).statusCode).toBe(401);
    const big = await app.inject({ method: 'POST', url: `${P}/cleanup`, headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ x: 'a'.repeat(20_000) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('VIGIL_API_BAD_REQUEST');
    const junk = await app.inject({ method: 'POST', url: `${P}/cleanup`, headers: { ...auth, 'content-type': 'application/json' }, payload: '{not json' });
    expect(junk.statusCode).toBe(400);
    expect(junk.json().code).toBe('VIGIL_API_BAD_REQUEST');
    await app.close();
  });

  it('a store failure is a JSON 500 without details; the cause goes to the log', async () => {
    f = fixture();
    const { app, logged } = loggedApi(f, 'info');
    f.db.exec('DROP TABLE alerts');
    const r = await app.inject({ url: `${P}/alerts`, headers: auth });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'internal error; see the vigil log', code: 'VIGIL_API_INTERNAL' });
    expect(logged()).toMatch(/no such table: alerts/);
    await app.close();
  });
});

describe('over a real socket', () => {
  it('serves health, stats and metrics on 127.0.0.1 with keep-alive', async () => {
    f = fixture();
    seedOps(f.db);
    insertSession(f.db, { id: 'x', first: T0 - MINUTE });
    const app = api(f);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${addr.port}`;
    try {
      const h = await fetch(`${base}${P}/health`);
      expect([200, 503]).toContain(h.status);
      expect(((await h.json()) as { checks: unknown[] }).checks).toHaveLength(7);
      const s = await fetch(`${base}${P}/stats?hours=1`, { headers: auth });
      expect(s.status).toBe(200);
      expect(((await s.json()) as { total_operations: number }).total_operations).toBe(44);
      const unauth = await fetch(`${base}${P}/stats`);
      expect(unauth.status).toBe(401);
      expect(unauth.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const m = await fetch(`${base}/metrics`, { headers: auth });
      expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await m.text()).toMatch(/^vigil_active_sessions 1$/m);
      const bad = await fetch(`${base}${P}/alerts?limit=5000`, { headers: auth });
      expect(bad.status).toBe(400);
    } finally {
      await app.close();
    }
  });
});
