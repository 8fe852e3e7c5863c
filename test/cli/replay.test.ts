import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, hasCommand, requireBuild, ROOT, runCli, tmpDir } from '../helpers/agent.js';

beforeAll(() => requireBuild());

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** As an operator types it, from the repository root. */
function replayInRoot(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'replay', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const INCIDENT = 'fixtures/incidents/ffmpeg_outage.log';
const EXPECTED = path.join(ROOT, 'fixtures/incidents/ffmpeg_outage.expected.jsonl');

describe('vigil replay', () => {
  it('prints exactly the golden transitions of the ffmpeg outage, byte for byte, every run', () => {
    const a = replayInRoot([INCIDENT, '--rules', 'rules']);
    // Not a terminal: no progress, only the summary line.
    expect(a.stderr).toMatch(/^vigil replay: 1 file, 4,111 lines, 1 rejected line, 8 transitions, 736 evaluations in \d[^\n]*\n$/);
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(fs.readFileSync(EXPECTED, 'utf8'));
    const b = replayInRoot([INCIDENT, '--rules', 'rules']);
    expect(b.stdout).toBe(a.stdout);
  });

  it('tells the outage story an operator expects', () => {
    const lines = fs
      .readFileSync(EXPECTED, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { at: string; rule: string; state: string });
    const when = (rule: string, state: string) => lines.find((l) => l.rule === rule && l.state === state)?.at;
    // ffmpeg breaks at 09:00 and recovers at 09:20.
    expect(when('ffmpeg_failures', 'firing')! < '2026-11-22T09:02').toBe(true);
    expect(when('critical_log_lines', 'firing')! > '2026-11-22T09:05').toBe(true);
    expect(when('high_error_rate', 'firing')! > when('elevated_error_rate', 'firing')!).toBe(true);
    expect(when('high_error_rate', 'firing')! < '2026-11-22T09:20').toBe(true);
    // Everything that fired has resolved by the end, and nothing unrelated fired.
    const fired = new Set(lines.filter((l) => l.state === 'firing').map((l) => l.rule));
    expect([...fired].sort()).toEqual(['critical_log_lines', 'elevated_error_rate', 'ffmpeg_failures', 'high_error_rate']);
    for (const r of fired) expect(when(r, 'resolved'), `${r} resolved`).toBeDefined();
  });

  /** A small log: an error-code burst in errors.log; merging slow, then fast again, in the rotated application.log.1. */
  function smallIncident(): string {
    const d = tmpDir('replay-small');
    dirs.push(d);
    const at = (m: number, o: object) => JSON.stringify({ timestamp: new Date(Date.UTC(2026, 10, 22, 10, m, 7)).toISOString(), level: 'INFO', logger: 'media_processing', ...o });
    const errs = Array.from({ length: 6 }, (_, i) => at(i, { level: 'ERROR', message: 'upload to storage failed', error_code: 'STORAGE_UPLOAD_FAILED' }));
    fs.writeFileSync(path.join(d, 'errors.log'), errs.join('\n') + '\n');
    const ops = Array.from({ length: 30 }, (_, i) => at(i, { event: 'stage_completed', stage: 'merging', success: true, duration_seconds: i < 10 ? 400 : 10 }));
    fs.writeFileSync(path.join(d, 'application.log.1'), ops.join('\n') + '\n');
    return d;
  }

  it('--all-states adds pending transitions; --step changes the grid', () => {
    const d = smallIncident();
    const states = (args: string[]) =>
      replayInRoot([d, '--rules', 'rules', ...args])
        .stdout.trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { at: string; rule: string; state: string; labels: Record<string, string> });
    const plain = states([]);
    expect(plain.map((l) => `${l.rule} ${l.state} ${JSON.stringify(l.labels)}`)).toEqual([
      'storage_upload_failures firing {}',
      'slow_stage firing {"stage":"merging"}',
      'slow_stage resolved {"stage":"merging"}',
      'storage_upload_failures resolved {}',
    ]);
    const all = states(['--all-states']);
    expect(all.map((l) => `${l.rule} ${l.state}`)).toEqual([
      'slow_stage pending',
      'storage_upload_failures firing',
      'slow_stage firing',
      'slow_stage resolved',
      'storage_upload_failures resolved',
    ]);
    const minute = states(['--step', '1m']);
    expect(minute).toHaveLength(4);
    for (const l of minute) expect(l.at).toMatch(/:00\.000Z$/);
    expect(plain.some((l) => !l.at.endsWith(':00.000Z'))).toBe(true);
  });

  it('--db keeps the store of the replay in a new file, and refuses to reuse one', () => {
    const d = smallIncident();
    const file = path.join(d, 'out', 'replay.db');
    fs.mkdirSync(path.dirname(file));
    const r = replayInRoot([d, '--rules', 'rules', '--db', file]);
    expect(r.status).toBe(0);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare(`SELECT file, lines FROM file_stats ORDER BY file`).all()).toEqual([
        { file: path.join(d, 'application.log'), lines: 30 },
        { file: path.join(d, 'errors.log'), lines: 6 },
      ]);
      expect(db.prepare(`SELECT rule, state FROM alerts ORDER BY id`).all()).toEqual([
        { rule: 'slow_stage', state: 'resolved' },
        { rule: 'storage_upload_failures', state: 'resolved' },
      ]);
    } finally {
      db.close();
    }
    expect(fs.readdirSync(path.dirname(file))).toEqual(['replay.db']);
    const again = replayInRoot([d, '--rules', 'rules', '--db', file]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('already exists');
  });

  it('refuses invalid rules with their locations and a bad step', () => {
    const bad = runCli(['replay', path.join(ROOT, INCIDENT), '--rules', path.join(ROOT, 'fixtures/rules/invalid')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/b_every_problem\.yaml:5:19: unknown fact "eror_rate"/);
    expect(bad.stdout).toBe('');
    const step = runCli(['replay', path.join(ROOT, INCIDENT), '--rules', path.join(ROOT, 'rules'), '--step', 'soon']);
    expect(step.status).toBe(2);
    expect(step.stderr).toContain('VIGIL_DURATION_INVALID');
  });

  it('says so on stderr when a file has no JSON line, instead of printing nothing', () => {
    const d = tmpDir('replay-nojson');
    dirs.push(d);
    fs.writeFileSync(path.join(d, 'app.log'), 'plain text\nmore text\n');
    const r = runCli(['replay', path.join(d, 'app.log'), '--rules', path.join(ROOT, 'rules')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`vigil replay: ${path.join(d, 'app.log')}: no JSON lines (2 lines rejected, e.g. not JSON)\n`);
    expect(r.stderr).toContain('vigil replay: 1 file, 0 lines, 2 rejected lines, 0 transitions, 0 evaluations');
  });

  it.runIf(hasCommand('script'))('draws progress on a terminal (a pseudo-TTY), then the summary', () => {
    const d = tmpDir('replay-tty');
    dirs.push(d);
    const out = path.join(d, 'out.jsonl');
    // A few MiB: several reads, each reported.
    const lines = Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ timestamp: new Date(Date.UTC(2026, 10, 22, 10) + i * 500).toISOString(), level: 'INFO', message: 'x' }));
    fs.writeFileSync(path.join(d, 'app.log'), lines.join('\n') + '\n');
    const cmd = `${process.execPath} ${CLI} replay ${path.join(d, 'app.log')} --rules ${path.join(ROOT, 'rules')} > ${out}`;
    const r = spawnSync('script', ['-qc', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\rreplay: [\d,]+ lines, [\d.]+ MiB, [\dkM.]+ lines\/s \([\d.]+ MiB\/s\), \d+%, [^\r]* left/);
    expect(r.stdout).toMatch(/vigil replay: 1 file, 60,000 lines, 0 rejected lines/);
  });

  it('says in --help which transitions it prints', () => {
    const h = runCli(['replay', '--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('--all-states');
    expect(h.stdout).toMatch(/re-notifications are not printed/);
  });
});
