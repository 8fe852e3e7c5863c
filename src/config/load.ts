import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { ValidationError, VigilError, type Located } from '../errors.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { CONFIG_SCHEMA } from './schema.js';
import { YamlSource, walkStrings } from './yaml-source.js';

export interface InputConfig {
  path: string;
  format: 'auto' | 'vigil' | 'python' | 'pino' | 'winston' | 'ecs';
  start_at: 'beginning' | 'end';
  include_compressed: boolean;
}

export interface Config {
  /** Where the config came from ('(defaults)' when embedded). */
  source: string;
  inputs: InputConfig[];
  state_dir: string;
  rules: string;
  evaluation_interval_ms: number;
  max_line_bytes: number;
  watch: { mode: 'auto' | 'inotify' | 'poll'; reconcile_interval_ms: number; poll_interval_ms: number };
  api: { enabled: boolean; listen: string; tokens_file: string; tokens: string[] };
  channels: Record<string, Record<string, unknown>>;
  routes: Record<string, unknown>[];
  /** Delivery: default group_wait, how long an undelivered notification is retried, messages/s per channel (null: no limit). */
  notify: { group_wait_ms: number; max_age_ms: number; rate_limits: Record<string, number | null> };
  system: { sample_interval_ms: number; disks: string[] };
  /** An unfinished session with no line for abandon_after is abandoned: no longer active, so no longer stuck. */
  sessions: { abandon_after_ms: number };
  retention: { windows_ms: number; samples_ms: number; alerts_ms: number; recent_lines: number; rejected_samples: number };
  cardinality: { error_code: number; stage: number; logger: number; level: number };
  log_level: 'debug' | 'info' | 'warn' | 'error';
}

/** The embedded defaults: DESIGN §4. */
export const DEFAULTS = {
  inputs: [{ path: '/var/log/media/*.log', format: 'auto', start_at: 'beginning', include_compressed: false }],
  state_dir: '/var/lib/vigil',
  rules: '/etc/vigil/rules',
  evaluation_interval: '15s',
  max_line_bytes: 1024 * 1024,
  watch: { mode: 'auto', reconcile_interval: '1s', poll_interval: '250ms' },
  api: { enabled: true, listen: '127.0.0.1:8000', tokens_file: '/etc/vigil/tokens', tokens: [] as string[] },
  channels: {},
  routes: [],
  notify: { group_wait: '0s', max_age: '24h', rate_limits: {} as Record<string, number | null> },
  system: { sample_interval: '15s', disks: ['/'] },
  sessions: { abandon_after: '6h' },
  retention: { windows: '7d', samples: '7d', alerts: '90d', recent_lines: 10_000, rejected_samples: 1000 },
  cardinality: { error_code: 50, stage: 30, logger: 50, level: 16 },
  log_level: 'info',
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(CONFIG_SCHEMA);

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${VAR} and ${VAR:-default}; unset variables without a default are problems. */
export function expandEnv(s: string, env: NodeJS.ProcessEnv, onMissing: (name: string) => void): string {
  return s.replace(VAR, (_m, name: string, def: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    onMissing(name);
    return '';
  });
}

export interface LoadOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Relative paths in the file resolve against the file's directory; defaults against this. */
  cwd?: string;
}

