import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertMessage } from '../../src/notify/types.js';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: unknown;
}

export interface TestServer {
  url: string;
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

/** A request's whole body, and its JSON when it is some. */
export function readBody(req: IncomingMessage): Promise<{ body: string; json: unknown }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ body, json });
    });
  });
}

/** A real HTTP receiver on 127.0.0.1; `respond` plays the service (Slack, PagerDuty, …). */
export async function startServer(respond: (req: Recorded, res: ServerResponse) => void): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server: Server = createServer(async (req, res) => {
    const rec = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, ...(await readBody(req)) };
    requests.push(rec);
    respond(rec, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

let seq = 0;
export function alert(over: Partial<AlertMessage> = {}): AlertMessage {
  seq += 1;
  return {
    id: 'a1b2c3d4e5f60718',
    rule: 'high_error_rate',
    state: 'firing',
    severity: 'error',
    labels: { stage: 'merging' },
    summary: 'Error rate 12.5% over the last hour',
    description: 'More than 10% of operations failed in the last hour',
    values: { error_rate: 0.125, total_operations: 40 },
    startsAt: Date.UTC(2024, 4, 1, 10, 0, 0),
    notificationId: `n-${seq}`,
    ...over,
  };
}
