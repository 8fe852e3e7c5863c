import type { ConnectionOptions } from 'node:tls';
import { createTransport } from 'nodemailer';
import { sendBatch } from './batch.js';
import { settleWithin } from './deadline.js';
import { batchTitle, formatLabels, formatValues, isoTime, stateWord } from './format.js';
import { describeError } from './http.js';
import { batchKey } from './message.js';
import { OptionReader } from './options.js';
import type { AlertMessage, Channel, ChannelContext, HealthResult, SendOutcome } from './types.js';

export interface EmailOptions {
  /** smtp://host:port or smtps://user:pass@host:465 (a secret when it carries a password). Default smtp://localhost:25. */
  smtp_url?: string;
  from: string;
  to: string | string[];
  /** Passed to tls.connect, e.g. { rejectUnauthorized: false, servername, ca }. */
  tls?: ConnectionOptions;
  /** Refuse to send unless the server upgrades with STARTTLS. */
  require_tls?: boolean;
  /** Durations: TCP connect (10s), server greeting (10s), socket inactivity (30s), whole send (60s). */
  connection_timeout?: string | number;
  greeting_timeout?: string | number;
  socket_timeout?: string | number;
  timeout?: string | number;
  /** Default 2. */
  max_connections?: number;
  /** Default true. */
  send_resolved?: boolean;
}

const KNOWN = [
  'smtp_url', 'from', 'to', 'tls', 'require_tls', 'connection_timeout', 'greeting_timeout', 'socket_timeout', 'timeout',
  'max_connections', 'send_resolved',
] as const;

const TLS_KNOWN = ['rejectUnauthorized', 'servername', 'ca', 'cert', 'key', 'minVersion', 'maxVersion', 'ciphers'];

export const ALERT_ID_HEADER = 'X-Vigil-Alert-Id';
export const NOTIFICATION_ID_HEADER = 'X-Vigil-Notification-Id';

type Transporter = ReturnType<typeof createTransport>;

/**
 * SMTP through a nodemailer connection pool, one email per batch.
 *
 * Nodemailer does not retry a failed message, but its pool *requeues* one whose connection
 * closes while the message is still assigned to it (`maxRequeues`, default 5; smtp-pool/index.js
 * `_requeueEntryOnConnectionClose`): the message goes out again over a new connection, on the
 * pool's own schedule, and the send settles only afterwards. In 10.6.0 that path is reached when
 * the server closes before its greeting or when a reused connection turns out dead before a byte
 * of the message was read; a drop during or after DATA completes the send with ECONNECTION/EPIPE
 * first and is not requeued (test/notify/email.test.ts checks both). We still set
 * `maxRequeues: 0`: "no second copy" must not hinge on the order of nodemailer's internal close
 * and callback events (the pool waits 50 ms for that very race), and when to try again is the
 * durable outbox's decision, with its backoff and its record. The price is one outbox retry
 * when an idle pooled connection was closed by the server.
 *
 * The outbox's retry itself cannot be exactly-once (a server may commit a message and drop the
 * connection before its 250 reaches us), so each message carries a Message-ID derived from its
 * notification ids plus the X-Vigil-Alert-Id / X-Vigil-Notification-Id headers: a duplicate is
 * recognisable by mail systems and readers.
 */
export class EmailChannel implements Channel {
  readonly name: string;
  readonly sendResolved: boolean;
  private readonly from: string;
  private readonly to: string[];
  private readonly timeoutMs: number;
  private readonly label: string;
  private readonly transporter: Transporter;