/** Loads, expands, validates and freezes the configuration. Throws ValidationError with every problem. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  if (!opts.file) return finish({}, '(defaults)', opts.cwd ?? process.cwd());
  let text: string;
  try {
    text = fs.readFileSync(opts.file, 'utf8');
  } catch (e) {
    throw new VigilError('VIGIL_CONFIG_NOT_FOUND', `${opts.file}: cannot read config: ${(e as Error).message}`, { cause: e });
  }
  return parseConfigText(text, opts.file, env);
}

export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const src = new YamlSource(file, text);
  const problems: Located[] = [...src.problems];
  if (problems.length > 0) throw new ValidationError('VIGIL_CONFIG_INVALID', problems);
  let raw: unknown = src.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError('VIGIL_CONFIG_INVALID', [src.problem([], 'the configuration must be a mapping of keys (inputs, state_dir, …)')]);
  }
  // The one place ${VAR} is expanded: what comes out (a secret may hold a literal "${") is final.
  let unset = 0;
  raw = walkStrings(raw, (p, s) =>
    expandEnv(s, env, (name) => {
      unset++;
      problems.push(src.problem(p, `environment variable ${name} is not set (use \${${name}:-default} for a default)`));
    }),
  );
  if (!validate(raw)) {
    for (const e of validate.errors ?? []) problems.push(schemaProblem(src, e));
  } else {
    problems.push(...tooShort(src, raw as Record<string, any>));
  }
  if (problems.length > 0) {
    const code = unset === problems.length ? 'VIGIL_ENV_MISSING' : 'VIGIL_CONFIG_INVALID';
    throw new ValidationError(code, dedupe(problems).sort((a, b) => a.line - b.line || a.col - b.col));
  }
  return finish(raw as Record<string, unknown>, file, path.dirname(path.resolve(file)));
}

function schemaProblem(src: YamlSource, e: ErrorObject): Located {
  const p = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
  const where = p.length ? p.join('.') : '(top level)';
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      return src.problem([...p, key], `unknown key "${key}" in ${where}`, 'key');
    }
    case 'enum':
      return src.problem(p, `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`);
    case 'pattern':
      return src.problem(p, p.includes('listen') ? `${where} must be host:port` : `${where} is not a duration (e.g. 15s, 5m, 7d)`);
    case 'required':
      return src.problem(p, `${where} needs "${(e.params as { missingProperty: string }).missingProperty}"`);
    default:
      return src.problem(p, `${where} ${e.message ?? 'is invalid'}`);
  }
}

/** Durations below these would spin the agent (`0s` polls in a loop) or mean nothing; each is reported where it is written. */
const MIN_INTERVALS: ReadonlyArray<{ path: string[]; minMs: number }> = [
  { path: ['evaluation_interval'], minMs: 1000 },
  { path: ['watch', 'reconcile_interval'], minMs: 100 },
  { path: ['watch', 'poll_interval'], minMs: 50 },
  { path: ['system', 'sample_interval'], minMs: 1000 },
  { path: ['sessions', 'abandon_after'], minMs: 60_000 },
];

function tooShort(src: YamlSource, raw: Record<string, any>): Located[] {
  const out: Located[] = [];
  for (const { path: p, minMs } of MIN_INTERVALS) {
    const v = p.reduce<any>((o, k) => (o && typeof o === 'object' ? o[k] : undefined), raw);
    if (v !== undefined && parseDuration(v) < minMs) out.push(src.problem(p, `${p.join('.')} must be at least ${formatDuration(minMs)}`));
  }
  return out;
}

function dedupe(ps: Located[]): Located[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.line}:${p.col}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function finish(raw: Record<string, unknown>, source: string, baseDir: string): Config {
  const r = raw as Record<string, any>;
  const d = DEFAULTS;
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  const inputs = (r.inputs ?? d.inputs).map((i: Record<string, unknown>) => ({
    path: abs(String(i.path)),
    format: (i.format as InputConfig['format']) ?? 'auto',
    start_at: (i.start_at as InputConfig['start_at']) ?? 'beginning',
    include_compressed: (i.include_compressed as boolean) ?? false,
  }));
  const watch = { ...d.watch, ...(r.watch ?? {}) };
  const api = { ...d.api, ...(r.api ?? {}) };
  const system = { ...d.system, ...(r.system ?? {}) };
  const ret = { ...d.retention, ...(r.retention ?? {}) };
  const cfg: Config = {
    source,
    inputs,
    state_dir: abs(r.state_dir ?? d.state_dir),
    rules: abs(r.rules ?? d.rules),
    evaluation_interval_ms: parseDuration(r.evaluation_interval ?? d.evaluation_interval),
    max_line_bytes: r.max_line_bytes ?? d.max_line_bytes,
    watch: { mode: watch.mode, reconcile_interval_ms: parseDuration(watch.reconcile_interval), poll_interval_ms: parseDuration(watch.poll_interval) },
    api: { enabled: api.enabled, listen: api.listen, tokens_file: abs(api.tokens_file), tokens: [...api.tokens] },
    channels: r.channels ?? {},
    routes: r.routes ?? [],
    notify: {
      group_wait_ms: parseDuration(r.notify?.group_wait ?? d.notify.group_wait),
      max_age_ms: parseDuration(r.notify?.max_age ?? d.notify.max_age),
      rate_limits: { ...(r.notify?.rate_limits ?? {}) },
    },
    system: { sample_interval_ms: parseDuration(system.sample_interval), disks: [...system.disks] },
    sessions: { abandon_after_ms: parseDuration(r.sessions?.abandon_after ?? d.sessions.abandon_after) },
    retention: {
      windows_ms: parseDuration(ret.windows),
      samples_ms: parseDuration(ret.samples),
      alerts_ms: parseDuration(ret.alerts),
      recent_lines: ret.recent_lines,
      rejected_samples: ret.rejected_samples,
    },
    cardinality: { ...d.cardinality, ...(r.cardinality ?? {}) },
    log_level: r.log_level ?? d.log_level,
  };
  return deepFreeze(cfg);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
