import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expandInputs } from '../../src/replay/files.js';
import { mergeByTime } from '../../src/replay/merge.js';
import { ArrayLineSource, FileLineSource, type LineSource } from '../../src/replay/reader.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-replay-in-'));
  dirs.push(d);
  return d;
}

const T = Date.UTC(2026, 10, 22, 10, 0, 0);
const line = (sec: number, msg: string, extra: Record<string, unknown> = {}) => JSON.stringify({ timestamp: new Date(T + sec * 1000).toISOString(), level: 'INFO', message: msg, ...extra });

function drain(src: LineSource): string[] {
  const out: string[] = [];
  for (let l = src.next(); l !== null; l = src.next()) out.push(l.overlong !== undefined ? `<overlong ${l.overlong}>` : l.text);
  return out;
}

describe('expandInputs', () => {
  it('groups a directory into logical files with their rotations oldest first, skipping compressed and other files', () => {
    const d = tmp();
    for (const f of ['app.log', 'app.log.1', 'app.log.2', 'app.log.10', 'app.log.3.gz', 'errors.log.1', 'errors.log-20261120', 'notes.txt', 'b.log']) fs.writeFileSync(path.join(d, f), '');
    fs.mkdirSync(path.join(d, 'sub.log'));
    const files = expandInputs([d]).map((f) => ({ name: path.basename(f.name), parts: f.parts.map((p) => path.basename(p)) }));
    expect(files).toEqual([
      { name: 'app.log', parts: ['app.log.10', 'app.log.2', 'app.log.1', 'app.log'] },
      { name: 'b.log', parts: ['b.log'] },
      { name: 'errors.log', parts: ['errors.log-20261120', 'errors.log.1'] },
    ]);
  });

  it('takes a file as one stream named without its rotation suffix, and refuses a missing path', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'app.log.2'), '');
    expect(expandInputs([path.join(d, 'app.log.2')])).toEqual([{ name: path.join(d, 'app.log'), parts: [path.join(d, 'app.log.2')] }]);
    expect(() => expandInputs([path.join(d, 'nope.log')])).toThrow(/nope\.log: cannot read \(ENOENT\)/);
  });

  it('refuses a compressed file given by name, saying how to replay it', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'app.log.3.gz'), '');
    expect(() => expandInputs([path.join(d, 'app.log.3.gz')])).toThrow(/app\.log\.3\.gz: compressed files are not replayed; decompress it first \(gunzip -k /);
  });
});

describe('FileLineSource', () => {
  it('reads parts as one stream: CRLF, a last line without newline, empty lines', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'a.1'), 'one\r\ntwo\n\nthree');
    fs.writeFileSync(path.join(d, 'a'), 'four\n');
    expect(drain(new FileLineSource('a', [path.join(d, 'a.1'), path.join(d, 'missing'), path.join(d, 'a')], 1024))).toEqual(['one', 'two', '', 'three', 'four']);
  });

  it('reports an overlong line once and goes on after it, across buffer refills', () => {
    const d = tmp();
    const long = 'x'.repeat(3 * 1024 * 1024);
    fs.writeFileSync(path.join(d, 'big'), `before\n${long}\nafter\n${long}`);
    const out = drain(new FileLineSource('big', [path.join(d, 'big')], 1024 * 1024));
    expect(out).toHaveLength(4);
    expect(out[0]).toBe('before');
    expect(out[1]).toMatch(/^<overlong \d+>$/);
    expect(out[2]).toBe('after');
    expect(out[3]).toMatch(/^<overlong \d+>$/);
  });

  it('streams a large file through one fixed buffer', () => {
    const d = tmp();
    const file = path.join(d, 'many.log');
    const fd = fs.openSync(file, 'w');
    const chunk = Array.from({ length: 1000 }, (_, i) => line(i, 'x'.repeat(100))).join('\n') + '\n';
    for (let i = 0; i < 50; i++) fs.writeSync(fd, chunk); // ~8 MB
    fs.closeSync(fd);
    const src = new FileLineSource('many', [file], 1024 * 1024);
    let n = 0;
    for (let l = src.next(); l !== null; l = src.next()) n++;
    expect(n).toBe(50_000);
    // The file went through the 1 MiB read buffer; nothing grew with its size.
    expect((src as unknown as { buf: Buffer }).buf.length).toBe(1024 * 1024);
  });
});

describe('mergeByTime', () => {
  it('interleaves sources by timestamp; equal times keep the sources\' order', () => {
    const a = new ArrayLineSource('a.log', [{ text: line(0, 'a0') }, { text: line(10, 'a10') }, { text: line(20, 'a20') }]);
    const b = new ArrayLineSource('b.log', [{ text: line(5, 'b5') }, { text: line(10, 'b10') }, { text: line(30, 'b30') }]);
    const out = [...mergeByTime([a, b])].map((m) => `${m.file}:${m.event!.message}`);
    expect(out).toEqual(['a.log:a0', 'b.log:b5', 'a.log:a10', 'b.log:b10', 'a.log:a20', 'b.log:b30']);
  });

  it('gives a line without a time the previous line\'s time, and leading ones the first timed line\'s', () => {
    const a = new ArrayLineSource('a.log', [
      { text: JSON.stringify({ message: 'lead, no time' }) },
      { text: 'not json at all' },
      { text: line(10, 'a10') },
      { text: JSON.stringify({ message: 'no time' }) },
      { text: line(20, 'a20') },
    ]);
    const b = new ArrayLineSource('b.log', [{ text: line(15, 'b15') }]);
    const out = [...mergeByTime([a, b])].map((m) => [m.file, (m.ts - T) / 1000, m.event ? m.event.message : `rejected:${m.rejected!.reason}`]);
    expect(out).toEqual([
      ['a.log', 10, 'lead, no time'],
      ['a.log', 10, 'rejected:not_json'],
      ['a.log', 10, 'a10'],
      ['a.log', 10, 'no time'],
      ['b.log', 15, 'b15'],
      ['a.log', 20, 'a20'],
    ]);
  });

  it('uses an inline line\'s own time hint when it has no timestamp', () => {
    const a = new ArrayLineSource('a.log', [{ text: line(0, 'a0') }, { text: 'garbage', at: T + 7000 }, { text: line(9, 'a9') }]);
    expect([...mergeByTime([a])].map((m) => (m.ts - T) / 1000)).toEqual([0, 7, 9]);
  });

  it('a source with no timed line at all follows the replay\'s time, never the epoch', () => {
    const a = new ArrayLineSource('a.log', [{ text: line(0, 'a0') }, { text: line(50, 'a50') }]);
    const b = new ArrayLineSource('b.log', [{ text: 'junk 1' }, { text: 'junk 2' }]);
    const out = [...mergeByTime([b, a], 12345)].map((m) => [m.file, m.ts]);
    expect(out).toEqual([
      ['b.log', T],
      ['b.log', T],
      ['a.log', T],
      ['a.log', T + 50_000],
    ]);
    const c = new ArrayLineSource('c.log', [{ text: 'junk' }]);
    expect([...mergeByTime([c], 12345)].map((m) => m.ts)).toEqual([12345]);
  });
});
