import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintPath } from '../../src/tail/fingerprint.js';
import { Tailer } from '../../src/tail/tailer.js';
import { append, CollectSink, Harness, line, lines, range, rmDir, tempDir } from './helpers.js';

let dir: string;
let log: string;
beforeEach(() => {
  dir = tempDir();
  log = path.join(dir, 'app.log');
});
afterEach(() => rmDir(dir));

const input = () => [{ path: path.join(dir, '*.log') }];
/** Lines 1..`to` written and read, then vigil stops. */
function readThenStop(h: Harness, to: number): void {
  append(log, 1, to);
  h.pump();
  h.stop();
}

/** Files that all begin with the same header line (W3C/IIS style): the first line tells them apart no more. */
const HEADER = '#Software: Microsoft Internet Information Services 10.0\n';

describe('reading', () => {
  it('holds a partial last line until its newline arrives and never checkpoints past it', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 10);
    const partial = line(11).slice(0, 30);
    fs.appendFileSync(log, partial);
    expect(h.pump()).toBe(10);
    const cp = [...h.committed.values()][0]!;
    expect(cp.offset).toBe(Buffer.byteLength(lines(1, 10)));
    expect(h.pump()).toBe(0);
    fs.appendFileSync(log, line(11).slice(30));
    expect(h.pump()).toBe(1);
    expect(h.sink.numbers()).toEqual(range(1, 11));
    expect([...h.committed.values()][0]!.offset).toBe(fs.statSync(log).size);
    h.close();
  });

  it('begin() tells the file of each read and the file offset of buf[0]', () => {
    const h = new Harness({ inputs: input(), maxLineBytes: 200, readChunkBytes: 512 });
    append(log, 1, 20);
    const text = fs.readFileSync(log);
    const seen: string[] = [];
    let base = -1;
    let file = '';
    const sink = {
      begin: (p: string, offset: number) => {
        file = p;
        base = offset;
      },
      line: (buf: Buffer, start: number, end: number) => {
        // The line's position in the file holds the same bytes.
        expect(text.toString('utf8', base + start, base + end)).toBe(buf.toString('utf8', start, end));
        seen.push(file);
      },
      overlong: () => {},
    };
    h.tailer.scan();
    while (h.tailer.readNext(sink)) {
      /* drain */
    }
    expect(seen.length).toBe(20);
    expect(new Set(seen)).toEqual(new Set([log]));
    h.close();
  });

  it('strips CR of CRLF lines and skips empty lines', () => {
    const h = new Harness({ inputs: input() });
    fs.writeFileSync(log, `${line(1).trimEnd()}\r\n\n\r\n${line(2).trimEnd()}\r\n`);
    expect(h.pump()).toBe(2);
    expect(h.sink.got.every((l) => !l.endsWith('\r'))).toBe(true);
    expect(h.sink.numbers()).toEqual([1, 2]);
    h.close();
  });

  it('splits correctly when lines straddle small read chunks', () => {
    const h = new Harness({ inputs: input(), maxLineBytes: 200, readChunkBytes: 250 });
    append(log, 1, 500);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 500));
    h.close();
  });

  it('maxBytes caps one read but never below one maximal line', () => {
    const h = new Harness({ inputs: input(), maxLineBytes: 300 });
    append(log, 1, 100);
    h.tailer.scan();
    const r = h.tailer.readNext(h.sink, 1000)!;
    expect(r.bytes).toBeLessThanOrEqual(1000);
    let fit = 0;
    for (let used = 0; used + line(fit + 1).length <= 1000; fit++) used += line(fit + 1).length;
    expect(r.lines).toBe(fit);
    expect(r.atEof).toBe(false);
    h.pump(10);
    expect(h.sink.numbers()).toEqual(range(1, 100));
    h.close();
  });

  it('counts an over-long line once, skips it across reads, and goes on', () => {
    const h = new Harness({ inputs: input(), maxLineBytes: 1024, readChunkBytes: 4096 });
    const big = (n: number, bytes: number) => `{"n":${n},"tag":"long","pad":"${'y'.repeat(bytes)}"}\n`;
    fs.writeFileSync(log, lines(1, 5) + big(0, 10 * 1024) + lines(6, 10) + big(0, 10 * 1024) + big(0, 5_000_000) + lines(11, 20));
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 20));
    expect(h.sink.overlongs.length).toBe(3);
    expect(h.sink.overlongs.every((o) => o.bytes > 1024 && o.path === log)).toBe(true);
    h.close();
  });

  it('a complete over-long line in one chunk is reported with its full length', () => {
    const h = new Harness({ inputs: input(), maxLineBytes: 1024 });
    const long = `{"n":0,"pad":"${'z'.repeat(10_000)}"}`;
    fs.writeFileSync(log, lines(1, 3) + long + '\n' + lines(4, 6));
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 6));
    expect(h.sink.overlongs).toEqual([{ path: log, bytes: Buffer.byteLength(long) }]);
    h.close();
  });

  it('a restart inside an over-long line keeps skipping instead of parsing its tail', () => {
    const h = new Harness({ inputs: input(), maxLineBytes: 1024, readChunkBytes: 4096 });
    fs.writeFileSync(log, lines(1, 5) + '{"n":0,"pad":"' + 'q'.repeat(3_000_000));
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 5));
    expect(h.sink.overlongs.length).toBe(1);
    const cp = [...h.committed.values()][0]!;
    expect(cp.skipping).toBe(true);
    expect(cp.offset).toBe(fs.statSync(log).size);
    h.restart();
    // The tail of the long line ends with a JSON-looking fragment that must not come out as a line.
    fs.appendFileSync(log, 'q'.repeat(1000) + '","tag":"a","n":999}\n' + lines(6, 10));
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 10));
    expect(h.sink.overlongs.length).toBe(1);
    expect([...h.committed.values()][0]!.skipping).toBe(false);
    h.close();
  });

  it('a checkpoint fed with skipping=true discards up to the next newline', () => {
    fs.writeFileSync(log, lines(1, 3) + 'tail-of-a-long-line","n":5}\n' + lines(4, 6));
    const offset = Buffer.byteLength(lines(1, 3)) + 4;
    const st = fs.statSync(log);
    const cp = { fingerprint: fingerprintPath(log)!, path: log, dev: st.dev, ino: st.ino, offset, skipping: true };
    const h = new Harness({ inputs: input() }, [cp]);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(4, 6));
    expect(h.sink.overlongs.length).toBe(0);
    h.close();
  });

  it('rewind goes back to the last committed checkpoint', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 10);
    h.pump();
    const good = h.committed.get([...h.committed.keys()][0]!)!;
    append(log, 11, 20);
    h.tailer.scan();
    const sink = new CollectSink();
    const r = h.tailer.readNext(sink)!;
    expect(sink.numbers()).toEqual(range(11, 20));
    expect(h.tailer.rewind(r.streamId, good)).toBe(true);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 20));
    expect(h.tailer.rewind('no-such-stream', good)).toBe(false);
    h.close();
  });

  it('start_at end skips what is there at the first scan, not files that appear later', () => {
    append(log, 1, 10);
    fs.appendFileSync(log, line(11).slice(0, 20));
    const h = new Harness({ inputs: [{ path: path.join(dir, '*.log'), start_at: 'end' }] });
    expect(h.pump()).toBe(0);
    fs.appendFileSync(log, line(11).slice(20));
    append(log, 12, 15);
    append(path.join(dir, 'other.log'), 1, 5, 'o');
    h.pump();
    expect(h.sink.numbers()).toEqual(range(11, 15));
    expect(h.sink.numbers('o')).toEqual(range(1, 5));
    h.close();
  });

  it('files() reports size, offset and lag', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 10);
    h.tailer.scan();
    let [st] = h.tailer.files();
    expect(st).toMatchObject({ path: log, state: 'live', offset: 0, lagBytes: fs.statSync(log).size, lastReadAt: null, skipping: false });
    h.pump();
    [st] = h.tailer.files();
    expect(st).toMatchObject({ offset: fs.statSync(log).size, lagBytes: 0, lastReadAt: h.clock });
    h.close();
  });
});

