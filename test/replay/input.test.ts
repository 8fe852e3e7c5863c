import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expandInputs } from '../../src/replay/files.js';
import { DEFAULTS, loadConfig } from '../../src/config/load.js';
import { Aggregator } from '../../src/ingest/aggregate.js';
import { ChunkParser } from '../../src/ingest/chunk.js';
import { Cursor, type ReplayInput } from '../../src/replay/cursor.js';
import { feed } from '../../src/replay/feeder.js';
import { replayRunner } from '../../src/replay/run.js';
import { RuleSet } from '../../src/rules/engine.js';
import { openStore } from '../../src/store/db.js';

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

const quiet = { info() {}, warn() {}, error() {} };
const CONFIG = { retention: { ...loadConfig({}).retention }, cardinality: { ...DEFAULTS.cardinality } };

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
    // A file is read in the format of the config input it belongs to: by its glob, else by its name's pattern.
    const inputs = [{ path: '/var/log/other/*.log', format: 'pino' as const }, { path: path.join(d, '*.log'), format: 'python' as const }];
    expect(expandInputs([path.join(d, 'app.log.2')], inputs)[0]!.format).toBe('python');
    expect(expandInputs([path.join(d, 'app.log.2')], [{ path: '/var/log/other/*.log', format: 'pino' }])[0]!.format).toBe('pino');
    expect(expandInputs([path.join(d, 'app.log.2')], [{ path: '/x/*.json', format: 'pino' }])[0]!.format).toBeUndefined();
    expect(() => expandInputs([path.join(d, 'nope.log')])).toThrow(/nope\.log: cannot read \(ENOENT\)/);
  });

  it('refuses a compressed file given by name, saying how to replay it', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'app.log.3.gz'), '');
    expect(() => expandInputs([path.join(d, 'app.log.3.gz')])).toThrow(/app\.log\.3\.gz: compressed files are not replayed; decompress it first \(gunzip -k /);
  });
});

async function replayed(inputs: ReplayInput[], maxLineBytes = 1024 * 1024) {
  const db = openStore(':memory:');
  const runner = replayRunner({ db, rules: new RuleSet([]), log: quiet });
  const res = await feed(inputs, { db, config: { ...CONFIG, max_line_bytes: maxLineBytes }, runner, stepMs: 15_000 });
  const recent = db.prepare('SELECT file, ts, line FROM recent_lines ORDER BY seq').all() as { file: string; ts: number; line: string }[];
  const errors = db.prepare('SELECT file, start, reason, count FROM parse_errors ORDER BY file, start').all();
  const files = db.prepare('SELECT file, lines, rejected, overlong FROM file_stats ORDER BY file').all();
  db.close();
  return { res, recent, errors, files };
}

describe('a replayed file is split as the tailer splits it', () => {
  it('reads parts as one stream: CRLF, empty lines ignored, a last line without newline not a line yet', async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'a.1'), `${line(0, 'one')}\r\n${line(1, 'two')}\n\n\n${line(2, 'unterminated')}`);
    fs.writeFileSync(path.join(d, 'a'), `${line(3, 'four')}\n`);
    const { res, recent } = await replayed([{ file: 'a', parts: [path.join(d, 'a.1'), path.join(d, 'missing'), path.join(d, 'a')] }]);
    expect(recent.map((r) => JSON.parse(r.line).message)).toEqual(['one', 'two', 'four']);
    expect(res).toMatchObject({ lines: 3, rejected: 0 });
    expect(res.files).toEqual([{ file: 'a', lines: 3, rejected: 0, unterminated: Buffer.byteLength(line(2, 'unterminated')) }]);
  });

  it('reports an overlong line once and goes on after it, across reads', async () => {
    const d = tmp();
    const long = 'x'.repeat(3 * 1024 * 1024);
    fs.writeFileSync(path.join(d, 'big'), `${line(0, 'before')}\n${long}\n${line(1, 'after')}\n${long}`);
    const { recent, files } = await replayed([{ file: 'big', parts: [path.join(d, 'big')] }]);
    expect(recent.map((r) => JSON.parse(r.line).message)).toEqual(['before', 'after']);
    expect(files).toEqual([{ file: 'big', lines: 2, rejected: 2, overlong: 2 }]);
  });

  it('streams a large file through one fixed buffer', () => {
    const d = tmp();
    const file = path.join(d, 'many.log');
    const fd = fs.openSync(file, 'w');
    const chunk = Array.from({ length: 1000 }, (_, i) => line(i, 'x'.repeat(100))).join('\n') + '\n';
    for (let i = 0; i < 50; i++) fs.writeSync(fd, chunk); // ~8 MB
    fs.closeSync(fd);
    const c = new Cursor({ file: 'many', parts: [file] }, 1024 * 1024);
    c.carried = c.firstTime()!;
    const agg = new Aggregator({ recentLines: 0, samplesPerBatch: 10 });
    expect(c.feedUntil(Infinity, new ChunkParser({ recentLines: 0, samplesPerBatch: 10 }), agg, () => {})).toBe(false);
    expect(c.stats.lines).toBe(50_000);
    // The file went through the tailer-sized read buffer (a maximal line and its newline); nothing grew with its size.
    expect((c as unknown as { buf: Buffer }).buf.length).toBe(1024 * 1024 + 1);
  });
});

