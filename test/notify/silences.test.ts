import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerSilence } from '../../src/cli/silence.js';
import { ManualClock } from '../../src/clock.js';
import { compileMatchers, formatMatcher, matchableLabels, parseMatcher, SilenceStore, silenceStatus } from '../../src/notify/silences.js';
import { openStore } from '../../src/store/db.js';
import { tmpDir } from '../helpers/agent.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

describe('matchers', () => {
  it('parses =, !=, =~, !~ with quoted or bare values', () => {
    expect(parseMatcher('rule=high_error_rate')).toEqual({ name: 'rule', op: '=', value: 'high_error_rate' });
    expect(parseMatcher('stage=~merg.*')).toEqual({ name: 'stage', op: '=~', value: 'merg.*' });
    expect(parseMatcher('stage!~"up.*"')).toEqual({ name: 'stage', op: '!~', value: 'up.*' });
    expect(parseMatcher("host != 'a b'")).toEqual({ name: 'host', op: '!=', value: 'a b' });
    expect(parseMatcher('stage=')).toEqual({ name: 'stage', op: '=', value: '' });
  });

  it('refuses malformed matchers and bad regexes with VIGIL_SILENCE_INVALID', () => {
    expect(() => parseMatcher('stage')).toThrow(expect.objectContaining({ code: 'VIGIL_SILENCE_INVALID' }));
    expect(() => parseMatcher('1stage=x')).toThrow(/expected name=value/);
    expect(() => parseMatcher('stage=~(')).toThrow(/invalid regular expression/);
  });

  it('anchors regexes, reads a missing label as "", and needs every matcher to hold', () => {
    const m = compileMatchers([parseMatcher('stage=~merg.*'), parseMatcher('rule=high_error_rate')]);
    const labels = (stage?: string) => matchableLabels({ rule: 'high_error_rate', severity: 'error', labels: stage ? { stage } : {} });
    expect(m(labels('merging'))).toBe(true);
    expect(m(labels('emerging'))).toBe(false);
    expect(m({ ...labels('merging'), rule: 'other' })).toBe(false);
    expect(compileMatchers([parseMatcher('stage!=upload')])(labels())).toBe(true);
    expect(compileMatchers([parseMatcher('stage=')])(labels())).toBe(true);
    expect(compileMatchers([parseMatcher('severity=error')])(labels('x'))).toBe(true);
  });

  it('formats matchers back so they parse to the same thing', () => {
    for (const text of ['rule=high_error_rate', 'stage=~merg.*', 'host!="a b"', 'x=""']) {
      const m = parseMatcher(text);
      expect(parseMatcher(formatMatcher(m))).toEqual(m);
    }
  });
});

describe('SilenceStore', () => {
  it('adds, lists, matches only while active, and expires', () => {
    const db = openStore(':memory:');
    const store = new SilenceStore(db);
    const s = store.add({ matchers: [parseMatcher('stage=~merg.*')], startsAt: T0 + H, endsAt: T0 + 3 * H, createdBy: 'ops', comment: 'deploy' }, T0);
    const labels = { rule: 'r', severity: 'error', stage: 'merging' };
    expect(silenceStatus(s, T0)).toBe('pending');
    expect(store.match(labels, T0)).toBeUndefined();
    expect(store.match(labels, T0 + H)?.id).toBe(s.id);
    expect(store.match({ ...labels, stage: 'upload' }, T0 + H)).toBeUndefined();
    expect(store.list(T0 + H).map((x) => x.id)).toEqual([s.id]);

    const r = store.expire(s.id, T0 + 2 * H);
    expect(r?.changed).toBe(true);
    expect(r?.silence.endsAt).toBe(T0 + 2 * H);
    expect(store.match(labels, T0 + 2 * H)).toBeUndefined();
    expect(store.list(T0 + 2 * H)).toEqual([]);
    expect(store.list(T0 + 2 * H, { includeExpired: true })).toHaveLength(1);
    expect(store.expire(s.id, T0 + 5 * H)?.changed).toBe(false);
    expect(store.expire(999, T0)).toBeUndefined();
    db.close();
  });

  it('a silence row broken by hand (bad JSON, bad regex, no matchers) mutes nothing and breaks nothing', () => {
    const db = openStore(':memory:');
    const insert = db.prepare('INSERT INTO silences (matchers, starts_at, ends_at, created_at) VALUES (?, ?, ?, ?)');
    insert.run('not json', T0, T0 + H, T0);
    insert.run(JSON.stringify([{ name: 'stage', op: '=~', value: '(' }]), T0, T0 + H, T0);
    insert.run('[]', T0, T0 + H, T0);
    insert.run(JSON.stringify([{ name: 'stage', op: '=', value: 'merging' }]), T0, T0 + H, T0);
    const store = new SilenceStore(db);
    expect(store.match({ rule: 'r', severity: 'error', stage: 'merging' }, T0)?.id).toBe(4);
    expect(store.match({ rule: 'r', severity: 'error', stage: 'upload' }, T0)).toBeUndefined();
  });

  it('refuses a silence without matchers (it would mute everything) or that ends before it starts', () => {
    const store = new SilenceStore(openStore(':memory:'));
    expect(() => store.add({ matchers: [], startsAt: T0, endsAt: T0 + H }, T0)).toThrow(/at least one matcher/);
    expect(() => store.add({ matchers: [parseMatcher('a=b')], startsAt: T0, endsAt: T0 }, T0)).toThrow(/end after it starts/);
  });
});

