import type { Ajv } from 'ajv';
import { LEVELS } from '../parse/event.js';
import { SEVERITIES } from '../rules/rule.js';

/**
 * JSON schemas of every route: querystrings are validated (a bad value is a 400, an
 * unknown parameter too, so a typo such as `hour=` is not silently ignored) and
 * responses are serialized through their schema, so a field not listed here never
 * leaks out.
 */
export const MAX_HOURS = 8760;
export const ALERT_STATES = ['pending', 'firing', 'resolved', 'inactive'] as const;

/** A regex accepting any of `words` in any letter case (JSON Schema patterns have no `i` flag). */
export function anyCase(words: readonly string[]): string {
  const ci = (w: string) => [...w].map((c) => (c.toLowerCase() !== c.toUpperCase() ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c)).join('');
  return `^(?:${words.map(ci).join('|')})$`;
}

const hours = { type: 'number', finite: true, exclusiveMinimum: 0, maximum: MAX_HOURS, default: 24 } as const;
const str = { type: 'string' } as const;
const nstr = { type: ['string', 'null'] } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const nnum = { type: ['number', 'null'] } as const;
const status = { type: 'string', enum: ['healthy', 'warning', 'critical'] } as const;

const query = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties }) as const;
const obj = (properties: Record<string, unknown>, extra: unknown = false) => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: extra,
});

/**
 * ajv coerces "Infinity" to a number and then skips minimum/maximum for non-finite
 * values, so `?hours=Infinity` would pass; this keyword closes that gap.
 */
export function finiteKeyword(ajv: Ajv): Ajv {
  // No `type: 'number'` here: ajv runs number keywords only for finite numbers.
  ajv.addKeyword({
    keyword: 'finite',
    schemaType: 'boolean',
    errors: false,
    validate: (want: boolean, data: unknown) => !want || typeof data !== 'number' || Number.isFinite(data),
  });
  return ajv;
}

export const noQuery = query({});

export const hoursQuery = query({ hours });

export const alertsQuery = query({
  level: { type: 'string', pattern: anyCase(SEVERITIES) },
  state: { type: 'string', pattern: anyCase(ALERT_STATES) },
  limit: { type: 'integer', finite: true, minimum: 1, maximum: 1000, default: 50 },
});

export const sessionsQuery = query({
  limit: { type: 'integer', finite: true, minimum: 1, maximum: 1000, default: 100 },
});

export const logsQuery = query({
  lines: { type: 'integer', finite: true, minimum: 1, maximum: 10000, default: 100 },
  level: { type: 'string', pattern: anyCase(LEVELS) },
});

const check = obj({ component: str, status, message: str });
const checkDetailed = obj({ component: str, status, message: str, details: { type: 'object', additionalProperties: true } });

export const healthResponse = obj({ overall_status: status, checks: { type: 'array', items: check }, timestamp: str });

export const stageStats = obj({ count: int, success_count: int, failure_count: int, average_duration: num, p95_duration: num });

export const statsResponse = obj({
  total_operations: int,
  successful_operations: int,
  failed_operations: int,
  success_rate: num,
  error_rate: num,
  average_duration: num,
  stage_breakdown: { type: 'object', additionalProperties: stageStats },
  error_codes: { type: 'object', additionalProperties: int },
  period_hours: num,
});

export const alertItem = obj({
  id: int,
  rule: str,
  level: str,
  state: str,
  summary: str,
  labels: { type: 'object', additionalProperties: str },
  started_at: str,
  firing_at: nstr,
  resolved_at: nstr,
});

export const alertsResponse = obj({ alerts: { type: 'array', items: alertItem }, total: int });

export const detailedResponse = obj({
  overall_status: status,
  checks: { type: 'array', items: checkDetailed },
  timestamp: str,
  uptime_seconds: num,
  stats: statsResponse,
  recent_alerts: { type: 'array', items: alertItem },
});

export const systemResponse = obj({
  step_seconds: num,
  metrics: {
    type: 'array',
    items: obj({ timestamp: str, cpu_usage_percent: nnum, memory_usage_percent: nnum, disk_usage_percent: nnum, active_sessions: int }),
  },
});

export const sessionsResponse = obj({
  total_active: int,
  active_sessions: {
    type: 'array',
    items: obj({ session_id: str, user_id: nstr, stage: nstr, started_at: str, last_event_at: str, duration_minutes: num }),
  },
});

export const logsResponse = obj({ logs: { type: 'array', items: { type: 'object', additionalProperties: true } } });

export const cleanupResponse = obj({
  deleted: obj({
    windows: int,
    samples: int,
    sessions: int,
    alerts: int,
    alert_transitions: int,
    outbox: int,
    silences: int,
    parse_errors: int,
    rejected_samples: int,
    recent_lines: int,
  }),
  database: obj({ bytes: int, pages: int, free_pages: int }),
  timestamp: str,
});

export const timeseriesResponse = obj({
  step_seconds: num,
  points: { type: 'array', items: obj({ t: str, operations: int, failed: int, error_rate: num }) },
});

export const errorResponse = obj({ statusCode: int, error: str, message: str, code: str });
