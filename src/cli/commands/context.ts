// What every operator command shares: the global options (--api, --token, --json) and the
// error handling (one line on stderr, exit status 1).

import type { Command } from 'commander';
import { ApiClient, CliError } from '../api-client.js';

export const DEFAULT_API = 'http://127.0.0.1:8067';

export interface GlobalOptions {
  api: string;
  token?: string;
  json: boolean;
}

export interface CommandContext {
  client: ApiClient;
  json: boolean;
}

/** Adds the global options to the root command (they may also follow the verb). */
export function addGlobalOptions(program: Command): void {
  program
    .option(
      '--api <url>',
      'management API base URL (env TWINLEASE_API)',
      process.env.TWINLEASE_API ?? DEFAULT_API,
    )
    .option('--token <token>', 'API bearer token (env TWINLEASE_TOKEN)')
    .option('--json', 'print the API response as JSON', false);
}

export function contextOf(command: Command): CommandContext {
  const o = command.optsWithGlobals<GlobalOptions>();
  const token = o.token ?? process.env.TWINLEASE_TOKEN;
  return {
    client: new ApiClient({ api: o.api, token: token === '' ? undefined : token }),
    json: o.json === true,
  };
}

/** Wraps a command action: CliError → "twinlease: …" on stderr and exit status 1. */
export function action<A extends unknown[]>(
  fn: (ctx: CommandContext, ...args: A) => Promise<void>,
): (...args: [...A, Command]) => Promise<void> {
  return async (...args) => {
    const command = args[args.length - 1] as Command;
    try {
      await fn(contextOf(command), ...(args.slice(0, -1) as A));
    } catch (err) {
      if (err instanceof CliError) {
        process.stderr.write(`twinlease: ${err.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw err;
    }
  };
}
