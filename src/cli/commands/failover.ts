// `twinlease failover …`: the failover verbs, mirroring the DhcpServer PowerShell cmdlets
// (windows-model.md §3.2, §5):
//   add            Add-DhcpServerv4Failover             POST   /api/v1/failover/relationships
//   get            Get-DhcpServerv4Failover             GET    /api/v1/failover/relationships[/{name}]
//   set            Set-DhcpServerv4Failover             PATCH  /api/v1/failover/relationships/{name}
//   remove         Remove-DhcpServerv4Failover          DELETE /api/v1/failover/relationships/{name}
//   scope add      Add-DhcpServerv4FailoverScope        POST   …/{name}/scopes
//   scope remove   Remove-DhcpServerv4FailoverScope     DELETE …/{name}/scopes/{scopeId}
//   partner-down   Set-DhcpServerv4Failover -PartnerDown POST  …/{name}/actions/partner-down
//   replicate      Invoke-DhcpServerv4FailoverReplication POST …/{name}/actions/replicate
//   stats          Get-DhcpServerv4ScopeStatistics -Failover
//   resync         UPDREQALL now (Kea ha-sync)                POST …/{name}/actions/resync
//   rebalance      pool balancing now                         POST …/{name}/actions/rebalance
//   history        the last state changes, with why           GET  …/{name} (stateHistory)

import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { CliError } from '../api-client.js';
import type {
  FailoverRelationship,
  RelationshipSummary,
  ReplicateResult,
  ScopeStatistics,
  StatisticsList,
  WritePreview,
} from '../api-types.js';
import { duration, fields, partnerStateText, print, printJson, table, time } from '../output.js';
import { addWriteFlags, isPreview, printPreview, type WriteFlags, withWriteFlags } from './config-write.js';
import { action, type CommandContext } from './context.js';

const BASE = '/api/v1/failover/relationships';
const at = (name: string) => `${BASE}/${encodeURIComponent(name)}`;

