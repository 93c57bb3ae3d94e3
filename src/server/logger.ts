// Structured logs: one JSON object per line on stdout, stable `event` names (docs/logging.md).
//
// Whatever happens to the log's reader, the server keeps serving and stops when told to
// (docs/logging.md §"When the log cannot be written"). So lines go through a LogOutput:
// - stdout and stderr are Node's own streams: on Linux a pipe or socket is written without
//   blocking (a reader that stops reading leaves lines queued in memory, never a thread stuck
//   in write(2)), a file or terminal synchronously;
// - a reader gone (EPIPE) or any other write error ends the output: later lines are dropped and
//   counted, and nothing is thrown;
// - a reader that stops reading costs at most MAX_PENDING_BYTES: later lines are dropped;
// - at the end, settle() waits a bounded time for queued lines, and nothing at process exit
//   writes again. (pino.destination's exit hook does: sonic-boom's flushSync retries a write that
//   failed with EPIPE every 100 ms forever, and a server whose stdout reader had gone away
//   ignored SIGTERM until killed.)

import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { SECRET_PROPERTY_NAMES } from '../config/secrets.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Lines queued for a reader that does not read are dropped beyond this. */
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;

/** The stream pino writes to, and how it ends. */
export class LogOutput {
  private failure: NodeJS.ErrnoException | null = null;
  /** Lines of one event-loop turn, handed to the stream in one write (one per line costs more). */
  private batch = '';
  /** Hands the lines of this turn to the stream now (at exit: it does not wait for them). */
  readonly writeBatch = () => {
    const text = this.batch;
    this.batch = '';
    if (text === '' || this.failure !== null || this.out.destroyed) return;
    try {
      this.out.write(text);
    } catch (err) {
      // A file written synchronously (stdout redirected to a full disk) throws from write().
      this.failure ??= err as NodeJS.ErrnoException;
    }
  };
  /** Lines not written: the output failed, or its reader fell MAX_PENDING_BYTES behind. */
  droppedLines = 0;

  constructor(private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      this.failure ??= err;
    });
  }

  /** Why the output ended (EPIPE: its reader went away), or null while it works. */
  get error(): NodeJS.ErrnoException | null {
    return this.failure;
  }

  /** pino's side: one serialised line. Never throws, never blocks. */
  write(line: string): boolean {
    if (this.failure !== null || this.out.destroyed || this.out.writableLength > MAX_PENDING_BYTES) {
      this.droppedLines++;
      return true;
    }
    if (this.batch === '') setImmediate(this.writeBatch);
    this.batch += line;
    return true;
  }

  /**
   * Waits until every line written so far has left the process, or the output failed, or
   * `timeoutMs` passed. True when every line has left; false when lines were dropped or are
   * still queued.
   */
  settle(timeoutMs: number): Promise<boolean> {
    this.writeBatch();
    const isSettled = () => this.failure !== null || this.out.destroyed || this.out.writableLength === 0;
    const isComplete = () => this.failure === null && this.out.writableLength === 0;
    if (isSettled()) return Promise.resolve(isComplete());
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.out.off('drain', done);
        this.out.off('error', done);
        resolve(isComplete());
      };
      const timer = setTimeout(done, timeoutMs);
      this.out.on('drain', done);
      this.out.on('error', done);
    });
  }
}

const outputs = new WeakMap<Logger, LogOutput>();
/** Every output opened (one or two per process): settleLogs() before the process exits. */
const opened = new Set<LogOutput>();
let isExitHooked = false;

function openOutput(destination: number | string): LogOutput {
  if (destination === 1) return new LogOutput(process.stdout);
  if (destination === 2) return new LogOutput(process.stderr);
  return new LogOutput(
    typeof destination === 'number'
      ? createWriteStream('', { fd: destination })
      : createWriteStream(destination, { flags: 'a' }),
  );
}

export function createLogger(level: LogLevel, destination: number | string = 1): Logger {
  const output = openOutput(destination);
  const log = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Never let a secret reach the log, whatever object a caller passes. Audit lines name the
      // caller's token as `tokenName` (docs/api.md: the name is logged, the token never is).
      redact: {
        paths: [...SECRET_PROPERTY_NAMES].flatMap((name) => [name, `*.${name}`]),
        censor: '[redacted]',
      },
    },
    output,
  );
  outputs.set(log, output);
  opened.add(output);
  if (!isExitHooked) {
    // A process that ends without settleLogs() (a crash) still hands over its last lines: to a
    // pipe they go if it has room, else they are lost; nothing here waits.
    isExitHooked = true;
    process.on('exit', () => {
      for (const o of opened) o.writeBatch();
    });
  }
  return log;
}

/** The output of a logger made by createLogger. */
export function logOutputOf(log: Logger): LogOutput | undefined {
  return outputs.get(log);
}

/**
 * Lets every log output settle (LogOutput.settle) before the process exits: process.exit() does
 * not wait for lines queued on a pipe.
 */
export async function settleLogs(timeoutMs: number): Promise<void> {
  await Promise.all([...opened].map((o) => o.settle(timeoutMs)));
}