describe('rotation', () => {
  it('rename+create: drains the renamed file, including writes through the old descriptor', () => {
    const h = new Harness({ inputs: input() });
    const oldFd = fs.openSync(log, 'a');
    fs.writeSync(oldFd, lines(1, 100));
    h.pump();
    fs.writeSync(oldFd, lines(101, 150));
    fs.renameSync(log, `${log}.1`);
    fs.writeSync(oldFd, lines(151, 170)); // the writer has not reopened yet
    append(log, 171, 200);
    h.pump();
    fs.writeSync(oldFd, lines(201, 210)); // a late write to the rotated file
    fs.closeSync(oldFd);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 210));
    h.restart();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 210));
    h.close();
  });

  it('copytruncate: the copy is read from where the truncated file was left, once', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 100);
    h.pump();
    append(log, 101, 120); // after our last read, before the copy
    fs.copyFileSync(log, `${log}.1`);
    fs.truncateSync(log, 0);
    append(log, 121, 130);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 130));
    h.restart();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 130));
    h.close();
  });

  it('copytruncate: a copy seen before the truncate is a shadow, never read', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 100);
    h.pump();
    append(log, 101, 120);
    fs.copyFileSync(log, `${log}.1`);
    h.pump(); // reads 101..120 from the live file; the copy holds the same lines
    expect(h.sink.numbers()).toEqual(range(1, 120));
    expect(h.tailer.files().map((f) => f.path)).toEqual([log]);
    fs.truncateSync(log, 0);
    append(log, 121, 125);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 125));
    h.close();
  });

  it('rename+create where every file begins with the same header line: the new file is read, not taken for a copy', () => {
    const h = new Harness({ inputs: input() });
    fs.writeFileSync(log, HEADER + lines(1, 50));
    h.pump();
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, HEADER + lines(51, 60)); // same first line, other content
    h.pump();
    append(log, 61, 70);
    h.pump();
    expect(h.sink.numbersAndJunk(HEADER)).toEqual({ nums: range(1, 70), junk: [] }); // before: 51..70 waited until app.log.1 left the view
    expect(h.tailer.files().map((f) => path.basename(f.path)).sort()).toEqual(['app.log', 'app.log.1']);
    h.close();
  });

  it('copytruncate: a restart between the copy and the truncate reads nothing twice', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 100);
    h.pump();
    append(log, 101, 120);
    fs.copyFileSync(log, `${log}.1`);
    h.restart();
    h.pump();
    fs.truncateSync(log, 0);
    append(log, 121, 125);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 125));
    h.close();
  });

  it('copytruncate: the truncated file rewritten past the old offset is caught by its fingerprint', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 50);
    h.pump();
    append(log, 51, 60);
    fs.copyFileSync(log, `${log}.1`);
    fs.truncateSync(log, 0);
    append(log, 61, 400); // larger than before: only the first line tells
    expect(fs.statSync(log).size).toBeGreaterThan(fs.statSync(`${log}.1`).size);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 400));
    h.close();
  });

  it('copytruncate: a copy shorter than what was already read from the live file yields nothing, before and after a restart', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 100);
    h.pump();
    fs.copyFileSync(log, `${log}.1`);
    append(log, 101, 110); // read from the live file while the copy sits there
    h.pump();
    fs.truncateSync(log, 0);
    append(log, 111, 120);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 120));
    h.restart();
    append(log, 121, 125);
    h.pump();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 125));
    expect(h.committed.size).toBe(2);
    h.close();
  });

  it('copytruncate loses lines written between the copy and the truncate (inherent), and only those', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 50);
    h.pump();
    fs.copyFileSync(log, `${log}.1`);
    append(log, 51, 55); // lands after the copy, then is truncated away
    fs.truncateSync(log, 0);
    append(log, 56, 60);
    h.pump();
    expect(h.sink.numbers()).toEqual([...range(1, 50), ...range(56, 60)]);
    h.close();
  });

  it('plain truncation: new content is a new stream from 0 and the old one is released', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 50);
    h.pump();
    const oldKey = [...h.committed.keys()][0]!;
    fs.truncateSync(log, 0);
    h.tailer.scan();
    expect(h.tailer.takeReleased()).toEqual([oldKey]);
    append(log, 51, 60);
    h.pump();
    fs.writeFileSync(log, ''); // `: > app.log`
    append(log, 61, 300); // rewritten past the old offset before we look
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 300));
    h.close();
  });

  it('a file deleted while a writer still holds it is drained, then released after the grace period', () => {
    const h = new Harness({ inputs: input(), orphanGraceMs: 5000 });
    const fd = fs.openSync(log, 'a');
    fs.writeSync(fd, lines(1, 50));
    h.pump();
    const key = [...h.committed.keys()][0]!;
    fs.unlinkSync(log);
    fs.writeSync(fd, lines(51, 60));
    h.pump();
    expect(h.tailer.files()[0]!.state).toBe('vanished');
    h.clock += 4000;
    fs.writeSync(fd, lines(61, 70));
    h.pump();
    h.clock += 4000; // 4 s after the last growth: still held
    h.tailer.scan();
    expect(h.tailer.files().length).toBe(1);
    h.clock += 1000;
    h.tailer.scan();
    expect(h.tailer.files().length).toBe(0);
    expect(h.tailer.takeReleased()).toEqual([key]);
    fs.closeSync(fd);
    expect(h.sink.numbers()).toEqual(range(1, 70));
    h.close();
  });

  it('inode reuse: a new file on a checkpointed inode is a new stream from 0', () => {
    const h = new Harness({ inputs: input() });
    readThenStop(h, 50);
    const old = [...h.committed.values()][0]!;
    fs.unlinkSync(log);
    append(log, 1, 30, 'b');
    const st = fs.statSync(log);
    // Whether or not the filesystem handed out the same inode, make the checkpoint claim it.
    h.committed.set(old.fingerprint, { ...old, dev: st.dev, ino: st.ino });
    h.restart();
    h.pump();
    h.pump();
    expect(h.sink.numbers('b')).toEqual(range(1, 30));
    expect(h.sink.numbers('a')).toEqual(range(1, 50));
    // Its own file is never found again: the checkpoint goes once forgetAfterMs has passed.
    h.clock += 3_600_000;
    h.pump();
    expect(h.committed.has(old.fingerprint)).toBe(false);
    h.close();
  });

  it('two rotations while stopped: exactly the unread lines, oldest file first', () => {
    const h = new Harness({ inputs: input() });
    readThenStop(h, 100);
    append(log, 101, 150);
    fs.renameSync(log, `${log}.1`);
    append(log, 151, 200);
    fs.renameSync(`${log}.1`, `${log}.2`);
    fs.renameSync(log, `${log}.1`);
    append(log, 201, 250);
    h.restart();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 250));
    h.close();
  });

  it('a rotated file is found under its new name after a restart', () => {
    const h = new Harness({ inputs: input() });
    readThenStop(h, 100);
    fs.renameSync(log, `${log}.1`);
    append(`${log}.1`, 101, 120);
    append(log, 121, 130);
    h.restart();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 130));
    h.close();
  });

  it('two rotations while reading fell behind are read oldest first', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 10);
    h.pump();
    append(log, 11, 20);
    fs.renameSync(log, `${log}.1`);
    append(log, 21, 30);
    fs.renameSync(`${log}.1`, `${log}.2`);
    fs.renameSync(log, `${log}.1`);
    append(log, 31, 40);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 40));
    h.close();
  });

  it('dateext siblings are read oldest date first; compressed ones are ignored', () => {
    append(`${log}-20261121`, 1, 10);
    append(`${log}-2026112206`, 11, 20);
    append(`${log}-20261123`, 21, 30);
    append(log, 31, 40);
    fs.writeFileSync(`${log}-20261120.gz`, zlib.gzipSync(lines(1000, 1010)));
    fs.writeFileSync(`${log}.5.gz`, zlib.gzipSync(lines(2000, 2010)));
    const h = new Harness({ inputs: input() });
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 40));
    expect(h.tailer.files().map((f) => path.basename(f.path)).sort()).toEqual(['app.log', 'app.log-20261121', 'app.log-2026112206', 'app.log-20261123']);
    h.close();
  });

  it('rotated siblings stay tailed while the live name is briefly missing', () => {
    const h = new Harness({ inputs: input(), orphanGraceMs: 0 });
    append(log, 1, 10);
    h.pump();
    fs.renameSync(log, `${log}.1`);
    h.clock += 10_000;
    h.pump(); // no app.log at all now
    expect(h.tailer.takeReleased()).toEqual([]);
    append(`${log}.1`, 11, 15);
    append(log, 16, 20);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 20));
    h.close();
  });

  it('a rotated file deleted by the next rotation is released (its checkpoint can go)', () => {
    const h = new Harness({ inputs: input(), orphanGraceMs: 0 });
    append(log, 1, 10);
    h.pump();
    fs.renameSync(log, `${log}.1`);
    append(log, 11, 20);
    h.pump();
    expect(h.committed.size).toBe(2);
    fs.unlinkSync(`${log}.1`);
    h.pump();
    expect(h.committed.size).toBe(1);
    expect(h.sink.numbers()).toEqual(range(1, 20));
    h.close();
  });

  it('a checkpoint whose file was deleted while stopped is released once it has been missing for forgetAfterMs', () => {
    const h = new Harness({ inputs: input(), forgetAfterMs: 60_000 });
    readThenStop(h, 10);
    fs.unlinkSync(log);
    h.restart();
    h.pump();
    h.pump();
    h.clock += 59_999;
    h.pump();
    // A scan can race a rotation and miss a file that is only changing names: scans alone
    // never drop a checkpoint.
    expect(h.committed.size).toBe(1);
    h.clock += 1;
    h.pump();
    expect(h.committed.size).toBe(0);
    expect(h.logs.some((l) => l.msg === 'file not seen for a long time; its checkpoint is dropped')).toBe(true);
    h.close();
  });

  /**
   * 1..10 in a rotated app.log.1, 11..20 in app.log, both read; then app.log.1 moved out of
   * the glob's view (as a scan racing a rotation cascade sees it, or an operator's mv) for
   * `scans` scans. Returns where it is now.
   */
  const rotatedThenAside = (h: Harness, scans: number): string => {
    append(log, 1, 10);
    h.pump();
    fs.renameSync(log, `${log}.1`);
    append(log, 11, 20);
    h.pump();
    const aside = path.join(dir, 'aside');
    fs.renameSync(`${log}.1`, aside);
    for (let i = 0; i < scans; i++) h.pump();
    return aside;
  };

  it('a rotated file out of view for a while and back is read on from its offset, never again from 0', () => {
    const h = new Harness({ inputs: input(), orphanGraceMs: 0 });
    const aside = rotatedThenAside(h, 5);
    expect(h.logs.some((l) => l.msg === 'file left the watched paths; its offset is kept in case it comes back')).toBe(true);
    expect(h.tailer.files().map((f) => path.basename(f.path))).toEqual(['app.log']); // its descriptor is closed
    expect(h.committed.size).toBe(2); // and its checkpoint kept
    append(aside, 21, 25, 'late');
    fs.renameSync(aside, `${log}.2`);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 20));
    expect(h.sink.numbers('late')).toEqual(range(21, 25));
    expect(h.logs.some((l) => l.msg === 'file is back in view; reading on from its offset')).toBe(true);
    h.close();
  });

  it('a file out of view across a restart is still read on from its checkpoint when it is back', () => {
    const h = new Harness({ inputs: input(), orphanGraceMs: 0 });
    const aside = rotatedThenAside(h, 3);
    h.restart();
    h.pumpScans(3);
    fs.renameSync(aside, `${log}.1`);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 20));
    h.close();
  });

  it('a file out of view is forgotten after forgetAfterMs; its descriptor was already closed', () => {
    const h = new Harness({ inputs: input(), orphanGraceMs: 0, forgetAfterMs: 1000 });
    append(log, 1, 10);
    h.pump();
    const key = [...h.committed.keys()][0]!;
    fs.renameSync(log, path.join(dir, 'aside'));
    h.pump();
    h.pump();
    expect(h.tailer.files()).toEqual([]);
    h.clock += 1000;
    h.pump();
    h.pump();
    expect(h.committed.has(key)).toBe(false);
    h.close();
  });
});

