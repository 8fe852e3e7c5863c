import { describe, expect, it } from 'vitest';
import { isSensitiveKey, REDACTED, redactForStorage, redactText, SENSITIVE_KEY_PARTS, storableLine } from '../../src/parse/redact.js';

describe('redactForStorage', () => {
  it('redacts values under sensitive keys, case-insensitively and by substring', () => {
    const input = {
      password: 'hunter2',
      DB_PASSWD: 'x',
      user_pwd: 'x',
      client_secret: 'x',
      accessToken: 'x',
      Authorization: 'Bearer abc',
      auth: { user: 'a', pass: 'b' },
      API_KEY: 'x',
      apikey: 'x',
      'X-Api-Key': 'x',
      cookie: 'sid=1',
      session_token: 'x',
      private_key: '-----BEGIN',
      credentials: ['a', 'b'],
      aws_access_key_id: 'AKIA',
      signature: 'sig',
      nested: { deeper: { secretValue: 42 } },
    };
    const out = redactForStorage(input);
    for (const k of Object.keys(input)) {
      if (k === 'nested') continue;
      expect(out[k], k).toBe(REDACTED);
    }
    expect(out.nested).toEqual({ deeper: { secretValue: REDACTED } });
  });

  it('keeps the context ids operators search by: session_id, user_id, correlation_id', () => {
    const input = {
      session_id: 'sess-1',
      user_id: 'user-1',
      correlation_id: 'corr-1',
      request_id: 'req-1',
      stage: 'upload',
      session_token: 'tok',
      user_password: 'pw',
    };
    const out = redactForStorage(input);
    expect(out.session_id).toBe('sess-1');
    expect(out.user_id).toBe('user-1');
    expect(out.correlation_id).toBe('corr-1');
    expect(out.request_id).toBe('req-1');
    expect(out.stage).toBe('upload');
    expect(out.session_token).toBe(REDACTED);
    expect(out.user_password).toBe(REDACTED);
    expect(isSensitiveKey('SESSION_ID')).toBe(false);
    expect(isSensitiveKey('session_token')).toBe(true);
  });

  it('redacts Bearer and Basic credentials inside any string', () => {
    const out = redactForStorage({
      message: 'calling api with Bearer eyJhbGciOi.abc.def then basic dXNlcjpwYXNz done',
      list: ['Authorization: Bearer tok123'],
    });
    expect(out.message).toBe('calling api with Bearer [REDACTED] then basic [REDACTED] done');
    expect(out.list).toEqual(['Authorization: Bearer [REDACTED]']);
  });

  it('returns a new object and leaves the input alone', () => {
    const input = { password: 'p', a: { b: 1 } };
    const out = redactForStorage(input);
    expect(out).not.toBe(input);
    expect(out.a).not.toBe(input.a);
    expect(input.password).toBe('p');
  });

  it('replaces containers deeper than maxDepth', () => {
    const out = redactForStorage({ a: { b: { c: { d: 1 } } }, x: [[1]] }, 2);
    expect(out).toEqual({ a: { b: '[too deep]' }, x: ['[too deep]'] });
  });

  it('wraps a non-object input and makes non-JSON values representable', () => {
    expect(redactForStorage('Bearer abc')).toEqual({ value: 'Bearer [REDACTED]' });
    expect(redactForStorage([1, 2])).toEqual({ value: [1, 2] });
    expect(JSON.stringify(redactForStorage({ n: Infinity, b: 10n, u: undefined }))).toBe('{"n":null,"b":"10","u":null}');
  });

  it('copies __proto__ / constructor / prototype keys as data without touching any prototype', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":1,"password":"p"},"constructor":{"prototype":{"polluted":2}},"prototype":3}');
    const out = redactForStorage(parsed);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((out as Record<string, unknown>).polluted).toBeUndefined();
    const json = JSON.stringify(out);
    expect(json).toBe('{"__proto__":{"polluted":1,"password":"[REDACTED]"},"constructor":{"prototype":{"polluted":2}},"prototype":3}');
  });

  it('does not throw on a 100k-deep array, even with a huge maxDepth', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(() => JSON.stringify(redactForStorage({ deep }, 1e9))).not.toThrow();
  });
});

describe('redactText', () => {
  it('redacts "<sensitive key>": value pairs in a raw sample', () => {
    expect(redactText('{"user":"bob","password":"hunter2","n":1}')).toBe('{"user":"bob","password":"[REDACTED]","n":1}');
    expect(redactText('{"api_key" : 12345, "x":1}')).toBe('{"api_key" : "[REDACTED]", "x":1}');
    expect(redactText('{"Authorization":"Basic dXNlcjpw"}')).toBe('{"Authorization":"[REDACTED]"}');
    expect(redactText('{"credentials":{"user":"a","pin":"1"},"ok":true}')).toBe('{"credentials":"[REDACTED]","ok":true}');
    expect(redactText('{"token":"abc\\"def","x":1}')).toBe('{"token":"[REDACTED]","x":1}');
  });

  it('redacts a value that was cut off mid-string', () => {
    expect(redactText('{"message":"x","secret":"s3cr3t-and-the-line-ends')).toBe('{"message":"x","secret":"[REDACTED]"');
  });

  it('keeps context ids and text that only mentions a key', () => {
    const s = '{"session_id":"sess-1","user_id":"u","correlation_id":"c","message":"the password field was empty"}';
    expect(redactText(s)).toBe(s);
    expect(redactText('{"message":"say \\"token\\": \\"x\\""}')).toBe('{"message":"say \\"token\\": \\"x\\""}');
  });

  it('redacts auth schemes anywhere', () => {
    expect(redactText('not json: Authorization: Bearer abc.def')).toBe('not json: Authorization: Bearer [REDACTED]');
  });
});

describe('redactText on lines that are not JSON', () => {
  it('redacts key=value and key: value forms, keeping the key', async () => {
    const { redactText } = await import('../../src/parse/redact.js');
    expect(redactText('login failed password=hunter2 user=bob')).toBe('login failed password=[REDACTED] user=bob');
    expect(redactText('db_password: s3cr3t; next')).toBe('db_password: [REDACTED]; next');
    expect(redactText('API_KEY=abc123&x=1')).toBe('API_KEY=[REDACTED]&x=1');
    expect(redactText('session_id=abc stage=upload')).toBe('session_id=abc stage=upload');
  });
});

describe('storableLine', () => {
  it('keeps a small harmless line as it came and redacts anything that looks secret', () => {
    const plain = '{"message":"stage done","stage":"upload"}';
    expect(storableLine(plain)).toBe(plain);
    const secret = storableLine('{"message":"login","user_password":"hunter2","headers":{"Authorization":"Bearer abc.def"}}');
    expect(secret).not.toContain('hunter2');
    expect(secret).not.toContain('abc.def');
    expect(JSON.parse(secret).message).toBe('login');
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    expect(() => JSON.parse(storableLine(deep + ' '.repeat(9000)))).not.toThrow();
  });

  it('sends a line through redaction for every sensitive key part', () => {
    for (const part of SENSITIVE_KEY_PARTS) expect(storableLine(`{"x_${part}":"v4lue"}`)).not.toContain('v4lue');
  });
});
