import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitChunk } from '../../src/tail/split.js';
import { CollectSink } from './helpers.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/rotation/split');

describe('splitChunk', () => {
  it('delivers complete lines and leaves the partial tail unconsumed', () => {
    const sink = new CollectSink();
    const out = splitChunk(Buffer.from('one\ntwo\r\n\nthr'), false, 100, sink, 'f');
    expect(sink.got).toEqual(['one', 'two']);
    expect(out).toEqual({ consumed: 10, lines: 2, skipping: false });
  });

  it('a line of exactly maxLineBytes is delivered, one byte more is over-long', () => {
    const sink = new CollectSink();
    splitChunk(Buffer.from(`${'a'.repeat(8)}\n${'b'.repeat(9)}\nok\n`), false, 8, sink, 'f');
    expect(sink.got).toEqual(['a'.repeat(8), 'ok']);
    expect(sink.overlongs).toEqual([{ path: 'f', bytes: 9 }]);
  });

  it('a partial tail longer than maxLineBytes starts skipping; skipping ends at the next newline', () => {
    const sink = new CollectSink();
    const a = splitChunk(Buffer.from(`x\n${'y'.repeat(20)}`), false, 8, sink, 'f');
    expect(a).toEqual({ consumed: 22, lines: 1, skipping: true });
    const b = splitChunk(Buffer.from('y'.repeat(30)), true, 8, sink, 'f');
    expect(b).toEqual({ consumed: 30, lines: 0, skipping: true });
    const c = splitChunk(Buffer.from('yy\nz\n'), true, 8, sink, 'f');
    expect(c).toEqual({ consumed: 5, lines: 1, skipping: false });
    expect(sink.got).toEqual(['x', 'z']);
    expect(sink.overlongs.length).toBe(1);
  });

  it('works on a view whose buffer holds stale bytes past the end', () => {
    const buf = Buffer.from('new\nstale\n');
    const sink = new CollectSink();
    const out = splitChunk(buf.subarray(0, 6), false, 100, sink, 'f');
    expect(sink.got).toEqual(['new']);
    expect(out.consumed).toBe(4);
  });

  // Golden fixtures: fixtures/rotation/<case>.log split with maxLineBytes 64 gives <case>.out.
  for (const name of fs.readdirSync(FIXTURES).filter((n) => n.endsWith('.log'))) {
    it(`fixture ${name}`, () => {
      const sink = new CollectSink();
      const input = fs.readFileSync(path.join(FIXTURES, name));
      const out = splitChunk(input, false, 64, sink, name);
      const expected = fs.readFileSync(path.join(FIXTURES, name.replace(/\.log$/, '.out')), 'utf8');
      const actual = [...sink.got.map((l) => `line ${l}`), ...sink.overlongs.map((o) => `overlong ${o.bytes}`), `consumed ${out.consumed} of ${input.length}`].join('\n') + '\n';
      expect(actual).toBe(expected);
    });
  }
});
