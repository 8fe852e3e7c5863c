/**
 * The demo's workspace: logs/ (what the worker writes), state/ (the store), rules/ (the
 * shipped rules plus one demo rule that fires within a minute), a tokens file and a
 * vigil.yaml an operator could run as it is (`vigil run --config <dir>/vigil.yaml`).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SHIPPED_RULES } from '../agent.js';
import { isRuleFile } from '../rules/load.js';

export interface Workspace {
  dir: string;
  logs: string;
  state: string;
  rules: string;
  work: string;
  alertsFile: string;
  agentLog: string;
  configFile: string;
  tokensFile: string;
  token: string;
  port: number;
}

/** Short `for` and a 5-minute window, so the injected failures show as an alert within a minute. */
export const DEMO_RULE = `# Demo only: the error-rate rule (rules/error_rate.yaml) with a 5-minute window and a
# short \`for\`, so an alert shows within a minute. The shipped rules watch the last hour
# and wait 5 minutes before firing; they run here too.
rules:
  - name: demo_error_rate
    description: More than 2% of operations failed in the last 5 minutes (demo thresholds)
    when:
      all:
        - { fact: error_rate, params: { window: 5m }, operator: greaterThan, value: 0.02 }
        - { fact: total_operations, params: { window: 5m }, operator: greaterThanInclusive, value: 12 }
    for: 10s
    keep_firing_for: 1m
    severity: warning
    summary: "Demo: {{ error_rate | percent }} of operations failed in the last 5 minutes ({{ total_operations }} operations)"
`;

/** The shipped rules/: beside dist/ when built, beside src/ when run from source (tests). */
export function shippedRulesDir(): string {
  if (fs.existsSync(path.join(SHIPPED_RULES, 'error_rate.yaml'))) return SHIPPED_RULES;
  throw new Error(`the shipped rules are missing (looked in ${SHIPPED_RULES})`);
}

/** The first port from `start` that 127.0.0.1 can listen on now; 0 (any) when `tries` are all busy. */
export async function findFreePort(start: number, tries = 20): Promise<number> {
  for (let p = start; p < start + tries && p < 65536; p++) {
    if (await canListen(p)) return p;
  }
  return 0;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export interface WorkspaceOptions {
  /** Use (and keep) this directory; default a new one under the system temp dir. */
  dir?: string;
  port: number;
}

export function createWorkspace(o: WorkspaceOptions): Workspace {
  const dir = path.resolve(o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-')));
  const ws: Workspace = {
    dir,
    logs: path.join(dir, 'logs'),
    state: path.join(dir, 'state'),
    rules: path.join(dir, 'rules'),
    work: path.join(dir, 'work'),
    alertsFile: path.join(dir, 'alerts.jsonl'),
    agentLog: path.join(dir, 'vigil-agent.log'),
    configFile: path.join(dir, 'vigil.yaml'),
    tokensFile: path.join(dir, 'tokens'),
    token: '',
    port: o.port,
  };
  for (const d of [ws.logs, ws.state, ws.rules, ws.work]) fs.mkdirSync(d, { recursive: true });

  const shipped = shippedRulesDir();
  for (const name of fs.readdirSync(shipped)) {
    if (isRuleFile(name)) fs.copyFileSync(path.join(shipped, name), path.join(ws.rules, name));
  }
  fs.writeFileSync(path.join(ws.rules, 'demo.yaml'), DEMO_RULE);

  // A workspace reused with --dir keeps its token, so a dashboard tab left open still works.
  const existing = fs.existsSync(ws.tokensFile) ? fs.readFileSync(ws.tokensFile, 'utf8').trim().split('\n')[0] : undefined;
  ws.token = existing && /^[0-9a-f]{32}$/.test(existing) ? existing : randomBytes(16).toString('hex');
  fs.writeFileSync(ws.tokensFile, `${ws.token}\n`, { mode: 0o600 });
  fs.chmodSync(ws.tokensFile, 0o600);

  writeConfig(ws);
  return ws;
}

/** (Re)writes vigil.yaml, e.g. after the chosen port turned out to be taken. */
export function writeConfig(ws: Workspace): void {
  const q = (s: string) => JSON.stringify(s);
  fs.writeFileSync(
    ws.configFile,
    `# Written by \`vigil demo\`. Run this agent yourself with: vigil run --config ${ws.configFile}
inputs:
  - path: ${q(path.join(ws.logs, '*.log'))}
state_dir: ${q(ws.state)}
rules: ${q(ws.rules)}
evaluation_interval: 5s
api:
  listen: "127.0.0.1:${ws.port}"
  tokens_file: ${q(ws.tokensFile)}
channels:
  console: { path: ${q(ws.alertsFile)} }
system: { sample_interval: 5s, disks: ["/"] }
`,
  );
}
