/**
 * Redaction before anything leaves the parse stage for storage or display. Secrets
 * that processing code logged by mistake (passwords, tokens, auth headers) must not
 * reach the SQLite store, the API or an alert. Context ids (session_id, user_id,
 * correlation_id, request_id) are kept: they are what operators search by.
 */

export const REDACTED = '[REDACTED]';
export const TOO_DEEP = '[too deep]';

/** Case-insensitive substrings that mark a key's value as secret. */
export const SENSITIVE_KEY_PARTS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'authorization',
  'auth',
  'api_key',
  'apikey',
  'api-key',
  'cookie',
  'session_token',
  'private_key',
  'privatekey',
  'credential',
  'access_key',
  'accesskey',
  'signature',
];

/** Exact keys that are context, never secrets, whatever substring they contain. */
const CONTEXT_KEYS = new Set(['session_id', 'user_id', 'correlation_id', 'request_id']);

/** Deeper limits would let the copy (or a later JSON.stringify) exhaust the stack. */
const MAX_DEPTH_CAP = 1000;

const AUTH_SCHEME = /\b(bearer|basic)\s+[^\s"',;]+/gi;

const keyVerdicts = new Map<string, boolean>();
const MAX_CACHED_KEYS = 4096;

export function isSensitiveKey(key: string): boolean {
  const cached = keyVerdicts.get(key);
  if (cached !== undefined) return cached;
  const lower = key.toLowerCase();
  let sensitive = false;
  if (!CONTEXT_KEYS.has(lower)) {
    for (const part of SENSITIVE_KEY_PARTS) {
      if (lower.includes(part)) {
        sensitive = true;
        break;
      }
    }
  }
  // Keys repeat from line to line; a bounded cache keeps hostile key floods from growing memory.
  if (key.length <= 256) {
    if (keyVerdicts.size >= MAX_CACHED_KEYS) keyVerdicts.clear();
    keyVerdicts.set(key, sensitive);
  }
  return sensitive;
}

/** `Bearer abc.def` / `Basic dXNlcjpw` anywhere in a string → `Bearer [REDACTED]`. */
export function redactAuthSchemes(s: string): string {
  return s.replace(AUTH_SCHEME, '$1 [REDACTED]');
}

/**
 * A new, JSON-safe copy of a line's fields with secrets replaced. Containers nested
 * deeper than `maxDepth` become "[too deep]". Keys such as `__proto__` are kept as
 * plain own data (defined, never assigned), so no prototype is ever touched.
 * A non-object input is wrapped as `{ value: … }`.
 */
export function redactForStorage(fields: unknown, maxDepth = 32): Record<string, unknown> {
  const limit = Math.max(1, Math.min(Math.floor(maxDepth) || 1, MAX_DEPTH_CAP));
  if (isPlainObject(fields)) return copyObject(fields, 1, limit);
  const out: Record<string, unknown> = {};
  out.value = copyValue(fields, 2, limit);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

function copyObject(o: Record<string, unknown>, depth: number, limit: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = o[k];
    setOwn(out, k, isSensitiveKey(k) ? REDACTED : copyValue(v, depth + 1, limit));
  }
  return out;
}

/** `depth` is the depth a container found here would have. */
function copyValue(v: unknown, depth: number, limit: number): unknown {
  switch (typeof v) {
    case 'string':
      return redactAuthSchemes(v);
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'boolean':
      return v;
    case 'bigint':
      return String(v);
    case 'object': {
      if (v === null) return null;
      if (depth > limit) return TOO_DEEP;
      if (Array.isArray(v)) {
        const out: unknown[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = copyValue(v[i], depth + 1, limit);
        return out;
      }
      return copyObject(v as Record<string, unknown>, depth, limit);
    }
    default:
      // undefined, functions, symbols: not representable in JSON.
      return null;
  }
}

/**
 * Anything redaction would change: a sensitive key part or an auth scheme, anywhere in
 * the text. Made from the same list, so a part added there is never stored raw.
 */
const SECRET_HINT = new RegExp([...SENSITIVE_KEY_PARTS, 'bearer', 'basic'].join('|'), 'i');
const RAW_MAX = 8192;

/**
 * A parsed line as recent_lines stores it: as it came when it is small and shows
 * nothing redaction would touch; anything else parsed again, redacted and re-serialized.
 * Only lines that reach recent_lines pay for either.
 */
export function storableLine(text: string): string {
  if (text.length <= RAW_MAX && !SECRET_HINT.test(text)) return text;
  try {
    return JSON.stringify(redactForStorage(JSON.parse(text)));
  } catch {
    return JSON.stringify({ message: '[unrenderable line]' });
  }
}

const SENSITIVE_KEY_VALUE = new RegExp(
  '"([^"\\\\]{0,64}(?:' +
    SENSITIVE_KEY_PARTS.join('|') +
    ')[^"\\\\]{0,64})"(\\s*:\\s*)' +
    // a string (possibly cut short), a flat object or array, or any other bare value
    '(?:"(?:[^"\\\\]|\\\\.)*(?:"|$)|\\{[^{}]*(?:\\}|$)|\\[[^\\[\\]]*(?:\\]|$)|[^,}\\]\\s]+)',
  'gi',
);

/**
 * Redacts a raw line sample that may not parse as JSON: auth schemes, and
 * `"<sensitive key>": value` → `"<key>": "[REDACTED]"`. Meant for bounded samples
 * (see sampleText); keys longer than ~130 characters are not recognized.
 */
// Plain-text forms in lines that are not JSON: password=hunter2, token: abc, api_key=…
const SENSITIVE_PLAIN = new RegExp('\\b([A-Za-z0-9_.-]{0,32}(?:' + SENSITIVE_KEY_PARTS.join('|') + ')[A-Za-z0-9_.-]{0,32})(\\s*[=:]\\s*)(?!\\[REDACTED\\]|(?:bearer|basic)\\s+\\[REDACTED\\])[^\\s,;&"\']+', 'gi');

export function redactText(s: string): string {
  return redactAuthSchemes(s.replace(SENSITIVE_KEY_VALUE, '"$1"$2"[REDACTED]"')).replace(SENSITIVE_PLAIN, '$1$2[REDACTED]');
}