  constructor(options: EmailOptions, ctx: ChannelContext = {}) {
    this.name = ctx.name ?? 'email';
    const o = new OptionReader(this.name, 'email', options, KNOWN);
    const smtpUrl = o.string('smtp_url', 'smtp://localhost:25');
    let parsed: URL;
    try {
      parsed = new URL(smtpUrl);
    } catch {
      throw o.error('smtp_url', 'must be a URL such as smtp://host:25 or smtps://user:pass@host:465');
    }
    if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw o.error('smtp_url', `must use smtp: or smtps: (got ${parsed.protocol})`);
    if (!parsed.hostname) throw o.error('smtp_url', 'must name a host');
    this.from = o.string('from');
    if (!this.from.includes('@')) throw o.error('from', 'must be an email address');
    this.to = o.stringList('to');
    for (const addr of this.to) if (!addr.includes('@')) throw o.error('to', `entry "${addr}" is not an email address`);
    const tls = o.object('tls');
    if (tls) {
      for (const k of Object.keys(tls)) if (!TLS_KNOWN.includes(k)) throw o.error('tls', `has an unknown key "${k}" (known: ${TLS_KNOWN.join(', ')})`);
      if (tls.rejectUnauthorized !== undefined && typeof tls.rejectUnauthorized !== 'boolean') throw o.error('tls', 'rejectUnauthorized must be true or false');
    }
    const requireTls = o.boolean('require_tls', false);
    const connectionTimeout = o.durationMs('connection_timeout', 10_000);
    const greetingTimeout = o.durationMs('greeting_timeout', 10_000);
    const socketTimeout = o.durationMs('socket_timeout', 30_000);
    this.timeoutMs = o.durationMs('timeout', 60_000);
    const maxConnections = o.positiveInt('max_connections', 2);
    this.sendResolved = o.boolean('send_resolved', true);
    // host and port only: the URL's userinfo is the SMTP password
    this.label = `${this.name}: ${parsed.protocol}//${parsed.host}`;

    this.transporter = createTransport({
      pool: true,
      url: smtpUrl,
      maxConnections,
      maxRequeues: 0, // see the class comment: no second copy behind the dispatcher's back
      connectionTimeout,
      greetingTimeout,
      socketTimeout,
      requireTLS: requireTls,
      tls: tls as ConnectionOptions | undefined,
      logger: false,
      // alert text is never a path or URL to attach; refuse to read either if one slipped in
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  send(batch: AlertMessage[], signal?: AbortSignal): Promise<SendOutcome> {
    return sendBatch(this.label, batch, this.sendResolved, async (alerts) => {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      try {
        await this.transporter.sendMail({
          from: this.from,
          to: this.to,
          subject: emailSubject(alerts),
          text: emailText(alerts),
          html: emailHtml(alerts),
          messageId: emailMessageId(alerts, this.from),
          headers: {
            [ALERT_ID_HEADER]: alerts.map((a) => a.id).join(', '),
            [NOTIFICATION_ID_HEADER]: alerts.map((a) => a.notificationId).join(', '),
          },
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        return { ok: true };
      } catch (err) {
        if (timeout.aborted) return { ok: false, retry: 'transient', message: `${this.label}: not sent within ${this.timeoutMs} ms` };
        return classifySmtpError(err, this.label);
      }
    });
  }

  /** Connects and authenticates (transporter.verify); sends nothing. */
  async healthcheck(): Promise<HealthResult> {
    try {
      const answered = await settleWithin(this.transporter.verify().then(() => true), this.timeoutMs, () => false);
      if (!answered) return { ok: false, message: `${this.label}: no answer within ${this.timeoutMs} ms` };
      return { ok: true, message: `${this.label}: server accepts connections${this.to.length ? ` (mail to ${this.to.join(', ')})` : ''}` };
    } catch (err) {
      return { ok: false, message: `${this.label}: ${describeError(err)}` };
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}

/**
 * SMTP reply codes decide first (RFC 5321: 4yz transient, 5yz permanent, except 503 "bad
 * sequence", which a new session fixes); then nodemailer's error codes: a failed login, a bad
 * envelope or configuration will fail again, a dropped or slow connection may not.
 */
export function classifySmtpError(err: unknown, label: string): SendOutcome {
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; name?: unknown };
  const message = `${label}: ${describeError(err)}`;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  if (responseCode !== undefined && responseCode >= 400) {
    const permanent = responseCode >= 500 && responseCode !== 503;
    return { ok: false, retry: permanent ? 'permanent' : 'transient', status: responseCode, message };
  }
  const code = typeof e.code === 'string' ? e.code : '';
  const permanentCodes = ['EAUTH', 'ENOAUTH', 'EOAUTH2', 'EENVELOPE', 'EMESSAGE', 'ECONFIG', 'EREQUIRETLS', 'EMAXRECIPIENTS', 'EFILEACCESS', 'EURLACCESS'];
  if (permanentCodes.includes(code)) return { ok: false, retry: 'permanent', message };
  return { ok: false, retry: 'transient', message };
}

export function emailSubject(batch: AlertMessage[]): string {
  return `[vigil] ${batchTitle(batch)}`;
}

/** Same notifications → same Message-ID, so a retried copy is recognisable as a duplicate. */
export function emailMessageId(batch: AlertMessage[], from: string): string {
  const domain = from.slice(from.lastIndexOf('@') + 1).replace(/[>\s]/g, '') || 'vigil.invalid';
  return `<vigil.${batchKey(batch)}@${domain}>`;
}

function alertLines(a: AlertMessage): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['State', stateWord(a.state)],
    ['Severity', a.severity],
    ['Rule', a.rule],
    ['Labels', formatLabels(a.labels) || '(none)'],
    ['Summary', a.summary],
  ];
  if (a.description) rows.push(['Description', a.description]);
  const values = formatValues(a.values);
  if (values) rows.push(['Values', values]);
  rows.push(['Started', isoTime(a.startsAt)]);
  if (a.endsAt !== undefined) rows.push(['Ended', isoTime(a.endsAt)]);
  rows.push(['Alert id', a.id], ['Notification id', a.notificationId]);
  return rows;
}

export function emailText(batch: AlertMessage[]): string {
  const parts = [batchTitle(batch), ''];
  for (const a of batch) {
    for (const [k, v] of alertLines(a)) parts.push(`${`${k}:`.padEnd(17)}${v}`);
    parts.push('');
  }
  parts.push('-- ', `Sent by vigil. ${ALERT_ID_HEADER} and ${NOTIFICATION_ID_HEADER} repeat the ids above.`);
  return parts.join('\n');
}

export function emailHtml(batch: AlertMessage[]): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const tables = batch.map((a) => {
    const color = a.state === 'resolved' ? '#2e7d32' : a.severity === 'critical' || a.severity === 'error' ? '#c62828' : '#ef6c00';
    const rows = alertLines(a)
      .map(([k, v]) => `<tr><th align="left" style="padding:2px 12px 2px 0">${esc(k)}</th><td>${esc(v)}</td></tr>`)
      .join('');
    return `<table style="border-left:4px solid ${color};padding-left:8px;margin-bottom:16px;font-family:sans-serif;font-size:14px">${rows}</table>`;
  });
  return `<!doctype html><html><body><h2 style="font-family:sans-serif">${esc(batchTitle(batch))}</h2>${tables.join('')}<p style="font-family:sans-serif;color:#777;font-size:12px">Sent by vigil.</p></body></html>`;
}
