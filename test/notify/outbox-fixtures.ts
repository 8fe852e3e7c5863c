/**
 * Shared pieces of the outbox/dispatcher tests: a real store, real alert rows, and a real HTTP
 * receiver whose answers are scripted (500, 429 with Retry-After, a hung request, …) and which
 * counts what it accepted by notification id.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Transition } from '../../src/rules/engine.js';
import type { Rule } from '../../src/rules/rule.js';
import type { NotifiableTransition } from '../../src/notify/message.js';
import { openStore, type DB } from '../../src/store/db.js';
import { readBody } from './helpers.js';

export function memoryStore(): DB {
  return openStore(':memory:');
}

let keySeq = 0;

/** An `alerts` row (the episode the store would have opened), so transitions have a real alertId. */
export function insertAlert(db: DB, t: Pick<Transition, 'alertKey' | 'rule' | 'severity' | 'labels' | 'summary'>, firingAt: number): number {
  const info = db
    .prepare(
      `INSERT INTO alerts (alert_key, rule, severity, labels, state, summary, started_at, firing_at) VALUES (?, ?, ?, ?, 'firing', ?, ?, ?)`,
    )
    .run(t.alertKey, t.rule, t.severity, JSON.stringify(t.labels), t.summary, firingAt, firingAt);
  return Number(info.lastInsertRowid);
}

/** A firing transition of a fresh alert episode (row in `alerts` included). */
export function firing(db: DB, at: number, over: Partial<Transition> = {}): NotifiableTransition {
  keySeq += 1;
  const labels = over.labels ?? { stage: `stage${keySeq}` };
  const rule = over.rule ?? 'high_error_rate';
  const base: Transition = {
    at,
    rule,
    state: 'firing',
    severity: 'error',
    labels,
    summary: `Error rate high in ${JSON.stringify(labels)}`,
    values: { error_rate: 0.25, total_operations: 40 },
    notify: 'firing',
    alertKey: `${rule}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`,
    ...over,
  };
  return { ...base, alertId: insertAlert(db, base, at) };
}

/** The resolve (or a repeat) of the same episode. */
export function next(t: NotifiableTransition, at: number, kind: 'resolved' | 'repeat'): NotifiableTransition {
  return { ...t, at, state: kind === 'resolved' ? 'resolved' : 'firing', notify: kind };
}

export function rule(channels: string[] = []): Pick<Rule, 'channels'> {
  return { channels };
}

export type Answer =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  /** Read the request, never answer (the client's timeout must fire). */
  | 'hang';

export interface ReceivedRequest {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: any;
  /** What the receiver answered; undefined when it hung. */
  status?: number;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests answered 2xx: what was delivered. */
  accepted(): ReceivedRequest[];
  /** Answers for the next requests, in order; when empty, `fallback` answers. */
  script: Answer[];
  fallback: Answer | ((req: ReceivedRequest) => Answer);
  /** The most requests seen at the same time. */
  maxConcurrent: number;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 (on `port` when given: a port that refused connections until now). */
export async function startReceiver(opts: { port?: number; fallback?: Receiver['fallback']; script?: Answer[] } = {}): Promise<Receiver> {
  const sockets = new Set<Socket>();
  let concurrent = 0;
  const r: Receiver = {
    url: '',
    port: 0,
    requests: [],
    accepted: () => r.requests.filter((q) => q.status !== undefined && q.status >= 200 && q.status < 300),
    script: opts.script ?? [],
    fallback: opts.fallback ?? { status: 200, body: '{"status":"success"}' },
    maxConcurrent: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res: ServerResponse) => {
    concurrent += 1;
    r.maxConcurrent = Math.max(r.maxConcurrent, concurrent);
    res.on('close', () => (concurrent -= 1));
    void readBody(req).then(({ body, json }) => {
      const rec: ReceivedRequest = { url: req.url ?? '', headers: req.headers, body, json, at: Date.now() };
      r.requests.push(rec);
      const answer = r.script.shift() ?? (typeof r.fallback === 'function' ? r.fallback(rec) : r.fallback);
      if (answer === 'hang') return;
      const reply = () => {
        rec.status = answer.status;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '{}');
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}`;
  return r;
}

/** Notification ids in a generic webhook request (`{version, alerts}`). */
export function webhookIds(q: ReceivedRequest): string[] {
  return ((q.json?.alerts ?? []) as Array<{ notificationId: string }>).map((a) => a.notificationId);
}

/** How often each notification id was accepted (answered 2xx). */
export function acceptedCounts(r: Receiver, ids: (q: ReceivedRequest) => string[] = webhookIds): Map<string, number> {
  const m = new Map<string, number>();
  for (const q of r.accepted()) for (const id of ids(q)) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}
