import { describe, expect, it } from 'vitest';
import { classifyStatus, combineFailures, parseRetryAfter, redactUrl } from '../../src/notify/http.js';

const noHeaders = { get: () => null };
const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n.toLowerCase()] ?? null });

describe('parseRetryAfter', () => {
  const now = Date.UTC(2024, 0, 1, 12, 0, 0);
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });
  it('reads an HTTP-date relative to now, never negative', () => {
    expect(parseRetryAfter('Mon, 01 Jan 2024 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 11:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
  });
});

describe('classifyStatus', () => {
  it('2xx is ok', () => {
    expect(classifyStatus(200, noHeaders, '', 0, 'x')).toEqual({ ok: true });
    expect(classifyStatus(202, noHeaders, '', 0, 'x')).toEqual({ ok: true });
  });
  it('408, 429 and 5xx are transient; Retry-After only for 429 and 503', () => {
    for (const s of [408, 429, 500, 502, 503, 504]) {
      expect(classifyStatus(s, noHeaders, '', 0, 'x')).toMatchObject({ ok: false, retry: 'transient', status: s });
    }
    expect(classifyStatus(429, headers({ 'retry-after': '7' }), '', 0, 'x')).toMatchObject({ retryAfterMs: 7000 });
    expect(classifyStatus(503, headers({ 'retry-after': '3' }), '', 0, 'x')).toMatchObject({ retryAfterMs: 3000 });
    expect(classifyStatus(500, headers({ 'retry-after': '3' }), '', 0, 'x')).not.toHaveProperty('retryAfterMs');
  });
  it('other 4xx and redirects are permanent, with the body in the message', () => {
    expect(classifyStatus(400, noHeaders, 'invalid_payload', 0, 'hook')).toEqual({
      ok: false,
      retry: 'permanent',
      status: 400,
      message: 'hook: HTTP 400: invalid_payload',
    });
    expect(classifyStatus(404, noHeaders, '', 0, 'x')).toMatchObject({ retry: 'permanent' });
    expect(classifyStatus(301, noHeaders, '', 0, 'x')).toMatchObject({ retry: 'permanent' });
  });
});

describe('redactUrl', () => {
  it('keeps scheme, host and port only', () => {
    expect(redactUrl('https://hooks.slack.com/services/T000/B000/XXXXSECRET')).toBe('https://hooks.slack.com/…');
    expect(redactUrl('http://user:pw@127.0.0.1:9093')).toBe('http://127.0.0.1:9093/…');
    expect(redactUrl('http://127.0.0.1:9093/')).toBe('http://127.0.0.1:9093');
    expect(redactUrl('http://h/?token=abc')).toBe('http://h/…');
    expect(redactUrl('not a url')).toBe('<invalid url>');
  });
});

describe('combineFailures', () => {
  it('is transient when any failure is, waiting for the longest Retry-After', () => {
    const out = combineFailures([
      { ok: false, retry: 'permanent', status: 400, message: 'a' },
      { ok: false, retry: 'transient', status: 429, retryAfterMs: 2000, message: 'b' },
      { ok: false, retry: 'transient', status: 503, retryAfterMs: 5000, message: 'c' },
    ]);
    expect(out).toEqual({ ok: false, retry: 'transient', status: 429, retryAfterMs: 5000, message: 'a; b; c' });
  });
  it('is permanent when all are, ok when none failed', () => {
    expect(combineFailures([{ ok: false, retry: 'permanent', status: 400, message: 'a' }])).toMatchObject({ retry: 'permanent' });
    expect(combineFailures([])).toEqual({ ok: true });
  });
});
