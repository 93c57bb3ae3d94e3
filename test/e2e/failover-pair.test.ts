// Acceptance of D12 failover with two real `twinlease serve` processes: the primary in $PFX-srv
// (10.77.0.1) and the secondary in $PFX-srv2 (10.77.0.3) talk failover over TCP 647 on the harness
// bridge; the relay-capable test client in $PFX-cli broadcasts every DISCOVER/REQUEST so both
// partners see it (like perfdhcp MODE=broadcast), dhclient in $PFX-rc is a real broadcast client,
// and each server's management API tells the state and the leases.
//
// Load balance: the RFC 3074 bucket decides who answers, the answering server allocates from its
// own half of the free pool, every lease reaches the partner. kill -9 of the primary: the secondary
// is COMMUNICATIONS-INTERRUPTED at once (TCP close), renews the primary's clients, serves new
// clients from its BACKUP pool only, goes PARTNER-DOWN after the safe period, and uses the
// primary's free addresses only after MCLT. The primary restarts on its own lease database,
// recovers, and both end in NORMAL with the same bindings. Hot standby: only the active answers
// until it dies; then the standby renews and serves from its reserve.
//
// Namespaces are $PFX = tlf (lib/pair-prefix.ts), so this file can run beside the tle suites.

import './lib/pair-prefix.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DhcpMessageType, DhcpTestClient, type Reply, testMac } from './lib/dhcp-test-client.js';
import { ADDR, e2eSkipReason, NS } from './lib/env.js';
import { describeLease, readLeases } from './lib/lease-db.js';
import {
  type ApiLease,
  collectReplies,
  colonMac,
  dora,
  FailoverPair,
  hashOwner,
  leaseKey,
  type PairDora,
  type PairMember,
  type PairOptions,
  rangeAddresses,
  sender,
} from './lib/pair.js';
import { Phases } from './lib/phases.js';
import { sleep, waitUntil } from './lib/proc.js';
import { RealClient } from './lib/real-client.js';
import { macOf, topologyDown, topologyUp } from './lib/topology.js';

const skip = e2eSkipReason(['ss', 'curl', 'dhclient']);

const POOL_START = '10.77.1.0';
const POOL_END = '10.77.1.99';
const POOL = rangeAddresses(POOL_START, POOL_END);
const LEASE_S = 60;
const MCLT_S = 10;
const RECEIVE_TIMER_S = 3;
const SWITCH_S = 6;
/** Load-balanced clients of phase 2. */
const N_CLIENTS = 40;

const LB_OPTIONS: PairOptions = {
  mode: 'loadBalance',
  poolStart: POOL_START,
  poolEnd: POOL_END,
  leaseTimeSeconds: LEASE_S,
  mcltSeconds: MCLT_S,
  receiveTimerSeconds: RECEIVE_TIMER_S,
  stateSwitchIntervalSeconds: SWITCH_S,
  loadBalancePercent: 50,
};

const HS_OPTIONS: PairOptions = {
  mode: 'hotStandby',
  poolStart: POOL_START,
  poolEnd: POOL_END,
  leaseTimeSeconds: LEASE_S,
  mcltSeconds: MCLT_S,
  receiveTimerSeconds: RECEIVE_TIMER_S,
  stateSwitchIntervalSeconds: null,
  reservePercent: 20,
  sharedSecret: 'tlf-e2e-shared-secret-1',
};

const ADDRESS_OF = { primary: ADDR.srv, secondary: ADDR.srv2 } as const;
const NAME_OF = { primary: 'tl-primary', secondary: 'tl-secondary' } as const;
const inPool = (ip: string) => POOL.includes(ip);

/** Runs `fn` over `items` with at most `limit` at once, results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const replyText = (r: Reply) =>
  `${DhcpMessageType[r.type]} ${r.yiaddr} from ${sender(r)} sid=${r.serverId} lease=${r.leaseTimeSeconds}`;

/** Addresses the secondary may allocate (BACKUP records), as its API lists them. */
async function backupSet(m: PairMember): Promise<Set<string>> {
  return new Set((await m.api.leases('backup')).map((l) => l.ipAddress));
}

