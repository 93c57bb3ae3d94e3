// Child processes for the e2e tests: bounded one-shot commands, and long-running processes whose
// output is collected line by line so a test can wait for a given line (with a deadline).

import { type ChildProcess, spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Reject when the exit code is not 0 (default true). */
  check?: boolean;
}

/** Runs a command to completion; kills it (SIGKILL) past the deadline and rejects. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    let isTimedOut = false;
    const timer = setTimeout(() => {
      isTimedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      const line = `${cmd} ${args.join(' ')}`;
      if (isTimedOut) reject(new Error(`timed out after ${timeoutMs} ms: ${line}\n${stdout}${stderr}`));
      else if ((options.check ?? true) && code !== 0) {
        reject(new Error(`exit ${code ?? signal}: ${line}\n${stdout}${stderr}`));
      } else resolve(result);
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * A long-running child whose stdout+stderr lines are kept in memory (and optionally mirrored to a
 * file by the caller). `waitForLine` resolves on the first line, past or future, that matches.
 */
export class LineProcess {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  private readonly watchers = new Set<() => void>();
  private partial = { stdout: '', stderr: '' };

  constructor(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const feed = (stream: 'stdout' | 'stderr') => (b: Buffer) => {
      const text = this.partial[stream] + b.toString();
      const parts = text.split('\n');
      this.partial[stream] = parts.pop() ?? '';
      for (const line of parts) this.lines.push(line);
      if (parts.length > 0) for (const w of this.watchers) w();
    };
    this.child.stdout?.on('data', feed('stdout'));
    this.child.stderr?.on('data', feed('stderr'));
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        for (const s of ['stdout', 'stderr'] as const) {
          if (this.partial[s] !== '') this.lines.push(this.partial[s]);
          this.partial[s] = '';
        }
        this.exitInfo = { code, signal };
        for (const w of this.watchers) w();
        resolve();
      });
      this.child.on('error', (err) => {
        this.lines.push(`spawn error: ${err.message}`);
        this.exitInfo = { code: null, signal: null };
        for (const w of this.watchers) w();
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get isRunning(): boolean {
    return this.exitInfo === null;
  }

  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo;
  }

  /** Resolves with the first matching line; rejects on timeout or if the process exits first. */
  waitForLine(
    what: string,
    match: (line: string) => boolean,
    timeoutMs: number,
    fromIndex = 0,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      let next = fromIndex;
      const check = () => {
        for (; next < this.lines.length; next++) {
          const line = this.lines[next]!;
          if (match(line)) {
            done();
            resolve(line);
            return;
          }
        }
        if (this.exitInfo !== null) {
          done();
          reject(
            new Error(
              `process exited (${JSON.stringify(this.exitInfo)}) before ${what}; last lines:\n${this.tail()}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${this.tail()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.watchers.delete(check);
      };
      this.watchers.add(check);
      check();
    });
  }

  tail(n = 15): string {
    return this.lines.slice(-n).join('\n');
  }

  /** Sends `signal`; then waits up to `graceMs` for the exit, and SIGKILLs it if it is still there. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (this.exitInfo !== null) return;
    this.child.kill(signal);
    try {
      await this.waitExit(graceMs);
    } catch {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Resolves when the process has exited; rejects after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.exited,
        new Promise<void>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`process ${this.pid} did not exit in ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
