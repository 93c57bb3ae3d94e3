// Start/stop the Twinlease server (bin/twinlease.js serve) in $PFX-srv with its own temp folder,
// config and lease database, and keep its log (one JSON object per line) for the assertions.

import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_DEFAULTS } from '../../../src/config/defaults.js';
import type { Config, Scope } from '../../../src/config/schema.js';
import { ADDR, NS, PFX, REPO_ROOT, TWINLEASE_BIN } from './env.js';
import { LineProcess, waitUntil } from './proc.js';
import { isTcpListening, isUdpListening } from './topology.js';

/** Scratch folder of one test file: config, lease db, server logs. Kept after the run for post-mortems. */
export function makeWorkDir(testName: string): string {
  const dir = join(
    '/tmp',
    `${PFX}-e2e`,
    `${testName}-${new Date().toISOString().replace(/[:.]/g, '')}-${process.pid}`,
  );
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The main scope of the harness topology: 10.77.0.0/16 with the anchors' 16k pool. */
export function harnessScope(overrides: Partial<Scope> = {}): Scope {
  return {
    subnet: '10.77.0.0/16',
    ranges: [{ start: ADDR.poolStart, end: ADDR.poolEnd }],
    leaseTimeSeconds: 4000,
    options: [{ name: 'routers', data: ADDR.srv }],
    ...overrides,
  };
}

/** A config for the server in $PFX-srv: listens on 0.0.0.0:67, answers direct clients by subnet broadcast. */
export function harnessConfig(dir: string, scopes: Scope[], extra: Partial<Config> = {}): Config {
  return {
    server: { name: 'tl-e2e', serverIdentifier: ADDR.srv },
    dhcp: { interface: 'eth0', broadcastAddress: ADDR.broadcast },
    leaseStore: { path: join(dir, 'leases.db') },
    logging: { level: 'info' },
    scopes,
    ...extra,
  };
}

export interface LogRecord {
  /** pino level: a label ("info") with the project's formatter, a number (30) by default. */
  level?: string | number;
  msg?: string;
  event?: string;
  [key: string]: unknown;
}

const LEVEL_NUMBERS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** pino level of a record as a number, whichever form the logger writes. */
export function levelOf(record: LogRecord): number {
  return typeof record.level === 'number' ? record.level : (LEVEL_NUMBERS[record.level ?? ''] ?? 0);
}

export class TwinleaseServer {
  readonly configPath: string;
  readonly logPath: string;
  private proc: LineProcess | null = null;
  /** Log lines of every run of this server (restarts included), in order. */
  readonly history: string[] = [];
  private starts = 0;
  /** Added to the environment of every start (e.g. a faked wall clock: fake-wall-clock.ts). */
  env: Record<string, string> = {};
  /**
   * Node arguments before `serve`: this checkout's bin/twinlease.js, or another release's entry
   * (upgrade-pair.test.ts runs the previous release from its sources under tsx).
   */
  entry: readonly string[] = [TWINLEASE_BIN];

  /** `ns`: the namespace the server runs in ($PFX-srv unless a test runs a second server). */
  constructor(
    readonly dir: string,
    public config: Config,
    readonly ns: string = NS.srv,
  ) {
    this.configPath = join(dir, 'config.json');
    this.logPath = join(dir, 'server.log');
    this.writeConfig(config);
  }

  get dbPath(): string {
    return this.config.leaseStore?.path ?? join(this.dir, 'leases.db');
  }

  get pid(): number {
    return this.proc?.pid ?? -1;
  }

  get isRunning(): boolean {
    return this.proc?.isRunning ?? false;
  }

  get exit() {
    return this.proc?.exit ?? null;
  }

  writeConfig(config: Config): void {
    this.config = config;
    writeFileSync(this.configPath, `${JSON.stringify(config, null, 2)}\n`);
  }

  /** Starts the server and waits until it listens on its DHCP port. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.proc?.isRunning) throw new Error('server already running');
    const port = this.config.dhcp?.port ?? 67;
    if (await isUdpListening(this.ns, port))
      throw new Error(`UDP ${port} in ${this.ns} is already taken by another process`);
    this.flushLog();
    this.flushed = 0;
    this.starts++;
    appendFileSync(this.logPath, `--- start #${this.starts} ${new Date().toISOString()}\n`);
    // `ip netns exec` execs the command, so the child pid is the node process itself: SIGKILL
    // on it is a real crash of the server, not of a wrapper.
    this.proc = new LineProcess(
      'ip',
      ['netns', 'exec', this.ns, process.execPath, ...this.entry, 'serve', '--config', this.configPath],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...this.env },
      },
    );
    const started = Date.now();
    const proc = this.proc;
    try {
      await waitUntil(
        `UDP ${port} in ${this.ns}`,
        async () => {
          if (!proc.isRunning) throw new Error(`server exited during start (${JSON.stringify(proc.exit)})`);
          return isUdpListening(this.ns, port);
        },
        timeoutMs,
      );
      // The management API starts once DHCP answers (its modules load after the store is read,
      // src/server/server.ts): a test that asks it right after a client's first lease must not
      // race it, so start() returns when both listen.
      const apiPort = this.config.api?.port ?? API_DEFAULTS.port;
      if (apiPort !== 0) {
        await waitUntil(
          `API TCP ${apiPort} in ${this.ns}`,
          async () => {
            if (!proc.isRunning) throw new Error(`server exited during start (${JSON.stringify(proc.exit)})`);
            return isTcpListening(this.ns, apiPort);
          },
          Math.max(1000, timeoutMs - (Date.now() - started)),
        );
      }
    } catch (err) {
      const tail = proc.tail(30);
      await this.stop();
      throw new Error(
        `Twinlease did not start in ${Date.now() - started} ms: ${(err as Error).message}\n${tail}`,
      );
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.proc) return;
    await this.proc.stop('SIGTERM', graceMs);
    this.flushLog();
  }

  /** A crash: SIGKILL, no chance to flush anything. */
  async kill9(): Promise<void> {
    if (!this.proc) return;
    await this.proc.stop('SIGKILL', 5000);
    this.flushLog();
  }

  /** Rewrites the config and sends SIGHUP. */
  reload(config: Config): void {
    this.writeConfig(config);
    this.proc?.child.kill('SIGHUP');
  }

  /** Lines of the current run. */
  get lines(): readonly string[] {
    return this.proc?.lines ?? [];
  }

  /** Parsed JSON log records of the current run (non-JSON lines are skipped). */
  records(): LogRecord[] {
    const out: LogRecord[] = [];
    for (const line of this.lines) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogRecord);
      } catch {
        // a torn last line after SIGKILL
      }
    }
    return out;
  }

  waitForLog(
    what: string,
    match: (record: LogRecord, line: string) => boolean,
    timeoutMs: number,
  ): Promise<string> {
    if (!this.proc) throw new Error('server not started');
    return this.proc.waitForLine(
      what,
      (line) => {
        if (!line.startsWith('{')) return false;
        try {
          return match(JSON.parse(line) as LogRecord, line);
        } catch {
          return false;
        }
      },
      timeoutMs,
    );
  }

  /** Records at `error` or `fatal` over every run of this server. */
  errors(): LogRecord[] {
    this.flushLog();
    const out: LogRecord[] = [];
    for (const line of this.history) {
      if (!line.startsWith('{')) continue;
      try {
        const r = JSON.parse(line) as LogRecord;
        if (levelOf(r) >= 50) out.push(r);
      } catch {
        // a torn last line after SIGKILL
      }
    }
    return out;
  }

  tail(n = 20): string {
    return this.proc?.tail(n) ?? '';
  }

  /** Lines of the current run already copied to `history` and the log file. */
  private flushed = 0;
  private flushLog(): void {
    if (!this.proc) return;
    const fresh = this.proc.lines.slice(this.flushed);
    this.flushed = this.proc.lines.length;
    if (fresh.length > 0) {
      this.history.push(...fresh);
      appendFileSync(this.logPath, `${fresh.join('\n')}\n`);
    }
  }
}
