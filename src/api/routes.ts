import type { FastifyInstance } from 'fastify';
import { HOUR, MINUTE } from '../store/batch.js';
import { applyRetention } from '../store/retention.js';
import type { AlertRow, StoreReads } from '../store/reads.js';
import { computeStats } from '../store/stats.js';
import type { WindowQueries } from '../store/windows.js';
import type { HealthService } from './health.js';
import type { ApiDeps } from './types.js';
import * as S from './schemas.js';

export const PREFIX = '/api/v1/monitoring';
/** metrics/system answers at most this many points; longer ranges are averaged into wider steps. */
export const MAX_SYSTEM_POINTS = 1440;

export interface RouteDeps extends Pick<ApiDeps, 'db' | 'clock' | 'config' | 'runtime'> {
  reads: StoreReads;
  queries: WindowQueries;
  health: HealthService;
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const err4xx = { '4xx': S.errorResponse };

export function apiAlert(a: AlertRow) {
  return {
    id: a.id,
    rule: a.rule,
    level: a.severity,
    state: a.state,
    summary: a.summary,
    labels: a.labels,
    started_at: iso(a.started_at),
    firing_at: isoOrNull(a.firing_at),
    resolved_at: isoOrNull(a.resolved_at),
  };
}

export function registerMonitoringRoutes(app: FastifyInstance, d: RouteDeps): void {
  const { db, clock, config, reads, queries, health } = d;

  app.get(
    `${PREFIX}/health`,
    { config: { public: true }, schema: { querystring: S.noQuery, response: { 200: S.healthResponse, 503: S.healthResponse, ...err4xx } } },
    async (_req, reply) => {
      const r = await health.get();
      return reply.code(r.overall_status === 'critical' ? 503 : 200).send(r);
    },
  );

  // A report to read, not a probe to alert on: 200 whatever the status (the body says it).
  app.get(
    `${PREFIX}/health/detailed`,
    { schema: { querystring: S.noQuery, response: { 200: S.detailedResponse, ...err4xx } } },
    async () => {
      const r = await health.get();
      const now = clock.now();
      return {
        ...r,
        uptime_seconds: Math.round((now - d.runtime.startedAt) / 1000),
        stats: computeStats(db, { from: now - 24 * HOUR, to: now }, queries),
        recent_alerts: reads.alerts({ limit: 10 }).rows.map(apiAlert),
      };
    },
  );

  app.get<{ Querystring: { hours: number } }>(
    `${PREFIX}/stats`,
    { schema: { querystring: S.hoursQuery, response: { 200: S.statsResponse, ...err4xx } } },
    async (req) => {
      const now = clock.now();
      return computeStats(db, { from: now - req.query.hours * HOUR, to: now }, queries);
    },
  );

  app.get<{ Querystring: { level?: string; state?: string; limit: number } }>(
    `${PREFIX}/alerts`,
    { schema: { querystring: S.alertsQuery, response: { 200: S.alertsResponse, ...err4xx } } },
    async (req) => {
      const q = req.query;
      const { rows, total } = reads.alerts({ severity: q.level?.toLowerCase(), state: q.state?.toLowerCase(), limit: q.limit });
      return { alerts: rows.map(apiAlert), total };
    },
  );

  app.get<{ Querystring: { hours: number } }>(
    `${PREFIX}/metrics/system`,
    { schema: { querystring: S.hoursQuery, response: { 200: S.systemResponse, ...err4xx } } },
    async (req) => {
      const now = clock.now();
      const span = req.query.hours * HOUR;
      const step = Math.max(config.system.sample_interval_ms, Math.ceil(span / MAX_SYSTEM_POINTS / 1000) * 1000);
      const points = reads.sampleSeries(now - span, now + 1, step, config.system.disks);
      // Sessions active at the end of each step, from the sessions table (exact for
      // sessions still stored; see retention for how long finished ones are kept).
      const active = reads.activeAt(points.map((p) => Math.min(now, p.t + step)));
      return {
        step_seconds: step / 1000,
        metrics: points.map((p, i) => ({
          timestamp: iso(p.t),
          cpu_usage_percent: round1(p.cpu),
          memory_usage_percent: round1(p.memory),
          disk_usage_percent: round1(p.disk),
          active_sessions: active[i] ?? 0,
        })),
      };
    },
  );

  app.get<{ Querystring: { limit: number } }>(
    `${PREFIX}/sessions/active`,
    { schema: { querystring: S.sessionsQuery, response: { 200: S.sessionsResponse, ...err4xx } } },
    async (req) => {
      const now = clock.now();
      return {
        total_active: reads.activeCount(now),
        active_sessions: reads.activeSessions(now, req.query.limit).map((s) => ({
          session_id: s.session_id,
          user_id: s.user_id,
          stage: s.stage,
          started_at: iso(s.first_ts),
          last_event_at: iso(s.last_ts),
          duration_minutes: Math.max(0, Math.round((now - s.first_ts) / 6000) / 10),
        })),
      };
    },
  );

  app.get<{ Querystring: { lines: number; level?: string } }>(
    `${PREFIX}/logs/recent`,
    { schema: { querystring: S.logsQuery, response: { 200: S.logsResponse, ...err4xx } } },
    async (req) => {
      const logs: unknown[] = [];
      for (const text of reads.recentLines(req.query.lines, req.query.level?.toUpperCase())) {
        try {
          const v = JSON.parse(text) as unknown;
          if (v && typeof v === 'object' && !Array.isArray(v)) logs.push(v);
        } catch {
          /* stored lines are JSON; a damaged one is skipped rather than failing the answer */
        }
      }
      return { logs };
    },
  );

  app.post(`${PREFIX}/cleanup`, { schema: { querystring: S.noQuery, response: { 200: S.cleanupResponse, ...err4xx } } }, async () => {
    const now = clock.now();
    const deleted = applyRetention(db, config.retention, now);
    health.invalidate();
    const size = reads.dbSize();
    return { deleted, database: { bytes: size.bytes, pages: size.pages, free_pages: size.freePages }, timestamp: iso(now) };
  });

  // Addition to DESIGN §6, for the dashboard's charts: operations and failures per
  // minute (hours ≤ 24) or per hour (longer), empty windows included as zeros.
  app.get<{ Querystring: { hours: number } }>(
    `${PREFIX}/timeseries`,
    { schema: { querystring: S.hoursQuery, response: { 200: S.timeseriesResponse, ...err4xx } } },
    async (req) => {
      const now = clock.now();
      const res = req.query.hours <= 24 ? MINUTE : HOUR;
      const from = Math.floor((now - req.query.hours * HOUR) / res) * res;
      const got = new Map(reads.opsSeries(from, now + 1, res).map((p) => [p.t, p]));
      const points = [];
      for (let t = from; t <= now; t += res) {
        const p = got.get(t);
        const operations = p?.operations ?? 0;
        const failed = p?.failed ?? 0;
        points.push({ t: iso(t), operations, failed, error_rate: operations > 0 ? Math.round((failed / operations) * 10_000) / 10_000 : 0 });
      }
      return { step_seconds: res / 1000, points };
    },
  );
}

const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
