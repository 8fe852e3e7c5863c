import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { errorText } from '../errors.js';
import { HOUR, MINUTE } from '../store/batch.js';
import type { StoreReads } from '../store/reads.js';
import type { WindowQueries } from '../store/windows.js';
import { compileGlob, expandDirs } from '../tail/glob.js';
import type { HealthInputs, HealthThresholds, Level2, RuntimeView, TailedFile } from './types.js';

/**
 * The health report: one check per component, each saying why it is not healthy.
 * A computed report is served from memory for `cacheMs`, and concurrent requests
 * during a computation share it, so a hit costs no filesystem or SQL work at all.
 */
export type Status = 'healthy' | 'warning' | 'critical';

export interface CheckResult {
  component: string;
  status: Status;
  message: string;
  details: Record<string, unknown>;
}

export interface HealthReport {
  overall_status: Status;
  checks: CheckResult[];
  timestamp: string;
  /** Epoch ms the report was computed. */
  computedAt: number;
}

const GiB = 1024 ** 3;

export const DEFAULT_CACHE_MS = 30_000;
export const MAX_CACHE_MS = 60_000;
/** Top-level entries of the temp dir looked at to size it (a huge /tmp must not stall the check). */
const TEMP_ENTRIES = 2000;
/** Files per input glob looked at. */
const FILES_PER_INPUT = 200;

export function defaultThresholds(config: Config): HealthThresholds {
  return {
    cpu: { warning: 90, critical: null },
    memory: { warning: 85, critical: 95 },
    disk: { warning: 90, critical: 95 },
    sampleMaxAgeMs: Math.max(60_000, 4 * config.system.sample_interval_ms),
    errorRate: { warning: 0.05, critical: 0.1 },
    minOperations: 20,
    stuckSessionMs: 30 * MINUTE,
    ingestLagMs: { warning: 60_000, critical: 10 * MINUTE },
    parseErrorsPerHour: { warning: 100, critical: null },
    outboxPending: { warning: 100, critical: null },
    logFileStaleMs: 24 * HOUR,
    logLagBytes: { warning: 64 * 1024 * 1024, critical: null },
    tempDirBytes: { warning: 5 * GiB, critical: null },
    freePercent: { warning: 10, critical: 2 },
    databaseBytes: { warning: 2 * GiB, critical: null },
  };
}

const RANK: Record<Status, number> = { healthy: 0, warning: 1, critical: 2 };
export const worst = (a: Status, b: Status): Status => (RANK[b] > RANK[a] ? b : a);

/** Higher is worse. */
function level(v: number, t: Level2): Status {
  if (t.critical !== null && v >= t.critical) return 'critical';
  return v >= t.warning ? 'warning' : 'healthy';
}

/** Lower is worse (free space). */
function levelBelow(v: number, t: Level2): Status {
  if (t.critical !== null && v < t.critical) return 'critical';
  return v < t.warning ? 'warning' : 'healthy';
}