/** Client leases by address. */
async function leaseMap(m: PairMember): Promise<Map<string, ApiLease>> {
  return new Map((await m.api.leases()).map((l) => [l.ipAddress, l]));
}

/** Differences between the two servers' client leases (empty when they agree address by address). */
async function leaseDiffs(a: PairMember, b: PairMember): Promise<string[]> {
  const [la, lb] = await Promise.all([leaseMap(a), leaseMap(b)]);
  const diffs: string[] = [];
  for (const ip of new Set([...la.keys(), ...lb.keys()])) {
    const x = la.get(ip);
    const y = lb.get(ip);
    const kx = x ? leaseKey(x) : 'none';
    const ky = y ? leaseKey(y) : 'none';
    // An offer is not a binding (offers are never replicated).
    if (x?.addressState === 'offered' && x.bindingState !== 'active' && !y) continue;
    if (y?.addressState === 'offered' && y.bindingState !== 'active' && !x) continue;
    if (kx !== ky) diffs.push(`${ip}: ${a.name} ${kx} | ${b.name} ${ky}`);
  }
  return diffs;
}

interface Grant {
  mac: string;
  ip: string;
  by: 'primary' | 'secondary';
  at: number;
  leaseSeconds: number;
}

describe('failover pair (D12) on the harness bridge', { skip: skip ?? false }, () => {
  let relay: DhcpTestClient;
  const pairs: FailoverPair[] = [];
  const realClients: RealClient[] = [];

  before(async () => {
    await topologyUp();
    // Bound to 10.77.0.2 (not 0.0.0.0) so the agent does not hear its own broadcasts.
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
    for (const c of realClients) await c.stop().catch(() => {});
    await relay?.close().catch(() => {});
    for (const p of pairs) await p.stop().catch(() => {});
    await topologyDown();
  });

  describe('load balance 50/50, kill -9 of the primary, recovery', () => {
    const pair = new FailoverPair('failover-pair-lb', LB_OPTIONS);
    pairs.push(pair);
    const { primary, secondary } = pair;
    const grants = new Map<string, Grant>(); // by mac: the client's current lease
    let backupBefore = new Set<string>();
    let dhclient: RealClient | null = null;

    const phases = new Phases((t) => {
      t.diagnostic(`primary states: ${primary.describeSeen()}`);
      t.diagnostic(`secondary states: ${secondary.describeSeen()}`);
    });
    const phase = phases.phase;

    phase('1. both servers start with the relationship and reach NORMAL', 90_000, async (t) => {
      const started = Date.now();
      await pair.start();
      await pair.waitBoth(['normal'], 60_000);
      t.diagnostic(`both normal ${Date.now() - started} ms after start`);
      t.diagnostic(`primary: ${primary.describeSeen()}`);
      t.diagnostic(`secondary: ${secondary.describeSeen()}`);
      // Pool balancing: the primary hands the secondary half of the free addresses (BACKUP).
      const split = await waitUntil(
        'the primary to give the secondary its half of the free pool (BACKUP records on both sides)',
        async () => {
          const [sp, ss] = await Promise.all([primary.api.statistics(), secondary.api.statistics()]);
          const backup = ss.thisAddrFree;
          if (
            backup >= 40 &&
            backup <= 60 &&
            sp.partnerAddrFree === backup &&
            sp.thisAddrFree === ss.partnerAddrFree
          )
            return { sp, ss };
          return undefined;
        },
        20_000,
        250,
      ).catch(async (err: Error) => {
        const [sp, ss] = await Promise.all([primary.api.statistics(), secondary.api.statistics()]);
        throw new Error(
          `${err.message}\nprimary statistics ${JSON.stringify(sp)}\nsecondary statistics ${JSON.stringify(ss)}\n` +
            `primary failover log:\n${primary.failoverLog(20)}`,
        );
      });
      t.diagnostic(
        `free pool: primary FREE ${split.sp.thisAddrFree}, secondary BACKUP ${split.ss.thisAddrFree} (of ${split.ss.numAddr})`,
      );
      backupBefore = await backupSet(secondary);
      assert.equal(backupBefore.size, split.ss.thisAddrFree, 'BACKUP records listed = statistics');
      for (const ip of backupBefore) assert.ok(inPool(ip), `BACKUP address ${ip} is in the pool`);
      assert.deepEqual(
        await backupSet(primary),
        backupBefore,
        'both servers agree which addresses are BACKUP (the secondary’s)',
      );
    });

    phase(
      '2. load balance: each client is answered by its hash bucket’s server, from its pool',
      60_000,
      async (t) => {
        const macs = Array.from({ length: N_CLIENTS }, (_, i) => testMac(0xf1, i + 1));
        const results: PairDora[] = await mapLimit(macs, 8, (mac) => dora(relay, mac));
        await sleep(700); // late or duplicate answers from the other partner
        collectReplies(relay, results);
        const byAddress = new Map<string, string>();
        const count = { primary: 0, secondary: 0 };
        for (const r of results) {
          const owner = hashOwner(r.mac);
          const seen = r.replies.map(replyText).join('; ') || 'no reply';
          assert.equal(
            r.reply?.type,
            DhcpMessageType.Ack,
            `client ${r.mac} (bucket owner ${owner}) got an ACK: ${seen}`,
          );
          const senders = new Set(r.replies.map(sender));
          assert.deepEqual([...senders], [owner], `client ${r.mac} answered only by the ${owner}: ${seen}`);
          const ip = r.reply!.yiaddr;
          assert.equal(r.reply!.serverId, ADDRESS_OF[owner], `server identifier of ${r.mac}`);
          assert.ok(inPool(ip), `${r.mac} got ${ip}, in the pool`);
          assert.ok(
            owner === 'secondary' ? backupBefore.has(ip) : !backupBefore.has(ip),
            `${r.mac} got ${ip} from the ${owner}: it must come from the ${owner}’s free addresses (${
              owner === 'secondary' ? 'BACKUP' : 'FREE'
            })`,
          );
          assert.ok(
            r.reply!.leaseTimeSeconds !== null && r.reply!.leaseTimeSeconds <= MCLT_S,
            `a first lease is at most MCLT (${MCLT_S} s): ${r.mac} got ${r.reply!.leaseTimeSeconds} s`,
          );
          const other = byAddress.get(ip);
          assert.equal(other, undefined, `${ip} given to ${r.mac} and to ${other}`);
          byAddress.set(ip, r.mac);
          count[owner]++;
          grants.set(r.mac, {
            mac: r.mac,
            ip,
            by: owner,
            at: r.reply!.at,
            leaseSeconds: r.reply!.leaseTimeSeconds ?? 0,
          });
        }
        t.diagnostic(`answered: primary ${count.primary}, secondary ${count.secondary}`);
        assert.ok(
          count.primary > 0 && count.secondary > 0,
          `both servers granted leases: ${JSON.stringify(count)}`,
        );

        // A real client: dhclient broadcasts on the bridge; the bucket owner of its MAC answers.
        const rcMac = await macOf(NS.rc);
        dhclient = new RealClient('dhclient', pair.dir);
        realClients.push(dhclient);
        await dhclient.start();
        const bound = await dhclient.waitEvent(['BOUND'], 30_000);
        const owner = hashOwner(rcMac);
        t.diagnostic(`dhclient ${rcMac} bound ${bound.ip} from ${bound.serverId} (bucket owner ${owner})`);
        assert.ok(inPool(bound.ip), `dhclient bound ${bound.ip}, in the pool`);
        assert.equal(bound.serverId, ADDRESS_OF[owner], 'dhclient was answered by its bucket owner');
        grants.set(rcMac, {
          mac: rcMac,
          ip: bound.ip,
          by: owner,
          at: bound.atMs,
          leaseSeconds: Number(bound.leaseTime),
        });
      },
    );

    phase(
      '3. replication: every lease is on both servers, and renewals get the full lease',
      60_000,
      async (t) => {
        const check = async (what: string, expectExpiry: boolean) => {
          let last: string[] = [];
          try {
            await waitUntil(
              what,
              async () => {
                const [lp, ls] = await Promise.all([leaseMap(primary), leaseMap(secondary)]);
                last = [];
                for (const g of grants.values()) {
                  for (const [name, m] of [
                    ['primary', lp],
                    ['secondary', ls],
                  ] as const) {
                    const l = m.get(g.ip);
                    if (!l) last.push(`${name} has no lease for ${g.ip} (${g.mac}, granted by the ${g.by})`);
                    else if (l.bindingState !== 'active' || l.hardwareAddress.mac !== colonMac(g.mac))
                      last.push(`${name}: ${g.ip} is ${leaseKey(l)}, expected active for ${colonMac(g.mac)}`);
                    else if (l.ownerServer.name !== NAME_OF[g.by])
                      last.push(`${name}: ${g.ip} owner ${l.ownerServer.name}, expected ${NAME_OF[g.by]}`);
                  }
                  const a = lp.get(g.ip);
                  const b = ls.get(g.ip);
                  if (expectExpiry && a && b && a.leaseExpiresAt !== b.leaseExpiresAt)
                    last.push(`${g.ip}: expiry primary ${a.leaseExpiresAt} secondary ${b.leaseExpiresAt}`);
                }
                return last.length === 0;
              },
              10_000,
              300,
            );
          } catch (err) {
            throw new Error(
              `${(err as Error).message}:\n${last.slice(0, 15).join('\n')}\nprimary log:\n${primary.failoverLog(10)}\n` +
                `secondary log:\n${secondary.failoverLog(10)}`,
            );
          }
        };
        const started = Date.now();
        await check('every lease granted by either server to be active on both, same MAC and owner', true);
        t.diagnostic(`replicated within ${Date.now() - started} ms of the check`);

        // The dhclient lease stays as it is (it renews on its own); stop it so phase 4 counts are ours.
        await dhclient?.stop();

        // RENEWING (ciaddr, unicast to the server that granted it): both partners know the binding,
        // the partner has acknowledged its potential expiration, so the full lease time comes back.
        for (const g of grants.values()) {
          if (!g.mac.startsWith('02f1')) continue; // our test clients only
          const r = await relay.request(g.mac, { ciaddr: g.ip, to: ADDRESS_OF[g.by] });
          assert.equal(
            r?.type,
            DhcpMessageType.Ack,
            `renewal of ${g.ip} (${g.mac}) at the ${g.by}: ${r ? replyText(r) : 'no reply'}`,
          );
          assert.equal(r!.yiaddr, g.ip);
          assert.ok(
            (r!.leaseTimeSeconds ?? 0) > MCLT_S,
            `the renewal of ${g.ip} at the ${g.by} gives more than MCLT once the partner acked: got ${r!.leaseTimeSeconds} s`,
          );
          g.at = r!.at;
          g.leaseSeconds = r!.leaseTimeSeconds ?? 0;
        }
        await check('the renewed expiry times to reach the partner', true);
      },
    );

    /** Addresses the secondary owned (BACKUP) when the primary died. */
    let backupAtKill = new Set<string>();

    phase(
      '4. kill -9 of the primary: COMM-INTERRUPTED, renewals, own pool; PARTNER-DOWN; whole pool after MCLT',
      90_000,
      async (t) => {
        backupAtKill = await backupSet(secondary);
        t.diagnostic(`secondary owns ${backupAtKill.size} free addresses (BACKUP) at the kill`);
        const primaryClient = [...grants.values()].find(
          (g) => g.by === 'primary' && g.mac.startsWith('02f1'),
        );
        assert.ok(primaryClient, 'a client of the primary to renew');

        const killedAt = Date.now();
        await primary.server.kill9();
        const ci = await secondary.waitState(
          ['communicationsInterrupted'],
          RECEIVE_TIMER_S * 1000 + 3000,
          50,
        );
        const ciLatency = ci.at - killedAt;
        t.diagnostic(`secondary communicationsInterrupted ${ciLatency} ms after kill -9`);
        assert.ok(
          ciLatency < RECEIVE_TIMER_S * 1000,
          `COMMUNICATIONS-INTERRUPTED from the TCP close, before the receive timer (${RECEIVE_TIMER_S} s): took ${ciLatency} ms`,
        );

        // A client of the primary renews with the secondary (RENEWING, unicast).
        const renew = await relay.request(primaryClient.mac, { ciaddr: primaryClient.ip, to: ADDR.srv2 });
        assert.equal(
          renew?.type,
          DhcpMessageType.Ack,
          `the secondary renews ${primaryClient.ip} of the primary’s client ${primaryClient.mac}: ${renew ? replyText(renew) : 'no reply'}`,
        );
        assert.equal(renew!.yiaddr, primaryClient.ip);
        assert.equal(renew!.serverId, ADDR.srv2);
        primaryClient.at = renew!.at;
        primaryClient.leaseSeconds = renew!.leaseTimeSeconds ?? 0;

        // A new client is served from the secondary's own (BACKUP) addresses.
        const newGrants: Grant[] = [];
        // Addresses whose lease still runs (one that ends within 1.5 s may be over on the server,
        // whose times are whole seconds).
        const taken = () =>
          new Set(
            [...grants.values(), ...newGrants]
              .filter((g) => g.at + g.leaseSeconds * 1000 > Date.now() + 1500)
              .map((g) => g.ip),
          );
        let n = 1;
        const newClient = async (o: { attempts?: number; attemptTimeoutMs?: number } = {}) => {
          const mac = testMac(0xf4, n++);
          const busy = taken();
          const r = await dora(relay, mac, o);
          if (r.reply?.type !== DhcpMessageType.Ack) return { mac, grant: null, r };
          const ip = r.reply.yiaddr;
          assert.ok(
            !busy.has(ip),
            `${ip} given to ${mac} while another client’s lease on it is still running`,
          );
          assert.equal(sender(r.reply), 'secondary', `only the secondary answers now: ${replyText(r.reply)}`);
          const g: Grant = {
            mac,
            ip,
            by: 'secondary',
            at: r.reply.at,
            leaseSeconds: r.reply.leaseTimeSeconds ?? 0,
          };
          newGrants.push(g);
          return { mac, grant: g, r };
        };
        const first = await newClient();
        assert.ok(
          first.grant,
          `a new client gets a lease in communicationsInterrupted: ${first.r.offer ? replyText(first.r.offer) : 'no OFFER'}`,
        );
        assert.ok(
          backupAtKill.has(first.grant.ip),
          `in communicationsInterrupted the secondary allocates from its own pool (BACKUP): got ${first.grant.ip}`,
        );
        const stillCi = await secondary.sample();
        assert.equal(
          stillCi?.state,
          'communicationsInterrupted',
          'still communicationsInterrupted before the safe period',
        );

        // Safe period (stateSwitchIntervalSeconds) → PARTNER-DOWN.
        const pd = await secondary.waitState(['partnerDown'], SWITCH_S * 1000 + 5000, 100);
        const rel = await secondary.api.relationship();
        const pdSince = rel?.stateSince ? Date.parse(rel.stateSince) : pd.at;
        t.diagnostic(
          `partnerDown ${pd.at - ci.at} ms after communicationsInterrupted (stateSince ${rel?.stateSince})`,
        );
        assert.ok(
          pd.at - ci.at >= (SWITCH_S - 1.5) * 1000, // whole-second state times, a 1 s tick
          `PARTNER-DOWN only after the safe period of ${SWITCH_S} s: came after ${pd.at - ci.at} ms`,
        );
        const partnerPoolAt = pdSince + MCLT_S * 1000;

        // Before stos + MCLT only its own addresses: exhaust them.
        let exhaustedAt = 0;
        while (Date.now() < partnerPoolAt - 1500) {
          const c = await newClient({ attempts: 1, attemptTimeoutMs: 600 });
          if (!c.grant) {
            exhaustedAt = Date.now();
            break;
          }
        }
        const early = newGrants.filter((g) => g.at < partnerPoolAt - 1000);
        t.diagnostic(
          `before stos+MCLT: ${early.length} new clients served, own pool ${exhaustedAt ? 'exhausted' : 'NOT exhausted'} at +${exhaustedAt ? exhaustedAt - pdSince : '-'} ms of partnerDown`,
        );
        for (const g of early)
          assert.ok(
            backupAtKill.has(g.ip),
            `${g.ip} (to ${g.mac}, ${g.at - pdSince} ms into partnerDown) is not one of the secondary’s BACKUP addresses: the primary’s free addresses must wait for stos + MCLT (${MCLT_S} s)`,
          );
        assert.ok(
          exhaustedAt > 0,
          `the secondary’s own pool ran dry before stos + MCLT (${early.length} clients served)`,
        );

        // After stos + MCLT the primary's free addresses are usable.
        await sleep(Math.max(0, partnerPoolAt + 500 - Date.now()));
        let fromPrimaryPool: Grant | null = null;
        const deadline = Date.now() + 8000;
        while (!fromPrimaryPool && Date.now() < deadline) {
          const c = await newClient({ attempts: 1, attemptTimeoutMs: 800 });
          if (c.grant && !backupAtKill.has(c.grant.ip)) fromPrimaryPool = c.grant;
          else if (!c.grant) await sleep(300);
        }
        assert.ok(
          fromPrimaryPool,
          `after stos + MCLT the secondary in partnerDown allocates from the primary’s free addresses; new grants: ${newGrants
            .map((g) => g.ip)
            .join(' ')}\nsecondary log:\n${secondary.failoverLog(15)}`,
        );
        t.diagnostic(
          `first address of the primary’s pool: ${fromPrimaryPool.ip}, ${fromPrimaryPool.at - pdSince} ms into partnerDown`,
        );
        for (const g of newGrants) grants.set(g.mac, g);
      },
    );

    phase(
      '5. the primary restarts on its lease database: recover … normal, and both stores agree',
      120_000,
      async (t) => {
        const restartedAt = Date.now();
        const seenBefore = primary.seen.length;
        await primary.start();
        await Promise.all([
          primary.waitState(['normal'], 80_000, 100),
          secondary.waitState(['normal'], 80_000, 100),
        ]);
        t.diagnostic(`both normal ${Date.now() - restartedAt} ms after the restart`);
        const path = primary.seen.slice(seenBefore).map((s) => s.state);
        t.diagnostic(`primary after restart: ${path.join(' → ')}`);
        t.diagnostic(`secondary: ${secondary.describeSeen()}`);
        // The transitions the restarted primary logged (D12 names), e.g. startup → recover → … → normal.
        const steps = primary.server
          .records()
          .filter((r) => r.event === 'failover.state-changed')
          .map((r) => `${String(r.from)}→${String(r.to)}`);
        t.diagnostic(`primary logged: ${steps.join(', ')}`);
        assert.ok(
          steps.some((s) => s.endsWith('→recover')),
          `the restarted primary went through RECOVER (its partner was in partnerDown): logged ${steps.join(', ')}; polled ${path.join(' → ')}`,
        );

        let diffs: string[] = [];
        try {
          await waitUntil(
            'both servers’ client leases to agree address by address',
            async () => {
              diffs = await leaseDiffs(primary, secondary);
              return diffs.length === 0;
            },
            20_000,
            500,
          );
        } catch (err) {
          throw new Error(`${(err as Error).message}:\n${diffs.slice(0, 20).join('\n')}`);
        }
        // Every lease the secondary granted alone is now on the primary too.
        const lp = await leaseMap(primary);
        for (const g of grants.values()) {
          if (g.at + g.leaseSeconds * 1000 < Date.now() + 2000) continue; // may have expired by now
          const l = lp.get(g.ip);
          assert.equal(
            l?.bindingState,
            'active',
            `${g.ip} (${g.mac}, granted by the ${g.by}) active on the restarted primary`,
          );
          assert.equal(l?.hardwareAddress.mac, colonMac(g.mac));
        }

        // Back in NORMAL: the primary tops the secondary's pool up again, and load balancing is back.
        const refill = await waitUntil(
          'the primary to give the secondary free addresses again (BACKUP) after the recovery',
          async () => {
            const ss = await secondary.api.statistics();
            return ss.thisAddrFree > 0 ? ss : undefined;
          },
          40_000,
          500,
        );
        t.diagnostic(
          `after recovery: secondary BACKUP ${refill.thisAddrFree}, primary FREE ${refill.partnerAddrFree}, in use ${refill.addrInUse}`,
        );
        const backupNow = await backupSet(secondary);
        const again = await mapLimit(
          Array.from({ length: 8 }, (_, i) => testMac(0xf7, i + 1)),
          4,
          (mac) => dora(relay, mac),
        );
        await sleep(700);
        collectReplies(relay, again);
        for (const r of again) {
          const owner = hashOwner(r.mac);
          const seen = r.replies.map(replyText).join('; ') || 'no reply';
          assert.equal(
            r.reply?.type,
            DhcpMessageType.Ack,
            `after recovery ${r.mac} (owner ${owner}) got an ACK: ${seen}`,
          );
          assert.deepEqual(
            [...new Set(r.replies.map(sender))],
            [owner],
            `after recovery ${r.mac} answered only by the ${owner}: ${seen}`,
          );
          assert.equal(
            backupNow.has(r.reply!.yiaddr),
            owner === 'secondary',
            `after recovery ${r.mac} got ${r.reply!.yiaddr} from the ${owner}'s own free addresses`,
          );
        }

        // The same on disk: stop both and read the two databases.
        await pair.stop();
        const [dp, ds] = await Promise.all([
          readLeases(primary.server.dbPath),
          readLeases(secondary.server.dbPath),
        ]);
        const onDisk: string[] = [];
        const bound = (s: string) => s !== 'free' && s !== 'backup';
        for (const ip of new Set([...dp.keys(), ...ds.keys()])) {
          const a = dp.get(ip);
          const b = ds.get(ip);
          if (!(a && bound(a.state)) && !(b && bound(b.state))) continue;
          if (
            a?.state !== b?.state ||
            a?.hardwareAddress !== b?.hardwareAddress ||
            a?.leaseExpiresAt !== b?.leaseExpiresAt
          )
            onDisk.push(`${ip}: primary ${describeLease(a)} | secondary ${describeLease(b)}`);
        }
        assert.deepEqual(onDisk, [], 'the two lease databases agree on every non-free binding');
      },
    );

    test('neither server logged an error', () => {
      assert.equal(pair.errors(), '');
    });

    test('the API names states as windows-model.md §1.3 (camelCase)', () => {
      const seen = pair.members.flatMap((m) => [...m.nonApiStateNames].map((n) => `${m.name}: "${n}"`));
      assert.deepEqual(seen, [], 'GET /api/v1/status relationships[].state / partnerState');
    });
  });

  describe('hot standby (reserve 20 %, HMAC-SHA256): only the active answers until it dies', () => {
    const pair = new FailoverPair('failover-pair-hs', HS_OPTIONS);
    pairs.push(pair);
    const { primary, secondary } = pair;
    let reserve = new Set<string>();
    const grants: Grant[] = [];

    const phases = new Phases((t) => {
      t.diagnostic(`primary states: ${primary.describeSeen()}`);
      t.diagnostic(`secondary states: ${secondary.describeSeen()}`);
    });
    const phase = phases.phase;

    phase('fresh pair reaches NORMAL; the standby holds its reserve', 90_000, async (t) => {
      // The load-balance pair may still hold its ports if a phase failed before stopping it.
      for (const p of pairs) if (p !== pair) await p.stop();
      await pair.start();
      await pair.waitBoth(['normal'], 60_000);
      t.diagnostic(`primary: ${primary.describeSeen()}; secondary: ${secondary.describeSeen()}`);
      const ss = await waitUntil(
        'the standby to hold about 20 % of the free addresses (BACKUP)',
        async () => {
          const s = await secondary.api.statistics();
          return s.thisAddrFree >= 15 && s.thisAddrFree <= 25 ? s : undefined;
        },
        20_000,
        250,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await secondary.api.statistics())}`);
      });
      t.diagnostic(`standby reserve: ${ss.thisAddrFree} of ${ss.numAddr}`);
      reserve = await backupSet(secondary);
      assert.equal(reserve.size, ss.thisAddrFree);
    });

    phase(
      'every client is answered by the active server only, and replicated to the standby',
      60_000,
      async (t) => {
        const macs = Array.from({ length: 20 }, (_, i) => testMac(0xf5, i + 1));
        const results = await mapLimit(macs, 8, (mac) => dora(relay, mac));
        await sleep(700);
        collectReplies(relay, results);
        for (const r of results) {
          const seen = r.replies.map(replyText).join('; ') || 'no reply';
          assert.equal(r.reply?.type, DhcpMessageType.Ack, `${r.mac} got an ACK: ${seen}`);
          assert.deepEqual(
            [...new Set(r.replies.map(sender))],
            ['primary'],
            `${r.mac} answered by the active only: ${seen}`,
          );
          assert.ok(
            !reserve.has(r.reply!.yiaddr),
            `the active allocates outside the standby’s reserve: ${r.reply!.yiaddr}`,
          );
          grants.push({
            mac: r.mac,
            ip: r.reply!.yiaddr,
            by: 'primary',
            at: r.reply!.at,
            leaseSeconds: r.reply!.leaseTimeSeconds ?? 0,
          });
        }
        const missing: string[] = [];
        await waitUntil(
          'the standby to hold every lease',
          async () => {
            const ls = await leaseMap(secondary);
            missing.length = 0;
            for (const g of grants) {
              const l = ls.get(g.ip);
              if (l?.bindingState !== 'active' || l.hardwareAddress.mac !== colonMac(g.mac))
                missing.push(`${g.ip}: ${l ? leaseKey(l) : 'none'}`);
            }
            return missing.length === 0;
          },
          10_000,
          300,
        ).catch((err: Error) => {
          throw new Error(`${err.message}:\n${missing.join('\n')}`);
        });
        t.diagnostic(`${grants.length} leases on both servers`);
      },
    );

    phase(
      'kill -9 of the active: the standby renews its clients and serves new ones from its reserve',
      60_000,
      async (t) => {
        const killedAt = Date.now();
        await primary.server.kill9();
        const ci = await secondary.waitState(
          ['communicationsInterrupted'],
          RECEIVE_TIMER_S * 1000 + 3000,
          50,
        );
        t.diagnostic(`standby communicationsInterrupted ${ci.at - killedAt} ms after kill -9`);
        const g = grants[0]!;
        const renew = await relay.request(g.mac, { ciaddr: g.ip, to: ADDR.srv2 });
        assert.equal(
          renew?.type,
          DhcpMessageType.Ack,
          `the standby renews ${g.ip}: ${renew ? replyText(renew) : 'no reply'}`,
        );
        assert.equal(renew!.yiaddr, g.ip);
        const fresh = await dora(relay, testMac(0xf6, 1));
        assert.equal(
          fresh.reply?.type,
          DhcpMessageType.Ack,
          `a new client gets a lease from the standby: ${fresh.offer ? replyText(fresh.offer) : 'no OFFER'}`,
        );
        assert.equal(sender(fresh.reply!), 'secondary');
        assert.ok(
          reserve.has(fresh.reply!.yiaddr),
          `the standby allocates from its reserve: got ${fresh.reply!.yiaddr}`,
        );
        const s = await secondary.sample();
        assert.equal(s?.state, 'communicationsInterrupted', 'no automatic partnerDown without a safe period');
        await pair.stop();
      },
    );

    test('neither server logged an error', () => {
      assert.equal(pair.errors(), '');
    });

    test('the API names states as windows-model.md §1.3 (camelCase)', () => {
      const seen = pair.members.flatMap((m) => [...m.nonApiStateNames].map((n) => `${m.name}: "${n}"`));
      assert.deepEqual(seen, [], 'GET /api/v1/status relationships[].state / partnerState');
    });
  });
});
