// The scripted conversations. Each one is a small client story that exercises one corner of RFC
// 2131 and its extensions; `uses` names what it shares with other scenarios (a reserved client,
// the two-address pool), so that the runner never runs two of those at once.

import type { ClientProfile, Conversation } from './conversation.js';
import { clientFqdn, hex, ip, type RawOption, text, u8, u16, u32, userClass } from './packet.js';
import { NET, RESERVED } from './spec.js';

export interface Scenario {
  name: string;
  /** Shared resources: scenarios with a common entry never run at the same time. */
  uses?: readonly string[];
  run(conv: Conversation, ids: ClientIds): Promise<void>;
}

/** Distinct, stable client identities for one scenario (its number is in every MAC). */
export class ClientIds {
  constructor(private readonly scenarioNumber: number) {}

  /** A locally administered unicast MAC, unique to this scenario and `n`. */
  mac(n: number): string {
    const s = this.scenarioNumber;
    return ['02', 'd1', (s >> 8) & 255, s & 255, (n >> 8) & 255, n & 255]
      .map((x) => (typeof x === 'string' ? x : x.toString(16).padStart(2, '0')))
      .join('');
  }
}

const REMOTE = { giaddr: NET.remote.giaddr } as const;
const ONLINK_RELAY = { giaddr: NET.relay } as const;
const TINY = { giaddr: NET.tiny.giaddr } as const;

/** RAI sub-options (RFC 3046 §2.0: 1 circuit id, 2 remote id; RFC 3527: 5 link selection). */
const CIRCUIT = (s: string): RawOption => [1, text(s)];
const REMOTE_ID = (h: string): RawOption => [2, hex(h)];
const LINK_SELECTION = (a: string): RawOption => [5, ip(a)];

const EVERY_CODE = Array.from({ length: 254 }, (_, i) => i + 1);

/** DORA, then the life of the lease: renew, rebind, release. */
async function life(conv: Conversation, profile: ClientProfile, name = 'c1'): Promise<void> {
  const c = conv.client(name, profile);
  await c.dora();
  await c.renew();
  await c.rebind();
  await c.release();
}

