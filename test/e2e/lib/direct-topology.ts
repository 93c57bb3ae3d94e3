// One server directly attached to three links (issue 19, direct mode):
//
//   $PFX-srv  eth1 10.91.0.1/24 ── srv ┐ br0 in $PFX-l1 ┬ l1dh ($PFX-l1-dh: dhclient)
//                                                       ├ l1ud ($PFX-l1-ud: udhcpc)
//                                                       ├ l1dc ($PFX-l1-dc: dhcpcd)
//                                                       └ l1sq ($PFX-l1-sq: 10.91.0.10, a squatter)
//             eth2 10.92.0.1/24 ── srv ┐ br0 in $PFX-l2 … the same three clients
//             eth3 10.93.0.1/24 ── srv ┐ br0 in $PFX-l3 … the same three clients
//
// Client interfaces have names unique across the host (dhcpcd keeps per-interface files in the
// shared file system). Everything stays inside these namespaces.

import './direct-prefix.js';
import { PFX } from './env.js';
import { run } from './proc.js';

export type ClientKind = 'dhclient' | 'udhcpc' | 'dhcpcd';

export interface LinkSpec {
  name: string;
  ns: string;
  /** The server's interface on this link. */
  serverInterface: string;
  serverAddress: string;
  /** First three octets of the /24. */
  prefix: string;
  scopeId: string;
  clients: Record<ClientKind, { ns: string; ifname: string }>;
}

export const DIRECT_NS = { srv: `${PFX}-srv`, squatter: `${PFX}-l1-sq` } as const;

export const LINKS: LinkSpec[] = [1, 2, 3].map((k) => ({
  name: `l${k}`,
  ns: `${PFX}-l${k}`,
  serverInterface: `eth${k}`,
  serverAddress: `10.9${k}.0.1`,
  prefix: `10.9${k}.0`,
  scopeId: `link-${k}`,
  clients: {
    dhclient: { ns: `${PFX}-l${k}-dh`, ifname: `l${k}dh` },
    udhcpc: { ns: `${PFX}-l${k}-ud`, ifname: `l${k}ud` },
    dhcpcd: { ns: `${PFX}-l${k}-dc`, ifname: `l${k}dc` },
  },
}));

function allNamespaces(): string[] {
  return [
    DIRECT_NS.srv,
    DIRECT_NS.squatter,
    ...LINKS.flatMap((l) => [l.ns, ...Object.values(l.clients).map((c) => c.ns)]),
  ];
}

export async function directTopologyDown(): Promise<void> {
  await run(
    'bash',
    ['-c', `for ns in ${allNamespaces().join(' ')}; do ip netns del "$ns" 2>/dev/null || true; done`],
    {
      timeoutMs: 30_000,
      check: false,
    },
  );
}

export async function directTopologyUp(): Promise<void> {
  await directTopologyDown();
  const lines: string[] = allNamespaces().map((ns) => `ip netns add ${ns}; ip -n ${ns} link set lo up`);
  const port = (link: LinkSpec, ns: string, ifname: string, peer: string) => [
    `ip link add ${PFX}-tmp netns ${ns} type veth peer name ${peer} netns ${link.ns}`,
    `ip -n ${ns} link set ${PFX}-tmp name ${ifname}`,
    `ip -n ${link.ns} link set ${peer} master br0 up`,
    `ip -n ${ns} link set ${ifname} up`,
  ];
  for (const l of LINKS) {
    lines.push(
      `ip -n ${l.ns} link add br0 type bridge stp_state 0 forward_delay 0`,
      `ip -n ${l.ns} link set br0 up`,
    );
    lines.push(...port(l, DIRECT_NS.srv, l.serverInterface, 'srv'));
    lines.push(`ip -n ${DIRECT_NS.srv} addr add ${l.serverAddress}/24 dev ${l.serverInterface}`);
    for (const [kind, c] of Object.entries(l.clients))
      lines.push(...port(l, c.ns, c.ifname, `p-${kind.slice(0, 4)}`));
  }
  const l1 = LINKS[0]!;
  lines.push(...port(l1, DIRECT_NS.squatter, 'l1sq', 'p-sq'));
  lines.push(`ip -n ${DIRECT_NS.squatter} addr add 10.91.0.10/24 dev l1sq`);
  lines.push(
    `for i in $(seq 50); do ip netns exec ${DIRECT_NS.srv} ping -c1 -W1 10.91.0.10 >/dev/null 2>&1 && break; sleep 0.2; done`,
  );
  await run('bash', ['-c', `set -e\n${lines.join('\n')}`], { timeoutMs: 120_000 });
}
