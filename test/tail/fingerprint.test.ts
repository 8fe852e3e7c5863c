import { describe, expect, it } from 'vitest';
import { fingerprintOf, isSaltedKey, keyFingerprint, saltedKey } from '../../src/tail/fingerprint.js';

describe('fingerprint', () => {
  it('is the first line with its newline, unchanged by appends', () => {
    const a = fingerprintOf(Buffer.from('{"n":1}\n'), 8);
    const b = fingerprintOf(Buffer.from('{"n":1}\n{"n":2}\n'), 16);
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(b).toBe(a);
    expect(fingerprintOf(Buffer.from('{"n":2}\n'), 8)).not.toBe(a);
  });

  it('is null without a complete first line under 1024 bytes, and the first 1024 bytes past that', () => {
    expect(fingerprintOf(Buffer.from('{"n":1'), 6)).toBeNull();
    const long = Buffer.from('z'.repeat(1500));
    const f = fingerprintOf(long, 1500);
    expect(f).not.toBeNull();
    expect(fingerprintOf(Buffer.from('z'.repeat(1024) + 'other'), 1029)).toBe(f);
    // A first line of exactly 1023 bytes + '\n' is still a line.
    expect(fingerprintOf(Buffer.from('q'.repeat(1023) + '\n'), 1024)).not.toBe(fingerprintOf(Buffer.from('q'.repeat(1024)), 1024));
  });

  it('salted keys keep the fingerprint they came from', () => {
    const k = saltedKey('abc', 1, 2);
    expect(k).toBe('abc@1:2');
    expect(isSaltedKey(k)).toBe(true);
    expect(keyFingerprint(k)).toBe('abc');
    expect(keyFingerprint('abc')).toBe('abc');
    expect(saltedKey('abc', 1, 2, 1)).toBe('abc@1:2:1');
  });
});
