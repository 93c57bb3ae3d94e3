// `twinlease exclusion add|remove --scope ID --range A-B`: Add-/Remove-DhcpServerv4ExclusionRange as
// config writes through the API (--dry-run, --force, --replicate).

import type { Command } from 'commander';
import type { WritePreview } from '../api-types.js';
import { print, printJson } from '../output.js';
import { addWriteFlags, isPreview, printPreview, type WriteFlags, withWriteFlags } from './config-write.js';
import { action } from './context.js';
import { parseRange } from './scope.js';

interface ExclusionOptions extends WriteFlags {
  scope: string;
  range: string;
  replicate?: boolean;
}

export function registerExclusion(program: Command): void {
  const exclusion = program.command('exclusion').description("a scope's exclusion ranges");
  const base = (c: Command) =>
    addWriteFlags(
      c
        .requiredOption('--scope <id>', 'scope id')
        .requiredOption('--range <start-end>', 'the range, e.g. 10.50.0.20-10.50.0.29 (or one address)')
        .option(
          '--replicate',
          'make the same change on the failover partner (partner.api); ours is kept only if it takes it',
        ),
    );
  const done = (json: boolean, r: unknown, text: string, o: ExclusionOptions) => {
    if (r !== null && isPreview(r)) return printPreview(json, r as WritePreview);
    if (json) return printJson(r ?? { done: text });
    print(`${text}${o.replicate ? ' here and on the failover partner' : ''}; the server reloaded.`);
  };
  base(
    exclusion
      .command('add')
      .description('exclude a range from the pool (Add-DhcpServerv4ExclusionRange; POST …/exclusions)'),
  ).action(
    action(async ({ client, json }, o: ExclusionOptions) => {
      const range = parseRange('--range', o.range);
      const r = await client.post(
        withWriteFlags(`/api/v1/scopes/${encodeURIComponent(o.scope)}/exclusions`, o, {
          replicate: o.replicate === true,
        }),
        range,
      );
      done(json, r, `Exclusion ${range.start}-${range.end} added to scope "${o.scope}"`, o);
    }),
  );
  base(
    exclusion
      .command('remove')
      .description(
        'give an excluded range back to the pool (Remove-DhcpServerv4ExclusionRange; DELETE …/exclusions/{start-end})',
      ),
  ).action(
    action(async ({ client, json }, o: ExclusionOptions) => {
      const range = parseRange('--range', o.range);
      const r = await client.delete(
        withWriteFlags(
          `/api/v1/scopes/${encodeURIComponent(o.scope)}/exclusions/${range.start}-${range.end}`,
          o,
          { replicate: o.replicate === true },
        ),
      );
      done(json, r, `Exclusion ${range.start}-${range.end} removed from scope "${o.scope}"`, o);
    }),
  );
}
