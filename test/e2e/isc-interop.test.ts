// Twinlease paired with the real ISC dhcpd 4.4 (Debian isc-dhcp-server), in both roles, over D12
// failover on TCP 647 in the harness namespaces ($PFX = tli): dhcpd runs with a generated
// dhcpd.conf (failover peer stanza of spec §15.3, split 128, small MCLT and max-response-delay, its
// own lease file), Twinlease with the matching relationship. The relay-capable test client in
// $PFX-cli broadcasts (both partners see every packet) or unicasts to one partner; dhclient in
// $PFX-rc is a real broadcast client. dhcpd's state comes from its log ("I move from X to Y") and
// its lease file; ours from GET /api/v1/status.
//
// Spec §15.4, for each role: (1) fresh pair → both NORMAL, free pool split ~50/50 by BACKUP
// updates; (7) the §8.3 load-balance vectors, and the secs override; (2) leases on each side
// replicated, first grant ≤ MCLT, renewal longer; (5) partition of the failover link while both
// serve, heal → NORMAL and the same bindings on both; (3) kill -9 of dhcpd → we are
// COMMUNICATIONS-INTERRUPTED, renew its clients, allocate from our pool only; (4) PARTNER-DOWN on us
// (the automatic safe period: there is no operator route in the API yet), dhcpd restarts → RECOVER,
// UPDREQALL, RECOVER-WAIT, NORMAL; (6) dhcpd's clock 90 s ahead (libfaketime) → no pairing, reason 4.
// Issue 14: (8) leases run out in NORMAL → no update refused either way, FREE/BACKUP on both;
// (9, 10) kill -9 of Twinlease, dhcpd's auto-partner-down, restart after more / less than MCLT →
// RECOVER-WAIT over at once / MCLT after the crash, not after the restart.
// Where dhcpd and D12 differ, docs/isc-interop.md says what we do and which check here shows it.

import './lib/isc-prefix.js';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clientBucket, hbaFromSplit, isBucketSet } from '../../src/failover/hash-bucket.js';
import { fromHex } from '../../src/wire/ipv4.js';
import { DhcpMessageType, DhcpTestClient, type Reply, testMac } from './lib/dhcp-test-client.js';
import { ADDR, e2eSkipReason, NS } from './lib/env.js';
import { IscDhcpd, type IscLeaseFile, libfaketimePath } from './lib/isc-dhcpd.js';
import { type IscPairSettings, TwinleaseMember, twinleaseIscConfig } from './lib/isc-twinlease.js';
import { type ApiLease, PRIMARY_SIDE, rangeAddresses, SECONDARY_SIDE } from './lib/pair.js';
import { Phases } from './lib/phases.js';
import { sleep, waitUntil } from './lib/proc.js';
import { RealClient } from './lib/real-client.js';
import { type LogRecord, makeWorkDir } from './lib/server.js';
import { ip, macOf, topologyDown, topologyUp } from './lib/topology.js';

const skip = e2eSkipReason(['ss', 'curl', 'dhclient', 'dhcpd']);
const hasFaketime = libfaketimePath() !== null;

type Role = 'primary' | 'secondary';

const SETTINGS: IscPairSettings = {
  relationship: 'tli-isc',
  poolStart: '10.77.1.0',
  poolEnd: '10.77.1.99',
  leaseTimeSeconds: 120,
  mcltSeconds: 30,
  receiveTimerSeconds: 6,
  loadBalanceMaxSeconds: 5,
  // Longer than the partition of phase 5 lasts (~6 s), shorter than dhcpd's MCLT wait needs.
  stateSwitchIntervalSeconds: 15,
  failoverPort: 647,
};
const POOL = rangeAddresses(SETTINGS.poolStart, SETTINGS.poolEnd);
const inPool = (a: string) => POOL.includes(a);
const ADDRESS_OF: Record<Role, string> = { primary: ADDR.srv, secondary: ADDR.srv2 };
const NS_OF: Record<Role, string> = { primary: NS.srv, secondary: NS.srv2 };
const other = (r: Role): Role => (r === 'primary' ? 'secondary' : 'primary');
/** ISC `split 128`: buckets 0..127 are the primary's (a set bit = primary, spec §8.4). */
const ISC_HBA = hbaFromSplit(128);

/** Who answers a client in NORMAL: RFC 3074 over the client identifier, else chaddr. */
function bucketOwner(mac: string, clientId?: string): Role {
  const chaddr = fromHex(mac);
  const bucket = clientBucket(clientId === undefined ? null : fromHex(clientId), chaddr, chaddr.length);
  return isBucketSet(ISC_HBA, bucket) ? 'primary' : 'secondary';
}

/** Spec §8.3 vectors (key, expected owner with ISC split 128), as DHCP clients: MAC or client id. */
const VECTORS: { what: string; mac: string; clientId?: string; owner: Role }[] = [
  { what: 'MAC 00:00:00:00:00:00 (bucket 254)', mac: '000000000000', owner: 'secondary' },
  { what: 'MAC 00:11:22:33:44:55 (bucket 135)', mac: '001122334455', owner: 'secondary' },
  { what: 'MAC 01:02:03:04:05:06 (bucket 179)', mac: '010203040506', owner: 'secondary' },
  { what: 'MAC aa:bb:cc:dd:ee:ff (bucket 57)', mac: 'aabbccddeeff', owner: 'primary' },
  { what: 'MAC ff:ff:ff:ff:ff:ff (bucket 79)', mac: 'ffffffffffff', owner: 'primary' },
  { what: 'MAC 52:54:00:12:34:56 (bucket 156)', mac: '525400123456', owner: 'secondary' },
  {
    what: 'client id 01 00 11 22 33 44 55 (bucket 223) on chaddr aa:bb:cc:dd:ee:ff',
    mac: 'aabbccddeeff',
    clientId: '01001122334455',
    owner: 'secondary',
  },
  {
    what: 'client id 01 aa bb cc dd ee ff (bucket 102) on chaddr 00:11:22:33:44:55',
    mac: '001122334455',
    clientId: '01aabbccddeeff',
    owner: 'primary',
  },
];