describe('compressed rotations (logrotate compress)', () => {
  /** Rotate like logrotate with `compress`: app.log → app.log.1.gz (gzip writes a new file, the plain one goes). */
  const compressRotate = (from: string, to: string) => {
    fs.writeFileSync(to, zlib.gzipSync(fs.readFileSync(from)));
    fs.unlinkSync(from);
  };

  it('a file compressed while vigil was stopped is finished from the .gz at its offset: nothing lost, nothing twice', () => {
    const h = new Harness({ inputs: input() });
    append(log, 1, 40);
    expect(h.pump()).toBe(40);
    h.stop();
    append(log, 41, 60); // written while stopped
    compressRotate(log, `${log}.1.gz`);
    append(log, 61, 70); // the new live file
    h.restart();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 70));
    expect(h.logs.some((l) => l.msg.startsWith('file was compressed before it was read to its end'))).toBe(true);
    // Read to its end, the rotation is not inflated or read again, whatever it is renamed to.
    fs.renameSync(`${log}.1.gz`, `${log}.2.gz`);
    h.clock += 10_000;
    h.pump();
    h.restart();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 70));
    h.close();
  });

  it('two rotations while stopped (compress + delaycompress): the .gz and the plain .1 are each read once, oldest first', () => {
    const h = new Harness({ inputs: input() });
    readThenStop(h, 10);
    append(log, 11, 20);
    fs.renameSync(log, `${log}.1`); // first rotation: delaycompress keeps .1 plain
    append(log, 21, 30);
    compressRotate(`${log}.1`, `${log}.2.gz`); // second rotation: .1 is compressed to .2.gz
    fs.renameSync(log, `${log}.1`);
    append(log, 31, 40);
    h.restart();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 40));
    h.close();
  });

  it('a crash while reading the inflated content resumes from the checkpoint inside it', () => {
    const h = new Harness({ inputs: input(), readChunkBytes: 4096, maxLineBytes: 1024 });
    readThenStop(h, 10);
    append(log, 11, 400);
    compressRotate(log, `${log}.1.gz`);
    h.restart();
    h.tailer.scan();
    const r = h.tailer.readNext(h.sink, 4096)!; // one chunk of the inflated content, then a crash
    h.committed.set(r.streamId, r.checkpoint);
    expect(r.checkpoint.path).toBe(`${log}.1.gz`);
    const readBefore = h.sink.numbers().length;
    expect(readBefore).toBeGreaterThan(10);
    expect(readBefore).toBeLessThan(400);
    h.restart();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 400));
    h.close();
  });

  // With a header line, the first line says nothing; the checkpoint's tail does.
  it('a .gz that only begins like the checkpoint\'s file (same header line) is not taken for it', () => {
    const h = new Harness({ inputs: input(), orphanGraceMs: 0 });
    fs.writeFileSync(log, HEADER + lines(1, 5)); // A, read to its end
    h.pump();
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, HEADER + lines(101, 150)); // B: same first line
    h.pump();
    h.stop();
    fs.appendFileSync(log, lines(151, 160));
    compressRotate(`${log}.1`, `${log}.2.gz`);
    compressRotate(log, `${log}.1.gz`);
    fs.writeFileSync(log, '');
    h.restart();
    h.pumpScans(4, 1000);
    const { nums, junk } = h.sink.numbersAndJunk(HEADER);
    expect(junk).toEqual([]); // never read from A's offset inside B's content
    expect(nums.filter((n, i) => nums.indexOf(n) !== i)).toEqual([]);
    expect(nums.slice(0, 5)).toEqual(range(1, 5));
    h.close();
  });

  it('a stream finished from a .gz, then a later .gz with the same header: each file once', () => {
    const h = new Harness({ inputs: input(), orphanGraceMs: 0 });
    fs.writeFileSync(log, HEADER + lines(1, 10));
    h.pump();
    h.stop();
    fs.appendFileSync(log, lines(11, 20));
    compressRotate(log, `${log}.1.gz`);
    fs.writeFileSync(log, ''); // logrotate create
    h.restart();
    h.pump();
    h.clock += 1000;
    h.pump(); // A finished from .1.gz: away, remembered
    fs.appendFileSync(log, HEADER + lines(21, 60)); // C: same first line, salted key
    h.clock += 1000;
    h.pump();
    h.stop();
    fs.appendFileSync(log, lines(61, 70)); // while stopped
    fs.renameSync(`${log}.1.gz`, `${log}.2.gz`);
    compressRotate(log, `${log}.1.gz`);
    fs.writeFileSync(log, '');
    h.restart();
    h.pumpScans(4, 1000);
    const { nums, junk } = h.sink.numbersAndJunk(HEADER);
    expect(junk).toEqual([]);
    expect(nums).toEqual(range(1, 70)); // C's tail is read from its own .gz, A never takes it
    h.close();
  });

  it('a failed commit after the inflated content was drained: rewinding reads it again (once)', () => {
    const h = new Harness({ inputs: input(), orphanGraceMs: 0 });
    readThenStop(h, 10);
    append(log, 11, 20);
    compressRotate(log, `${log}.1.gz`);
    h.restart();
    h.tailer.scan();
    const before = h.tailer.checkpoints()[0]!;
    expect(h.tailer.readNext(h.sink)!.lines).toBe(10);
    h.clock += 1000;
    h.tailer.scan(); // drained: remembered as read
    expect(h.tailer.rewind(before.fingerprint, before)).toBe(true); // …but its commit failed
    expect(h.pumpScans(3, 1000)).toBe(10);
    h.close();
  });

  it('a compressed file that continues no checkpoint is not read, and a corrupt one is skipped with a warning', () => {
    const h = new Harness({ inputs: input() });
    readThenStop(h, 10);
    append(log, 11, 2000);
    const gz = zlib.gzipSync(fs.readFileSync(log));
    fs.writeFileSync(`${log}.1.gz`, Buffer.concat([gz.subarray(0, gz.length >> 1), gz.subarray(gz.length - 8)])); // its middle is missing
    fs.unlinkSync(log);
    fs.writeFileSync(`${log}.3.gz`, zlib.gzipSync(lines(500, 510))); // unrelated history
    append(log, 21, 25);
    h.restart();
    h.pumpScans(3); // the family waits two scans for the checkpoint's file, as when it is gone
    expect(h.sink.numbers()).toEqual([...range(1, 10), ...range(21, 25)]);
    expect(h.logs.some((l) => l.level === 'warn' && l.msg.startsWith(`cannot inflate ${log}.1.gz`))).toBe(true);
    h.close();
  });
});

