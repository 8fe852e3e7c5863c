import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface Smtp {
  port: number;
  /** Messages the server answered 250. */
  received: ReceivedMail[];
  /** Connections opened so far. */
  connections: number;
  close(): Promise<void>;
}

export type SmtpMode = 'ok' | 'drop-in-data' | 'drop-before-reply' | 'drop-before-greeting' | 'reject' | 'tempfail' | 'tempfail-once';

/**
 * A real SMTP server on 127.0.0.1. `mode` plays a broken server. The drop-* modes cut only the
 * first connection — in the middle of DATA, after the whole message but before the 250 reply,
 * or before the greeting — and serve later connections normally, so a copy re-sent on its own
 * would be seen. The dropped message itself is not counted (the server never said 250).
 * `reject` answers 550 to RCPT, `tempfail` answers 451 after DATA, `tempfail-once` only to the first DATA.
 */
export async function startSmtp(mode: SmtpMode = 'ok'): Promise<Smtp> {
  const sockets = new Map<number, Socket>();
  let dropped = false;
  let tempfailed = false;
  const smtp: Smtp = {
    port: 0,
    received: [],
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets.values()) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(session, cb) {
      smtp.connections += 1;
      if (mode === 'drop-before-greeting' && !dropped) {
        dropped = true;
        sockets.get(session.remotePort)?.destroy();
        return;
      }
      cb();
    },
    onRcptTo(_address, _session, cb) {
      if (mode === 'reject') {
        const err = new Error('5.1.1 mailbox unavailable') as Error & { responseCode: number };
        err.responseCode = 550;
        return cb(err);
      }
      cb();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      const drop = () => sockets.get(session.remotePort)?.destroy();
      if ((mode === 'drop-in-data' || mode === 'drop-before-reply') && !dropped) {
        dropped = true;
        stream.once(mode === 'drop-in-data' ? 'data' : 'end', drop);
        stream.resume();
        return;
      }
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (mode === 'tempfail' || (mode === 'tempfail-once' && !tempfailed)) {
          tempfailed = true;
          const err = new Error('4.3.0 try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          return cb(err);
        }
        smtp.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  server.server.on('connection', (s: Socket) => sockets.set(s.remotePort!, s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  smtp.port = (server.server.address() as AddressInfo).port;
  return smtp;
}
