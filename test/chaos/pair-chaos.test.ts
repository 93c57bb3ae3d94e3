// Real-process chaos: a Twinlease failover pair in network namespaces under perfdhcp load and a
// recording client population (DORA, renew, rebind, release), while a seeded schedule kills
// servers with SIGKILL and restarts them, freezes them with SIGSTOP/SIGCONT, and cuts the failover
// link (blackhole routes between the partners; DHCP traffic still flows). Afterwards:
//  1. no address was held by two clients at once, as the clients saw it (ACK time → expiry, cut
//     short by their own RELEASE), with a 2 s tolerance for second-granular server clocks;
//  2. every ACKed lease still running at the end is active, for that client, on both servers;
//  3. the two servers agree on every active binding once they are NORMAL again.
// CHAOS_SEED replays a schedule; CHAOS_SECONDS changes the length (default 60).

import './lib/prefix.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DhcpMessageType, DhcpTestClient, type Reply, testMac } from '../e2e/lib/dhcp-test-client.js';
import { ADDR, e2eSkipReason, NS } from '../e2e/lib/env.js';
import { colonMac, FailoverPair, type PairMember } from '../e2e/lib/pair.js';
import { LineProcess, run, sleep } from '../e2e/lib/proc.js';
import { ip, topologyDown, topologyUp } from '../e2e/lib/topology.js';

const skip = e2eSkipReason(['ss', 'perfdhcp']);

// CI runs a fixed schedule; CHAOS_SEED=random explores.
//
// Automatic partner-down (the safe period, D12 §10) assumes that a partner silent for the state
// switch interval is really down. Seed 33710019 (CI, 2026-11-28) broke that premise: a 9.7 s link
// cut with a 5 s interval put BOTH servers in PARTNER-DOWN, and MCLT later each took the other's
// free addresses (10.77.2.105 went to a client of each). Since then the switch interval counts
// from the last sign that the partner serves clients (docs/failover.md), so the schedule has long
// cuts too (longer than receive timer + switch interval, under client traffic): neither server may
// enter PARTNER-DOWN during them. Faults come one at a time and the pair is NORMAL again before
// the next (a freeze on top of a cut is a dead-looking partner that comes back: not modelled).
// Partner-down is reached by long kill -9 outages, where the partner really is down.
const SEED =
  process.env.CHAOS_SEED === 'random'
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.CHAOS_SEED ?? 33710019);
const CHAOS_SECONDS = Number(process.env.CHAOS_SECONDS ?? 60);
const LEASE_S = 30;
const CLIENTS = 120;
const TOLERANCE_MS = 2000;
const RECORDER_GIADDR = '10.77.0.4';
const MCLT_S = 10;
const RECEIVE_TIMER_S = 3;
const STATE_SWITCH_S = 12;
/** The failover link's first reconnect back-off (src/server/failover-link.ts); it then doubles. */
const RECONNECT_S = 5;
/**
 * Longest link cut: healed before the first reconnect attempt after the link is found broken, so
 * the pair talks again within receive timer + back-off, far inside the safe period.
 */
const MAX_CUT_MS = (RECEIVE_TIMER_S + RECONNECT_S - 2) * 1000;
/** A cut this long outlasts receive timer + switch interval (with a margin). */
const LONG_CUT_MS = (RECEIVE_TIMER_S + STATE_SWITCH_S + 3) * 1000;
/** A kill -9 outage this long takes the partner to PARTNER-DOWN and past MCLT in it. */
const LONG_OUTAGE_MS = (RECEIVE_TIMER_S + STATE_SWITCH_S + MCLT_S + 2) * 1000;

/** Small seeded PRNG (mulberry32), so a schedule can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Holding {
  mac: string;
  address: string;
  from: string;
  startMs: number;
  /** As the client believes it: ACK arrival + lease time; cut short by RELEASE. */
  endMs: number;
}

interface ClientState {
  mac: string;
  lease: Holding | null;
}

