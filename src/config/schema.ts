/**
 * vigil.yaml (DESIGN §4). Every key is optional; unknown keys are errors so a typo is
 * caught at start instead of silently ignored. Durations are strings like 15s / 7d.
 */
// Exactly what parseDuration reads (a bare number of seconds, or parts that each have a unit),
// so a value the schema lets through never fails later without its file:line:col.
const duration = { type: ['string', 'number'], minimum: 0, pattern: '^\\s*(\\d+(\\.\\d+)?|(\\d+(\\.\\d+)?(ms|s|m|h|d|w))+)\\s*$' } as const;

const channelObject = { type: 'object' } as const;

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    inputs: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path'],
        properties: {
          path: { type: 'string', minLength: 1 },
          format: { enum: ['auto', 'vigil', 'python', 'pino', 'winston', 'ecs'] },
          start_at: { enum: ['beginning', 'end'] },
          include_compressed: { type: 'boolean' },
        },
      },
    },
    state_dir: { type: 'string', minLength: 1 },
    rules: { type: 'string', minLength: 1 },
    evaluation_interval: duration,
    max_line_bytes: { type: 'integer', minimum: 1024, maximum: 268_435_456 },
    watch: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mode: { enum: ['auto', 'inotify', 'poll'] },
        reconcile_interval: duration,
        poll_interval: duration,
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: { type: 'string', pattern: '^[^\\s:]+:\\d{1,5}$|^\\[[0-9a-fA-F:]+\\]:\\d{1,5}$' },
        tokens_file: { type: 'string' },
        tokens: { type: 'array', items: { type: 'string' } },
        enabled: { type: 'boolean' },
      },
    },
    channels: {
      type: 'object',
      additionalProperties: channelObject,
    },
    routes: { type: 'array', items: { type: 'object' } },
    notify: {
      type: 'object',
      additionalProperties: false,
      properties: {
        group_wait: duration,
        max_age: duration,
        rate_limits: { type: 'object', additionalProperties: { type: ['number', 'null'], minimum: 0.001 } },
      },
    },
    sessions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        abandon_after: duration,
      },
    },
    system: {
      type: 'object',
      additionalProperties: false,
      properties: {
        sample_interval: duration,
        disks: { type: 'array', items: { type: 'string' } },
      },
    },
    retention: {
      type: 'object',
      additionalProperties: false,
      properties: {
        windows: duration,
        samples: duration,
        alerts: duration,
        recent_lines: { type: 'integer', minimum: 0, maximum: 1_000_000 },
        rejected_samples: { type: 'integer', minimum: 0, maximum: 100_000 },
      },
    },
    cardinality: {
      type: 'object',
      additionalProperties: false,
      properties: {
        error_code: { type: 'integer', minimum: 1 },
        stage: { type: 'integer', minimum: 1 },
        logger: { type: 'integer', minimum: 1 },
        level: { type: 'integer', minimum: 1 },
      },
    },
    log_level: { enum: ['debug', 'info', 'warn', 'error'] },
  },
} as const;
