import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createWorkspace, findFreePort } from '../../src/demo/workspace.js';
import { lintRuleSet } from '../../src/rules/reload.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('demo workspace', () => {
  it('writes a config `vigil run` accepts, the shipped rules plus the demo rule, and a private token', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-ws-'));
    dirs.push(dir);
    const ws = createWorkspace({ dir, port: 8123 });
    const config = loadConfig({ file: ws.configFile });
    expect(config).toMatchObject({ state_dir: ws.state, rules: ws.rules, evaluation_interval_ms: 5000 });
    expect(config.inputs.map((i) => i.path)).toEqual([path.join(ws.logs, '*.log')]);
    expect(config.api).toMatchObject({ enabled: true, listen: '127.0.0.1:8123', tokens_file: ws.tokensFile });
    expect(config.channels).toEqual({ console: { path: ws.alertsFile } });

    const { set, problems } = lintRuleSet([ws.rules], { channels: ['console'] });
    expect(problems).toEqual([]);
    const names = set.rules.map((r) => r.name);
    expect(names).toContain('demo_error_rate');
    expect(names).toContain('high_error_rate');
    expect(fs.readdirSync(ws.rules).some((n) => n.endsWith('.test.yaml'))).toBe(false);

    expect(ws.token).toMatch(/^[0-9a-f]{32}$/);
    expect(fs.statSync(ws.tokensFile).mode & 0o777).toBe(0o600);
    // Reusing the directory keeps the token (an open dashboard tab still works).
    expect(createWorkspace({ dir, port: 8124 }).token).toBe(ws.token);
  });

  it('findFreePort skips a port that is taken', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const taken = (busy.address() as net.AddressInfo).port;
    try {
      const p = await findFreePort(taken, 5);
      expect(p).not.toBe(taken);
      expect(p === 0 || (p > taken && p < taken + 5)).toBe(true);
    } finally {
      busy.close();
    }
  });
});