describe('merging files by the lines\' time', () => {
  it('hands each step the lines of every file up to that time, and no later one', () => {
    const parser = new ChunkParser({ recentLines: 0, samplesPerBatch: 10 });
    const agg = new Aggregator({ recentLines: 0, samplesPerBatch: 10 });
    const c = new Cursor({ file: 'a.log', lines: [{ text: line(0, 'a0') }, { text: line(10, 'a10') }, { text: line(20, 'a20') }, { text: line(5, 'late') }] }, 1024);
    c.carried = c.firstTime()!;
    const at = (sec: number) => (c.feedUntil(T + sec * 1000, parser, agg, () => {}), c.stats.lines);
    expect([at(0), at(9), at(10), at(15)]).toEqual([1, 1, 2, 2]);
    // A late line waits behind the line before it, as the file was written.
    expect(at(20)).toBe(4);
  });

  it("gives a line without a time the previous line's time, and leading ones the first timed line's", async () => {
    const { recent, errors } = await replayed([
      {
        file: 'a.log',
        lines: [{ text: JSON.stringify({ message: 'lead, no time' }) }, { text: 'not json at all' }, { text: line(70, 'a70') }, { text: JSON.stringify({ message: 'no time' }) }, { text: line(80, 'a80') }],
      },
      { file: 'b.log', lines: [{ text: line(75, 'b75') }] },
    ]);
    expect(recent.map((r) => [r.file, (r.ts - T) / 1000, JSON.parse(r.line).message])).toEqual([
      ['a.log', 70, 'lead, no time'],
      ['a.log', 70, 'a70'],
      ['a.log', 70, 'no time'],
      ['b.log', 75, 'b75'],
      ['a.log', 80, 'a80'],
    ]);
    expect(errors).toEqual([{ file: 'a.log', start: T + 60_000, reason: 'not_json', count: 1 }]);
  });

  it("uses an inline line's own time when it has no timestamp", async () => {
    const { errors } = await replayed([{ file: 'a.log', lines: [{ text: line(0, 'a0') }, { text: 'garbage', at: T + 90_000 }, { text: line(100, 'a100') }] }]);
    expect(errors).toEqual([{ file: 'a.log', start: T + 60_000, reason: 'not_json', count: 1 }]);
  });

  it("a file with no timed line at all follows the replay's time, never the epoch", async () => {
    const { errors } = await replayed([
      { file: 'b.log', lines: [{ text: 'junk 1' }, { text: 'junk 2' }] },
      { file: 'a.log', lines: [{ text: line(0, 'a0') }, { text: line(50, 'a50') }] },
    ]);
    expect(errors).toEqual([{ file: 'b.log', start: T, reason: 'not_json', count: 2 }]);
  });
});