describe('identity', () => {
  it('a file with no complete first line under 1024 bytes is not read yet', () => {
    const h = new Harness({ inputs: input() });
    fs.writeFileSync(log, '{"n":1,"tag":"a"');
    h.pump();
    expect(h.tailer.files()).toEqual([]);
    fs.appendFileSync(log, '}\n');
    h.pump();
    expect(h.sink.numbers()).toEqual([1]);
    h.close();
  });

  it('two unrelated files with the same first line are separate streams, across a restart', () => {
    const b = path.join(dir, 'other.log');
    const header = '{"msg":"service started"}\n';
    fs.writeFileSync(log, header + lines(1, 10, 'a'));
    fs.writeFileSync(b, header + lines(1, 10, 'b'));
    const h = new Harness({ inputs: input() });
    h.pump();
    expect(h.committed.size).toBe(2);
    h.restart();
    append(log, 11, 20, 'a');
    append(b, 11, 20, 'b');
    h.pump();
    expect(h.sink.numbers('a')).toEqual(range(1, 20));
    expect(h.sink.numbers('b')).toEqual(range(1, 20));
    h.close();
  });

  it('globs with ** and several inputs; the same file matched twice is read once', () => {
    const sub = path.join(dir, 'svc', 'worker');
    fs.mkdirSync(sub, { recursive: true });
    append(path.join(sub, 'media.log'), 1, 5, 'm');
    append(log, 1, 5);
    const h = new Harness({ inputs: [{ path: path.join(dir, '**', '*.log') }, { path: log }] });
    h.pump();
    expect(h.sink.numbers('m')).toEqual(range(1, 5));
    expect(h.sink.numbers('a')).toEqual(range(1, 5));
    h.close();
  });
});

