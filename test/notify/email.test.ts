import { afterEach, describe, expect, it } from 'vitest';
import { ALERT_ID_HEADER, EmailChannel, NOTIFICATION_ID_HEADER, classifySmtpError } from '../../src/notify/email.js';
import { alert, closedPort } from './helpers.js';
import { startSmtp, type SmtpMode } from './smtp.js';

/** Minimal MIME reading, enough for nodemailer's output: unfolded headers and decoded text parts. */
function parseMail(raw: string): { headers: Map<string, string>; parts: Map<string, string> } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    headers.set(line.slice(0, i).toLowerCase(), decodeWords(line.slice(i + 1).trim()));
  }
  const parts = new Map<string, string>();
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  const chunks = boundary ? raw.split(`--${boundary}`).slice(1, -1) : [raw];
  for (const chunk of chunks) {
    const s = chunk.replace(/^\r\n/, '');
    const at = s.indexOf('\r\n\r\n');
    const partHead = s.slice(0, at).replace(/\r\n[ \t]+/g, ' ');
    let body = s.slice(at + 4).replace(/\r\n$/, '');
    const type = /content-type:\s*([^;\r\n]+)/i.exec(partHead)?.[1]?.trim() ?? 'text/plain';
    const cte = /content-transfer-encoding:\s*(\S+)/i.exec(partHead)?.[1]?.toLowerCase();
    if (cte === 'quoted-printable') {
      body = Buffer.from(
        body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      ).toString('utf8');
    } else if (cte === 'base64') {
      body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    }
    parts.set(type, body);
  }
  return { headers, parts };
}

/** RFC 2047 encoded-words (nodemailer encodes long or non-ASCII header values). */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const toClose: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (toClose.length) await toClose.pop()!.close();
});

async function setup(mode: SmtpMode = 'ok', extra: Record<string, unknown> = {}) {
  const smtp = await startSmtp(mode);
  const ch = new EmailChannel({
    smtp_url: `smtp://127.0.0.1:${smtp.port}`,
    from: 'vigil@media-vm.example',
    to: ['ops@example.com', 'oncall@example.com'],
    ...extra,
  });
  toClose.push(smtp, ch as { close(): Promise<void> });
  return { smtp, ch };
}

