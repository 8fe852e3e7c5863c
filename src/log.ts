import { pino, type Logger } from 'pino';

/**
 * vigil's own logs: JSON lines on stdout (journald keeps them). Secrets never reach
 * them: any field named like one is censored, wherever it sits.
 */
export const REDACT_KEYS = ['password', 'passwd', 'token', 'tokens', 'secret', 'authorization', 'api_key', 'apikey', 'cookie', 'routing_key', 'webhook_url', 'smtp_url'];

export function createLogger(level: string = 'info', destination?: NodeJS.WritableStream): Logger {
  const paths = REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? process.stdout,
  );
}

export type { Logger };

/** How the pieces below the agent log (tail, ingest, notify): no pino in their signatures. */
export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

/** A LogFn writing to `log`. */
export function logFn(log: Logger): LogFn {
  return (level, msg, data) => log[level](data ?? {}, msg);
}