describe('chaos: a failover pair under load, crashes, freezes and partitions', {
  skip: skip ?? false,
}, () => {
  const pair = new FailoverPair('chaos', {
    mode: 'loadBalance',
    poolStart: '10.77.1.0',
    poolEnd: '10.77.4.255',
    leaseTimeSeconds: LEASE_S,
    mcltSeconds: MCLT_S,
    receiveTimerSeconds: RECEIVE_TIMER_S,
    stateSwitchIntervalSeconds: STATE_SWITCH_S,
  });
  let relay: DhcpTestClient;
  let perf: LineProcess | null = null;
  const holdings: Holding[] = [];
  const faults: Record<string, number> = {};
  const faultLog: string[] = [];
  const partnerDownInCut = new Set<string>();

  before(async () => {
    await topologyUp();
    await pair.start();
    await pair.waitBoth(['normal'], 30_000);
    // The recording client relays from its own address: perfdhcp binds 10.77.0.2:67 in the same
    // namespace and would fail to start if the client held that socket.
    await ip(NS.cli, 'addr', 'replace', `${RECORDER_GIADDR}/16`, 'dev', 'br0');
    relay = await DhcpTestClient.start({
      ns: NS.cli,
      giaddr: RECORDER_GIADDR,
      server: ADDR.broadcast,
      bindAddress: RECORDER_GIADDR,
      attemptTimeoutMs: 600,
      attempts: 2,
    });
  });

  after(async () => {
    await perf?.stop('SIGTERM', 3000);
    await relay?.close();
    for (const m of pair.members) {
      if (m.server.isRunning) {
        try {
          process.kill(m.server.pid, 'SIGCONT');
        } catch {}
      }
    }
    await heal();
    await pair.stop();
    await topologyDown();
  });

  async function cut(): Promise<void> {
    await run('ip', ['-n', NS.srv, 'route', 'replace', 'blackhole', `${ADDR.srv2}/32`], { timeoutMs: 5000 });
    await run('ip', ['-n', NS.srv2, 'route', 'replace', 'blackhole', `${ADDR.srv}/32`], { timeoutMs: 5000 });
  }

  async function heal(): Promise<void> {
    await run('ip', ['-n', NS.srv, 'route', 'del', 'blackhole', `${ADDR.srv2}/32`], {
      timeoutMs: 5000,
      check: false,
    });
    await run('ip', ['-n', NS.srv2, 'route', 'del', 'blackhole', `${ADDR.srv}/32`], {
      timeoutMs: 5000,
      check: false,
    });
  }

  function note(kind: string, what: string): void {
    faults[kind] = (faults[kind] ?? 0) + 1;
    faultLog.push(`${new Date().toISOString()} ${what}`);
  }

  /** The fault schedule: one fault at a time, each undone before the next. */
  async function chaos(random: () => number, until: number): Promise<void> {
    while (Date.now() < until) {
      await sleep(2000 + random() * 3000);
      if (Date.now() >= until) break;
      const victim: PairMember = random() < 0.5 ? pair.primary : pair.secondary;
      const r = random();
      if (r < 0.35) {
        const long = random() < 0.3;
        note(long ? 'kill9-long' : 'kill9', `kill -9 ${victim.name}${long ? ' (long outage)' : ''}`);
        await victim.server.kill9();
        await sleep(long ? LONG_OUTAGE_MS + random() * 3000 : 1000 + random() * 5000);
        note('restart', `restart ${victim.name}`);
        await victim.start(30_000);
      } else if (r < 0.65) {
        const ms = 1000 + random() * 6000;
        note('sigstop', `SIGSTOP ${victim.name} for ${Math.round(ms)} ms`);
        process.kill(victim.server.pid, 'SIGSTOP');
        await sleep(ms);
        process.kill(victim.server.pid, 'SIGCONT');
      } else if (random() < 0.5) {
        const ms = 2000 + random() * (MAX_CUT_MS - 2000);
        note('partition', `cut the failover link for ${Math.round(ms)} ms`);
        await cut();
        await sleep(ms);
        await heal();
      } else {
        // Longer than receive timer + switch interval: without the partner-serving sign both
        // servers would be in PARTNER-DOWN before the link comes back.
        const ms = LONG_CUT_MS + random() * 5000;
        note('partition-long', `cut the failover link for ${Math.round(ms)} ms (long)`);
        await cut();
        const until = Date.now() + ms;
        while (Date.now() < until) {
          for (const m of pair.members) {
            const st = await m.sample();
            if (st !== null && st.state === 'partnerDown')
              partnerDownInCut.add(`${m.name} in partnerDown during a ${Math.round(ms)} ms cut under load`);
          }
          await sleep(500);
        }
        await heal();
      }
      // One fault at a time: the pair is back in NORMAL before the next one, so two faults never
      // add up to a silence longer than the safe period while both servers are alive.
      await pair.waitBoth(['normal'], 60_000);
    }
  }

  /** A RELEASE or NAK ends every holding (the ACK and its renewals) of the address by the client. */
  function endHoldings(mac: string, address: string, atMs: number): void {
    for (const h of holdings) if (h.mac === mac && h.address === address) h.endMs = Math.min(h.endMs, atMs);
  }

  function ackOf(reply: Reply | null): reply is Reply {
    return reply !== null && reply.type === DhcpMessageType.Ack;
  }

  /** The recording clients: each acts in turn (DORA, renew, rebind or release). */
  async function clients(random: () => number, until: number): Promise<void> {
    const population: ClientState[] = [];
    for (let i = 0; i < CLIENTS; i++) population.push({ mac: testMac(0xc4, i), lease: null });
    while (Date.now() < until) {
      const c = population[Math.floor(random() * population.length)]!;
      const now = Date.now();
      if (c.lease !== null && c.lease.endMs <= now) c.lease = null;
      try {
        if (c.lease === null) {
          const r = await relay.dora(c.mac);
          if (ackOf(r.reply) && r.reply.leaseTimeSeconds !== null) {
            c.lease = {
              mac: c.mac,
              address: r.reply.yiaddr,
              from: r.reply.from,
              startMs: r.reply.at,
              endMs: r.reply.at + r.reply.leaseTimeSeconds * 1000,
            };
            holdings.push(c.lease);
          }
        } else if (random() < 0.1) {
          relay.release(c.mac, c.lease.address, c.lease.from, { to: c.lease.from });
          endHoldings(c.mac, c.lease.address, Date.now());
          c.lease = null;
        } else {
          // RENEWING to the server that ACKed; if it does not answer, REBINDING to everyone.
          let reply = await relay
            .request(c.mac, { ciaddr: c.lease.address, to: c.lease.from, attempts: 1 })
            .catch(() => null);
          if (reply === null) {
            reply = await relay.request(c.mac, { ciaddr: c.lease.address, attempts: 1 }).catch(() => null);
          }
          if (ackOf(reply) && reply.leaseTimeSeconds !== null && reply.yiaddr === c.lease.address) {
            const renewed: Holding = {
              mac: c.mac,
              address: reply.yiaddr,
              from: reply.from,
              startMs: reply.at,
              endMs: reply.at + reply.leaseTimeSeconds * 1000,
            };
            holdings.push(renewed);
            c.lease = renewed;
          } else if (reply !== null && reply.type === DhcpMessageType.Nak) {
            endHoldings(c.mac, c.lease.address, reply.at);
            c.lease = null;
          }
        }
      } catch {
        // No answer at all (both partners frozen or down): the client keeps what it has.
      }
      await sleep(random() * 40);
    }
  }

  test(`seed ${SEED}: no duplicate address, no lost lease, stores converge`, {
    timeout: 600_000,
  }, async (t) => {
    t.diagnostic(`CHAOS_SEED=${SEED} CHAOS_SECONDS=${CHAOS_SECONDS}`);
    perf = new LineProcess('timeout', [
      '-k',
      '5',
      String(CHAOS_SECONDS + 20),
      'ip',
      'netns',
      'exec',
      NS.cli,
      'perfdhcp',
      '-4',
      '-r',
      '100',
      '-R',
      '600',
      '-p',
      String(CHAOS_SECONDS + 10),
      '-l',
      'br0',
    ]);
    const random = prng(SEED);
    const until = Date.now() + CHAOS_SECONDS * 1000;
    await Promise.all([chaos(prng(random() * 2 ** 31), until), clients(prng(random() * 2 ** 31), until)]);
    await heal();
    for (const m of pair.members) if (!m.server.isRunning) await m.start(30_000);
    const perfLines = perf.lines.slice();
    await perf.stop('SIGTERM', 3000);
    perf = null;
    assert.ok(
      !perfLines.some((l) => /Failed to bind|Error|error/.test(l)),
      `perfdhcp ran as background load:\n${perfLines.slice(-5).join('\n')}`,
    );
    t.diagnostic(`faults: ${JSON.stringify(faults)}; client holdings recorded: ${holdings.length}`);
    t.diagnostic(faultLog.join('\n'));
    assert.ok(holdings.length > 100, `too few ACKs recorded (${holdings.length}): the load did not run`);
    assert.ok(Object.keys(faults).length > 0, 'no fault was injected');

    // 0. A partition under client traffic is not a dead partner.
    assert.deepEqual([...partnerDownInCut], [], 'automatic partner-down while the partner served clients');

    // 1. No address in two clients' hands at once.
    const byAddress = new Map<string, Holding[]>();
    for (const h of holdings) {
      const list = byAddress.get(h.address) ?? [];
      list.push(h);
      byAddress.set(h.address, list);
    }
    const overlaps: string[] = [];
    for (const [address, list] of byAddress) {
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const x = list[i]!;
          const y = list[j]!;
          if (x.mac === y.mac) continue;
          const overlapMs = Math.min(x.endMs, y.endMs) - Math.max(x.startMs, y.startMs);
          if (overlapMs > TOLERANCE_MS) {
            overlaps.push(
              `${address}: ${x.mac} from ${x.from} [${new Date(x.startMs).toISOString()} → ${new Date(x.endMs).toISOString()}] and ` +
                `${y.mac} from ${y.from} [${new Date(y.startMs).toISOString()} → ${new Date(y.endMs).toISOString()}]`,
            );
          }
        }
      }
    }
    assert.deepEqual(
      overlaps,
      [],
      `addresses held by two clients at once (seed ${SEED}):\n${overlaps.join('\n')}`,
    );

    // 3 (first, it waits): both NORMAL again and quiet, then compare.
    await pair.waitBoth(['normal'], 90_000);
    await sleep(3000);
    const [a, b] = await Promise.all([
      pair.primary.api.leases('active'),
      pair.secondary.api.leases('active'),
    ]);
    const view = (list: typeof a) =>
      new Map(list.map((l) => [l.ipAddress, l.hardwareAddress.mac ?? '-'] as const));
    const va = view(a);
    const vb = view(b);
    const differ: string[] = [];
    for (const ip of new Set([...va.keys(), ...vb.keys()])) {
      if (va.get(ip) !== vb.get(ip))
        differ.push(`${ip}: primary ${va.get(ip) ?? '-'} secondary ${vb.get(ip) ?? '-'}`);
    }
    // 2. Every lease a client still holds is active for it on both servers.
    const now = Date.now();
    const lost: string[] = [];
    const latest = new Map<string, Holding>();
    for (const h of holdings) latest.set(h.mac, h);
    for (const h of latest.values()) {
      if (h.endMs <= now + 2000) continue;
      const mac = colonMac(h.mac);
      if (va.get(h.address) !== mac || vb.get(h.address) !== mac)
        lost.push(
          `${h.address} for ${mac} (ACKed by ${h.from}): primary ${va.get(h.address) ?? '-'} secondary ${vb.get(h.address) ?? '-'}`,
        );
    }
    assert.deepEqual(lost, [], `ACKed leases missing (seed ${SEED}):\n${lost.join('\n')}`);
    assert.deepEqual(differ, [], `the stores disagree after recovery (seed ${SEED}):\n${differ.join('\n')}`);
    assert.equal(pair.errors(), '', 'no error logged');
  });
});