const colon = (hex: string) => hex.match(/../g)?.join(':') ?? hex;
const epoch = (iso: string | null) => (iso === null ? null : Date.parse(iso) / 1000);

const replyText = (r: Reply, who: (r: Reply) => string) =>
  `${DhcpMessageType[r.type]} ${r.yiaddr} from ${who(r)} sid=${r.serverId} lease=${r.leaseTimeSeconds}`;

interface Grant {
  mac: string;
  ip: string;
  by: 'twinlease' | 'dhcpd';
  leaseSeconds: number;
}

/** Active bindings (address → MAC) of dhcpd's lease file. */
function iscActive(f: IscLeaseFile): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of f.leases.values()) if (l.bindingState === 'active' && l.mac) m.set(l.ip, l.mac);
  return m;
}

/** The failover link between the two server namespaces cut (blackhole routes both ways) or healed. */
async function partition(cut: boolean): Promise<void> {
  const verb = cut ? 'add' : 'del';
  await ip(NS.srv, 'route', verb, 'blackhole', `${ADDR.srv2}/32`);
  await ip(NS.srv2, 'route', verb, 'blackhole', `${ADDR.srv}/32`);
}

describe('ISC dhcpd 4.4 interop (D12 failover)', { skip: skip ?? false }, () => {
  let relay: DhcpTestClient;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    await topologyUp();
    relay = await DhcpTestClient.start({
      ns: NS.cli,
      giaddr: ADDR.cli,
      server: ADDR.broadcast,
      bindAddress: ADDR.cli,
      attemptTimeoutMs: 800,
      attempts: 3,
    });
  });

  after(async () => {
    for (const c of cleanups) await c().catch(() => {});
    await relay?.close().catch(() => {});
    await partition(false).catch(() => {});
    await topologyDown();
  });

  // TL_ISC_ROLES=secondary (or primary) runs one role only, when chasing a failure.
  const roles = (['secondary', 'primary'] as const).filter((r) =>
    (process.env.TL_ISC_ROLES ?? 'secondary,primary').split(',').includes(r),
  );
  for (const ourRole of roles) {
    const iscRole = other(ourRole);
    describe(`Twinlease ${ourRole} (${ADDRESS_OF[ourRole]}), dhcpd ${iscRole} (${ADDRESS_OF[iscRole]})`, () => {
      const dir = makeWorkDir(`isc-interop-tl-${ourRole}`);
      const ourAddr = ADDRESS_OF[ourRole];
      const iscAddr = ADDRESS_OF[iscRole];
      const side = ourRole === 'primary' ? PRIMARY_SIDE : SECONDARY_SIDE;
      const tlDir = join(dir, 'twinlease');
      const iscDir = join(dir, 'dhcpd');
      for (const d of [tlDir, iscDir]) mkdirSync(d, { recursive: true });
      const tl = new TwinleaseMember(
        side,
        SETTINGS.relationship,
        tlDir,
        twinleaseIscConfig(tlDir, side, iscAddr, SETTINGS),
      );
      const isc = new IscDhcpd(iscDir, NS_OF[iscRole], {
        name: SETTINGS.relationship,
        role: iscRole,
        address: iscAddr,
        peerAddress: ourAddr,
        port: SETTINGS.failoverPort,
        peerPort: SETTINGS.failoverPort,
        maxResponseDelaySeconds: SETTINGS.receiveTimerSeconds,
        maxUnackedUpdates: 10,
        mcltSeconds: SETTINGS.mcltSeconds,
        split: 128,
        loadBalanceMaxSeconds: SETTINGS.loadBalanceMaxSeconds,
        poolStart: SETTINGS.poolStart,
        poolEnd: SETTINGS.poolEnd,
        leaseTimeSeconds: SETTINGS.leaseTimeSeconds,
      });
      const dhclient = new RealClient('dhclient', dir);
      const stopAll = async () => {
        await dhclient.stop().catch(() => {});
        await tl.server.stop().catch(() => {});
        await isc.kill9().catch(() => {});
        isc.saveLog();
      };
      cleanups.push(stopAll);
      after(stopAll);

      const who = (r: Reply) => (r.from === ourAddr ? 'twinlease' : r.from === iscAddr ? 'dhcpd' : r.from);
      const roleOf = (r: Reply): Role | string =>
        r.from === ADDR.srv ? 'primary' : r.from === ADDR.srv2 ? 'secondary' : r.from;
      const text = (r: Reply) => replyText(r, who);

      const phases = new Phases((t) => {
        t.diagnostic(`Twinlease states: ${tl.describeSeen()}`);
        t.diagnostic(`dhcpd states: ${isc.describeStates()}`);
      });
      const phase = phases.phase;

      /** Addresses dhcpd and Twinlease agree are the secondary's (BACKUP), at the last look. */
      let backup = new Set<string>();
      const poolOf = (role: Role, a: string) => (role === 'secondary' ? backup.has(a) : !backup.has(a));
      const grants = new Map<string, Grant>();

      /** Differences between the two servers' active bindings (address → MAC). */
      const bindingDiffs = async (): Promise<string[]> => {
        const theirs = iscActive(isc.leaseFile());
        const ours = new Map(
          (await tl.api.leases())
            .filter((l: ApiLease) => l.bindingState === 'active')
            .map((l: ApiLease) => [l.ipAddress, l.hardwareAddress.mac ?? '-']),
        );
        const out: string[] = [];
        for (const a of new Set([...theirs.keys(), ...ours.keys()])) {
          if (theirs.get(a) !== ours.get(a))
            out.push(
              `${a}: dhcpd ${theirs.get(a) ?? 'not active'} | twinlease ${ours.get(a) ?? 'not active'}`,
            );
        }
        return out;
      };
      const waitSameBindings = async (what: string, timeoutMs: number) => {
        let diffs: string[] = [];
        await waitUntil(
          what,
          async () => {
            diffs = await bindingDiffs();
            return diffs.length === 0;
          },
          timeoutMs,
          300,
        ).catch((err: Error) => {
          throw new Error(
            `${err.message}:\n${diffs.slice(0, 20).join('\n')}\nTwinlease log:\n${tl.failoverLog(15)}\ndhcpd log:\n${isc.failoverLog(15)}`,
          );
        });
      };

      /** DORA through the relay (broadcast unless `to`); ACK checked by the caller. */
      const dora = async (mac: string, o: { to?: string; clientId?: string } = {}) => {
        const r = await relay.dora(mac, o);
        await sleep(300);
        const xid = r.offer?.xid ?? r.reply?.xid;
        const replies = relay.replies.filter((x) => x.mac === mac && x.xid === xid);
        return { ...r, replies };
      };

      phase('1. fresh pair: both reach NORMAL, the free pool is split ~50/50', 60_000, async (t) => {
        await isc.check();
        const started = Date.now();
        await Promise.all([isc.start(), tl.start()]);
        await Promise.all([tl.waitState(['normal'], 40_000), isc.waitState('normal', 40_000)]);
        t.diagnostic(`both normal ${Date.now() - started} ms after start`);
        t.diagnostic(`Twinlease logged: ${tl.loggedTransitions().join(', ')}`);
        t.diagnostic(`dhcpd logged: ${isc.describeStates()}`);
        const view = await tl.view();
        assert.equal(view?.partnerState, 'normal', 'Twinlease sees dhcpd in normal');
        // Pool balancing: the primary (whichever implementation) moves half the free addresses to
        // the secondary with BNDUPD BACKUP; both must then agree address by address.
        const split = await waitUntil(
          'both servers to agree on the BACKUP (secondary-owned) addresses, about half the pool',
          async () => {
            const ours = new Set((await tl.api.leases('backup')).map((l) => l.ipAddress));
            const theirs = new Set(
              [...isc.leaseFile().leases.values()]
                .filter((l) => l.bindingState === 'backup')
                .map((l) => l.ip),
            );
            const same = ours.size === theirs.size && [...ours].every((a) => theirs.has(a));
            return same && ours.size >= 40 && ours.size <= 60 ? ours : undefined;
          },
          20_000,
          300,
        ).catch(async (err: Error) => {
          const st = await tl.api.statistics();
          const theirs = [...isc.leaseFile().leases.values()].filter((l) => l.bindingState === 'backup');
          throw new Error(
            `${err.message}: Twinlease statistics ${JSON.stringify(st)}; dhcpd BACKUP records ${theirs.length}\n` +
              `dhcpd log:\n${isc.failoverLog(20)}\nTwinlease log:\n${tl.failoverLog(20)}`,
          );
        });
        backup = split;
        const st = await tl.api.statistics();
        t.diagnostic(
          `BACKUP (secondary's) ${backup.size} of ${POOL.length}; Twinlease statistics ${JSON.stringify(st)}`,
        );
        assert.equal(st.thisAddrFree + st.partnerAddrFree, POOL.length, 'every address is FREE or BACKUP');
        const lf = isc.leaseFile();
        assert.equal(lf.failover?.myState, 'normal', 'dhcpd lease file: my state normal');
        assert.equal(lf.failover?.partnerState, 'normal', 'dhcpd lease file: partner state normal');
      });

      phase(
        '7. load balance: the spec §8.3 vectors are answered by their bucket owner; secs > 5 by both',
        30_000,
        async (t) => {
          const problems: string[] = [];
          const probe = async (what: string, mac: string, clientId: string | undefined, secs: number) => {
            const xid = 0x7e000000 + Math.floor(Math.random() * 0xffffff);
            const p = relay.buildPacket(DhcpMessageType.Discover, mac, xid, clientId ? { clientId } : {});
            p.secs = secs;
            relay.send(p);
            await sleep(1500);
            const replies = relay.replies.filter((r) => r.xid === xid);
            return { what: `${what}, secs ${secs}`, replies };
          };
          const runs = await Promise.all([
            ...VECTORS.map((v) => probe(v.what, v.mac, v.clientId, 0)),
            // ISC answers a partner's client only when secs > `load balance max seconds` (5).
            probe(VECTORS[1]!.what, VECTORS[1]!.mac, undefined, SETTINGS.loadBalanceMaxSeconds),
            probe(VECTORS[3]!.what, VECTORS[3]!.mac, undefined, SETTINGS.loadBalanceMaxSeconds),
            probe(VECTORS[1]!.what, VECTORS[1]!.mac, undefined, SETTINGS.loadBalanceMaxSeconds + 1),
            probe(VECTORS[3]!.what, VECTORS[3]!.mac, undefined, SETTINGS.loadBalanceMaxSeconds + 1),
          ]);
          const expected = [
            ...VECTORS.map((v) => [v.owner]),
            [VECTORS[1]!.owner],
            [VECTORS[3]!.owner],
            ['primary', 'secondary'],
            ['primary', 'secondary'],
          ];
          runs.forEach((r, i) => {
            const got = [
              ...new Set(r.replies.filter((x) => x.type === DhcpMessageType.Offer).map(roleOf)),
            ].sort();
            const want = [...expected[i]!].sort();
            const line = `${r.what}: answered by ${got.join('+') || 'nobody'} (${r.replies.map(text).join('; ') || 'no reply'}), expected ${want.join('+')}`;
            t.diagnostic(line);
            if (got.join() !== want.join()) problems.push(line);
          });
          assert.deepEqual(problems, [], 'every DISCOVER answered by exactly the expected server(s)');
        },
      );

      phase(
        '2. leases on each side: the bucket owner grants ≤ MCLT, the partner stores it, renewals get more',
        60_000,
        async (t) => {
          const macs = Array.from({ length: 12 }, (_, i) =>
            testMac(ourRole === 'primary' ? 0xa2 : 0xa1, i + 1),
          );
          const results = [];
          for (const mac of macs) results.push(await dora(mac));
          const count = { twinlease: 0, dhcpd: 0 };
          for (const r of results) {
            const owner = bucketOwner(r.mac);
            const seen = r.replies.map(text).join('; ') || 'no reply';
            assert.equal(r.reply?.type, DhcpMessageType.Ack, `${r.mac} (owner ${owner}) got an ACK: ${seen}`);
            const offers = [
              ...new Set(r.replies.filter((x) => x.type === DhcpMessageType.Offer).map(roleOf)),
            ];
            assert.deepEqual(offers, [owner], `${r.mac}: only the bucket owner (${owner}) offers: ${seen}`);
            const ack = r.reply!;
            assert.equal(ack.from, ADDRESS_OF[owner], `${r.mac} ACKed by its owner: ${seen}`);
            const extra = r.replies.filter((x) => x.type === DhcpMessageType.Ack && x.from !== ack.from);
            if (extra.length > 0)
              t.diagnostic(`${r.mac}: also ACKed by the other server: ${extra.map(text).join('; ')}`);
            assert.ok(
              inPool(ack.yiaddr) && poolOf(owner, ack.yiaddr),
              `${r.mac} got ${ack.yiaddr} from the ${owner}'s own free addresses`,
            );
            assert.ok(
              ack.leaseTimeSeconds !== null && ack.leaseTimeSeconds <= SETTINGS.mcltSeconds,
              `first grant of ${ack.yiaddr} by ${who(ack)} is at most MCLT (${SETTINGS.mcltSeconds} s): ${ack.leaseTimeSeconds}`,
            );
            const by = who(ack) as Grant['by'];
            count[by]++;
            grants.set(r.mac, { mac: r.mac, ip: ack.yiaddr, by, leaseSeconds: ack.leaseTimeSeconds ?? 0 });
          }
          t.diagnostic(`granted: Twinlease ${count.twinlease}, dhcpd ${count.dhcpd}`);
          assert.ok(count.twinlease > 0 && count.dhcpd > 0, `both granted leases: ${JSON.stringify(count)}`);

          // Real client: dhclient broadcasts; its MAC's bucket owner answers.
          const rcMac = await macOf(NS.rc);
          await dhclient.start();
          const bound = await dhclient.waitEvent(['BOUND'], 30_000);
          const owner = bucketOwner(rcMac);
          t.diagnostic(
            `dhclient ${rcMac} bound ${bound.ip} from ${bound.serverId} for ${bound.leaseTime} s (owner ${owner})`,
          );
          assert.equal(bound.serverId, ADDRESS_OF[owner], 'dhclient was answered by its bucket owner');
          assert.ok(Number(bound.leaseTime) <= SETTINGS.mcltSeconds, 'dhclient’s first lease ≤ MCLT');
          await dhclient.stop();
          const rcGrant = {
            mac: rcMac,
            ip: bound.ip,
            by: bound.serverId === ourAddr ? 'twinlease' : 'dhcpd',
          } as const;

          // Replication: every lease is active, same MAC, on both servers.
          await waitSameBindings('both servers to hold every lease as active with the same MAC', 10_000);
          const theirs = iscActive(isc.leaseFile());
          for (const g of [...grants.values(), rcGrant])
            assert.equal(
              theirs.get(g.ip),
              colon(g.mac),
              `${g.ip} (by ${g.by}) active for ${g.mac} in dhcpd's lease file`,
            );

          // RENEWING at the granting server, once the partner has acknowledged: more than MCLT.
          const renewed: string[] = [];
          for (const g of grants.values()) {
            const to = g.by === 'twinlease' ? ourAddr : iscAddr;
            const r = await relay.request(g.mac, { ciaddr: g.ip, to });
            assert.equal(
              r?.type,
              DhcpMessageType.Ack,
              `renewal of ${g.ip} at ${g.by}: ${r ? text(r) : 'no reply'}`,
            );
            assert.equal(r!.yiaddr, g.ip);
            renewed.push(`${g.by} ${r!.leaseTimeSeconds}`);
            assert.ok(
              (r!.leaseTimeSeconds ?? 0) > SETTINGS.mcltSeconds,
              `renewal of ${g.ip} at ${g.by} gives more than MCLT once the partner acked: ${r!.leaseTimeSeconds} s`,
            );
            g.leaseSeconds = r!.leaseTimeSeconds ?? 0;
          }
          t.diagnostic(`renewal lease times: ${renewed.join(', ')}`);
          // The renewed expiry reaches the partner: dhcpd's `ends` = our leaseExpiresAt.
          let last: string[] = [];
          await waitUntil(
            'the renewed expiry times to be equal on both servers',
            async () => {
              const f = isc.leaseFile();
              const ours = new Map((await tl.api.leases()).map((l) => [l.ipAddress, l]));
              last = [];
              for (const g of grants.values()) {
                const a = f.leases.get(g.ip)?.ends ?? null;
                const b = epoch(ours.get(g.ip)?.leaseExpiresAt ?? null);
                if (a !== b) last.push(`${g.ip} (by ${g.by}): dhcpd ends ${a} | twinlease ${b}`);
              }
              return last.length === 0;
            },
            10_000,
            300,
          ).catch((err: Error) => {
            throw new Error(`${err.message}:\n${last.join('\n')}`);
          });
        },
      );

      phase(
        '5. partition of the failover link while both serve, then heal: NORMAL and the same bindings',
        90_000,
        async (t) => {
          const cutAt = Date.now();
          await partition(true);
          await Promise.all([
            tl.waitState(['communicationsInterrupted'], (SETTINGS.receiveTimerSeconds + 6) * 1000, 100),
            isc.waitState('communications-interrupted', (SETTINGS.receiveTimerSeconds + 6) * 1000),
          ]);
          t.diagnostic(`both communications-interrupted ${Date.now() - cutAt} ms after the cut`);
          // Each serves a new client (relay unicast to one of them), from its own free addresses.
          const viaIsc = await dora(testMac(0xb1, ourRole === 'primary' ? 2 : 1), { to: iscAddr });
          const viaUs = await dora(testMac(0xb2, ourRole === 'primary' ? 2 : 1), { to: ourAddr });
          for (const [r, by, role] of [
            [viaIsc, 'dhcpd', iscRole],
            [viaUs, 'twinlease', ourRole],
          ] as const) {
            assert.equal(
              r.reply?.type,
              DhcpMessageType.Ack,
              `${by} grants in communications-interrupted: ${r.replies.map(text).join('; ')}`,
            );
            assert.ok(
              poolOf(role, r.reply!.yiaddr),
              `${by} (${role}) allocates from its own pool: ${r.reply!.yiaddr}`,
            );
            grants.set(r.mac, {
              mac: r.mac,
              ip: r.reply!.yiaddr,
              by,
              leaseSeconds: r.reply!.leaseTimeSeconds ?? 0,
            });
          }
          // One of dhcpd's clients renews with dhcpd, then with us: two updates of one address.
          const c = [...grants.values()].find((g) => g.by === 'dhcpd' && g.mac.startsWith('02a'));
          assert.ok(c, 'a client of dhcpd to renew on both sides');
          const r1 = await relay.request(c.mac, { ciaddr: c.ip, to: iscAddr });
          await sleep(1100); // a later CLTT on our side
          const r2 = await relay.request(c.mac, { ciaddr: c.ip, to: ourAddr });
          t.diagnostic(
            `${c.ip} renewed at dhcpd: ${r1 ? text(r1) : 'no reply'}; at Twinlease: ${r2 ? text(r2) : 'no reply'}`,
          );
          assert.equal(
            r1?.type,
            DhcpMessageType.Ack,
            'dhcpd renews its client in communications-interrupted',
          );
          assert.equal(
            r2?.type,
            DhcpMessageType.Ack,
            'Twinlease renews dhcpd’s client in communications-interrupted',
          );

          const healAt = Date.now();
          await partition(false);
          await Promise.all([tl.waitState(['normal'], 40_000, 200), isc.waitState('normal', 40_000)]);
          t.diagnostic(`both normal ${Date.now() - healAt} ms after the heal`);
          t.diagnostic(`dhcpd: ${isc.describeStates()}`);
          await waitSameBindings('the same active bindings on both after the heal', 15_000);
          // The address renewed on both sides converges to one expiry on both.
          let ends = '';
          await waitUntil(
            `${c.ip} to have one expiry on both servers`,
            async () => {
              const a = isc.leaseFile().leases.get(c.ip)?.ends ?? null;
              const l = (await tl.api.leases()).find((x) => x.ipAddress === c.ip);
              const b = epoch(l?.leaseExpiresAt ?? null);
              ends = `dhcpd ends ${a}, twinlease ${b}; renewed at dhcpd until +${r1?.leaseTimeSeconds}, at Twinlease until +${r2?.leaseTimeSeconds}`;
              return a !== null && a === b;
            },
            10_000,
            300,
          ).catch((err: Error) => {
            throw new Error(
              `${err.message}: ${ends}\nTwinlease log:\n${tl.failoverLog(15)}\ndhcpd log:\n${isc.failoverLog(15)}`,
            );
          });
          t.diagnostic(`${c.ip}: ${ends}`);
        },
      );

      /** How long dhcpd's own recovery took in phase 4, for comparison with ours (phases 9, 10). */
      let iscRecovery = '(phase 4 did not run)';

      /** Twinlease's log records of its current run, from line `from` on. */
      const tlRecords = (from: number): LogRecord[] =>
        tl.server.lines.slice(from).flatMap((l) => {
          if (!l.startsWith('{')) return [];
          try {
            return [JSON.parse(l) as LogRecord];
          } catch {
            return [];
          }
        });
      /**
       * Binding updates refused since the given log positions: ours by dhcpd (we log
       * failover.update-rejected) and dhcpd's by us (dhcpd logs "bind update on … rejected").
       */
      const rejectionsSince = (tlFrom: number, iscFrom: number): string[] => [
        ...tlRecords(tlFrom)
          .filter((r) => r.event === 'failover.update-rejected')
          .map((r) => `dhcpd refused our update of ${String(r.address)}: ${String(r.message ?? r.reason)}`),
        ...isc.lines
          .slice(iscFrom)
          .filter((l) => /bind update on \S+ from \S+ rejected/.test(l))
          .map((l) => `we refused dhcpd's update: ${l}`),
      ];
      /** Both servers hold each address FREE or BACKUP, the same on both (the owner agreed). */
      const waitEndedOnBoth = async (what: string, ips: readonly string[], timeoutMs: number) => {
        let last: string[] = [];
        await waitUntil(
          what,
          async () => {
            const f = isc.leaseFile();
            // The list shows client leases unless asked for a state: FREE and BACKUP records apart.
            const ours = new Map(
              [
                ...(await tl.api.leases()),
                ...(await tl.api.leases('free')),
                ...(await tl.api.leases('backup')),
              ].map((l) => [l.ipAddress, l.bindingState]),
            );
            last = [];
            for (const a of ips) {
              const theirs = f.leases.get(a)?.bindingState ?? 'none';
              const mine = ours.get(a) ?? 'none';
              if (!['free', 'backup'].includes(theirs) || theirs !== mine)
                last.push(`${a}: dhcpd ${theirs} | twinlease ${mine}`);
            }
            return last.length === 0;
          },
          timeoutMs,
          300,
        ).catch((err: Error) => {
          throw new Error(
            `${err.message}:\n${last.join('\n')}\nTwinlease log:\n${tl.failoverLog(20)}\ndhcpd log:\n${isc.failoverLog(20)}`,
          );
        });
      };
      /** Twinlease's state changes (log time, ms) of its current run, from line `from` on. */
      const tlTransitions = (from: number) =>
        tlRecords(from)
          .filter((r) => r.event === 'failover.state-changed')
          .map((r) => ({ to: String(r.to), at: Date.parse(String(r.time)) }));

      /** Addresses of our own pool when dhcpd died. */
      let ciGrant: Grant | null = null;

      phase(
        '3. kill -9 of dhcpd: Twinlease is communicationsInterrupted, renews its clients, allocates from its own pool',
        30_000,
        async (t) => {
          backup = new Set((await tl.api.leases('backup')).map((l) => l.ipAddress));
          const killedAt = Date.now();
          await isc.kill9();
          const ci = await tl.waitState(
            ['communicationsInterrupted'],
            (SETTINGS.receiveTimerSeconds + 3) * 1000,
            50,
          );
          t.diagnostic(`communicationsInterrupted ${ci.at - killedAt} ms after the kill`);
          assert.ok(
            ci.at - killedAt < SETTINGS.receiveTimerSeconds * 1000,
            'from the TCP close, before the receive timer',
          );
          const theirs = [...grants.values()].find((g) => g.by === 'dhcpd' && g.mac.startsWith('02a'));
          assert.ok(theirs, 'a client of dhcpd');
          const renew = await relay.request(theirs.mac, { ciaddr: theirs.ip, to: ourAddr });
          assert.equal(
            renew?.type,
            DhcpMessageType.Ack,
            `Twinlease renews ${theirs.ip} of dhcpd: ${renew ? text(renew) : 'no reply'}`,
          );
          assert.equal(renew!.yiaddr, theirs.ip);
          const fresh = await dora(testMac(0xc1, ourRole === 'primary' ? 2 : 1));
          assert.equal(
            fresh.reply?.type,
            DhcpMessageType.Ack,
            `a new client gets a lease: ${fresh.replies.map(text).join('; ')}`,
          );
          assert.equal(fresh.reply!.from, ourAddr);
          assert.ok(
            poolOf(ourRole, fresh.reply!.yiaddr),
            `Twinlease (${ourRole}) allocates from its own pool: ${fresh.reply!.yiaddr}`,
          );
          assert.ok(
            (fresh.reply!.leaseTimeSeconds ?? 0) <= SETTINGS.mcltSeconds,
            'a new lease in communications-interrupted is at most MCLT',
          );
          ciGrant = {
            mac: fresh.mac,
            ip: fresh.reply!.yiaddr,
            by: 'twinlease',
            leaseSeconds: fresh.reply!.leaseTimeSeconds ?? 0,
          };
          grants.set(fresh.mac, ciGrant);
        },
      );

      phase(
        '4. partner-down on Twinlease, dhcpd restarts: RECOVER, UPDREQALL, RECOVER-WAIT, NORMAL',
        120_000,
        async (t) => {
          // The safe period (stateSwitchIntervalSeconds) takes the same PARTNER-DOWN transition
          // as the operator's route (spec §7.3), which test/e2e/api-pair.test.ts exercises.
          const pd = await tl.waitState(
            ['partnerDown'],
            (SETTINGS.stateSwitchIntervalSeconds + 8) * 1000,
            200,
          );
          t.diagnostic(`Twinlease partnerDown (${tl.describeSeen()})`);
          // dhcpd waits in RECOVER-WAIT until the start of its last saved state + MCLT (spec §15.5).
          const saved = isc.leaseFile().failover;
          assert.ok(saved?.myStateAt, 'dhcpd saved its failover state in the lease file');
          const waitUntilS = saved.myStateAt + SETTINGS.mcltSeconds;
          const restartedAt = Date.now();
          const expectWait = waitUntilS > restartedAt / 1000 + 2;
          t.diagnostic(
            `dhcpd saved "my state ${saved.myState}" since ${new Date(saved.myStateAt * 1000).toISOString()}: RECOVER-WAIT ${expectWait ? `until +${Math.round(waitUntilS - restartedAt / 1000)} s` : 'already over'}`,
          );
          // From this restart on dhcpd declares a silent partner down itself (phases 9 and 10);
          // not earlier, so that the partition of phase 5 cannot reach it.
          isc.setConfig({ ...isc.config, autoPartnerDownSeconds: SETTINGS.stateSwitchIntervalSeconds });
          await isc.check();
          await isc.start();
          await isc.waitState('normal', (SETTINGS.mcltSeconds + 40) * 1000);
          await tl.waitState(['normal'], 10_000);
          t.diagnostic(
            `both normal ${Date.now() - restartedAt} ms after dhcpd's restart (partnerDown at +0)`,
          );
          const changes = isc.stateChanges().filter((c) => c.who === 'me');
          const path = changes.map((c) => c.to);
          t.diagnostic(`dhcpd after restart: ${isc.describeStates()}`);
          assert.ok(path.includes('recover'), `dhcpd went to recover: ${isc.describeStates()}`);
          assert.ok(
            expectWait,
            'the test timing leaves dhcpd an MCLT wait to do (else recover-wait is not exercised)',
          );
          assert.ok(
            path.includes('recover-wait'),
            `dhcpd went through recover-wait: ${isc.describeStates()}`,
          );
          assert.ok(
            isc.lines.some((l) => /update request all/i.test(l)),
            'dhcpd sent UPDREQALL in recover',
          );
          const rw = changes.find((c) => c.to === 'recover-wait');
          const rd = changes.find((c) => c.to === 'recover-done');
          assert.ok(rw && rd, 'dhcpd logged recover-wait and recover-done');
          t.diagnostic(`dhcpd recover-wait lasted ${rd.at - rw.at} ms (MCLT ${SETTINGS.mcltSeconds} s)`);
          iscRecovery = `dhcpd, restarted ${Math.round(restartedAt / 1000 - (saved.myStateAt ?? 0))} s after its last state change, back in normal ${Date.now() - restartedAt} ms after its restart (recover-wait ${rd.at - rw.at} ms)`;
          assert.ok(
            rd.at >= waitUntilS * 1000 - 1500,
            'dhcpd left recover-wait only at its saved stos + MCLT',
          );
          const steps = tl.loggedTransitions();
          t.diagnostic(
            `Twinlease logged: ${steps.join(', ')}; partnerDown seen at ${new Date(pd.at).toISOString()}`,
          );
          // What we granted alone reached dhcpd (the answer to its UPDREQALL). The lease (MCLT
          // long) may have run out since, so any record of it in dhcpd's append-only file counts.
          assert.ok(ciGrant);
          const g = ciGrant;
          const records = isc.leaseFile().records.filter((r) => r.ip === g.ip);
          assert.ok(
            records.some((r) => r.bindingState === 'active' && r.mac === colon(g.mac)),
            `${g.ip} (granted by us in communications-interrupted to ${colon(g.mac)}) reached dhcpd: its records ${records
              .map((r) => `${r.bindingState} ${r.mac}`)
              .join(', ')}`,
          );
          await waitSameBindings('the same active bindings on both after the recovery', 15_000);
        },
      );

      phase(
        '8. leases run out in NORMAL: no update refused on either side, FREE or BACKUP on both',
        90_000,
        async (t) => {
          await Promise.all([tl.waitState(['normal'], 10_000), isc.waitState('normal', 10_000)]);
          const tlFrom = tl.server.lines.length;
          const iscFrom = isc.lines.length;
          // New clients of both servers: first grants are MCLT (30 s) and nobody renews them.
          const macs = Array.from({ length: 8 }, (_, i) =>
            testMac(ourRole === 'primary' ? 0xd2 : 0xd1, i + 1),
          );
          const leased: Grant[] = [];
          let lastEndMs = 0;
          for (const mac of macs) {
            const r = await dora(mac);
            assert.equal(
              r.reply?.type,
              DhcpMessageType.Ack,
              `${mac} got an ACK: ${r.replies.map(text).join('; ')}`,
            );
            const g: Grant = {
              mac,
              ip: r.reply!.yiaddr,
              by: who(r.reply!) as Grant['by'],
              leaseSeconds: r.reply!.leaseTimeSeconds ?? 0,
            };
            leased.push(g);
            lastEndMs = Math.max(lastEndMs, Date.now() + g.leaseSeconds * 1000);
          }
          t.diagnostic(
            `leased: ${leased.map((g) => `${g.ip} by ${g.by} for ${g.leaseSeconds} s`).join(', ')}`,
          );
          assert.ok(
            leased.some((g) => g.by === 'dhcpd') && leased.some((g) => g.by === 'twinlease'),
            'both servers granted some',
          );
          await sleep(Math.max(0, lastEndMs - Date.now()) + 3000);
          await waitEndedOnBoth(
            'every lease of this phase FREE or BACKUP on both servers after its end',
            leased.map((g) => g.ip),
            20_000,
          );
          const st = await tl.api.statistics();
          t.diagnostic(`Twinlease statistics after the expiries: ${JSON.stringify(st)}`);
          assert.equal(
            st.addrAwaitingAck,
            0,
            'no address left expired or released awaiting an acknowledgement',
          );
          assert.deepEqual(rejectionsSince(tlFrom, iscFrom), [], 'no binding update refused at expiry');
        },
      );

      /**
       * kill -9 of Twinlease; dhcpd, alone, takes PARTNER-DOWN after its auto-partner-down and grants
       * leases (MCLT long, ending around our return); Twinlease restarts `downSeconds` after the
       * crash. Returns when the crash was, and when (log time) Twinlease left RECOVER-WAIT and
       * reached NORMAL.
       */
      const crashAndReturn = async (t: { diagnostic(m: string): void }, downSeconds: number, tag: number) => {
        await Promise.all([tl.waitState(['normal'], 10_000), isc.waitState('normal', 10_000)]);
        const killedAt = Date.now();
        await tl.server.kill9();
        const pd = await isc.waitState('partner-down', (SETTINGS.stateSwitchIntervalSeconds + 15) * 1000);
        t.diagnostic(`dhcpd partner-down ${pd.at - killedAt} ms after the crash`);
        const iscFrom = isc.lines.length;
        for (let i = 1; i <= 3; i++) {
          const r = await dora(testMac(tag, i), { to: iscAddr });
          assert.equal(
            r.reply?.type,
            DhcpMessageType.Ack,
            `dhcpd serves alone: ${r.replies.map(text).join('; ')}`,
          );
        }
        await sleep(Math.max(0, killedAt + downSeconds * 1000 - Date.now()));
        const restartedAt = Date.now();
        await tl.start();
        await tl.waitState(['normal'], (SETTINGS.mcltSeconds + 30) * 1000, 100);
        await isc.waitState('normal', 10_000);
        await tl.waitLogged('normal', 5_000);
        const steps = tlTransitions(0);
        const rw = steps.find((s) => s.to === 'recover-wait');
        const rd = steps.find((s) => s.to === 'recover-done');
        const normal = steps.find((s) => s.to === 'normal');
        t.diagnostic(
          `Twinlease restarted ${((restartedAt - killedAt) / 1000).toFixed(1)} s after the crash: ${steps
            .map((s) => `${s.to} +${((s.at - restartedAt) / 1000).toFixed(1)} s`)
            .join(', ')}; ${iscRecovery}`,
        );
        assert.ok(
          rw && rd && normal,
          `Twinlease went through recover-wait and recover-done: ${tl.loggedTransitions().join(', ')}`,
        );
        await waitSameBindings('the same active bindings on both after the recovery', 15_000);
        assert.deepEqual(rejectionsSince(0, iscFrom), [], 'no binding update refused during the recovery');
        return { killedAt, restartedAt, recoverWaitAt: rw.at, recoverDoneAt: rd.at, normalAt: normal.at };
      };

      phase(
        `9. kill -9 of Twinlease, dhcpd partner-down, back after more than MCLT: RECOVER-WAIT is over at once`,
        150_000,
        async (t) => {
          // Down longer than MCLT + the heartbeat (10 s) + 1 s: nothing it granted can still run.
          const r = await crashAndReturn(t, SETTINGS.mcltSeconds + 20, ourRole === 'primary' ? 0xe2 : 0xe1);
          assert.ok(
            r.recoverDoneAt - r.recoverWaitAt < 2000,
            `recover-wait lasted ${r.recoverDoneAt - r.recoverWaitAt} ms, not MCLT`,
          );
          assert.ok(
            r.normalAt - r.restartedAt < 15_000,
            `normal ${r.normalAt - r.restartedAt} ms after the restart (dhcpd skips its wait too)`,
          );
        },
      );

      phase(
        `10. kill -9 of Twinlease, back before MCLT has passed: RECOVER-WAIT waits only the rest`,
        150_000,
        async (t) => {
          const r = await crashAndReturn(
            t,
            SETTINGS.stateSwitchIntervalSeconds + 10,
            ourRole === 'primary' ? 0xe4 : 0xe3,
          );
          const sinceCrash = (r.recoverDoneAt - r.killedAt) / 1000;
          // The wait ends MCLT after the last heartbeat (≤ 10 s before the crash) + 11 s: never
          // before the crash + MCLT, at most ~11 s after.
          assert.ok(
            sinceCrash >= SETTINGS.mcltSeconds - 1,
            `recover-done ${sinceCrash} s after the crash (MCLT ${SETTINGS.mcltSeconds} s)`,
          );
          assert.ok(
            sinceCrash <= SETTINGS.mcltSeconds + 13,
            `recover-done ${sinceCrash} s after the crash: MCLT from the crash, not from the restart (${((r.restartedAt - r.killedAt) / 1000).toFixed(1)} s after it)`,
          );
        },
      );

      test('6. clock skew: dhcpd 90 s ahead (libfaketime) is refused, reason 4, no NORMAL', {
        timeout: 60_000,
        skip: hasFaketime ? false : 'faketime is not installed (apt-get install faketime)',
      }, async (t) => {
        if (phases.broken !== '') {
          t.skip(`an earlier phase failed: ${phases.broken}`);
          return;
        }
        await isc.kill9();
        await tl.waitState(['communicationsInterrupted'], 10_000, 100);
        const from = tl.server.lines.length;
        await isc.start({ fakeTime: '+90s' });
        const refusal = await waitUntil(
          'a connection refused for time mismatch (reject reason 4) on either side',
          () => {
            const ours = tl.server.lines
              .slice(from)
              .find((l) => /"rejectReason":4\b/.test(l) || /clocks differ/.test(l));
            if (ours) return `Twinlease: ${ours}`;
            const theirs = isc.lines.find(
              (l) => /time|skew|mismatch|clock/i.test(l) && /failover|peer|connect/i.test(l),
            );
            return theirs ? `dhcpd: ${theirs}` : undefined;
          },
          25_000,
          200,
        ).catch((err: Error) => {
          throw new Error(
            `${err.message}\nTwinlease log:\n${tl.failoverLog(15)}\ndhcpd log:\n${isc.failoverLog(15)}`,
          );
        });
        t.diagnostic(refusal);
        await sleep(3000);
        const s = await tl.sample();
        assert.notEqual(s?.state, 'normal', 'Twinlease does not pair with a partner whose clock is 90 s off');
        assert.notEqual(isc.myState(), 'normal', `dhcpd does not reach normal: ${isc.describeStates()}`);
        await isc.kill9();
      });

      test('dhcpd logged no complaint about Twinlease’s messages', (t) => {
        const all = isc.allLines();
        // Refused updates elsewhere (a duel after the partition of item 5) are shown, not failed;
        // items 8-10 fail on any refusal around lease expiry (docs/isc-interop.md).
        for (const l of all.filter((x) => /bind update .* rejected/.test(x))) t.diagnostic(`dhcpd: ${l}`);
        // "duplicate connection": a CONNECTACK rejecting dhcpd's CONNECT on its second link, or a
        // DISCONNECT on an extra link, both logged by dhcpd as errors (docs/failover.md).
        const complaints = all.filter((l) =>
          /answering negatively|unknown message|bad message|malformed|unexpected message|duplicate connection/i.test(
            l,
          ),
        );
        assert.deepEqual(complaints, []);
      });

      test('Twinlease logged no error (other than the refused skewed partner)', () => {
        const errors = tl.server
          .errors()
          .filter((r) => !(r.event === 'failover.connect-refused-by-partner' && r.rejectReason === 4));
        assert.deepEqual(errors, []);
      });
    });
  }
});
