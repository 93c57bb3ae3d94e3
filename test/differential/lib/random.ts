// Seeded-random conversations: a few made-up clients with random identities (client identifier of
// every form, direct or behind a relay, option mixes) doing a random walk through the client
// states of RFC 2131 §4.4 — and a few things no client state machine would do. The plan is drawn
// from the seed before anything is sent, so both worlds run exactly the same conversation and a
// failing seed replays.

import { Prng } from '../../sim/prng.js';
import type { Client, ClientProfile, Conversation, RelayProfile } from './conversation.js';
import { clientFqdn, hex, ip, type RawOption, text, u16, u32, userClass } from './packet.js';
import type { ClientIds, Scenario } from './scenarios.js';
import { NET } from './spec.js';

type Op =
  | { kind: 'dora' | 'discover' | 'select' | 'renew' | 'rebind' | 'release' | 'decline' | 'inform' | 'bootp' }
  | { kind: 'init-reboot'; address: 'own' | 'other-client' | 'free' | 'wrong-subnet' }
  | { kind: 'discover-requesting'; address: 'free' | 'outside-pool' };

interface ClientPlan {
  profile: (ids: ClientIds, n: number) => ClientProfile;
  describe: string;
}

interface Plan {
  clients: ClientPlan[];
  ops: { client: number; op: Op; secs: number }[];
}

const PRL_CODES = [1, 2, 3, 6, 12, 15, 17, 26, 28, 42, 44, 51, 54, 58, 59, 66, 67, 119, 121, 150, 252];

function pickSome<T>(rng: Prng, items: readonly T[], p: number): T[] {
  return items.filter(() => rng.chance(p));
}

function clientPlan(rng: Prng, scenario: number, n: number): ClientPlan {
  const idForm = rng.pick(['none', 'none', 'type-1', 'type-255', 'type-0', 'odd-type', 'long'] as const);
  const where = rng.pick([
    'direct',
    'direct',
    'on-link-relay',
    'remote',
    'remote-with-rai',
    'link-selection',
  ] as const);
  const prl = rng.chance(0.1) ? null : rng.chance(0.2) ? PRL_CODES : pickSome(rng, PRL_CODES, 0.4);
  const extras: string[] = [];
  const extra: RawOption[] = [];
  if (rng.chance(0.3)) {
    extras.push('host-name');
    extra.push([12, text(`rnd-${scenario}-${n}`)]);
  }
  if (rng.chance(0.25)) {
    const flags = rng.pick([0x05, 0x04, 0x0c, 0x01, 0x00]);
    const isAscii = (flags & 0x04) === 0;
    const name = rng.chance(0.5)
      ? `rnd-${scenario}-${n}`
      : `rnd-${scenario}-${n}.${rng.pick(['remote.example.test', 'example.org'])}${isAscii ? '' : '.'}`;
    extras.push(`fqdn(${flags.toString(16)} ${name})`);
    extra.push([81, clientFqdn(flags, name, isAscii)]);
  }
  if (rng.chance(0.2)) {
    extras.push('vendor-class');
    extra.push([60, text(rng.pick(['MSFT 5.0', 'udhcp 1.36.1', 'PXEClient:Arch:00007:UNDI:003016']))]);
  }
  if (rng.chance(0.1)) {
    extras.push('user-class');
    extra.push([77, userClass(['lab'])]);
  }
  if (rng.chance(0.3)) {
    const size = rng.pick([576, 576, 800, 1400, 1500]);
    extras.push(`max-size ${size}`);
    extra.push([57, u16(size)]);
  }
  if (rng.chance(0.15)) {
    const seconds = rng.pick([60, 600, 3000, 100_000]);
    extras.push(`lease ${seconds}`);
    extra.push([51, u32(seconds)]);
  }
  const isBroadcastFlag = rng.chance(0.3);
  const circuit = `port-${rng.int(1, 48)}`;
  const remoteId = rng.int(0, 0xffffff).toString(16).padStart(6, '0');
  const describe = [
    idForm,
    where,
    prl === null ? 'no-prl' : `prl ${prl.length}`,
    ...extras,
    isBroadcastFlag ? 'broadcast-flag' : '',
  ]
    .filter((x) => x !== '')
    .join(', ');
  return {
    describe,
    profile: (ids, k) => {
      const mac = ids.mac(k);
      const clientId = {
        none: undefined,
        'type-1': `01${mac}`,
        'type-255': `ff${(k + 1).toString(16).padStart(8, '0')}00030001${mac}`,
        'type-0': `00${Buffer.from(`rnd-${mac}`).toString('hex')}`,
        'odd-type': `9a${mac}`,
        long: `00${mac}${'5a'.repeat(100)}`,
      }[idForm];
      const relay: RelayProfile | undefined = {
        direct: undefined,
        'on-link-relay': { giaddr: NET.relay },
        remote: { giaddr: NET.remote.giaddr },
        'remote-with-rai': {
          giaddr: NET.remote.giaddr,
          rai: [
            [1, text(circuit)],
            [2, hex(remoteId)],
          ] as RawOption[],
        },
        'link-selection': { giaddr: NET.relay, rai: [[5, ip('10.99.0.0')]] as RawOption[] },
      }[where];
      return {
        mac,
        ...(clientId === undefined ? {} : { clientId }),
        prl,
        extra,
        ...(relay === undefined ? {} : { relay }),
        broadcastFlag: isBroadcastFlag,
      };
    },
  };
}

