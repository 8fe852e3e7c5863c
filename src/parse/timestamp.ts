/**
 * Log timestamps → epoch milliseconds. Runs once per accepted line, so the common
 * shapes (ISO-8601 and Python's asctime) avoid Date.parse: the minute part
 * (`YYYY-MM-DDTHH:MM` plus the zone suffix) goes through Date.parse once and is cached, and the
 * seconds and fraction are added by character arithmetic. Lines arrive in time
 * order, so a one-entry cache hits for every line of the same minute.
 */

/** 1970-01-02T00:00Z: anything earlier is a zero/garbage value, not a real log time. */
export const MIN_TS = 86_400_000;
/** 2200-01-01T00:00Z: anything later is garbage (or a unit we misread). */
export const MAX_TS = 7_258_118_400_000;

/** Zone key for "no suffix": local time, distinct from every ±hhmm (|key| <= 9999). */
const LOCAL_ZONE = 100_000;

// One-entry cache: the minute (YYYYMMDDHHMM as a number) and zone of the last string seen.
let cachedMinute = -1;
let cachedZone = LOCAL_ZONE;
let cachedBase = NaN;

/** Forget the cached minute (tests that change process.env.TZ call this). */
export function resetTimestampCache(): void {
  cachedMinute = -1;
  cachedZone = LOCAL_ZONE;
  cachedBase = NaN;
}

/**
 * Epoch ms for an ISO-8601 string (`Z`, `±hh:mm`, `±hhmm`, or no zone = local time,
 * as JS Date does), a Python asctime (`2026-11-22 10:11:12,345`, local time), or an
 * epoch number / numeric string in s, ms, µs or ns (chosen by magnitude).
 * Undefined when unparsable or outside [1970-01-02, 2200-01-01).
 */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v === 'string') return parseTimestampString(v);
  if (typeof v === 'number') return fromEpochNumber(v);
  return undefined;
}

function inRange(ms: number): number | undefined {
  return ms >= MIN_TS && ms < MAX_TS ? ms : undefined;
}

function fromEpochNumber(n: number): number | undefined {
  if (!(n > 0) || n === Infinity) return undefined;
  let ms: number;
  if (n < 1e11) ms = Math.round(n * 1000);
  else if (n < 1e14) ms = Math.round(n);
  else if (n < 1e17) ms = Math.round(n / 1e3);
  else ms = Math.round(n / 1e6);
  return inRange(ms);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function parseTimestampString(s: string): number | undefined {
  const len = s.length;
  if (len === 0) return undefined;
  // `YYYY-MM-DD?HH:MM` with ? one of T, t, space.
  if (len >= 16 && s.charCodeAt(4) === 45 /* - */ && s.charCodeAt(7) === 45 && s.charCodeAt(13) === 58 /* : */) {
    const r = parseIsoLike(s, len);
    if (r !== null) return r;
    return slowParse(s);
  }
  if (isDigit(s.charCodeAt(0)) || s.charCodeAt(0) === 46 /* . */) {
    if (isNumericString(s)) return fromEpochNumber(Number(s));
  }
  return slowParse(s);
}

/** Digits with at most one '.', nothing else: Number() alone would also accept '0x1f', ' 12 ', '1e3'. */
function isNumericString(s: string): boolean {
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (c === 46 && dots === 0) dots++;
    else return false;
  }
  return digits > 0;
}

function slowParse(s: string): number | undefined {
  // Bound the work a hostile multi-megabyte "timestamp" can cause.
  if (s.length > 64) return undefined;
  const ms = Date.parse(s);
  return ms === ms ? inRange(ms) : undefined;
}

/**
 * The fast path. Returns null to ask for Date.parse on the whole string (a shape it
 * does not handle), undefined for a definite failure, or the epoch ms.
 */
function parseIsoLike(s: string, len: number): number | null | undefined {
  const sep = s.charCodeAt(10);
  if (sep !== 84 /* T */ && sep !== 32 /* space */ && sep !== 116 /* t */) return null;
  const yHi = twoDigits(s, 0);
  const yLo = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  if (yHi < 0 || yLo < 0 || month < 0 || day < 0 || minute < 0) return null;
  // Hour 24 is valid only as 24:00:00; let Date.parse judge those rare cases.
  if (hour < 0 || hour > 23) return null;

  let i = 16;
  let seconds = 0;
  let millis = 0;
  if (i < len && s.charCodeAt(i) === 58 /* : */) {
    seconds = twoDigits(s, i + 1);
    if (seconds < 0) return null;
    if (seconds > 59) return undefined;
    i += 3;
    if (i < len) {
      const c = s.charCodeAt(i);
      if (c === 46 /* . */ || c === 44 /* , */) {
        i++;
        const start = i;
        // Milliseconds from the first three digits; further digits are truncated, like Date.parse.
        let scale = 100;
        while (i < len && isDigit(s.charCodeAt(i))) {
          if (scale >= 1) millis += (s.charCodeAt(i) - 48) * scale;
          scale /= 10;
          i++;
        }
        if (i === start) return null;
      }
    }
  }

  // What remains is the zone: '' (local time), Z, z, ±hh:mm or ±hhmm.
  const zoneLen = len - i;
  let zoneKey = LOCAL_ZONE;
  if (zoneLen !== 0) {
    const z = s.charCodeAt(i);
    if (zoneLen === 1) {
      if (z !== 90 && z !== 122) return null;
      zoneKey = 0;
    } else if (z === 43 /* + */ || z === 45 /* - */) {
      const zh = twoDigits(s, i + 1);
      let zm: number;
      if (zoneLen === 6 && s.charCodeAt(i + 3) === 58) zm = twoDigits(s, i + 4);
      else if (zoneLen === 5) zm = twoDigits(s, i + 3);
      else return null;
      if (zh < 0 || zm < 0) return null;
      zoneKey = (z === 43 ? 1 : -1) * (zh * 100 + zm);
    } else return null;
  }

  // The minute and zone as numbers: comparing them is cheaper than comparing substrings.
  const minuteKey = ((((yHi * 100 + yLo) * 100 + month) * 100 + day) * 100 + hour) * 100 + minute;
  if (minuteKey !== cachedMinute || zoneKey !== cachedZone) {
    cachedBase = Date.parse(s.slice(0, 10) + 'T' + s.slice(11, 16) + ':00' + (zoneLen === 0 ? '' : s.slice(i)));
    cachedMinute = minuteKey;
    cachedZone = zoneKey;
  }
  const base = cachedBase;
  if (base !== base) return undefined;
  return inRange(base + seconds * 1000 + millis);
}