/** `3600`, `90s`, `60m`, `1h`, `1d`, or PowerShell `hh:mm:ss` / `d.hh:mm:ss` → seconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  const unit = /^(\d+)\s*([smhd]?)$/i.exec(t);
  if (unit) {
    const n = Number(unit[1]);
    const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[unit[2]!.toLowerCase()] ?? 1;
    return n * mult;
  }
  const clock = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(t);
  if (clock) {
    const [, d, h, m, s] = clock;
    if (Number(m) < 60 && Number(s) < 60)
      return Number(d ?? 0) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
  }
  throw new CliError(`"${text}" is not a duration (examples: 3600, 60m, 1h, 01:00:00)`);
}

function parseMode(text: string): 'loadBalance' | 'hotStandby' {
  const k = text.toLowerCase().replace(/[-_ ]/g, '');
  if (k === 'loadbalance') return 'loadBalance';
  if (k === 'hotstandby') return 'hotStandby';
  throw new CliError(`--mode must be load-balance or hot-standby, not "${text}"`);
}

function parseChoice<T extends string>(option: string, text: string, choices: readonly T[]): T {
  const found = choices.find((c) => c.toLowerCase() === text.toLowerCase());
  if (!found) throw new CliError(`${option} must be one of ${choices.join(', ')}, not "${text}"`);
  return found;
}

function parsePercent(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new CliError(`${option} must be 0–100, not "${text}"`);
  return n;
}

/** HOST[:PORT] → { address, port? } */
function parseEndpoint(option: string, text: string): { address: string; port?: number } {
  const m = /^([^:]+)(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new CliError(`${option} must be ADDRESS[:PORT], not "${text}"`);
  return m[2] === undefined ? { address: m[1]! } : { address: m[1]!, port: Number(m[2]) };
}

const collect = (value: string, previous: string[]) => [...previous, value];

interface RelationshipOptions {
  role?: string;
  mode?: string;
  loadBalancePercent?: string;
  reservePercent?: string;
  serverRole?: string;
  mclt?: string;
  stateSwitchInterval?: string;
  autoStateTransition?: boolean;
  sharedSecret?: string;
  disableAuth?: boolean;
  partner?: string;
  partnerName?: string;
  local?: string;
  localName?: string;
  partnerApi?: string;
  partnerApiToken?: string;
}

function addRelationshipOptions(c: Command, isCreate: boolean): Command {
  return c
    .option('--role <role>', "this server's role: primary or secondary (add: primary)")
    .option('--mode <mode>', 'load-balance or hot-standby (add: load-balance)')
    .option('--load-balance-percent <n>', 'load-balance: share of clients this server serves (50)')
    .option('--reserve-percent <n>', "hot-standby: the standby's share of free addresses (5)")
    .option('--server-role <role>', 'hot-standby: active or standby')
    .option('--mclt <duration>', 'maximum client lead time (1h)')
    .option('--state-switch-interval <duration>', 'automatic PARTNER-DOWN after this long (turns it on)')
    .option(
      isCreate ? '--auto-state-transition' : '--auto-state-transition <bool>',
      'move to PARTNER-DOWN automatically (true|false)',
    )
    .option('--shared-secret <secret>', 'message authentication secret (turns authentication on)')
    .option('--partner-name <name>', "the partner's server name")
    .option('--local-name <name>', "this server's name in the relationship (default server.name)")
    .option('--partner-api <url>', "the partner's management API, for replicate (http://10.0.0.3:8067)")
    .option('--partner-api-token <token>', "a read-write token of the partner's API");
}

/** The config properties the options set (a create body or a merge patch). */
function relationshipBody(o: RelationshipOptions, isCreate: boolean): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (o.role !== undefined) b.role = parseChoice('--role', o.role, ['primary', 'secondary'] as const);
  else if (isCreate) b.role = 'primary';
  if (o.mode !== undefined) b.mode = parseMode(o.mode);
  if (o.loadBalancePercent !== undefined)
    b.loadBalancePercent = parsePercent('--load-balance-percent', o.loadBalancePercent);
  if (o.reservePercent !== undefined) b.reservePercent = parsePercent('--reserve-percent', o.reservePercent);
  if (o.serverRole !== undefined)
    b.serverRole = parseChoice('--server-role', o.serverRole, ['active', 'standby'] as const);
  if (o.mclt !== undefined) b.mcltSeconds = parseDuration(o.mclt);
  if (o.stateSwitchInterval !== undefined)
    b.stateSwitchIntervalSeconds = parseDuration(o.stateSwitchInterval);
  if (o.autoStateTransition !== undefined) {
    const v = o.autoStateTransition as unknown;
    b.autoStateTransition =
      typeof v === 'boolean'
        ? v
        : parseChoice('--auto-state-transition', String(v), ['true', 'false'] as const) === 'true';
  }
  if (o.sharedSecret !== undefined) b.sharedSecret = o.sharedSecret;
  if (o.disableAuth) b.sharedSecret = null;
  const partner: Record<string, unknown> = {};
  if (o.partner !== undefined) Object.assign(partner, parseEndpoint('--partner', o.partner));
  if (o.partnerName !== undefined) partner.name = o.partnerName;
  if (o.partnerApi !== undefined || o.partnerApiToken !== undefined) {
    const api: Record<string, unknown> = {};
    if (o.partnerApi !== undefined) api.url = o.partnerApi;
    if (o.partnerApiToken !== undefined) api.token = o.partnerApiToken;
    partner.api = api;
  }
  if (Object.keys(partner).length > 0) b.partner = partner;
  const local: Record<string, unknown> = {};
  if (o.local !== undefined) Object.assign(local, parseEndpoint('--local', o.local));
  if (o.localName !== undefined) local.name = o.localName;
  if (Object.keys(local).length > 0) b.local = local;
  return b;
}

/** " (configured X; the primary's is in force)" where the value in force came from the primary. */
function configuredBeside(configured: string | null): string {
  return configured === null ? '' : ` (configured ${configured}; the primary's is in force)`;
}

