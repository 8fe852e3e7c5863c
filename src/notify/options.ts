import { VigilError } from '../errors.js';
import { parseDuration } from '../util/duration.js';

/**
 * A channel option that is missing, unknown or of the wrong shape. `path` is the option's
 * place under `channels:` (e.g. ['ops', 'url']) so the config loader can point at its line.
 */
export class ChannelOptionError extends VigilError {
  readonly path: string[];
  constructor(path: string[], message: string) {
    super('VIGIL_CONFIG_INVALID', message);
    this.name = 'ChannelOptionError';
    this.path = path;
  }
}

/**
 * Reads a channel's options from untrusted config, one typed getter per option, each failing
 * with a message naming the channel and the option. Unknown keys are refused (a typo such as
 * `webook_url` must not silently fall back to a default).
 */
export class OptionReader {
  private readonly raw: Record<string, unknown>;
  constructor(
    readonly channel: string,
    readonly type: string,
    raw: unknown,
    known: readonly string[],
  ) {
    if (raw === null || raw === undefined) raw = {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ChannelOptionError([channel], `channel "${channel}" (${type}): options must be a mapping`);
    }
    this.raw = raw as Record<string, unknown>;
    for (const key of Object.keys(this.raw)) {
      if (key === 'type') continue;
      if (!known.includes(key)) {
        throw this.error(key, `is not a ${type} option (known: ${known.join(', ')})`);
      }
    }
  }

  error(option: string, problem: string): ChannelOptionError {
    return new ChannelOptionError([this.channel, option], `channel "${this.channel}" (${this.type}): option "${option}" ${problem}`);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  get(key: string): unknown {
    return this.raw[key];
  }

  string(key: string, fallback?: string): string {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.error(key, 'is required');
    }
    if (typeof v !== 'string' || v.trim() === '') throw this.error(key, 'must be a non-empty string');
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw this.error(key, 'must be true or false');
    return v;
  }

  positiveInt(key: string, fallback: number): number {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw this.error(key, 'must be a positive integer');
    return v;
  }

  /** A duration such as `10s` or `500ms` (a bare number is seconds), returned in ms. */
  durationMs(key: string, fallbackMs: number): number {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallbackMs;
    let ms: number;
    try {
      if (typeof v !== 'string' && typeof v !== 'number') throw new Error('not a duration');
      ms = parseDuration(v);
    } catch {
      throw this.error(key, `must be a duration such as 500ms, 10s or 5m (got ${JSON.stringify(v)})`);
    }
    if (ms <= 0) throw this.error(key, 'must be longer than 0');
    return ms;
  }

  /** An http(s) URL. The value itself is never echoed: URLs may carry secrets. */
  url(key: string, fallback?: string): string {
    const v = this.string(key, fallback);
    checkHttpUrl(v, (problem) => this.error(key, problem));
    return v;
  }

  /** One string or a list of strings, at least one. */
  stringList(key: string): string[] {
    const v = this.raw[key];
    if (v === undefined || v === null) throw this.error(key, 'is required');
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.trim() !== '')) {
      throw this.error(key, 'must be a non-empty string or a non-empty list of strings');
    }
    return list as string[];
  }

  /** A mapping of string → string (headers, extra fields). */
  stringMap(key: string): Record<string, string> {
    const v = this.raw[key];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw this.error(key, 'must be a mapping of names to strings');
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val !== 'string') throw this.error(key, `entry "${k}" must be a string`);
      out[k] = val;
    }
    return out;
  }

  object(key: string): Record<string, unknown> | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw this.error(key, 'must be a mapping');
    return v as Record<string, unknown>;
  }
}

export function checkHttpUrl(value: string, fail: (problem: string) => Error): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw fail('must be an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw fail(`must be an http(s) URL (got scheme ${u.protocol})`);
  return u;
}
