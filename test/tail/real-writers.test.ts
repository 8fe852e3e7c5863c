/**
 * Real writers and real rotators against the tailer, polled on a short timer the way the
 * ingest loop drives it: Python's RotatingFileHandler (rename rotation from inside the
 * writer) and Debian's logrotate (copytruncate and create, forced mid-write; compress while
 * vigil is stopped).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { append, Harness, range, rmDir, tempDir } from './helpers.js';

const hasPython = spawnSync('python3', ['-c', 'import logging.handlers'], { stdio: 'ignore' }).status === 0;
const logrotateBin = ['/usr/sbin/logrotate', '/sbin/logrotate'].find((p) => fs.existsSync(p));
if (!hasPython) console.warn('python3 with logging is missing: real-writer tail tests are skipped');
if (!logrotateBin) console.warn('logrotate is missing (apt-get install logrotate): logrotate tail tests are skipped');

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => rmDir(dir));

const WRITER = `
import logging, logging.handlers, sys, time
path, n, kind, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
if kind == 'rotating':
    # Enough backups that the writer never deletes a file before a loaded CI machine's
    # poll loop reaches it: deleting unread rotations is a loss no tailer can prevent.
    h = logging.handlers.RotatingFileHandler(path, maxBytes=20000, backupCount=100)
else:
    h = logging.handlers.WatchedFileHandler(path)
h.setFormatter(logging.Formatter('%(message)s'))
log = logging.getLogger('writer')
log.addHandler(h)
log.setLevel(logging.INFO)
log.propagate = False
pad = 'x' * 60
for i in range(1, n + 1):
    log.info('{"n":%d,"tag":"a","stage":"merging","pad":"%s"}', i, pad)
    if pause:
        time.sleep(pause)
`;

/** Runs the writer while the tailer polls every few ms; `during` runs alongside (e.g. logrotate). */
async function runWriter(h: Harness, n: number, kind: 'rotating' | 'watched', pause: number, during?: () => Promise<void>): Promise<void> {
  const script = path.join(dir, 'writer.py');
  fs.writeFileSync(script, WRITER);
  const child = spawn('python3', [script, path.join(dir, 'logs', 'app.log'), String(n), kind, String(pause)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  let sideDone = during === undefined;
  const side = during?.().finally(() => (sideDone = true));
  while (!done || !sideDone) {
    h.pump();
    await sleep(2);
  }
  await side;
  expect(await exited, stderr).toBe(0);
  h.pumpScans(3);
}

function onDisk(logs: string): number[] {
  const ns: number[] = [];
  for (const name of fs.readdirSync(logs)) {
    for (const l of fs.readFileSync(path.join(logs, name), 'utf8').split('\n')) if (l) ns.push((JSON.parse(l) as { n: number }).n);
  }
  return ns.sort((a, b) => a - b);
}

describe('real writers', () => {
  it.skipIf(!hasPython)('RotatingFileHandler writing 5000 lines flat out: exactly 1..5000 once each', async () => {
    fs.mkdirSync(path.join(dir, 'logs'));
    const h = new Harness({ inputs: [{ path: path.join(dir, 'logs', '*.log') }], orphanGraceMs: 0 });
    await runWriter(h, 5000, 'rotating', 0);
    expect(fs.existsSync(path.join(dir, 'logs', 'app.log.5'))).toBe(true); // it really rotated, many times
    expect(h.sink.numbers()).toEqual(range(1, 5000));
    h.close();
  });

  /** Forces a rotation at a quarter, half and three quarters of the lines read (python starts slowly). */
  const rotateThrice = async (h: Harness, conf: string) => {
    for (let i = 1; i <= 3; i++) {
      while (h.sink.got.length < (i * 2000) / 4) await sleep(1);
      rotate(conf, path.join(dir, 'state'));
    }
  };
  const rotate = (conf: string, state: string) => {
    const r = spawnSync(logrotateBin!, ['-f', '-s', state, conf], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  };

  it.skipIf(!hasPython || !logrotateBin)('logrotate copytruncate mid-write: every line the files hold is read once, in order', async () => {
    const logs = path.join(dir, 'logs');
    fs.mkdirSync(logs);
    const conf = path.join(dir, 'logrotate.conf');
    fs.writeFileSync(conf, `${logs}/app.log {\n  copytruncate\n  rotate 5\n  missingok\n  nocompress\n}\n`);
    const h = new Harness({ inputs: [{ path: path.join(logs, '*.log') }], orphanGraceMs: 0 });
    await runWriter(h, 2000, 'watched', 0.0005, async () => {
      await rotateThrice(h, conf);
    });
    expect(fs.readdirSync(logs).sort()).toContain("app.log.3");
    const got = h.sink.numbers();
    // In order and no duplicates.
    for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
    // Everything the files hold was read; what is missing was written between logrotate's copy
    // and its truncate, and so is in no file (copytruncate's own loss).
    const disk = onDisk(logs);
    const gotSet = new Set(got);
    expect(disk.filter((n) => !gotSet.has(n))).toEqual([]);
    expect(got.every((n) => n >= 1 && n <= 2000)).toBe(true);
    expect(got.length).toBeGreaterThanOrEqual(disk.length);
    if (got.length < 2000) console.info(`copytruncate lost ${2000 - got.length} line(s) written between copy and truncate`);
    h.close();
  });

  it.skipIf(!hasPython || !logrotateBin)('logrotate create mid-write: exactly 1..N once each, in order', async () => {
    const logs = path.join(dir, 'logs');
    fs.mkdirSync(logs);
    const conf = path.join(dir, 'logrotate.conf');
    fs.writeFileSync(conf, `${logs}/app.log {\n  create\n  rotate 5\n  missingok\n  nocompress\n}\n`);
    const h = new Harness({ inputs: [{ path: path.join(logs, '*.log') }], orphanGraceMs: 0 });
    await runWriter(h, 2000, 'watched', 0.0005, async () => {
      await rotateThrice(h, conf);
    });
    expect(fs.readdirSync(logs).sort()).toContain("app.log.3");
    expect(h.sink.numbers()).toEqual(range(1, 2000));
    h.close();
  });

  for (const delay of [false, true]) {
    const rotations = delay ? 2 : 1;
    it.skipIf(!logrotateBin)(
      `logrotate compress${delay ? ' + delaycompress' : ''}, ${rotations} rotation(s) while vigil is stopped: exactly 1..N once each, in order`,
      () => {
        const logs = path.join(dir, 'logs');
        fs.mkdirSync(logs);
        const log = path.join(logs, 'app.log');
        const conf = path.join(dir, 'logrotate.conf');
        fs.writeFileSync(conf, `${log} {\n  create\n  rotate 5\n  missingok\n  compress\n${delay ? '  delaycompress\n' : ''}}\n`);
        const h = new Harness({ inputs: [{ path: path.join(logs, '*.log') }], orphanGraceMs: 0 });
        append(log, 1, 300);
        h.pump();
        h.stop(); // vigil stops with lines 1..300 read
        append(log, 301, 500); // written while it is stopped
        for (let i = 1; i <= rotations; i++) {
          rotate(conf, path.join(dir, 'state'));
          append(log, 500 + (i - 1) * 100 + 1, 500 + i * 100);
        }
        const last = 500 + rotations * 100;
        expect(fs.readdirSync(logs).filter((n) => n.endsWith('.gz'))).toHaveLength(1); // the file vigil was reading is only left compressed
        h.restart();
        h.pumpScans(3);
        expect(h.sink.numbers()).toEqual(range(1, last));
        h.close();
      },
    );
  }

  it.skipIf(!hasPython)('RotatingFileHandler with a restart in the middle: nothing lost, nothing twice', async () => {
    fs.mkdirSync(path.join(dir, 'logs'));
    const h = new Harness({ inputs: [{ path: path.join(dir, 'logs', '*.log') }], orphanGraceMs: 0 });
    let restarted = 0;
    const origPump = h.pump.bind(h);
    let calls = 0;
    h.pump = (maxBytes?: number) => {
      // Crash-restart every 25 polls: only committed checkpoints survive.
      if (++calls % 25 === 0) {
        h.restart();
        restarted++;
      }
      return origPump(maxBytes);
    };
    await runWriter(h, 3000, 'rotating', 0.0001);
    expect(restarted).toBeGreaterThan(0);
    expect(h.sink.numbers()).toEqual(range(1, 3000));
    h.close();
  });
});