function printRelationship(r: FailoverRelationship): void {
  const c = r.configuredValues;
  const pct =
    r.mode === 'loadBalance'
      ? `load balance ${r.loadBalancePercent}% here${configuredBeside(c.loadBalancePercent === undefined ? null : `${c.loadBalancePercent}%`)}`
      : `hot standby, ${r.serverRole ?? '-'} here${configuredBeside(c.serverRole ?? null)}, reserve ${r.reservePercent}%`;
  const differences = r.configurationDifferences;
  print(
    fields([
      ['Name', r.name],
      ['Record id', r.recordId],
      ['Role', r.role],
      ['Mode', pct],
      ['State', `${r.state}${r.stateSince ? ` since ${time(r.stateSince)}` : ''}`],
      [
        'Previous state',
        r.previousState === null
          ? null
          : `${r.previousState} (left because ${r.stateChangeReason ?? 'unknown'})`,
      ],
      [
        'Partner state',
        r.partnerState === null
          ? null
          : `${partnerStateText(r)}${r.partnerStateSince ? ` since ${time(r.partnerStateSince)}` : ''}`,
      ],
      ['Running', r.isRunning],
      ['Connection', r.connection.status],
      ['Last contact', time(r.connection.lastContactAt)],
      ['Clock skew', r.connection.clockSkewSeconds === null ? null : `${r.connection.clockSkewSeconds}s`],
      ['Updates queued / unacked', `${r.connection.queuedUpdates} / ${r.connection.unackedUpdates}`],
      ['Partner down at', time(r.partnerDownAt)],
      [
        'MCLT',
        `${duration(r.mcltSeconds)}${configuredBeside(c.mcltSeconds === undefined ? null : duration(c.mcltSeconds))}`,
      ],
      [
        'Auto state transition',
        r.autoStateTransition ? `yes, after ${duration(r.stateSwitchIntervalSeconds ?? 0)}` : 'no',
      ],
      ['Authentication', r.sharedSecretEnabled ? `${r.auth} (shared secret set)` : 'none'],
      ['Scopes', r.scopeIds.join(', ')],
      ['Local', `${r.local.address}:${r.local.port} ${r.local.name ?? ''}`.trim()],
      ['Partner', `${r.partner.address}:${r.partner.port} ${r.partner.name ?? ''}`.trim()],
      ['Partner API', r.partner.api === null ? null : r.partner.api.url],
      [
        'Configuration differs',
        differences === null
          ? 'unknown'
          : differences.length > 0
            ? `yes: ${differences.map((d) => d.name).join(', ')}`
            : 'no',
      ],
      ['Server owner', r.serverOwner],
    ]),
  );
  print(
    table(
      ['Server', 'Address', 'Name', 'State', 'Percentage', 'Record id', 'This'],
      [r.server1, r.server2].map((s, i) => [
        `Server${i + 1} (${s.role})`,
        s.address,
        s.name,
        s.isStateStale ? `${s.state} (last known)` : s.state,
        s.percentage,
        s.recordId,
        s.isThisServer,
      ]),
    ),
  );
  if (differences !== null && differences.length > 0) {
    const value = (v: unknown) => (v === null ? '-' : typeof v === 'string' ? v : JSON.stringify(v));
    print(
      table(
        ['Differs from the partner', 'Here', 'Partner', 'Must be'],
        differences.map((d) => [
          d.name,
          value(d.ours),
          value(d.partner),
          d.rule === 'complement' ? 'adding up to 100' : d.rule,
        ]),
      ),
    );
  }
  if (r.stateHistory.length > 0) printHistory(r.stateHistory.slice(0, 5));
  if (r.operationTracker.length > 0) {
    print(
      table(
        ['Operation', 'At', 'Server', 'Token', 'Relationship', 'Detail'],
        r.operationTracker.map((o) => [
          o.operation,
          time(o.at),
          o.serverName,
          o.tokenName,
          o.effect === 'none' ? '-' : o.effect,
          o.detail,
        ]),
      ),
    );
  }
}

function printHistory(history: FailoverRelationship['stateHistory']): void {
  print(
    table(
      ['State change at', 'From', 'To', 'Why', 'Partner', 'Rule'],
      history.map((c) => [time(c.at), c.from, c.to, c.reason, c.partnerState, c.rule]),
    ),
  );
}

/** What a change did to the running relationship, said once after the write. */
const EFFECT_NOTES: Record<FailoverRelationship['operationTracker'][number]['effect'], string | null> = {
  started: 'Note: the failover endpoint started the relationship at once (no restart of the server needed).',
  restarted:
    'Note: the failover endpoint restarted the relationship at once: it sent STATE paused to the partner, reconnected and resumed its state (no restart of the server needed).',
  none: null,
};

