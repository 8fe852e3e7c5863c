import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthService, type CheckResult } from '../../src/api/health.js';
import type { HealthInputs } from '../../src/api/types.js';
import { HOUR, MINUTE } from '../../src/store/batch.js';
import { StoreReads } from '../../src/store/reads.js';
import { WindowQueries } from '../../src/store/windows.js';
import { T0, api, fixture, insertOutbox, insertSample, insertSession, writeCells, type Fixture } from './helpers.js';

const P = '/api/v1/monitoring';
let f: Fixture;
const servers: http.Server[] = [];
afterEach(async () => {
  f?.cleanup();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** Independent of how full this machine's disk is. */
const machineNeutral = { freePercent: { warning: 0, critical: null } };

function healthyFixture(checks: Partial<HealthInputs> = {}): Fixture {
  f = fixture();
  f.checks.ffmpeg = () => ({ available: true, encodeOk: true, message: 'ffmpeg 6.1 encodes' });
  f.checks.thresholds = { ...machineNeutral };
  Object.assign(f.checks, checks);
  fs.writeFileSync(path.join(f.logDir, 'application.log'), '{"msg":"hi"}\n');
  fs.utimesSync(path.join(f.logDir, 'application.log'), new Date(T0 - MINUTE), new Date(T0 - MINUTE));
  insertSample(f.db, 'cpu', '', T0 - 15_000, 12);
  insertSample(f.db, 'memory', '', T0 - 15_000, 40);
  insertSample(f.db, 'disk', '/', T0 - 15_000, 55);
  return f;
}

function service(fx: Fixture): HealthService {
  const reads = new StoreReads(fx.db);
  return new HealthService({ reads, queries: new WindowQueries(fx.db), clock: fx.clock, config: fx.config, runtime: fx.runtime, inputs: fx.checks });
}

async function check(fx: Fixture, component: string): Promise<CheckResult> {
  const r = await service(fx).compute();
  return r.checks.find((c) => c.component === component)!;
}

function server(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
}

describe('health report', () => {
  it('is healthy with every check saying what it saw, over HTTP 200', async () => {
    healthyFixture();
    const app = api(f);
    const r = await app.inject({ url: `${P}/health` });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.overall_status).toBe('healthy');
    expect(body.timestamp).toBe(new Date(T0).toISOString());
    expect(Object.keys(body.checks[0]).sort()).toEqual(['component', 'message', 'status']); // details only in /detailed
    const by = Object.fromEntries(body.checks.map((c: CheckResult) => [c.component, c]));
    expect(by.system_resources.message).toBe('cpu 12%, memory 40%, disk / 55%');
    expect(by.ffmpeg.message).toBe('ffmpeg 6.1 encodes');
    expect(by.storage.message).toBe('not configured');
    expect(by.temp_dir.message).toMatch(/writable/);
    expect(by.log_files.message).toMatch(/^1 file\(s\) readable/);
    expect(by.processing_pipeline.message).toMatch(/0 operation\(s\) in the last hour/);
    expect(by.monitoring.status).toBe('healthy');
    for (const c of body.checks) expect(c.status, c.component).toBe('healthy');
    await app.close();
  });

  it('is critical (HTTP 503) when a disk crosses 95 %, and says which', async () => {
    healthyFixture();
    insertSample(f.db, 'disk', '/', T0, 96.2);
    insertSample(f.db, 'memory', '', T0, 88);
    const app = api(f);
    const r = await app.inject({ url: `${P}/health` });
    expect(r.statusCode).toBe(503);
    const sys = r.json().checks.find((c: CheckResult) => c.component === 'system_resources');
    expect(sys.status).toBe('critical');
    expect(sys.message).toContain('disk / at 96.2% (critical at 95%)');
    expect(sys.message).toContain('memory at 88% (warning at 85%)');
    expect(r.json().overall_status).toBe('critical');
    await app.close();
  });

  it('system_resources: stale or missing samples are warnings', async () => {
    healthyFixture();
    f.clock.advance(10 * MINUTE);
    const stale = await check(f, 'system_resources');
    expect(stale.status).toBe('warning');
    expect(stale.message).toMatch(/latest system sample is 10 min old/);
    f.db.exec('DELETE FROM samples');
    const none = await check(f, 'system_resources');
    expect(none.status).toBe('warning');
    expect(none.message).toMatch(/no system sample recorded/);
    f.runtime.startedAt = f.clock.now() - 10_000;
    expect(await check(f, 'system_resources')).toMatchObject({ status: 'healthy', message: 'waiting for the first system sample' });
  });

  it('ffmpeg: unavailable is critical, a failed encode a warning, not yet checked healthy', async () => {
    healthyFixture({ ffmpeg: () => ({ available: false, message: 'spawn ffmpeg ENOENT' }) });
    expect(await check(f, 'ffmpeg')).toMatchObject({ status: 'critical', message: 'ffmpeg unavailable: spawn ffmpeg ENOENT' });
    f.checks.ffmpeg = () => ({ available: true, encodeOk: false, message: 'libx264 missing' });
    expect((await check(f, 'ffmpeg')).status).toBe('warning');
    f.checks.ffmpeg = () => null;
    expect(await check(f, 'ffmpeg')).toMatchObject({ status: 'healthy', message: 'first check still running' });
    delete f.checks.ffmpeg;
    expect((await check(f, 'ffmpeg')).message).toMatch(/not checked/);
  });

  it('storage (path): missing or not a directory is critical; a writable directory is healthy', async () => {
    healthyFixture({ storage: { path: '/nonexistent/vigil-storage' } });
    expect(await check(f, 'storage')).toMatchObject({ status: 'critical', message: '/nonexistent/vigil-storage: does not exist' });
    const file = path.join(f.dir, 'plain-file');
    fs.writeFileSync(file, 'x');
    f.checks.storage = { path: file };
    expect((await check(f, 'storage')).message).toMatch(/is not a directory/);
    f.checks.storage = { path: f.dir };
    const ok = await check(f, 'storage');
    expect(ok.status).toBe('healthy');
    expect(ok.details.free_percent).toEqual(expect.any(Number));
  });

  it('storage (URL): probes a real server; 5xx, refused and timeouts are critical; credentials never shown', async () => {
    let seenAuth: string | undefined;
    const okUrl = await server((q, s) => ((seenAuth = q.headers.authorization), s.end('ok')));
    const bad = await server((_q, s) => ((s.statusCode = 503), s.end()));
    const hang = await server(() => undefined);
    healthyFixture({ storage: { url: okUrl.replace('http://', 'http://user:secret@') + '/bucket?sig=abc' } });
    const ok = await check(f, 'storage');
    expect(ok.status).toBe('healthy');
    expect(ok.message).toMatch(/reachable \(HTTP 200\)/);
    expect(JSON.stringify(ok)).not.toMatch(/secret|sig=abc/);
    expect(seenAuth).toBe(`Basic ${Buffer.from('user:secret').toString('base64')}`);
    f.checks.storage = { url: bad };
    expect(await check(f, 'storage')).toMatchObject({ status: 'critical', message: expect.stringMatching(/answered HTTP 503/) });
    const closed = await server(() => undefined);
    await new Promise((r) => servers.pop()!.close(r));
    f.checks.storage = { url: closed };
    expect(await check(f, 'storage')).toMatchObject({ status: 'critical', message: expect.stringMatching(/unreachable: ECONNREFUSED/) });
    f.checks.storage = { url: hang, timeoutMs: 200 };
    expect(await check(f, 'storage')).toMatchObject({ status: 'critical', message: expect.stringMatching(/no answer within 200 ms/) });
  });

  it('temp_dir: missing is critical; too many bytes of files is a warning', async () => {
    healthyFixture({ tempDir: '/nonexistent/vigil-tmp' });
    expect(await check(f, 'temp_dir')).toMatchObject({ status: 'critical', message: '/nonexistent/vigil-tmp: does not exist' });
    const tmp = path.join(f.dir, 'tmp');
    fs.mkdirSync(tmp);
    fs.writeFileSync(path.join(tmp, 'left-over.mp4'), Buffer.alloc(4096));
    f.checks.tempDir = tmp;
    f.checks.thresholds = { ...machineNeutral, tempDirBytes: { warning: 1000, critical: null } };
    const c = await check(f, 'temp_dir');
    expect(c.status).toBe('warning');
    expect(c.message).toContain('holds 4.0 KiB of files');
    expect(c.details).toMatchObject({ bytes: 4096, truncated: false });
  });

  it('log_files: an input matching nothing, an input not written for a day, and read lag are warnings', async () => {
    healthyFixture();
    const log = path.join(f.logDir, 'application.log');
    fs.utimesSync(log, new Date(T0 - 30 * HOUR), new Date(T0 - 30 * HOUR));
    const stale = await check(f, 'log_files');
    expect(stale.status).toBe('warning');
    expect(stale.message).toBe(`nothing written to ${f.logDir}/*.log for 30 h`);
    expect((stale.details.files as { path: string; size: number; age_seconds: number }[])[0]).toMatchObject({ path: log, size: 13, age_seconds: 30 * 3600 });
    fs.utimesSync(log, new Date(T0), new Date(T0));
    f.runtime.files_ = [{ path: log, size: 200e6, offset: 100e6, lagBytes: 100e6, lastReadAt: T0 }];
    expect((await check(f, 'log_files')).message).toMatch(/application\.log is 95\.4 MiB behind/);
    f.runtime.files_ = [];
    fs.rmSync(log);
    expect(await check(f, 'log_files')).toMatchObject({ status: 'warning', message: `no file matches ${f.logDir}/*.log` });
  });

  it('processing_pipeline: error rate over the hour (warning 5 %, critical 10 %) and stuck sessions', async () => {
    healthyFixture();
    writeCells(f.db, [
      { start: T0 - 10 * MINUTE, stage: 'upload', ops: 92 },
      { start: T0 - 5 * MINUTE, stage: 'upload', ops: 8, failed: 8, errorCode: 'E' },
    ]);
    const warn = await check(f, 'processing_pipeline');
    expect(warn.status).toBe('warning');
    expect(warn.message).toBe('error rate 8% over the last hour (8 of 100 operations failed)');
    writeCells(f.db, [{ start: T0 - 5 * MINUTE, stage: 'upload', ops: 10, failed: 10, errorCode: 'E' }]);
    expect((await check(f, 'processing_pipeline')).status).toBe('critical');
    f.db.exec('DELETE FROM windows');
    writeCells(f.db, [{ start: T0 - 5 * MINUTE, stage: 'upload', ops: 5, failed: 5, errorCode: 'E' }]);
    expect((await check(f, 'processing_pipeline')).status).toBe('healthy'); // too few operations to judge
    insertSession(f.db, { id: 's', first: T0 - 45 * MINUTE });
    expect(await check(f, 'processing_pipeline')).toMatchObject({ status: 'warning', message: '1 session(s) active for more than 30 min' });
  });

  it('monitoring: ingest lag, parse errors, a failed rule reload and the outbox are reported', async () => {
    healthyFixture();
    f.runtime.lag = 2 * MINUTE;
    expect(await check(f, 'monitoring')).toMatchObject({ status: 'warning', message: 'ingest is 2 min behind' });
    f.runtime.lag = 15 * MINUTE;
    expect((await check(f, 'monitoring')).status).toBe('critical');
    f.runtime.lag = 1000;
    f.db.prepare(`INSERT INTO parse_errors (start, file, reason, count) VALUES (?, 'app.log', 'not_json', 150)`).run(T0 - MINUTE);
    f.runtime.reload = { at: T0, ok: false, error: 'rules/x.yaml:3:5: unknown fact' };
    for (let i = 0; i < 101; i++) insertOutbox(f.db, { channel: 'slack', status: 'pending', created: T0 });
    insertOutbox(f.db, { channel: 'email', status: 'failed', created: T0 - HOUR });
    const m = await check(f, 'monitoring');
    expect(m.status).toBe('warning');
    expect(m.message.split('; ')).toEqual([
      '150 unparseable line(s) in the last hour',
      'the last rule reload failed (rules/x.yaml:3:5: unknown fact), so the previous rules keep running',
      '101 notification(s) waiting in the outbox',
      '1 notification(s) failed permanently in the last 24 h',
    ]);
    expect(m.details).toMatchObject({ outbox_pending: 101, outbox_failed_last_24h: 1, parse_errors_last_hour: 150, ingest_lag_seconds: 1 });
  });

  it('a check that throws is a warning naming the failure, not a 500', async () => {
    healthyFixture();
    f.runtime.files = () => {
      throw new Error('tailer gone');
    };
    const app = api(f);
    const r = await app.inject({ url: `${P}/health` });
    expect(r.statusCode).toBe(200);
    expect(r.json().checks.find((c: CheckResult) => c.component === 'log_files')).toEqual({
      component: 'log_files',
      status: 'warning',
      message: 'check failed: tailer gone',
    });
    await app.close();
  });
});

describe('health cache', () => {
  it('serves the cached report without touching the store or the filesystem, then recomputes', async () => {
    healthyFixture({ cacheMs: 30_000 });
    const app = api(f);
    const first = (await app.inject({ url: `${P}/health` })).json();
    insertSample(f.db, 'disk', '/', T0, 99); // would be critical…
    f.clock.advance(29_000);
    const hit = await app.inject({ url: `${P}/health` });
    expect(hit.statusCode).toBe(200); // …but the cached report is served
    expect(hit.json()).toEqual(first);
    f.clock.advance(1_000);
    const miss = await app.inject({ url: `${P}/health` });
    expect(miss.statusCode).toBe(503);
    expect(miss.json().timestamp).toBe(new Date(T0 + 30_000).toISOString());
    // A hit with the store closed and the temp dir gone still answers: no SQL, no fs.
    f.db.close();
    fs.rmSync(f.dir, { recursive: true, force: true });
    f.clock.advance(10_000);
    const blind = await app.inject({ url: `${P}/health` });
    expect(blind.statusCode).toBe(503);
    expect(blind.json()).toEqual(miss.json());
    await app.close();
  });

  it('concurrent requests share one computation; the cache is capped at 60 s', async () => {
    healthyFixture({ cacheMs: 120_000 });
    const app = api(f);
    expect(app.vigil.health.cacheMs).toBe(60_000);
    let computed = 0;
    const orig = app.vigil.health.compute.bind(app.vigil.health);
    app.vigil.health.compute = () => {
      computed++;
      return orig();
    };
    const all = await Promise.all(Array.from({ length: 5 }, () => app.inject({ url: `${P}/health` })));
    expect(all.every((r) => r.statusCode === 200)).toBe(true);
    expect(computed).toBe(1);
    f.clock.advance(60_000);
    await app.inject({ url: `${P}/health` });
    expect(computed).toBe(2);
    await app.close();
  });
});
