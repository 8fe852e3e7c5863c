/**
 * npm run bench:ingest — vigil's ingest against a floor, in one run.
 *
 *   floor: a plain Node loop over the same file: read, split lines, JSON.parse each,
 *          count into a Map.
 *   vigil: the real pipeline (tail → parse → aggregate → SQLite, one transaction per
 *          batch) from an empty state to fully committed windows.
 *
 * Each side runs in its own child process so peak RSS is its own. Prints lines/s,
 * MiB/s, the vigil/floor ratio and vigil's peak RSS. Env: BENCH_LINES (default 1e6),
 * BENCH_TRIALS (default 3).
 *
 * The two sides take turns (floor, vigil, floor, vigil, …) and the ratio is taken from
 * the medians: on this VM the same run varies by ±15 % from one minute to the next, and
 * a single floor-then-vigil pair measures that drift as much as vigil.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.js';

const here = fileURLToPath(import.meta.url);

interface Result {
  seconds: number;
  cpuSeconds: number;
  lines: number;
  maxRssMiB: number;
  check?: unknown;
}

/**
 * This process's own peak RSS. getrusage's maxRSS is not: a child's starts from its
 * parent's RSS at fork (Linux keeps the high-water mark across exec), and this parent
 * has held the generated file. VmHWM belongs to the process's own address space.
 */
function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS / 1024;
}

function cpuSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

function floor(file: string): Result {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  const counts = new Map<string, number>();
  let carry = Buffer.alloc(0);
  let lines = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
    let pos = 0;
    for (let nl = chunk.indexOf(10, pos); nl !== -1; nl = chunk.indexOf(10, pos)) {
      const o = JSON.parse(chunk.toString('utf8', pos, nl)) as { level?: string };
      const k = String(o.level);
      counts.set(k, (counts.get(k) ?? 0) + 1);
      lines++;
      pos = nl + 1;
    }
    carry = Buffer.from(chunk.subarray(pos));
  }
  fs.closeSync(fd);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, cpuSeconds: cpuSince(c0), lines, maxRssMiB: peakRssMiB(), check: Object.fromEntries(counts) };
}

async function vigil(file: string, stateDir: string): Promise<Result> {
  const { ingestFilesOnce } = await import('../src/ingest/once.js');
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await ingestFilesOnce({ inputs: [file], stateDir });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, cpuSeconds: cpuSince(c0), lines: r.lines, maxRssMiB: peakRssMiB(), check: r.stats };
}

function runChild(kind: string, file: string): Result {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  try {
    const out = execFileSync(process.execPath, [here, '--child', kind, file, stateDir], { encoding: 'utf8', maxBuffer: 1 << 24 });
    return JSON.parse(out) as Result;
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [kind, file, stateDir] = process.argv.slice(3) as [string, string, string];
    const r = kind === 'floor' ? floor(file) : await vigil(file, stateDir);
    process.stdout.write(JSON.stringify(r));
    return;
  }
  const n = Number(process.env.BENCH_LINES ?? 1_000_000);
  const dir = path.resolve('.bench');
  fs.mkdirSync(dir, { recursive: true });
  // v2: the generator's lines were trimmed to ~270 bytes (a file of the old ones is not reused).
  const file = path.join(dir, `lines-${n}-v2.log`);
  let truth;
  if (!fs.existsSync(file)) {
    process.stdout.write(`generating ${n} lines into ${file} …\n`);
    truth = generate(file, n);
    fs.writeFileSync(file + '.truth.json', JSON.stringify(truth));
  } else truth = JSON.parse(fs.readFileSync(file + '.truth.json', 'utf8'));
  const bytes = fs.statSync(file).size;
  process.stdout.write(`input: ${n} lines, ${(bytes / 2 ** 20).toFixed(1)} MiB (${(bytes / n).toFixed(0)} bytes/line); node ${process.version}, ${os.cpus().length} cores\n`);
  // Warm the page cache so neither side pays for the first read (in pieces: this
  // process stays small).
  {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0) {
      /* read */
    }
    fs.closeSync(fd);
  }
  // Taken before the runs: afterwards the load average counts vigil's own two threads.
  const load = os.loadavg()[0]!;
  const trials = Math.max(1, Number(process.env.BENCH_TRIALS ?? 3));
  const row = (name: string, r: Result) =>
    `${name.padEnd(6)} ${(r.lines / r.seconds).toFixed(0).padStart(9)} lines/s  ${(bytes / 2 ** 20 / r.seconds).toFixed(1).padStart(7)} MiB/s  ${r.seconds.toFixed(2).padStart(6)} s (cpu ${r.cpuSeconds.toFixed(2)} s)  peak RSS ${r.maxRssMiB.toFixed(0)} MiB`;
  const floors: Result[] = [];
  const vigils: Result[] = [];
  for (let t = 1; t <= trials; t++) {
    const f = runChild('floor', file);
    const v = runChild('vigil', file);
    const stats = v.check as { total_operations: number; failed_operations: number };
    if (v.lines !== truth.lines || stats.total_operations !== truth.operations || stats.failed_operations !== truth.failed) {
      throw new Error(`vigil's counts differ from the truth: lines ${v.lines}/${truth.lines}, ops ${stats.total_operations}/${truth.operations}, failed ${stats.failed_operations}/${truth.failed}`);
    }
    floors.push(f);
    vigils.push(v);
    process.stdout.write(`trial ${t}/${trials}\n  ${row('floor', f)}\n  ${row('vigil', v)}\n  vigil/floor ${(f.seconds / v.seconds).toFixed(2)}\n`);
  }
  const f = median(floors);
  const v = median(vigils);
  // The ratio below is the median of the trials' own ratios, not f/v: a fast floor
  // next to a slow vigil from another minute would say nothing.
  const peak = Math.max(...vigils.map((r) => r.maxRssMiB));
  process.stdout.write(`median of ${trials} trials:\n`);
  process.stdout.write(row('floor', f) + '\n');
  process.stdout.write(row('vigil', v) + '\n');
  process.stdout.write(`load average before the runs ${load.toFixed(2)} on ${os.cpus().length} cores; CPU time floor/vigil ${(f.cpuSeconds / v.cpuSeconds).toFixed(2)} (vigil parses on two threads)\n`);
  if (load > os.cpus().length * 0.5) process.stdout.write(`note: the machine was busy: wall-clock figures are disturbed\n`);
  // Each trial's own ratio (its floor and vigil ran back to back), then their median.
  const ratios = floors.map((fr, i) => fr.seconds / vigils[i]!.seconds).sort((a, b) => a - b);
  const ratio = ratios[Math.floor(ratios.length / 2)]!;
  process.stdout.write(
    `vigil/floor = ${ratio.toFixed(2)} (median of the trials' ratios; lowest ${ratios[0]!.toFixed(2)}, highest ${ratios[ratios.length - 1]!.toFixed(2)})   (target ≥ 0.70)   vigil peak RSS ${peak.toFixed(0)} MiB, highest of the trials (target ≤ 150)\n`,
  );
  process.stdout.write(`counts verified in every trial: ${truth.lines} lines, ${truth.operations} operations, ${truth.failed} failed\n`);
}

/** The trial with the median wall time (the middle one; the slower middle for an even count). */
function median(rs: Result[]): Result {
  return [...rs].sort((a, b) => a.seconds - b.seconds)[Math.floor(rs.length / 2)]!;
}

await main();
