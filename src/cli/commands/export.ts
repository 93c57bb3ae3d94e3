// `twinlease export [--out FILE] [--no-leases]` (Export-DhcpServer): the running server's config and
// leases in one JSON document, streamed to a file or stdout; `twinlease backup [--path P]`
// (Backup-DhcpServer): an online copy of the lease store on the server; `twinlease lease import
// --file F` (Import-DhcpServer -Leases) lives in lease.ts. docs/api.md §Export and import.

import { createWriteStream, renameSync, unlinkSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError } from '../api-client.js';
import { fields, print, printJson } from '../output.js';
import { action } from './context.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      "the server's config and every lease in one JSON document (Export-DhcpServer; GET /api/v1/export); needs a write token",
    )
    .option('--out <file>', 'write it here (default: standard output)')
    .option('--no-leases', 'the config only')
    .action(
      action(async ({ client }, o: { out?: string; leases: boolean }) => {
        const response = await client.getStream('/api/v1/export', { leases: o.leases ? undefined : 'false' });
        if (response.body === null) throw new CliError('the API answered an empty export');
        const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
        if (o.out === undefined) {
          await pipeline(body, process.stdout);
          return;
        }
        // Written beside, then renamed: an interrupted export never sits at --out.
        const tmp = `${o.out}.tmp-${process.pid}`;
        try {
          await pipeline(body, createWriteStream(tmp, { mode: 0o600 }));
          renameSync(tmp, o.out);
        } catch (err) {
          try {
            unlinkSync(tmp);
          } catch {}
          throw new CliError(`cannot write ${o.out}: ${(err as Error).message}`);
        }
        process.stderr.write(`twinlease: wrote ${o.out}\n`);
      }),
    );

  program
    .command('backup')
    .description(
      'an online copy of the lease store, written by the server (Backup-DhcpServer; POST /api/v1/backup); a server can start from it',
    )
    .option(
      '--path <file>',
      'absolute path on the server; must not exist (default: beside the store, time-stamped)',
    )
    .action(
      action(async ({ client, json }, o: { path?: string }) => {
        const r = await client.post<{
          path: string;
          bytes: number;
          pages: number;
          leases: number;
          durationMs: number;
        }>('/api/v1/backup', o.path === undefined ? {} : { path: o.path }, 600_000);
        if (json) return printJson(r);
        print(
          fields([
            ['Backup', r.path],
            ['Size', `${r.bytes} bytes`],
            ['Lease records', r.leases],
            ['Took', `${r.durationMs} ms`],
          ]),
        );
      }),
    );
}
