// A hub and its branch servers on one failover LAN, each server in its own namespace:
//
//   $PFX-hub  eth0 10.78.0.1/16  --+
//   $PFX-b1   eth0 10.78.0.11/16 --+
//   $PFX-b2   eth0 10.78.0.12/16 --+-- br0 10.78.0.254/16 in $PFX-cli (curl, the relay agents)
//   $PFX-b3   eth0 10.78.0.13/16 --+       + the branch relay addresses 10.8k.0.1/32 on br0
//   $PFX-isc  eth0 10.78.0.14/16 --+
//
// Branch k's clients are relayed (giaddr 10.8k.0.1) from $PFX-cli; every server routes
// 10.80.0.0/12 back through 10.78.0.254. Everything stays inside these namespaces.

import './hub-prefix.js';
import { PFX } from './env.js';
import { run } from './proc.js';

export const HUB_NS = {
  cli: `${PFX}-cli`,
  hub: `${PFX}-hub`,
  b1: `${PFX}-b1`,
  b2: `${PFX}-b2`,
  b3: `${PFX}-b3`,
  isc: `${PFX}-isc`,
} as const;

export const HUB_ADDR = {
  cli: '10.78.0.254',
  hub: '10.78.0.1',
  b1: '10.78.0.11',
  b2: '10.78.0.12',
  b3: '10.78.0.13',
  isc: '10.78.0.14',
} as const;

const SERVERS = ['hub', 'b1', 'b2', 'b3', 'isc'] as const;
/** The branches' relay addresses: 10.81.0.1 … 10.84.0.1. */
export const RELAYS = ['10.81.0.1', '10.82.0.1', '10.83.0.1', '10.84.0.1'] as const;

async function sh(script: string): Promise<void> {
  await run('bash', ['-c', `set -e\n${script}`], { timeoutMs: 60_000 });
}

export async function hubTopologyDown(): Promise<void> {
  const all = Object.values(HUB_NS).join(' ');
  await run('bash', ['-c', `for ns in ${all}; do ip netns del "$ns" 2>/dev/null || true; done`], {
    timeoutMs: 30_000,
    check: false,
  });
}

export async function hubTopologyUp(): Promise<void> {
  await hubTopologyDown();
  const cli = HUB_NS.cli;
  const lines = [
    ...Object.values(HUB_NS).map((ns) => `ip netns add ${ns}; ip -n ${ns} link set lo up`),
    `ip -n ${cli} link add br0 type bridge stp_state 0 forward_delay 0`,
    `ip -n ${cli} addr add ${HUB_ADDR.cli}/16 dev br0`,
    ...RELAYS.map((r) => `ip -n ${cli} addr add ${r}/32 dev br0`),
    `ip -n ${cli} link set br0 up`,
    ...SERVERS.flatMap((s) => {
      const ns = HUB_NS[s];
      return [
        `ip link add ${PFX}-tmp netns ${ns} type veth peer name p-${s} netns ${cli}`,
        `ip -n ${ns} link set ${PFX}-tmp name eth0`,
        `ip -n ${cli} link set p-${s} master br0 up`,
        `ip -n ${ns} addr add ${HUB_ADDR[s]}/16 dev eth0`,
        `ip -n ${ns} link set eth0 up`,
        `ip -n ${ns} route add 10.80.0.0/12 via ${HUB_ADDR.cli}`,
      ];
    }),
    `for i in $(seq 50); do ip netns exec ${cli} ping -c1 -W1 ${HUB_ADDR.hub} >/dev/null 2>&1 && break; sleep 0.2; done`,
  ];
  await sh(lines.join('\n'));
}