const pct = (x: number) => `${Math.round(x * 10) / 10}%`;
const fmtBytes = (b: number) =>
  b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`;
const fmtAge = (ms: number) =>
  ms >= 2 * HOUR ? `${Math.round(ms / HOUR)} h` : ms >= 2 * MINUTE ? `${Math.round(ms / MINUTE)} min` : `${Math.round(ms / 1000)} s`;

/** Collects the problems of one check; the check's status is the worst of them. */
class Findings {
  status: Status = 'healthy';
  readonly problems: string[] = [];
  add(s: Status, why: string): void {
    if (s === 'healthy') return;
    this.status = worst(this.status, s);
    this.problems.push(why);
  }
  result(component: string, okMessage: string, details: Record<string, unknown>): CheckResult {
    return { component, status: this.status, message: this.problems.length ? this.problems.join('; ') : okMessage, details };
  }
}

export interface HealthDeps {
  reads: StoreReads;
  queries: WindowQueries;
  clock: Clock;
  config: Config;
  runtime: RuntimeView;
  inputs: HealthInputs;
}

export class HealthService {
  readonly thresholds: HealthThresholds;
  readonly cacheMs: number;
  private cached: HealthReport | null = null;
  private inFlight: Promise<HealthReport> | null = null;

  constructor(private readonly d: HealthDeps) {
    this.thresholds = { ...defaultThresholds(d.config), ...(d.inputs.thresholds ?? {}) };
    this.cacheMs = Math.min(MAX_CACHE_MS, Math.max(0, d.inputs.cacheMs ?? DEFAULT_CACHE_MS));
  }

  /** The cached report while fresh; otherwise one computation shared by every caller. */
  get(): HealthReport | Promise<HealthReport> {
    const now = this.d.clock.now();
    const c = this.cached;
    if (c !== null && now >= c.computedAt && now - c.computedAt < this.cacheMs) return c;
    if (this.inFlight === null) {
      this.inFlight = this.compute().finally(() => {
        this.inFlight = null;
      });
      this.inFlight.then((r) => (this.cached = r)).catch(() => undefined);
    }
    return this.inFlight;
  }

  /** Forgets the cached report (after a cleanup, or in tests). */
  invalidate(): void {
    this.cached = null;
  }

  async compute(): Promise<HealthReport> {
    const now = this.d.clock.now();
    const checks = await Promise.all([
      this.guard('system_resources', () => this.systemResources(now)),
      this.guard('ffmpeg', () => this.ffmpeg()),
      this.guard('storage', () => this.storage()),
      this.guard('temp_dir', () => this.tempDir()),
      this.guard('log_files', () => this.logFiles(now)),
      this.guard('processing_pipeline', () => this.pipeline(now)),
      this.guard('monitoring', () => this.monitoring(now)),
    ]);
    const overall = checks.reduce<Status>((s, c) => worst(s, c.status), 'healthy');
    return { overall_status: overall, checks, timestamp: new Date(now).toISOString(), computedAt: now };
  }

  /** A check that throws is reported as a warning rather than failing the whole report. */
  private async guard(component: string, run: () => CheckResult | Promise<CheckResult>): Promise<CheckResult> {
    try {
      return await run();
    } catch (e) {
      return { component, status: 'warning', message: `check failed: ${errorText(e)}`, details: {} };
    }
  }

  systemResources(now: number): CheckResult {
    const t = this.thresholds;
    const f = new Findings();
    const r = this.d.reads;
    const series: { name: 'cpu' | 'memory' | 'disk'; key: string; label: string }[] = [
      { name: 'cpu', key: '', label: 'cpu' },
      { name: 'memory', key: '', label: 'memory' },
      ...this.d.config.system.disks.map((m) => ({ name: 'disk' as const, key: m, label: `disk ${m}` })),
    ];
    const details: Record<string, unknown> = {};
    const seen: string[] = [];
    let newest: number | null = null;
    for (const s of series) {
      const latest = r.latestSample(s.name, s.key, now);
      details[s.label.replace(' ', ':')] = latest ? { percent: round1(latest.value), at: new Date(latest.ts).toISOString() } : null;
      if (latest === null) continue;
      newest = newest === null ? latest.ts : Math.max(newest, latest.ts);
      if (now - latest.ts > t.sampleMaxAgeMs) continue;
      seen.push(`${s.label} ${pct(latest.value)}`);
      const st = level(latest.value, t[s.name]);
      f.add(st, `${s.label} at ${pct(latest.value)} (${st} at ${t[s.name][st === 'critical' ? 'critical' : 'warning']}%)`);
    }
    if (newest === null) {
      const uptime = now - this.d.runtime.startedAt;
      if (uptime > t.sampleMaxAgeMs) f.add('warning', `no system sample recorded since the agent started ${fmtAge(uptime)} ago`);
      return f.result('system_resources', 'waiting for the first system sample', details);
    }
    if (now - newest > t.sampleMaxAgeMs) f.add('warning', `the latest system sample is ${fmtAge(now - newest)} old (sampler stalled?)`);
    return f.result('system_resources', seen.join(', '), details);
  }

  ffmpeg(): CheckResult {
    const probe = this.d.inputs.ffmpeg;
    if (probe === undefined) return { component: 'ffmpeg', status: 'healthy', message: 'not checked (no ffmpeg check configured)', details: {} };
    const r = probe();
    if (r === null) return { component: 'ffmpeg', status: 'healthy', message: 'first check still running', details: {} };
    const details = { available: r.available, encode_ok: r.encodeOk ?? null };
    if (!r.available) return { component: 'ffmpeg', status: 'critical', message: `ffmpeg unavailable: ${r.message}`, details };
    if (r.encodeOk === false) return { component: 'ffmpeg', status: 'warning', message: `ffmpeg found but a test encode failed: ${r.message}`, details };
    return { component: 'ffmpeg', status: 'healthy', message: r.message, details };
  }

  async storage(): Promise<CheckResult> {
    const s = this.d.inputs.storage;
    if (!s) return { component: 'storage', status: 'healthy', message: 'not configured', details: {} };
    const f = new Findings();
    if ('path' in s) {
      const details: Record<string, unknown> = { path: s.path };
      let st: fs.Stats;
      try {
        st = await fs.promises.stat(s.path);
      } catch (e) {
        f.add('critical', `${s.path}: ${errno(e)}`);
        return f.result('storage', '', details);
      }
      if (!st.isDirectory()) f.add('critical', `${s.path} is not a directory`);
      else {
        try {
          await fs.promises.access(s.path, fs.constants.W_OK);
        } catch (e) {
          f.add('critical', `${s.path} is not writable (${errno(e)})`);
        }
        await this.freeSpace(s.path, f, details);
      }
      return f.result('storage', `${s.path} writable, ${details.free_percent ?? '?'}% free`, details);
    }
    const details: Record<string, unknown> = { url: redactUrl(s.url) };
    const started = performance.now();
    try {
      // fetch refuses credentials inside a URL: send them as Basic auth instead.
      const url = new URL(s.url);
      const headers: Record<string, string> = {};
      if (url.username || url.password) {
        headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
        url.username = '';
        url.password = '';
      }
      const res = await fetch(url, { method: 'HEAD', headers, redirect: 'manual', signal: AbortSignal.timeout(s.timeoutMs ?? 5000) });
      await res.body?.cancel();
      details.status_code = res.status;
      details.response_ms = Math.round(performance.now() - started);
      if (res.status >= 500) f.add('critical', `${redactUrl(s.url)} answered HTTP ${res.status}`);
      else if (res.status >= 400 && res.status !== 403 && res.status !== 405) f.add('warning', `${redactUrl(s.url)} answered HTTP ${res.status}`);
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why = err.name === 'TimeoutError' ? `no answer within ${s.timeoutMs ?? 5000} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
      f.add('critical', `${redactUrl(s.url)} unreachable: ${why}`);
    }
    return f.result('storage', `${redactUrl(s.url)} reachable (HTTP ${details.status_code})`, details);
  }

  async tempDir(): Promise<CheckResult> {
    const dir = this.d.inputs.tempDir ?? os.tmpdir();
    const f = new Findings();
    const details: Record<string, unknown> = { path: dir };
    try {
      const st = await fs.promises.stat(dir);
      if (!st.isDirectory()) {
        f.add('critical', `${dir} is not a directory`);
        return f.result('temp_dir', '', details);
      }
    } catch (e) {
      f.add('critical', `${dir}: ${errno(e)}`);
      return f.result('temp_dir', '', details);
    }
    try {
      await fs.promises.access(dir, fs.constants.W_OK);
    } catch (e) {
      f.add('critical', `${dir} is not writable (${errno(e)})`);
    }
    // The top level only, bounded: enough to notice a pile of leftover media files.
    let bytes = 0;
    let entries = 0;
    const d = await fs.promises.opendir(dir);
    try {
      for await (const ent of d) {
        if (++entries > TEMP_ENTRIES) break;
        if (!ent.isFile()) continue;
        try {
          bytes += (await fs.promises.lstat(path.join(dir, ent.name))).size;
        } catch {
          /* removed meanwhile */
        }
      }
    } finally {
      await d.close().catch(() => undefined);
    }
    details.bytes = bytes;
    details.entries_scanned = Math.min(entries, TEMP_ENTRIES);
    details.truncated = entries > TEMP_ENTRIES;
    const st = level(bytes, this.thresholds.tempDirBytes);
    f.add(st, `${dir} holds ${fmtBytes(bytes)} of files${details.truncated ? ' (first entries only)' : ''}`);
    await this.freeSpace(dir, f, details);
    return f.result('temp_dir', `${dir} writable, ${fmtBytes(bytes)} in files, ${details.free_percent ?? '?'}% free`, details);
  }

  private async freeSpace(dir: string, f: Findings, details: Record<string, unknown>): Promise<void> {
    try {
      const s = await fs.promises.statfs(dir);
      const total = s.blocks * s.bsize;
      const free = s.bavail * s.bsize;
      if (total <= 0) return;
      const freePct = round1((free / total) * 100);
      details.free_bytes = free;
      details.free_percent = freePct;
      f.add(levelBelow(freePct, this.thresholds.freePercent), `only ${freePct}% free on the filesystem of ${dir}`);
    } catch {
      /* statfs unsupported here: size unknown, not a failure */
    }
  }

  async logFiles(now: number): Promise<CheckResult> {
    const t = this.thresholds;
    const f = new Findings();
    const tailedList = this.d.runtime.files();
    const tailed = new Map<string, TailedFile>(tailedList.map((x) => [x.path, x]));
    const files: Record<string, unknown>[] = [];
    const counted = new Set<string>();
    for (const input of this.d.config.inputs) {
      const matches = listMatches(input.path);
      if (matches.length === 0) {
        f.add('warning', `no file matches ${input.path}`);
        continue;
      }
      // A quiet errors.log is good news: only an input none of whose files moved is stale.
      let newest = -Infinity;
      for (const file of matches) {
        if (counted.has(file)) continue;
        counted.add(file);
        const entry: Record<string, unknown> = { path: file, input: input.path };
        files.push(entry);
        const tail = tailed.get(file);
        if (tail) {
          entry.lag_bytes = tail.lagBytes;
          entry.last_read_at = tail.lastReadAt === null ? null : new Date(tail.lastReadAt).toISOString();
          f.add(level(tail.lagBytes, t.logLagBytes), `${file} is ${fmtBytes(tail.lagBytes)} behind`);
        }
        let st: fs.Stats;
        try {
          st = await fs.promises.stat(file);
        } catch (e) {
          entry.exists = false;
          f.add('warning', `${file}: ${errno(e)}`);
          continue;
        }
        entry.exists = true;
        entry.size = st.size;
        entry.modified_at = new Date(st.mtimeMs).toISOString();
        entry.age_seconds = Math.max(0, Math.round((now - st.mtimeMs) / 1000));
        newest = Math.max(newest, st.mtimeMs);
        try {
          await fs.promises.access(file, fs.constants.R_OK);
          entry.readable = true;
        } catch (e) {
          entry.readable = false;
          f.add('critical', `${file} is not readable (${errno(e)})`);
        }
      }
      if (Number.isFinite(newest) && now - newest > t.logFileStaleMs) {
        f.add('warning', `nothing written to ${input.path} for ${fmtAge(now - newest)}`);
      }
    }
    const lagBytes = tailedList.reduce((s, x) => s + x.lagBytes, 0);
    return f.result('log_files', `${files.length} file(s) readable, ${fmtBytes(lagBytes)} not yet read`, { files, tailed_files: tailedList.length, lag_bytes: lagBytes });
  }

  pipeline(now: number): CheckResult {
    const t = this.thresholds;
    const f = new Findings();
    const tot = this.d.queries.totals({ from: now - HOUR, to: now + 1 }).get('');
    const total = tot?.total ?? 0;
    const failed = tot?.failed ?? 0;
    const rate = total > 0 ? failed / total : 0;
    const stuck = this.d.reads.stuckCount(now, t.stuckSessionMs);
    const active = this.d.reads.activeCount(now);
    const details = { operations_last_hour: total, failed_last_hour: failed, error_rate: round4(rate), active_sessions: active, stuck_sessions: stuck };
    if (total >= t.minOperations) {
      const st = level(rate, t.errorRate);
      f.add(st, `error rate ${pct(rate * 100)} over the last hour (${failed} of ${total} operations failed)`);
    }
    if (stuck > 0) f.add('warning', `${stuck} session(s) active for more than ${fmtAge(t.stuckSessionMs)}`);
    const ok =
      total >= t.minOperations
        ? `error rate ${pct(rate * 100)} over ${total} operations in the last hour; ${active} active session(s)`
        : `${total} operation(s) in the last hour (fewer than ${t.minOperations}: error rate not judged); ${active} active session(s)`;
    return f.result('processing_pipeline', ok, details);
  }

  monitoring(now: number): CheckResult {
    const t = this.thresholds;
    const f = new Findings();
    const r = this.d.reads;
    const lag = this.d.runtime.ingestLagMs();
    const parseErrors = r.parseErrorCount(now - HOUR, now + 1);
    const reload = this.d.runtime.lastRuleReload();
    const outbox = r.outbox();
    const pending = outbox.byChannel.reduce((s, c) => s + c.pending, 0);
    const failedRecently = r.outboxFailedSince(now - 24 * HOUR);
    const db = r.dbSize();
    const writes = this.d.runtime.storeWrites?.() ?? { failing: false };
    const cu = this.d.runtime.catchUp?.() ?? null;
    const details = {
      catch_up:
        cu === null
          ? { catching_up: false }
          : {
              catching_up: true,
              phase: cu.phase,
              since: new Date(cu.since).toISOString(),
              bytes_behind: cu.bytesBehind,
              log_time: cu.logTime === null ? null : new Date(cu.logTime).toISOString(),
              held_alerts: cu.heldAlerts,
              inputs: cu.files.map((x) => ({ path: x.path, bytes_behind: x.bytesBehind })),
            },
      store_writes: writes.failing ? { failing: true, since: new Date(writes.since).toISOString(), failures: writes.failures, error: writes.error } : { failing: false },
      ingest_lag_seconds: lag === null ? null : round1(lag / 1000),
      parse_errors_last_hour: parseErrors,
      last_rule_reload: reload === null ? null : { at: new Date(reload.at).toISOString(), ok: reload.ok, error: reload.error ?? null },
      outbox_pending: pending,
      outbox_failed_last_24h: failedRecently,
      outbox_oldest_pending_at: outbox.oldestPendingAt === null ? null : new Date(outbox.oldestPendingAt).toISOString(),
      outbox_by_channel: outbox.byChannel,
      database_bytes: db.bytes,
      database_free_pages: db.freePages,
      uptime_seconds: Math.round((now - this.d.runtime.startedAt) / 1000),
    };
    if (writes.failing) {
      f.add('critical', `commits to the store have been failing for ${fmtAge(now - writes.since)} (${writes.failures} tries: ${writes.error}); lines wait in the log files`);
    }
    if (lag !== null) f.add(level(lag, t.ingestLagMs), `ingest is ${fmtAge(lag)} behind`);
    if (cu !== null) f.add('warning', `catching up: ${fmtBytes(cu.bytesBehind)} not read yet; rules on the logs are held until caught up`);
    f.add(level(parseErrors, t.parseErrorsPerHour), `${parseErrors} unparseable line(s) in the last hour`);
    if (reload !== null && !reload.ok) f.add('warning', `the last rule reload failed (${reload.error ?? 'no detail'}), so the previous rules keep running`);
    f.add(level(pending, t.outboxPending), `${pending} notification(s) waiting in the outbox`);
    if (failedRecently > 0) f.add('warning', `${failedRecently} notification(s) failed permanently in the last 24 h`);
    f.add(level(db.bytes, t.databaseBytes), `the store is ${fmtBytes(db.bytes)}`);
    const ok = `ingest lag ${lag === null ? 'n/a' : fmtAge(lag)}, ${parseErrors} parse error(s) in the last hour, outbox ${pending} pending, store ${fmtBytes(db.bytes)}`;
    return f.result('monitoring', ok, details);
  }
}

/** Live files matching an input glob (rotated siblings are the tailer's business). */
function listMatches(pattern: string): string[] {
  const g = compileGlob(pattern);
  const out: string[] = [];
  if (g.literalName !== null && g.dirs.length === 0) {
    const p = path.join(g.root, g.literalName);
    return fs.existsSync(p) ? [p] : [];
  }
  for (const dir of expandDirs(g)) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!g.matchName(n)) continue;
      out.push(path.join(dir, n));
      if (out.length >= FILES_PER_INPUT) return out.sort();
    }
  }
  return out.sort();
}

function errno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'permission denied' : (code ?? (e as Error).message);
}

/** Never show credentials embedded in a probe URL. */
function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.username || url.password) {
      url.username = '***';
      url.password = '';
    }
    url.search = url.search ? '?…' : '';
    return url.toString();
  } catch {
    return '(invalid URL)';
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
