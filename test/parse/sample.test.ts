import { describe, expect, it } from 'vitest';
import { sampleText } from '../../src/parse/sample.js';

describe('sampleText', () => {
  it('returns short printable text unchanged', () => {
    expect(sampleText('hello {"a":1}')).toBe('hello {"a":1}');
    expect(sampleText(Buffer.from('héllo 😀'))).toBe('héllo 😀');
  });

  it('escapes NUL, control characters and text-reordering characters', () => {
    expect(sampleText('a\u0000b\tc\u001bd\u007f')).toBe('a\\u0000b\\u0009c\\u001bd\\u007f');
    expect(sampleText('x\u202ey\u2028z\ufeff')).toBe('x\\u202ey\\u2028z\\ufeff');
    expect(sampleText(Buffer.from([0x61, 0x00, 0x0a, 0x62]))).toBe('a\\u0000\\u000ab');
  });

  it('shows invalid UTF-8 and lone surrogates as U+FFFD', () => {
    expect(sampleText(Buffer.from([0x61, 0xff, 0xc3, 0x62]))).toBe('a\uFFFD\uFFFDb');
    expect(sampleText('a\ud800b\udc00')).toBe('a\uFFFDb\uFFFD');
  });

  it('cuts long input and says how many bytes the whole line had', () => {
    const s = 'x'.repeat(5000);
    expect(sampleText(s, 100)).toBe('x'.repeat(100) + '…(5000 bytes)');
    expect(sampleText(Buffer.from(s), 100)).toBe('x'.repeat(100) + '…(5000 bytes)');
    expect(sampleText('é'.repeat(3000), 10)).toBe('é'.repeat(10) + '…(6000 bytes)');
    expect(sampleText('x'.repeat(2048))).toBe('x'.repeat(2048));
  });

  it('never exceeds maxChars before the suffix, even when escapes expand', () => {
    const out = sampleText('\u0000'.repeat(1000), 20);
    expect(out).toBe('\\u0000'.repeat(3) + '…(1000 bytes)');
  });

  it('does not invent a U+FFFD where it cuts a multi-byte character', () => {
    const buf = Buffer.from('€'.repeat(1000)); // 3 bytes each
    const out = sampleText(buf, 5);
    expect(out).toBe('€'.repeat(5) + '…(3000 bytes)');
    const small = sampleText(Buffer.from('ab€€€€€€€€'), 3);
    expect(small).toBe('ab€…(26 bytes)');
  });

  it('handles a 50 MB buffer quickly enough and boundedly', () => {
    const out = sampleText(Buffer.alloc(50 * 1024 * 1024, 0x41));
    expect(out.length).toBeLessThan(2100);
    expect(out.endsWith('…(52428800 bytes)')).toBe(true);
  });
});