describe('vigil silence (CLI)', () => {
  const dir = tmpDir('silence');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const stateDir = path.join(dir, 'state');
  openStore(stateDir).close(); // the agent has run once
  const clock = new ManualClock(T0);

  async function vigil(...args: string[]): Promise<string> {
    let out = '';
    const program = new Command().exitOverride();
    registerSilence(program, { out: (t) => (out += t), clock });
    await program.parseAsync(['node', 'vigil', 'silence', ...args]);
    return out;
  }

  it('add → list → expire, against the store in --state-dir', async () => {
    const added = await vigil('add', '--matcher', 'rule=high_error_rate', '--matcher', 'stage=~merg.*', '--duration', '2h', '--comment', 'merging fix rolling out', '--author', 'ana', '--state-dir', stateDir);
    expect(added).toBe('silence 1 added: rule=high_error_rate stage=~merg.* until 2026-11-22T12:00:00Z (2h)\n');

    const listed = await vigil('list', '--state-dir', stateDir);
    expect(listed.split('\n')[0]).toMatch(/^ID\s+STATUS\s+STARTS\s+ENDS\s+BY\s+MATCHERS\s+COMMENT$/);
    expect(listed).toMatch(/^1\s+active\s+2026-11-22T10:00:00Z\s+2026-11-22T12:00:00Z\s+ana\s+rule=high_error_rate stage=~merg\.\*\s+merging fix rolling out$/m);

    // What the running agent reads: another connection to the same database sees it at once.
    const db = openStore(stateDir);
    expect(new SilenceStore(db).match({ rule: 'high_error_rate', severity: 'error', stage: 'merging' }, T0 + 1000)?.id).toBe(1);

    clock.advance(30 * 60_000);
    expect(await vigil('expire', '1', '--state-dir', stateDir)).toBe('silence 1 expired\n');
    expect(new SilenceStore(db).match({ rule: 'high_error_rate', severity: 'error', stage: 'merging' }, clock.now())).toBeUndefined();
    db.close();
    expect(await vigil('list', '--state-dir', stateDir)).toMatch(/no active or pending silences/);
    const json = JSON.parse((await vigil('list', '--all', '--json', '--state-dir', stateDir)).trim());
    expect(json).toMatchObject({ id: 1, status: 'expired', created_by: 'ana', ends_at: '2026-11-22T10:30:00Z' });
  });

  it('takes the state dir from --config', async () => {
    const config = path.join(dir, 'vigil.yaml');
    fs.writeFileSync(config, `state_dir: ${stateDir}\n`);
    const out = await vigil('add', '--matcher', 'severity=warning', '--duration', '30m', '--config', config, '--json');
    expect(JSON.parse(out)).toMatchObject({ status: 'active', matchers: [{ name: 'severity', op: '=', value: 'warning' }] });
  });

  it('refuses bad input with a stable code and touches nothing', async () => {
    await expect(vigil('add', '--matcher', 'stage', '--state-dir', stateDir)).rejects.toMatchObject({ code: 'VIGIL_SILENCE_INVALID' });
    await expect(vigil('add', '--matcher', 'a=b', '--duration', 'soon', '--state-dir', stateDir)).rejects.toMatchObject({ code: 'VIGIL_SILENCE_INVALID' });
    await expect(vigil('expire', '42', '--state-dir', stateDir)).rejects.toThrow(/there is no silence 42/);
    await expect(vigil('expire', 'x', '--state-dir', stateDir)).rejects.toThrow(/not a silence id/);
    await expect(vigil('list', '--state-dir', path.join(dir, 'nowhere'))).rejects.toMatchObject({ code: 'VIGIL_STATE_DIR' });
    expect(fs.existsSync(path.join(dir, 'nowhere'))).toBe(false);
  });
});
