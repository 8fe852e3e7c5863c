import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { WindowQueries } from '../store/windows.js';
import { StoreReads } from '../store/reads.js';
import { TokenSet, noTokensAdvice, type TokenLoad } from './auth.js';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard.js';
import { installErrorHandlers, unauthorized } from './errors.js';
import { HealthService } from './health.js';
import { ApiMetrics } from './metrics.js';
import { registerMonitoringRoutes } from './routes.js';
import { finiteKeyword, noQuery } from './schemas.js';
import type { ApiDeps } from './types.js';

export type { ApiDeps, HealthInputs, HealthThresholds, RuntimeView, TailedFile, RuleReload, StorageProbe, FfmpegStatus } from './types.js';

/** Handles the agent keeps on the built API. */
export interface VigilApiHandles {
  /** Re-reads api.tokens_file and api.tokens (on SIGHUP); logs what the startup log would. */
  reloadTokens(tokensFile?: string, tokens?: readonly string[]): TokenLoad;
  health: HealthService;
  metrics: ApiMetrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    vigil: VigilApiHandles;
  }
  interface FastifyContextConfig {
    /** Served without a bearer token. */
    public?: boolean;
  }
}

/** Request bodies are tiny (POST /cleanup takes none). */
export const BODY_LIMIT = 16 * 1024;

/**
 * The query API of DESIGN §6 over the agent's store. Every route but the public health
 * probe and the dashboard page needs `Authorization: Bearer <token>`; with no token
 * configured every protected route is 401 (never an open API by accident). Requests are
 * not logged by fastify (its request log would carry headers); a debug line per response
 * names method, path and status only.
 */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const { db, clock, config, runtime, checks, log } = deps;
  const app = Fastify({
    ...(log ? { loggerInstance: log.child({ component: 'api' }) as unknown as FastifyBaseLogger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // An unknown query parameter is a 400 (instead of silently dropped), so `?hour=1` does not pass for the default.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true }, plugins: [finiteKeyword] },
    return503OnClosing: true,
    requestTimeout: 30_000,
  });

  const reads = new StoreReads(db, { abandonAfterMs: config.sessions.abandon_after_ms });
  const queries = new WindowQueries(db);
  const health = new HealthService({ reads, queries, clock, config, runtime, inputs: checks });
  const metrics = new ApiMetrics({
    reads,
    runtime,
    clock,
    config,
    stuckSessionMs: health.thresholds.stuckSessionMs,
    sampleMaxAgeMs: health.thresholds.sampleMaxAgeMs,
  });

  const tokens = new TokenSet();
  const reloadTokens = (file = config.api.tokens_file, inline: readonly string[] = config.api.tokens): TokenLoad => {
    const r = tokens.load(file, inline);
    for (const w of r.warnings) log?.warn({ tokens_file: file }, `api: ${w}`);
    if (r.count === 0) log?.warn({ tokens_file: file }, `api: ${noTokensAdvice(file)}`);
    else log?.info({ tokens: r.count }, `api: ${r.count} bearer token(s) accepted`);
    return r;
  };
  reloadTokens();
  app.decorate('vigil', { reloadTokens, health, metrics });

  installErrorHandlers(app, log);

  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.public === true) return;
    if (!tokens.accepts(req.headers.authorization)) {
      return unauthorized(reply, tokens.size === 0 ? 'the API has no token configured (see api.tokens_file)' : 'a valid "Authorization: Bearer <token>" header is required');
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  if (log) {
    app.addHook('onResponse', async (req, reply) => {
      log.debug({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'api request');
    });
  }

  app.get('/', { config: { public: true }, schema: { querystring: { type: 'object' } } }, async (_req, reply) =>
    reply
      .header('Content-Security-Policy', DASHBOARD_CSP)
      .header('X-Frame-Options', 'DENY')
      .type('text/html; charset=utf-8')
      .send(DASHBOARD_HTML),
  );

  // Browsers ask for it on every page load; a 401 there would only add noise to their console.
  app.get('/favicon.ico', { config: { public: true }, schema: { querystring: { type: 'object' } } }, async (_req, reply) => reply.code(204).send());

  app.get('/metrics', { schema: { querystring: noQuery } }, async (_req, reply) => {
    const text = await metrics.scrape();
    return reply.type(metrics.contentType).send(text);
  });

  registerMonitoringRoutes(app, { db, clock, config, runtime, reads, queries, health });
  return app;
}