const OPS: readonly [number, () => Op][] = [
  [25, () => ({ kind: 'dora' })],
  [8, () => ({ kind: 'discover' })],
  [4, () => ({ kind: 'select' })],
  [12, () => ({ kind: 'renew' })],
  [9, () => ({ kind: 'rebind' })],
  [7, () => ({ kind: 'init-reboot', address: 'own' })],
  [2, () => ({ kind: 'init-reboot', address: 'other-client' })],
  [2, () => ({ kind: 'init-reboot', address: 'free' })],
  [2, () => ({ kind: 'init-reboot', address: 'wrong-subnet' })],
  [2, () => ({ kind: 'discover-requesting', address: 'free' })],
  [1, () => ({ kind: 'discover-requesting', address: 'outside-pool' })],
  [7, () => ({ kind: 'release' })],
  [3, () => ({ kind: 'decline' })],
  [6, () => ({ kind: 'inform' })],
  [2, () => ({ kind: 'bootp' })],
];
const OPS_TOTAL = OPS.reduce((a, [w]) => a + w, 0);

function drawOp(rng: Prng): Op {
  let x = rng.int(1, OPS_TOTAL);
  for (const [w, make] of OPS) {
    x -= w;
    if (x <= 0) return make();
  }
  return { kind: 'dora' };
}

function drawPlan(seed: number, scenario: number): Plan {
  const rng = new Prng(seed, 5000 + scenario);
  const clients = Array.from({ length: rng.int(1, 3) }, (_, n) => clientPlan(rng, scenario, n + 1));
  const ops: Plan['ops'] = [];
  // Every client starts with a DORA most of the time, as clients do.
  clients.forEach((_, c) => {
    if (rng.chance(0.85)) ops.push({ client: c, op: { kind: 'dora' }, secs: 0 });
  });
  const count = rng.int(3, 8);
  for (let i = 0; i < count; i++) {
    ops.push({
      client: rng.int(0, clients.length - 1),
      op: drawOp(rng),
      secs: rng.chance(0.2) ? rng.int(1, 30) : 0,
    });
  }
  return { clients, ops };
}

/** `count` random scenarios for `seed`; random scenario k asks for the free address 10.77.30.k. */
export function randomScenarios(seed: number, count: number): Scenario[] {
  if (count > 256) throw new RangeError('at most 256 random scenarios per run (one free address each)');
  return Array.from({ length: count }, (_, k) => {
    const plan = drawPlan(seed, k);
    const free = `10.77.30.${k}`;
    return {
      name: `random/${seed}/${k} [${plan.clients.map((c, i) => `c${i + 1}: ${c.describe}`).join('; ')}]`,
      run: async (conv: Conversation, ids: ClientIds) => {
        const clients: Client[] = plan.clients.map((c, i) => conv.client(`c${i + 1}`, c.profile(ids, i + 1)));
        for (const { client, op, secs } of plan.ops) {
          const c = clients[client]!;
          const o = secs > 0 ? { secs } : {};
          switch (op.kind) {
            case 'dora':
              await c.dora(o);
              break;
            case 'discover':
              await c.discover(o);
              break;
            case 'select':
              await c.requestSelecting(o);
              break;
            case 'renew':
              await c.renew(o);
              break;
            case 'rebind':
              await c.rebind(o);
              break;
            case 'release':
              await c.release(o);
              break;
            case 'decline':
              await c.decline(o);
              break;
            case 'inform':
              await c.inform(o);
              break;
            case 'bootp':
              await c.bootp(o);
              break;
            case 'init-reboot': {
              const other = clients.find((x) => x !== c && x.lease !== null);
              const address = {
                own: c.lease ?? c.previous,
                'other-client': other?.lease ?? null,
                free,
                'wrong-subnet':
                  c.profile.relay?.giaddr === NET.remote.giaddr ? '10.77.31.250' : '10.99.0.250',
              }[op.address];
              await c.requestInitReboot(address, o);
              break;
            }
            case 'discover-requesting':
              await c.discover({ ...o, requested: op.address === 'free' ? free : '10.77.40.250' });
              break;
          }
        }
      },
    };
  });
}
