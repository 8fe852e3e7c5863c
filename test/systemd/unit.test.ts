import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const UNIT = path.join(ROOT, 'systemd/vigil.service');
const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => fs.existsSync(p));
if (!ANALYZE) console.warn('systemd-analyze is not installed (Debian package "systemd"): the `systemd-analyze verify` test is skipped');

/** `[Section] Key=value` lines → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    const i = line.indexOf('=');
    const key = `${section}.${line.slice(0, i)}`;
    out.set(key, [...(out.get(key) ?? []), line.slice(i + 1)]);
  }
  return out;
}

describe('systemd/vigil.service', () => {
  const text = fs.readFileSync(UNIT, 'utf8');
  const unit = parseUnit(text);
  const get = (k: string) => unit.get(`Service.${k}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-unit-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('runs as its own user with state and config directories, reload by SIGHUP, restart on failure', () => {
    expect(get('User')).toEqual(['vigil']);
    expect(get('DynamicUser')).toBeUndefined();
    expect(get('ExecStart')).toEqual(['/usr/bin/vigil run --config /etc/vigil/vigil.yaml']);
    expect(get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(get('Restart')).toEqual(['on-failure']);
    expect(get('TimeoutStopSec')).toEqual(['10']);
    expect(get('StateDirectory')).toEqual(['vigil']);
    expect(get('ConfigurationDirectory')).toEqual(['vigil']);
    expect(unit.get('Install.WantedBy')).toEqual(['multi-user.target']);
  });

  it('is sandboxed: read-only system, writable state only, no capabilities, a syscall filter node can live with', () => {
    const yes = ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups', 'LockPersonality', 'RestrictSUIDSGID', 'RestrictNamespaces'];
    for (const k of yes) expect(get(k), k).toEqual(['yes']);
    expect(get('ProtectSystem')).toEqual(['strict']);
    expect(get('ReadWritePaths')).toEqual(['/var/lib/vigil']);
    expect(get('ReadOnlyPaths')).toEqual(['-/var/log/media']);
    expect(get('CapabilityBoundingSet')).toEqual(['']);
    expect(get('RestrictAddressFamilies')).toEqual(['AF_INET AF_INET6 AF_UNIX']);
    expect(get('SystemCallFilter')).toEqual(['@system-service']);
    expect(get('MemoryMax')?.[0]).toMatch(/^\d+[KMG]$/);
    // node's JIT writes code at run time: W^X enforcement would kill it at start.
    expect(get('MemoryDenyWriteExecute')).toBeUndefined();
  });

  // verify refuses a unit whose ExecStart binary is missing, and /usr/bin/vigil is not installed
  // here: the copy verified has ExecStart=/bin/true, everything else unchanged.
  it.skipIf(!ANALYZE)('passes systemd-analyze verify (on a copy whose ExecStart is /bin/true)', () => {
    const copy = path.join(tmp, 'vigil.service');
    fs.writeFileSync(copy, text.replace(/^ExecStart=.*$/m, 'ExecStart=/bin/true'));
    const r = spawnSync(ANALYZE!, ['verify', copy], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    // Every line verify prints is a warning or an error about the unit: there must be none.
    expect((r.stderr + r.stdout).trim()).toBe('');

    // The check has teeth: the same copy with a missing binary is refused.
    const broken = path.join(tmp, 'broken', 'vigil.service');
    fs.mkdirSync(path.dirname(broken));
    fs.writeFileSync(broken, text.replace(/^ExecStart=.*$/m, `ExecStart=${tmp}/no-such-vigil run`));
    const bad = spawnSync(ANALYZE!, ['verify', broken], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('no-such-vigil');
  });
});