describe('EmailChannel', () => {
  it('sends one email per batch with subject, recipients, id headers and both bodies', async () => {
    const { smtp, ch } = await setup();
    const a = alert({ id: 'alert-aaa', notificationId: 'notif-1' });
    const b = alert({ id: 'alert-bbb', notificationId: 'notif-2', labels: { stage: 'merging', host: 'w2' }, severity: 'critical' });
    expect(await ch.send([a, b])).toEqual({ ok: true });
    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0]!;
    expect(mail.from).toBe('vigil@media-vm.example');
    expect(mail.to).toEqual(['ops@example.com', 'oncall@example.com']);
    const { headers, parts } = parseMail(mail.raw);
    expect(headers.get('subject')).toBe('[vigil] FIRING:2 critical high_error_rate {stage="merging"}');
    expect(headers.get(ALERT_ID_HEADER.toLowerCase())).toBe('alert-aaa, alert-bbb');
    expect(headers.get(NOTIFICATION_ID_HEADER.toLowerCase())).toBe('notif-1, notif-2');
    expect(headers.get('message-id')).toMatch(/^<vigil\.[0-9a-f]{32}@media-vm\.example>$/);
    const text = parts.get('text/plain')!;
    expect(text).toContain(a.summary);
    expect(text).toContain('alert-aaa');
    expect(text).toContain('notif-2');
    expect(text).toContain('error_rate=0.125');
    expect(parts.get('text/html')).toContain('<table');
    expect(parts.get('text/html')).toContain('alert-bbb');
  });

  it('subject of a single resolved alert, and the same Message-ID when the same notification is re-sent', async () => {
    const { smtp, ch } = await setup();
    const r = alert({ state: 'resolved', severity: 'warning', endsAt: Date.UTC(2024, 4, 1, 11), notificationId: 'n-same' });
    expect(await ch.send([r])).toEqual({ ok: true });
    expect(await ch.send([r])).toEqual({ ok: true });
    const [first, second] = smtp.received.map((m) => parseMail(m.raw).headers);
    expect(first!.get('subject')).toBe('[vigil] RESOLVED warning high_error_rate {stage="merging"}');
    expect(first!.get('message-id')).toBe(second!.get('message-id'));
    expect(parseMail(smtp.received[0]!.raw).parts.get('text/plain')).toContain('Ended:           2024-05-01T11:00:00.000Z');
  });

  it.each(['drop-in-data', 'drop-before-reply'] as const)('%s: transient, and no copy is re-sent behind the caller', async (mode) => {
    const { smtp, ch } = await setup(mode);
    const out = await ch.send([alert({ id: 'dropped' })]);
    expect(out).toMatchObject({ ok: false, retry: 'transient', message: expect.stringMatching(/EPIPE|ECONNRESET|Connection closed/) });
    // a pool requeue would deliver over a new connection within a few hundred ms; wait past it
    await sleep(1200);
    expect(smtp.received).toHaveLength(0);
    // the server serves the next connection: the dispatcher's own retry goes through
    expect(await ch.send([alert({ id: 'retry' })])).toEqual({ ok: true });
    expect(smtp.received).toHaveLength(1);
  });

  it('the pool does not requeue on its own (maxRequeues 0): a close before the greeting fails the send', async () => {
    const { smtp, ch } = await setup('drop-before-greeting');
    expect(await ch.send([alert()])).toMatchObject({ ok: false, retry: 'transient' });
    await sleep(800);
    expect(smtp.received).toHaveLength(0);
  });

  it('classifies 550 on RCPT as permanent and 451 after DATA as transient', async () => {
    const rejecting = await setup('reject');
    expect(await rejecting.ch.send([alert()])).toMatchObject({ ok: false, retry: 'permanent', status: 550 });
    const tempfail = await setup('tempfail');
    expect(await tempfail.ch.send([alert()])).toMatchObject({ ok: false, retry: 'transient', status: 451 });
  });

  it('a refused connection is transient and the password never shows', async () => {
    const port = await closedPort();
    const ch = new EmailChannel({ smtp_url: `smtp://vigil:PASSW0RD@127.0.0.1:${port}`, from: 'v@h.example', to: 'ops@example.com', connection_timeout: '2s' });
    toClose.push(ch as { close(): Promise<void> });
    const out = await ch.send([alert()]);
    expect(out).toMatchObject({ ok: false, retry: 'transient' });
    const health = await ch.healthcheck();
    expect(health.ok).toBe(false);
    expect(JSON.stringify([out, health])).not.toContain('PASSW0RD');
  });

  it('healthcheck verifies the server without sending', async () => {
    const { smtp, ch } = await setup();
    expect(await ch.healthcheck()).toMatchObject({ ok: true });
    expect(smtp.received).toHaveLength(0);
  });

  it('does not send resolved alerts when send_resolved is false', async () => {
    const { smtp, ch } = await setup('ok', { send_resolved: false });
    expect(await ch.send([alert({ state: 'resolved' })])).toEqual({ ok: true });
    expect(smtp.received).toHaveLength(0);
  });

  it('validates options with messages naming the option', () => {
    expect(() => new EmailChannel({ from: 'v@h', to: [] } as never)).toThrow(/option "to" must be a non-empty/);
    expect(() => new EmailChannel({ to: 'a@b' } as never)).toThrow(/option "from" is required/);
    expect(() => new EmailChannel({ smtp_url: 'http://x', from: 'v@h', to: 'a@b' })).toThrow(/option "smtp_url" must use smtp: or smtps:/);
    expect(() => new EmailChannel({ from: 'v@h', to: 'a@b', tls: { rejectUnauthorized: 'no' } as never })).toThrow(/option "tls"/);
  });

  it('classifySmtpError follows RFC 5321 reply classes and nodemailer codes', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 452, message: 'x' }, 'e')).toMatchObject({ retry: 'transient', status: 452 });
    expect(classifySmtpError({ code: 'EPROTOCOL', responseCode: 503, message: 'x' }, 'e')).toMatchObject({ retry: 'transient' });
    expect(classifySmtpError(Object.assign(new Error('Invalid login'), { code: 'EAUTH', responseCode: 535 }), 'e')).toMatchObject({ retry: 'permanent' });
    expect(classifySmtpError(Object.assign(new Error('closed'), { code: 'ECONNECTION' }), 'e')).toMatchObject({ retry: 'transient' });
    expect(classifySmtpError(Object.assign(new Error('no auth'), { code: 'EAUTH' }), 'e')).toMatchObject({ retry: 'permanent' });
  });
});
