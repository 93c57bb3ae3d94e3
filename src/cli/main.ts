// The `twinlease` command. `serve` runs the server in the foreground; operator verbs that talk to
// the management API are added beside it.

import { Command } from 'commander';
import { registerImportCommand } from '../import/cli.js';
import { registerCheck } from './commands/check.js';
import { registerDb } from './commands/db.js';
import { registerOperatorCommands } from './commands/index.js';
import { exitQuietlyOnBrokenPipe } from './output.js';

export const VERSION = '0.1.0';

/**
 * SIGTERM or SIGINT stops the server within this, whatever holds it up; past it, the process ends
 * by the signal's default action (docs/logging.md §"When the log cannot be written").
 */
export const STOP_DEADLINE_MS = 5000;

async function serve(opts: { config?: string }): Promise<void> {
  // Loaded here, not at the top: operator verbs should not pay for loading the whole server.
  const { LOG_SETTLE_MS, StartupError, startServer } = await import('../server/server.js');
  const { settleLogs } = await import('../server/logger.js');
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  // The handlers are installed before start-up: a signal that arrives while the store loads or the
  // sockets open would otherwise take its default action (SIGTERM and SIGHUP end the process) and
  // skip the orderly stop (the failover partner told, the store closed). It is held and acted on
  // as soon as the server is up.
  let heldStop: NodeJS.Signals | null = null;
  let heldReload = false;
  const shutdown = (signal: NodeJS.Signals) => {
    // stop() bounds its own waits (the log's too); this is for anything else that might hang,
    // start-up included.
    setTimeout(() => endBy(signal), STOP_DEADLINE_MS).unref();
    if (server === null) {
      heldStop ??= signal;
      return;
    }
    server.log.info({ event: 'server.signal', signal });
    server.stop().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`twinlease: error while stopping: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    if (server === null) heldReload = true;
    else server.reload();
  });
  try {
    server = await startServer({ configPath: opts.config ?? null });
  } catch (err) {
    await settleLogs(LOG_SETTLE_MS); // what was logged before the failure
    if (err instanceof StartupError) {
      process.stderr.write(`twinlease: cannot start:\n${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`twinlease: cannot start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
  if (heldStop !== null) shutdown(heldStop);
  // The file may have changed after start-up read it.
  else if (heldReload) server.reload();
}

/**
 * Ends the process by `signal`'s default action, as if it had no handler: without our listeners
 * Node gives the signal back its default disposition. No exit handler runs (one could block).
 */
function endBy(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 1000).unref();
}

/** The whole command tree (also read by test/cli/docs-verbs.test.ts to check the docs' verbs). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('twinlease')
    .description('DHCPv4 server with failover (draft-ietf-dhc-failover-12)')
    .version(VERSION);
  program
    .command('serve')
    .description('run the DHCP server in the foreground (embedded default config when --config is absent)')
    .option('-c, --config <file>', 'JSON configuration file (schema/twinlease.schema.json)')
    .action(serve);
  registerOperatorCommands(program); // status, scope, stats, lease, failover, probe (src/cli/commands/)
  registerImportCommand(program); // import dhcpd (src/import/)
  registerCheck(program); // check --config (offline, like dhcpd -t)
  registerDb(program); // db init|upgrade (PostgreSQL lease database schema)
  // Output to a pipe closed early (`| head`): a quiet exit. Not for `serve`, whose stdout is the
  // log, written by pino (src/server/logger.ts), and whose end is SIGTERM's to decide.
  program.hook('preAction', (_program, action) => {
    if (action.name() !== 'serve') exitQuietlyOnBrokenPipe();
  });
  return program;
}

export async function run(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