describe('I/O errors', () => {
  it('an unreadable match is logged with VIGIL_TAIL_IO once and the other files go on', () => {
    const h = new Harness({ inputs: input() });
    fs.symlinkSync(path.join(dir, 'loop.log'), path.join(dir, 'loop.log')); // ELOOP on every stat
    append(log, 1, 5);
    expect(() => h.pump()).not.toThrow();
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 5));
    const io = h.logs.filter((l) => l.data?.code === 'VIGIL_TAIL_IO');
    expect(io.length).toBe(1);
    expect(io[0]!.data).toMatchObject({ path: path.join(dir, 'loop.log'), errno: 'ELOOP' });
    h.close();
  });

  const isRoot = process.getuid?.() === 0;
  if (isRoot) console.warn('running as root: permissions cannot make a file unreadable, the EACCES test is skipped (ELOOP covers VIGIL_TAIL_IO)');
  it.skipIf(isRoot)('EACCES on one file (non-root only)', () => {
    const h = new Harness({ inputs: input() });
    const locked = path.join(dir, 'locked.log');
    append(locked, 1, 5, 'l');
    fs.chmodSync(locked, 0);
    append(log, 1, 5);
    h.pump();
    expect(h.sink.numbers()).toEqual(range(1, 5));
    expect(h.logs.some((l) => l.data?.code === 'VIGIL_TAIL_IO' && l.data?.errno === 'EACCES')).toBe(true);
    fs.chmodSync(locked, 0o644);
    h.pump();
    expect(h.sink.numbers('l')).toEqual(range(1, 5));
    h.close();
  });

  it('rejects a maxLineBytes that is not a positive integer', () => {
    expect(() => new Tailer({ inputs: input(), checkpoints: [], maxLineBytes: 0 })).toThrow(/maxLineBytes/);
  });
});