function printList(items: readonly FailoverRelationship[]): void {
  if (items.length === 0) {
    print('No failover relationships');
    return;
  }
  print(
    table(
      ['Name', 'Role', 'Mode', 'State', 'Partner state', 'Connection', 'Partner', 'MCLT', 'Scopes'],
      items.map((r) => [
        r.name,
        r.role,
        r.mode,
        r.state,
        partnerStateText(r),
        r.connection.status,
        r.partner.address,
        duration(r.mcltSeconds),
        r.scopeIds.join(', '),
      ]),
    ),
  );
}

/** Answers with the new state of the relationship, unless --json. */
function show(json: boolean, r: FailoverRelationship, note?: string): void {
  if (json) {
    printJson(r);
    return;
  }
  if (note) print(note);
  printRelationship(r);
  const effect = r.operationTracker[0]?.effect;
  const text = effect === undefined ? null : EFFECT_NOTES[effect];
  if (text) print(text);
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new CliError('not confirmed: pass --yes (standard input is not a terminal)');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function partnerDown(ctx: CommandContext, name: string, yes: boolean): Promise<void> {
  if (!yes) {
    const ok = await confirm(
      `Declare the partner of "${name}" down? This server then serves the whole pool; the partner must really be down (failover.md).`,
    );
    if (!ok) throw new CliError('cancelled');
  }
  const r = await ctx.client.post<FailoverRelationship | null>(`${at(name)}/actions/partner-down`, {});
  if (r === null) return print(`Partner of "${name}" declared down`);
  show(ctx.json, r, ctx.json ? undefined : `Partner of "${name}" declared down`);
}

const STATS_HEAD = [
  'Relationship',
  'Scope',
  'Role',
  'Total',
  'In use',
  'Free',
  'Free here',
  'Free partner',
  'Used here',
  'Used partner',
  'Awaiting ack',
];

function statsRow(relationship: string, s: ScopeStatistics, label = s.scopeId): (string | number)[] {
  return [
    relationship,
    label,
    s.role,
    s.numAddr,
    s.addrInUse,
    s.addrFree,
    s.thisAddrFree,
    s.partnerAddrFree,
    s.thisAddrInUse,
    s.partnerAddrInUse,
    s.addrAwaitingAck,
  ];
}

interface ListFilters {
  state?: string;
  connection?: string;
  partner?: string;
  role?: string;
  match?: string;
}

/** The list's filters as the API's query (states accepted as D12 text or API names). */
export function listQuery(o: ListFilters): string {
  const q = new URLSearchParams();
  if (o.state !== undefined)
    q.set(
      'state',
      o.state.replace(/[-_ ]+([a-z])/gi, (_, c: string) => c.toUpperCase()),
    );
  if (o.connection !== undefined) q.set('connection', o.connection);
  if (o.partner !== undefined) q.set('partner', o.partner);
  if (o.role !== undefined) q.set('role', o.role);
  if (o.match !== undefined) q.set('name', o.match);
  return q.toString();
}

interface ListenerItem {
  listen: string;
  relationships: string[];
  matched: number;
  refused: Record<string, number>;
  nameOfAnotherPartner: number;
  waitingForConnect: number;
}

export function registerFailover(program: Command): void {
  const failover = program
    .command('failover')
    .description('failover relationships (the DhcpServer *-DhcpServerv4Failover cmdlets)');

  failover
    .command('get')
    .description('list relationships, or show one (Get-DhcpServerv4Failover)')
    .option('--name <name>', 'one relationship')
    .option('--scope <id>', 'the relationship of this scope')
    .option(
      '--state <state>',
      'list only relationships in this state (normal, communications-interrupted, …)',
    )
    .option(
      '--connection <up|down>',
      'list only relationships whose partner is (up) or is not (down) communicating',
    )
    .option('--partner <address>', "list only relationships with this partner's failover address")
    .option('--role <role>', 'list only relationships where this server is primary or secondary')
    .option('--match <text>', 'list only relationships whose name contains the text')
    .action(
      action(async ({ client, json }, o: { name?: string; scope?: string } & ListFilters) => {
        const query = listQuery(o);
        if (query !== '') {
          if (o.name !== undefined || o.scope !== undefined) {
            throw new CliError('--name and --scope show one relationship; the list filters go without them');
          }
          const list = await client.get<{ items: FailoverRelationship[] }>(`${BASE}?${query}`);
          return json ? printJson(list) : printList(list.items);
        }
        let name = o.name;
        if (name === undefined && o.scope !== undefined) {
          name = (
            await client.get<RelationshipSummary>(`/api/v1/scopes/${encodeURIComponent(o.scope)}/failover`)
          ).name;
        }
        if (name !== undefined) {
          const r = await client.get<FailoverRelationship>(at(name));
          return json ? printJson(r) : printRelationship(r);
        }
        const list = await client.get<{ items: FailoverRelationship[] }>(BASE);
        return json ? printJson(list) : printList(list.items);
      }),
    );

  failover
    .command('listeners')
    .description('the failover TCP listeners, their relationships and refused connections')
    .action(
      action(async ({ client, json }) => {
        const list = await client.get<{ items: ListenerItem[] }>('/api/v1/failover/listeners');
        if (json) return printJson(list);
        if (list.items.length === 0) return print('No failover listeners');
        print(
          table(
            ['Listen', 'Relationships', 'Matched', 'Refused', 'Wrong name', 'Waiting'],
            list.items.map((l) => [
              l.listen,
              String(l.relationships.length),
              String(l.matched),
              Object.entries(l.refused)
                .filter(([, n]) => n > 0)
                .map(([reason, n]) => `${reason} ${n}`)
                .join(', ') || '0',
              String(l.nameOfAnotherPartner),
              String(l.waitingForConnect),
            ]),
          ),
        );
      }),
    );

  addRelationshipOptions(
    addWriteFlags(failover.command('add'))
      .description('create a relationship in the config file (Add-DhcpServerv4Failover)')
      .requiredOption('--name <name>', 'relationship name (≤126 characters, the same on both partners)')
      .requiredOption('--partner <address[:port]>', "the partner's failover address")
      .requiredOption('--local <address[:port]>', "this server's failover address")
      .requiredOption('--scope <id>', 'a scope to cover (repeat for more)', collect, [] as string[]),
    true,
  ).action(
    action(
      async ({ client, json }, o: RelationshipOptions & WriteFlags & { name: string; scope: string[] }) => {
        const body = { name: o.name, ...relationshipBody(o, true), scopeIds: o.scope };
        const r = await client.post<FailoverRelationship | WritePreview>(withWriteFlags(BASE, o), body);
        if (isPreview(r)) return printPreview(json, r);
        show(json, r, `Created "${r.name}"`);
      },
    ),
  );

  addRelationshipOptions(
    addWriteFlags(failover.command('set'))
      .description('change a relationship (Set-DhcpServerv4Failover)')
      .requiredOption('--name <name>', 'relationship name')
      .option('--partner <address[:port]>', "the partner's failover address")
      .option('--local <address[:port]>', "this server's failover address")
      .option('--disable-auth', 'remove the shared secret (authentication off)')
      .option(
        '--replicate',
        'make the same change on the partner too (partner.api; mirrored: its role, share and addresses are its own); ours is put back if it refuses',
      )
      .option('--partner-down', 'declare the partner down (after the other changes)')
      .option('--yes', 'with --partner-down: do not ask for confirmation'),
    false,
  ).action(
    action(
      async (
        ctx,
        o: RelationshipOptions &
          WriteFlags & { name: string; partnerDown?: boolean; yes?: boolean; replicate?: boolean },
      ) => {
        const patch = relationshipBody(o, false);
        if (Object.keys(patch).length === 0 && !o.partnerDown) {
          throw new CliError(
            'nothing to change: give at least one option (see twinlease failover set --help)',
          );
        }
        if (o.dryRun && o.partnerDown) {
          throw new CliError('--partner-down is an action, not a config change: it has no dry run');
        }
        if (Object.keys(patch).length > 0) {
          const r = await ctx.client.patch<FailoverRelationship | WritePreview>(
            withWriteFlags(at(o.name), o, { replicate: o.replicate === true }),
            patch,
          );
          if (isPreview(r)) return printPreview(ctx.json, r);
          if (!o.partnerDown)
            return show(ctx.json, r, `Changed "${r.name}"${o.replicate ? ' here and on the partner' : ''}`);
        }
        await partnerDown(ctx, o.name, o.yes === true);
      },
    ),
  );

  addWriteFlags(
    failover
      .command('remove')
      .description(
        'remove a relationship from the config file (Remove-DhcpServerv4Failover); its scopes stay',
      )
      .requiredOption('--name <name>', 'relationship name'),
  ).action(
    action(async ({ client, json }, o: WriteFlags & { name: string }) => {
      const r = await client.delete<WritePreview | null>(withWriteFlags(at(o.name), o));
      if (isPreview(r)) return printPreview(json, r);
      if (json) return printJson({ removed: o.name });
      print(`Removed "${o.name}"`);
    }),
  );

  const scope = failover.command('scope').description('scopes of a relationship');
  addWriteFlags(
    scope
      .command('add')
      .description('add scopes to a relationship (Add-DhcpServerv4FailoverScope)')
      .requiredOption('--name <name>', 'relationship name')
      .requiredOption('--scope <id>', 'scope id (repeat for more)', collect, [] as string[]),
  ).action(
    action(async ({ client, json }, o: WriteFlags & { name: string; scope: string[] }) => {
      const r = await client.post<FailoverRelationship | WritePreview>(
        withWriteFlags(`${at(o.name)}/scopes`, o),
        { scopeIds: o.scope },
      );
      if (isPreview(r)) return printPreview(json, r);
      show(json, r, `Added ${o.scope.join(', ')} to "${o.name}"`);
    }),
  );
  addWriteFlags(
    scope
      .command('remove')
      .description('remove a scope from a relationship (Remove-DhcpServerv4FailoverScope)')
      .requiredOption('--name <name>', 'relationship name')
      .requiredOption('--scope <id>', 'scope id'),
  ).action(
    action(async ({ client, json }, o: WriteFlags & { name: string; scope: string }) => {
      const r = await client.delete<FailoverRelationship | WritePreview>(
        withWriteFlags(`${at(o.name)}/scopes/${encodeURIComponent(o.scope)}`, o),
      );
      if (isPreview(r)) return printPreview(json, r);
      show(json, r, `Removed ${o.scope} from "${o.name}"`);
    }),
  );

  failover
    .command('partner-down')
    .description('declare the partner down (Set-DhcpServerv4Failover -PartnerDown); asks first')
    .requiredOption('--name <name>', 'relationship name')
    .option('--yes', 'do not ask for confirmation')
    .action(
      action(async (ctx, o: { name: string; yes?: boolean }) => {
        await partnerDown(ctx, o.name, o.yes === true);
      }),
    );

  addWriteFlags(
    failover
      .command('replicate')
      .description("send scope configs to the partner's API (Invoke-DhcpServerv4FailoverReplication)")
      .option('--name <name>', 'one relationship (default: every relationship with partner.api)')
      .option('--scope <id>', 'one scope (of whichever relationship holds it)'),
  ).action(
    action(async ({ client, json }, o: WriteFlags & { name?: string; scope?: string }) => {
      const jobs: { name: string; scopeIds?: string[] }[] = [];
      if (o.scope !== undefined) {
        const owner = await client.get<RelationshipSummary>(
          `/api/v1/scopes/${encodeURIComponent(o.scope)}/failover`,
        );
        if (o.name !== undefined && o.name !== owner.name) {
          throw new CliError(`scope ${o.scope} is in relationship "${owner.name}", not "${o.name}"`);
        }
        jobs.push({ name: owner.name, scopeIds: [o.scope] });
      } else if (o.name !== undefined) {
        jobs.push({ name: o.name });
      } else {
        const list = await client.get<{ items: FailoverRelationship[] }>(BASE);
        for (const r of list.items) if (r.partner.api !== null) jobs.push({ name: r.name });
        if (jobs.length === 0) throw new CliError('no relationship has partner.api configured');
      }
      const results: ReplicateResult[] = [];
      for (const j of jobs) {
        results.push(
          await client.post<ReplicateResult>(
            withWriteFlags(`${at(j.name)}/actions/replicate`, o),
            j.scopeIds ? { scopeIds: j.scopeIds } : {},
          ),
        );
      }
      const failed = results.flatMap((r) => r.items).filter((i) => i.result === 'failed').length;
      if (json) printJson(results.length === 1 ? results[0] : { items: results });
      else
        print(
          table(
            ['Relationship', 'Partner API', 'Scope', 'Result', 'Message'],
            results.flatMap((r) =>
              r.items.map((i) => [r.relationship, r.partner, i.scopeId, i.result, i.message]),
            ),
          ),
        );
      if (o.dryRun) print('Dry run: nothing was sent to the partner.');
      if (failed > 0) {
        process.stderr.write(
          `twinlease: ${failed} scope${failed === 1 ? '' : 's'} could not be replicated\n`,
        );
        process.exitCode = 1;
      }
    }),
  );

  for (const [verb, what] of [
    ['resync', 'ask the partner for every binding again now (UPDREQALL; Kea ha-sync); NORMAL only'],
    [
      'rebalance',
      'balance the free pools with the partner now (the primary moves, the secondary asks); NORMAL only',
    ],
  ] as const) {
    failover
      .command(verb)
      .description(what)
      .requiredOption('--name <name>', 'relationship name')
      .action(
        action(async (ctx, o: { name: string }) => {
          const r = await ctx.client.post<FailoverRelationship>(`${at(o.name)}/actions/${verb}`, {});
          if (ctx.json) return printJson(r);
          print(
            verb === 'resync'
              ? `Resync of "${o.name}" started: the partner sends every binding again (UPDREQALL); it ends with its UPDDONE.`
              : `Pool balancing of "${o.name}" started (${r.role === 'primary' ? 'this primary moves free addresses to the secondary' : 'this secondary asked the primary, POOLREQ'}).`,
          );
        }),
      );
  }

  failover
    .command('history')
    .description('the last state changes of a relationship: from, to, when, why')
    .requiredOption('--name <name>', 'relationship name')
    .action(
      action(async ({ client, json }, o: { name: string }) => {
        const r = await client.get<FailoverRelationship>(at(o.name));
        if (json) return printJson(r.stateHistory);
        print(`State ${r.state}${r.stateSince ? ` since ${time(r.stateSince)}` : ''}`);
        if (r.stateHistory.length === 0) return print('No state change since the server started');
        printHistory(r.stateHistory);
      }),
    );

  failover
    .command('stats')
    .description('failover statistics per scope (Get-DhcpServerv4ScopeStatistics -Failover)')
    .option('--name <name>', 'the sum over one relationship')
    .option('--scope <id>', 'one scope')
    .action(
      action(async ({ client, json }, o: { name?: string; scope?: string }) => {
        if (o.scope !== undefined) {
          const s = await client.get<ScopeStatistics>(
            `/api/v1/scopes/${encodeURIComponent(o.scope)}/failover-statistics`,
          );
          return json ? printJson(s) : print(table(STATS_HEAD.slice(1), [statsRow('', s).slice(1)]));
        }
        const rels = await client.get<{ items: FailoverRelationship[] }>(BASE);
        const chosen = o.name === undefined ? rels.items : rels.items.filter((r) => r.name === o.name);
        if (o.name !== undefined && chosen.length === 0) {
          await client.get(at(o.name)); // the API's own 404 message
        }
        const all = await client.get<StatisticsList>('/api/v1/statistics');
        const byId = new Map(all.items.map((s) => [s.scopeId, s]));
        const rows: (string | number)[][] = [];
        const out: { relationship: string; items: ScopeStatistics[]; total: ScopeStatistics }[] = [];
        for (const r of chosen) {
          const items = r.scopeIds.flatMap((id) => {
            const s = byId.get(id);
            return s ? [s] : [];
          });
          const total = await client.get<ScopeStatistics>(`${at(r.name)}/statistics`);
          out.push({ relationship: r.name, items, total });
          for (const s of items) rows.push(statsRow(r.name, s));
          rows.push(statsRow(r.name, total, 'total'));
        }
        if (json) return printJson(o.name === undefined ? { items: out } : out[0]);
        if (rows.length === 0) return print('No failover relationships');
        print(table(STATS_HEAD, rows));
      }),
    );
}
