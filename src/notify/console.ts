import { appendFile, access, constants } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { systemClock, type Clock } from '../clock.js';
import { sendBatch } from './batch.js';
import { describeError } from './http.js';
import { OptionReader } from './options.js';
import type { AlertMessage, Channel, ChannelContext, HealthResult, SendOutcome } from './types.js';

export interface ConsoleOptions {
  /** Append to this file; without it lines go to `stream`. */
  path?: string;
  /** `stdout` (default), `stderr`, or (from code) any writable stream. */
  stream?: 'stdout' | 'stderr' | Writable;
  /** Default true. */
  send_resolved?: boolean;
}

const KNOWN = ['path', 'stream', 'send_resolved'] as const;

/** One line per alert; `at` is when it was delivered, the rest is the AlertMessage. */
export interface ConsoleLine extends AlertMessage {
  at: string;
  channel: string;
}

/**
 * Writes one JSON line per alert, for `vigil demo`, local runs and tests. A file is appended
 * to and reopened on every send, so rotating or deleting it is harmless.
 */
export class ConsoleChannel implements Channel {
  readonly name: string;
  readonly sendResolved: boolean;
  private readonly path: string | undefined;
  private readonly stream: Writable | undefined;
  private readonly clock: Clock;

  constructor(options: ConsoleOptions = {}, ctx: ChannelContext = {}) {
    this.name = ctx.name ?? 'console';
    const o = new OptionReader(this.name, 'console', options, KNOWN);
    this.path = o.optionalString('path');
    const stream = o.get('stream');
    if (this.path !== undefined && stream !== undefined) throw o.error('stream', 'cannot be combined with "path"');
    if (this.path === undefined) {
      if (stream === undefined || stream === 'stdout') this.stream = process.stdout;
      else if (stream === 'stderr') this.stream = process.stderr;
      else if (typeof stream === 'object' && stream !== null && typeof (stream as Writable).write === 'function') this.stream = stream as Writable;
      else throw o.error('stream', 'must be stdout or stderr');
    }
    this.sendResolved = o.boolean('send_resolved', true);
    this.clock = ctx.clock ?? systemClock;
  }

  send(batch: AlertMessage[]): Promise<SendOutcome> {
    return sendBatch(this.name, batch, this.sendResolved, async (alerts) => {
      const at = new Date(this.clock.now()).toISOString();
      const text = alerts.map((a) => `${JSON.stringify({ at, channel: this.name, ...a } satisfies ConsoleLine)}\n`).join('');
      try {
        if (this.path !== undefined) await appendFile(this.path, text, 'utf8');
        else await writeAll(this.stream!, text);
        return { ok: true };
      } catch (err) {
        return { ok: false, retry: 'transient', message: `${this.name}: cannot write: ${describeError(err)}` };
      }
    });
  }

  async healthcheck(): Promise<HealthResult> {
    if (this.path === undefined) return { ok: true, message: `${this.name}: writing to a stream` };
    try {
      await access(this.path, constants.W_OK).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await access(dirname(this.path!), constants.W_OK);
      });
      return { ok: true, message: `${this.name}: ${this.path} is writable` };
    } catch (err) {
      return { ok: false, message: `${this.name}: ${this.path} is not writable: ${describeError(err)}` };
    }
  }
}

function writeAll(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
