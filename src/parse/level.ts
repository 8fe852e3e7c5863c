/**
 * Level spellings of the common loggers → DEBUG | INFO | WARNING | ERROR | CRITICAL.
 *
 * Decisions: trace/verbose/silly (finer than debug) → DEBUG; notice (syslog's
 * "normal but significant") and winston's http → INFO, because neither is a warning
 * and rules counting WARNING lines should not fire on them; fatal/panic/emerg/alert/
 * crit → CRITICAL. Unknown words are kept (cleaned) so an operator can still see them.
 */

const CANONICAL: ReadonlyArray<readonly [string, string]> = [
  ['debug', 'DEBUG'],
  ['dbg', 'DEBUG'],
  ['trace', 'DEBUG'],
  ['verbose', 'DEBUG'],
  ['silly', 'DEBUG'],
  ['info', 'INFO'],
  ['information', 'INFO'],
  ['informational', 'INFO'],
  ['notice', 'INFO'],
  ['http', 'INFO'],
  ['warn', 'WARNING'],
  ['warning', 'WARNING'],
  ['err', 'ERROR'],
  ['error', 'ERROR'],
  ['severe', 'ERROR'],
  ['crit', 'CRITICAL'],
  ['critical', 'CRITICAL'],
  ['fatal', 'CRITICAL'],
  ['panic', 'CRITICAL'],
  ['emerg', 'CRITICAL'],
  ['emergency', 'CRITICAL'],
  ['alert', 'CRITICAL'],
];

/** Exact spellings seen in practice (lower, UPPER, Capitalized): one Map lookup for almost every line. */
const EXACT = new Map<string, string>();
/** Lower-cased spellings for the case-insensitive second try. */
const LOWER = new Map<string, string>();
for (const [word, level] of CANONICAL) {
  LOWER.set(word, level);
  EXACT.set(word, level);
  EXACT.set(word.toUpperCase(), level);
  EXACT.set(word[0]!.toUpperCase() + word.slice(1), level);
}

const MAX_LEVEL_LENGTH = 16;

/** pino: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal; values in between round down. */
export function levelFromPinoNumber(n: number): string {
  if (n !== n) return 'INFO';
  if (n < 30) return 'DEBUG';
  if (n < 40) return 'INFO';
  if (n < 50) return 'WARNING';
  if (n < 60) return 'ERROR';
  return 'CRITICAL';
}

/** OpenTelemetry severity_number: 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR, 21–24 FATAL. */
export function levelFromOtelSeverity(n: number): string | undefined {
  if (!(n >= 1 && n <= 24)) return undefined;
  if (n < 9) return 'DEBUG';
  if (n < 13) return 'INFO';
  if (n < 17) return 'WARNING';
  if (n < 21) return 'ERROR';
  return 'CRITICAL';
}

export function normalizeLevel(v: unknown): string {
  if (typeof v === 'string') {
    const hit = EXACT.get(v);
    if (hit !== undefined) return hit;
    return normalizeUnusualLevel(v);
  }
  if (typeof v === 'number') return levelFromPinoNumber(v);
  return 'INFO';
}

function normalizeUnusualLevel(v: string): string {
  // Bound the work before lower-casing: a level longer than this is garbage anyway.
  const head = v.length > 64 ? v.slice(0, 64) : v;
  const lower = head.trim().toLowerCase();
  const known = LOWER.get(lower);
  if (known !== undefined) return known;
  const upper = lower.toUpperCase();
  let out = '';
  for (let i = 0; i < upper.length && out.length < MAX_LEVEL_LENGTH; i++) {
    const c = upper.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95) out += upper[i];
  }
  return out === '' ? 'INFO' : out;
}