export const SCENARIOS: readonly Scenario[] = [
  // ---------------------------------------------------------------- DORA with option mixes
  { name: 'dora/default-prl', run: (conv, id) => life(conv, { mac: id.mac(1) }) },
  { name: 'dora/no-prl', run: (conv, id) => life(conv, { mac: id.mac(1), prl: null }) },
  {
    name: 'dora/prl-subnet-mask-and-routers',
    run: (conv, id) => life(conv, { mac: id.mac(1), prl: [1, 3] }),
  },
  {
    name: 'dora/prl-unusual-order-unknown-codes-repeats',
    run: (conv, id) => life(conv, { mac: id.mac(1), prl: [119, 6, 200, 3, 3, 1, 15, 42, 0, 255, 224] }),
  },
  {
    name: 'dora/prl-every-code-default-size',
    run: (conv, id) => life(conv, { mac: id.mac(1), prl: EVERY_CODE }),
  },
  {
    name: 'dora/prl-every-code-max-size-1500',
    run: (conv, id) => life(conv, { mac: id.mac(1), prl: EVERY_CODE, extra: [[57, u16(1500)]] }),
  },
  {
    name: 'dora/prl-every-code-max-size-576',
    run: (conv, id) => life(conv, { mac: id.mac(1), prl: EVERY_CODE, extra: [[57, u16(576)]] }),
  },
  {
    name: 'dora/long-option-split-rfc3396',
    run: (conv, id) => life(conv, { mac: id.mac(1), prl: [1, 3, 14], extra: [[57, u16(1500)]] }),
  },
  {
    name: 'dora/max-size-below-minimum-300',
    run: (conv, id) => life(conv, { mac: id.mac(1), prl: EVERY_CODE, extra: [[57, u16(300)]] }),
  },
  {
    name: 'dora/host-name',
    run: (conv, id) => life(conv, { mac: id.mac(1), extra: [[12, text('laptop-7')]] }),
  },
  {
    name: 'dora/host-name-requested-in-prl',
    run: (conv, id) => life(conv, { mac: id.mac(1), prl: [1, 3, 12], extra: [[12, text('laptop-8')]] }),
  },
  {
    name: 'dora/fqdn-server-updates',
    // RFC 4702: S=1 (server updates A), E=1 (wire format), a fully qualified name.
    run: (conv, id) =>
      life(conv, { mac: id.mac(1), extra: [[81, clientFqdn(0x05, 'laptop-9.example.test.')]] }),
  },
  {
    name: 'dora/fqdn-partial-ascii-no-update',
    run: (conv, id) => life(conv, { mac: id.mac(1), extra: [[81, clientFqdn(0x08, 'laptop-10', true)]] }),
  },
  {
    name: 'dora/fqdn-and-host-name',
    run: (conv, id) =>
      life(conv, {
        mac: id.mac(1),
        extra: [
          [12, text('laptop-11')],
          [81, clientFqdn(0x04, 'laptop-11')],
        ],
      }),
  },
  // Through the relay into the subnet with DNS updates: what the replies say about the name.
  {
    name: 'fqdn/server-updates-full-name',
    run: (conv, id) =>
      life(conv, {
        mac: id.mac(1),
        relay: REMOTE,
        extra: [[81, clientFqdn(0x05, 'laptop-20.remote.example.test.')]],
      }),
  },
  {
    name: 'fqdn/server-updates-partial-name',
    run: (conv, id) =>
      life(conv, { mac: id.mac(1), relay: REMOTE, extra: [[81, clientFqdn(0x05, 'laptop-21')]] }),
  },
  {
    name: 'fqdn/client-updates-a',
    run: (conv, id) =>
      life(conv, { mac: id.mac(1), relay: REMOTE, extra: [[81, clientFqdn(0x04, 'laptop-22')]] }),
  },
  {
    name: 'fqdn/no-update',
    run: (conv, id) =>
      life(conv, { mac: id.mac(1), relay: REMOTE, extra: [[81, clientFqdn(0x0c, 'laptop-23')]] }),
  },
  {
    name: 'fqdn/ascii-encoding',
    run: (conv, id) =>
      life(conv, {
        mac: id.mac(1),
        relay: REMOTE,
        extra: [[81, clientFqdn(0x01, 'laptop-24.remote.example.test', true)]],
      }),
  },
  {
    name: 'fqdn/name-in-another-zone',
    run: (conv, id) =>
      life(conv, {
        mac: id.mac(1),
        relay: REMOTE,
        extra: [[81, clientFqdn(0x05, 'laptop-25.example.org.')]],
      }),
  },
  {
    name: 'fqdn/upper-case-and-odd-characters',
    run: (conv, id) =>
      life(conv, { mac: id.mac(1), relay: REMOTE, extra: [[81, clientFqdn(0x05, 'Lap_Top 26')]] }),
  },
  {
    name: 'fqdn/host-name-only',
    run: (conv, id) => life(conv, { mac: id.mac(1), relay: REMOTE, extra: [[12, text('laptop-27')]] }),
  },
  {
    name: 'fqdn/host-name-and-fqdn',
    run: (conv, id) =>
      life(conv, {
        mac: id.mac(1),
        relay: REMOTE,
        extra: [
          [12, text('laptop-28')],
          [81, clientFqdn(0x05, 'laptop-28')],
        ],
      }),
  },
  {
    name: 'dora/vendor-class',
    run: (conv, id) => life(conv, { mac: id.mac(1), extra: [[60, text('MSFT 5.0')]] }),
  },
  {
    name: 'dora/pxe-vendor-class-and-arch',
    run: (conv, id) =>
      life(conv, {
        mac: id.mac(1),
        prl: [1, 3, 6, 15, 66, 67, 43, 60, 128, 129],
        extra: [
          [60, text('PXEClient:Arch:00000:UNDI:002001')],
          [93, u16(0)],
          [94, hex('010201')],
        ],
      }),
  },
  {
    name: 'dora/user-class',
    run: (conv, id) => life(conv, { mac: id.mac(1), extra: [[77, userClass(['iPXE', 'lab'])]] }),
  },
  {
    name: 'dora/broadcast-flag',
    run: (conv, id) => life(conv, { mac: id.mac(1), broadcastFlag: true }),
  },
  {
    name: 'dora/asks-shorter-lease',
    run: (conv, id) => life(conv, { mac: id.mac(1), extra: [[51, u32(600)]] }),
  },
  {
    name: 'dora/asks-longer-lease',
    run: (conv, id) => life(conv, { mac: id.mac(1), extra: [[51, u32(100_000)]] }),
  },
  {
    name: 'dora/asks-infinite-lease',
    run: (conv, id) => life(conv, { mac: id.mac(1), extra: [[51, u32(0xffffffff)]] }),
  },
  {
    name: 'dora/secs-and-hops-set',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.discover({ secs: 30 });
      await c.requestSelecting({ secs: 31 });
    },
  },
  {
    name: 'dora/requested-free-address-in-pool',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.discover({ requested: '10.77.31.200' });
      await c.requestSelecting();
    },
  },
  {
    name: 'dora/requested-address-outside-pool',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.discover({ requested: '10.77.40.99' });
      await c.requestSelecting();
    },
  },
  {
    name: 'dora/requested-address-other-subnet',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.discover({ requested: '10.99.0.50' });
      await c.requestSelecting();
    },
  },
  {
    name: 'dora/selecting-another-server',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.discover();
      await c.requestSelecting({ serverId: '10.77.0.200' });
      // The offer is withdrawn; a new DISCOVER gets one again.
      await c.dora();
    },
  },
  {
    name: 'dora/request-without-discover',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.requestSelecting({ requested: '10.77.31.201', serverId: NET.server });
    },
  },
  {
    name: 'dora/discover-twice',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.discover();
      await c.discover();
      await c.requestSelecting();
      await c.discover();
    },
  },

  // ---------------------------------------------------------------- client identifiers
  {
    name: 'client-id/type-1-mac',
    run: (conv, id) => life(conv, { mac: id.mac(1), clientId: `01${id.mac(1)}` }),
  },
  {
    name: 'client-id/type-255-rfc4361',
    run: (conv, id) => life(conv, { mac: id.mac(1), clientId: `ff0000000100030001${id.mac(1)}` }),
  },
  {
    name: 'client-id/type-0-text',
    run: (conv, id) =>
      life(conv, { mac: id.mac(1), clientId: `00${Buffer.from(`host-${id.mac(1)}`).toString('hex')}` }),
  },
  {
    name: 'client-id/odd-type-42',
    run: (conv, id) => life(conv, { mac: id.mac(1), clientId: `42${id.mac(1)}0102` }),
  },
  {
    name: 'client-id/long-255-bytes',
    run: (conv, id) => life(conv, { mac: id.mac(1), clientId: `00${id.mac(1)}${'ab'.repeat(248)}` }),
  },
  {
    name: 'client-id/one-byte',
    run: (conv, id) => life(conv, { mac: id.mac(1), clientId: '07' }),
  },
  {
    name: 'client-id/two-macs-one-id',
    run: async (conv, id) => {
      const a = conv.client('a', { mac: id.mac(1), clientId: `01${id.mac(9)}` });
      const b = conv.client('b', { mac: id.mac(2), clientId: `01${id.mac(9)}` });
      await a.dora();
      await b.dora();
      await a.renew();
    },
  },
  {
    name: 'client-id/added-after-lease',
    run: async (conv, id) => {
      const a = conv.client('plain', { mac: id.mac(1) });
      const b = conv.client('with-id', { mac: id.mac(1), clientId: `01${id.mac(1)}` });
      await a.dora();
      await b.discover();
      await b.requestSelecting();
    },
  },
  {
    name: 'client-id/mac-changes-same-id',
    run: async (conv, id) => {
      const a = conv.client('nic-a', { mac: id.mac(1), clientId: `ff0000000100030001${id.mac(7)}` });
      const b = conv.client('nic-b', { mac: id.mac(2), clientId: `ff0000000100030001${id.mac(7)}` });
      await a.dora();
      await b.requestInitReboot(a.lease);
    },
  },

  // ---------------------------------------------------------------- renew, rebind, init-reboot
  {
    name: 'init-reboot/own-address',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      await c.requestInitReboot();
    },
  },
  {
    name: 'init-reboot/wrong-subnet',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      await c.requestInitReboot('10.99.0.50');
    },
  },
  {
    name: 'init-reboot/another-clients-address',
    run: async (conv, id) => {
      const a = conv.client('a', { mac: id.mac(1) });
      const b = conv.client('b', { mac: id.mac(2) });
      await a.dora();
      await b.dora();
      await b.requestInitReboot(a.lease);
    },
  },
  {
    name: 'init-reboot/unknown-client-free-pool-address',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.requestInitReboot('10.77.31.210');
    },
  },
  {
    name: 'init-reboot/unknown-client-outside-pool',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.requestInitReboot('10.77.40.99');
    },
  },
  {
    name: 'init-reboot/after-release',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      await c.release();
      await c.requestInitReboot(c.previous);
    },
  },
  {
    name: 'init-reboot/relayed-wrong-subnet',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), relay: REMOTE });
      await c.dora();
      await c.requestInitReboot('10.77.2.20');
    },
  },
  {
    name: 'renew/unknown-client',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.renew({ ciaddr: '10.77.31.220' });
      const d = conv.client('c2', { mac: id.mac(2) });
      await d.rebind({ ciaddr: '10.77.31.221' });
    },
  },
  {
    name: 'renew/client-holding-another-address',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      await c.renew({ ciaddr: '10.77.31.222' });
      await c.rebind({ ciaddr: '10.77.31.223' });
    },
  },
  {
    name: 'renew/another-clients-address',
    run: async (conv, id) => {
      const a = conv.client('a', { mac: id.mac(1) });
      const b = conv.client('b', { mac: id.mac(2) });
      await a.dora();
      await b.renew({ ciaddr: a.lease ?? undefined });
      await b.rebind({ ciaddr: a.lease ?? undefined });
      await a.renew();
    },
  },
  {
    name: 'rebind/wrong-subnet-address',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      await c.rebind({ ciaddr: '10.99.15.60' });
    },
  },
  {
    name: 'renew/rfc1541-style-with-server-id',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      // RFC 1541 clients put the server identifier in a RENEWING request (RFC 2131 forbids it).
      await c.renew({ serverId: NET.server });
    },
  },
  {
    name: 'renew/relayed-client',
    run: (conv, id) => life(conv, { mac: id.mac(1), relay: REMOTE }),
  },

  // ---------------------------------------------------------------- release, decline, inform
  {
    name: 'release/then-discover-again',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      await c.release();
      await c.dora();
    },
  },
  {
    name: 'release/wrong-server-id-is-ignored',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      const held = c.lease ?? undefined;
      await c.release({ serverId: '10.77.0.200' });
      await c.renew({ ciaddr: held });
    },
  },
  {
    name: 'release/by-another-client-is-ignored',
    run: async (conv, id) => {
      const a = conv.client('a', { mac: id.mac(1) });
      const b = conv.client('b', { mac: id.mac(2) });
      await a.dora();
      await b.release({ ciaddr: a.lease ?? undefined });
      await a.renew();
    },
  },
  {
    name: 'decline/after-ack',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      await c.decline();
      await c.dora();
      await c.requestInitReboot(c.previous, { note: 'the declined address' });
    },
  },
  {
    name: 'decline/without-server-id',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      await c.decline({ serverId: null });
      await c.dora();
    },
  },
  {
    name: 'decline/of-an-offer',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.discover();
      await c.decline();
      await c.discover();
    },
  },
  {
    name: 'inform/unicast-from-leased-address',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora();
      await c.inform();
    },
  },
  {
    name: 'inform/unicast-from-static-address',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.inform({ ciaddr: '10.77.40.200' });
    },
  },
  {
    name: 'inform/broadcast',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.inform({ ciaddr: '10.77.40.201', via: 'broadcast' });
    },
  },
  {
    name: 'inform/relayed',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), relay: REMOTE });
      await c.inform({ ciaddr: '10.99.0.240', via: 'relay' });
    },
  },
  {
    name: 'inform/without-ciaddr',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.inform({ ciaddr: '0.0.0.0', via: 'broadcast' });
    },
  },

  // ---------------------------------------------------------------- relay agents
  { name: 'relay/on-link-giaddr', run: (conv, id) => life(conv, { mac: id.mac(1), relay: ONLINK_RELAY }) },
  {
    name: 'relay/remote-with-circuit-and-remote-id',
    run: (conv, id) =>
      life(conv, {
        mac: id.mac(1),
        relay: { ...REMOTE, rai: [CIRCUIT('Gi0/1.100'), REMOTE_ID('0017a4771a2b')] },
      }),
  },
  {
    name: 'relay/link-selection',
    run: (conv, id) =>
      life(conv, {
        mac: id.mac(1),
        relay: { ...ONLINK_RELAY, rai: [CIRCUIT('port-3'), LINK_SELECTION('10.99.0.0')] },
      }),
  },
  {
    name: 'relay/subnet-selection-option-118',
    run: (conv, id) => life(conv, { mac: id.mac(1), relay: ONLINK_RELAY, extra: [[118, ip('10.99.0.0')]] }),
  },
  {
    name: 'relay/unknown-giaddr',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), relay: { giaddr: NET.unknownGiaddr } });
      await c.dora();
    },
  },
  {
    name: 'relay/many-hops',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), relay: { ...REMOTE, hops: 4 } });
      await c.dora();
      const d = conv.client('c2', { mac: id.mac(2), relay: { ...REMOTE, hops: 17 } });
      await d.dora();
    },
  },
  {
    name: 'relay/unknown-sub-options-echoed',
    run: (conv, id) =>
      life(conv, {
        mac: id.mac(1),
        relay: {
          ...REMOTE,
          rai: [CIRCUIT('x'), [6, text('subscriber-7')], [9, hex('00000de9030102ff')], [151, hex('0102')]],
        },
      }),
  },
  {
    name: 'relay/nak-through-relay',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), relay: { ...REMOTE, rai: [CIRCUIT('Gi0/2')] } });
      await c.dora();
      await c.requestInitReboot('10.99.0.5');
    },
  },
  {
    name: 'relay/broadcast-flag-through-relay',
    run: (conv, id) => life(conv, { mac: id.mac(1), relay: REMOTE, broadcastFlag: true }),
  },

  // ---------------------------------------------------------------- BOOTP
  {
    name: 'bootp/cookie-and-options',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), prl: [1, 3, 6] });
      await c.bootp();
    },
  },
  {
    name: 'bootp/no-cookie',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.bootp({ raw: { hasCookie: false } });
    },
  },
  {
    name: 'bootp/relayed',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), relay: REMOTE, prl: null });
      await c.bootp();
    },
  },

  {
    name: 'bootp/with-fqdn-option',
    run: async (conv, id) => {
      const c = conv.client('c1', {
        mac: id.mac(1),
        relay: REMOTE,
        prl: [1, 3],
        extra: [[81, clientFqdn(0x05, 'bootp-host')]],
      });
      await c.bootp();
    },
  },

  // ---------------------------------------------------------------- reservations
  {
    name: 'reservation/by-mac-outside-pool',
    uses: ['resv:macOutside'],
    run: (conv) => life(conv, { mac: RESERVED.macOutside.hardwareAddress, prl: [1, 3, 6, 12, 15] }),
  },
  {
    name: 'reservation/by-client-id-outside-pool',
    uses: ['resv:clientIdOutside'],
    run: (conv, id) => life(conv, { mac: id.mac(1), clientId: RESERVED.clientIdOutside.clientId }),
  },
  {
    name: 'reservation/by-mac-inside-pool',
    uses: ['resv:macInside'],
    run: (conv) => life(conv, { mac: RESERVED.macInside.hardwareAddress }),
  },
  {
    name: 'reservation/by-rfc4361-client-id',
    uses: ['resv:duidOutside'],
    run: (conv, id) => life(conv, { mac: id.mac(1), clientId: RESERVED.duidOutside.clientId }),
  },
  {
    name: 'reservation/asks-for-another-address',
    uses: ['resv:macOutside'],
    run: async (conv) => {
      const c = conv.client('c1', { mac: RESERVED.macOutside.hardwareAddress });
      await c.discover({ requested: '10.77.31.230' });
      await c.requestSelecting();
      await c.requestInitReboot('10.77.31.230');
      await c.requestSelecting({
        requested: '10.77.31.231',
        serverId: NET.server,
        note: 'not its reservation',
      });
    },
  },
  {
    name: 'reservation/bootp',
    uses: ['resv:macInside'],
    run: async (conv) => {
      const c = conv.client('c1', { mac: RESERVED.macInside.hardwareAddress, prl: null });
      await c.bootp();
    },
  },

  // ---------------------------------------------------------------- malformed but tolerated
  {
    name: 'malformed/no-end-option',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.discover({ raw: { hasEnd: false, padTo: 0 } });
      await c.requestSelecting({ raw: { hasEnd: false, padTo: 0 } });
    },
  },
  {
    name: 'malformed/garbage-after-end',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora({ raw: { trailing: hex('deadbeef0102030405') } });
    },
  },
  {
    name: 'malformed/short-no-padding',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), prl: [1, 3] });
      await c.dora({ raw: { padTo: 0 } });
    },
  },
  {
    name: 'malformed/pad-options-between',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), extra: [[0 as number, new Uint8Array(0)]] });
      await c.dora();
    },
  },
  {
    name: 'malformed/prl-split-rfc3396',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), prl: [1, 3], extra: [[55, Uint8Array.of(6, 15)]] });
      await c.dora();
    },
  },
  {
    name: 'malformed/empty-host-name',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), extra: [[12, new Uint8Array(0)]] });
      await c.dora();
    },
  },
  {
    name: 'malformed/junk-in-sname-and-file',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1) });
      await c.dora({ raw: { sname: text('client-sname'), file: text('client-file') } });
    },
  },
  {
    name: 'malformed/options-overloaded-into-file',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), prl: null });
      // Option 52 = 1: the file field carries options (here the parameter request list).
      const file = Uint8Array.from([55, 3, 1, 3, 6, 255]);
      await c.dora({ extra: [[52, u8(1)]], raw: { file } });
    },
  },
  {
    name: 'malformed/hlen-16-htype-infiniband',
    run: async (conv, id) => {
      const c = conv.client('c1', {
        mac: `${id.mac(1)}${id.mac(2)}0a0b0c0d`,
        htype: 32,
        clientId: `ff0000000100030001${id.mac(3)}`,
      });
      await c.dora();
    },
  },
  {
    name: 'malformed/hlen-0-with-client-id',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: '', hlen: 0, clientId: `01${id.mac(1)}` });
      await c.dora();
    },
  },
  {
    name: 'malformed/hlen-0-no-client-id',
    run: async (conv) => {
      const c = conv.client('c1', { mac: '', hlen: 0 });
      await c.discover();
    },
  },
  {
    name: 'malformed/message-type-repeated',
    run: async (conv, id) => {
      const c = conv.client('c1', { mac: id.mac(1), extra: [[53, u8(1)]] });
      await c.discover();
    },
  },

  // ---------------------------------------------------------------- pool exhaustion
  {
    name: 'pool/exhaustion-and-recovery',
    uses: ['tiny'],
    run: async (conv, id) => {
      const a = conv.client('a', { mac: id.mac(1), relay: TINY });
      const b = conv.client('b', { mac: id.mac(2), relay: TINY });
      const c = conv.client('c', { mac: id.mac(3), relay: TINY });
      await a.dora();
      await b.dora();
      await c.dora();
      await a.release();
      await c.dora();
      await a.discover();
      await b.release();
      await c.release();
    },
  },
];
