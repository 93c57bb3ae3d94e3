// Structured logs: one JSON object per line on stdout, stable `event` names (docs/logging.md).

import { type Logger, pino } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export function createLogger(level: LogLevel, destination: number | string = 1): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Never let a secret reach the log, whatever object a caller passes. Audit lines name the
      // caller's token as `tokenName` (docs/api.md: the name is logged, the token never is).
      redact: {
        paths: ['sharedSecret', '*.sharedSecret', 'secret', '*.secret', 'token', '*.token'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: destination, sync: false }),
  );
}
