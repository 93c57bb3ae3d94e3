// Real-process chaos: a Twinlease failover pair in network namespaces under perfdhcp load and a
// recording client population (DORA, renew, rebind, release), while a seeded schedule kills
// servers with SIGKILL and restarts them, freezes them with SIGSTOP/SIGCONT, and cuts the failover
// link (blackhole routes between the partners; DHCP traffic still flows); then, under the same
// load, one server's wall clock is stepped by minutes (libfaketime per process, the monotonic
// clock left real) in COMMUNICATIONS-INTERRUPTED, in PARTNER-DOWN and in RECOVER (issue 16).
// Afterwards:
//  1. no address was held by two clients at once, as the clients saw it (ACK time → expiry, cut
//     short by their own RELEASE), with a 2 s tolerance for second-granular server clocks;
//  2. every ACKed lease still running at the end is active, for that client, on both servers;
//  3. the two servers agree on every active binding once they are NORMAL again.
// CHAOS_SEED replays a schedule (and draws the clock phase's steps from it; without it they are
// FIXED_CLOCK_STEPS_S); CHAOS_SECONDS changes the length (default 60).

import './lib/prefix.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DhcpMessageType, DhcpTestClient, type Reply, testMac } from '../e2e/lib/dhcp-test-client.js';
import { ADDR, e2eSkipReason, NS } from '../e2e/lib/env.js';
import { FakeWallClock } from '../e2e/lib/fake-wall-clock.js';
import { colonMac, FailoverPair, type PairMember } from '../e2e/lib/pair.js';
import { LineProcess, run, sleep } from '../e2e/lib/proc.js';
import { ip, topologyDown, topologyUp } from '../e2e/lib/topology.js';

const skip = e2eSkipReason(['ss', 'perfdhcp', 'faketime']);

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
/** Wall-clock steps of an explored clock phase (CHAOS_SEED set): 2 to 15 minutes, either way. */
const CLOCK_STEP_MIN_S = 120;
const CLOCK_STEP_MAX_S = 900;
/**
 * CI's clock phase (no CHAOS_SEED): fixed steps, each the one that wall-clock arithmetic would get
 * wrong where it is made. Back 5 min under a running link (on wall times the partner's updates
 * look 5 min old and renewals stretch by as much); forward 10 min in PARTNER-DOWN (would end the
 * MCLT wait and every 30 s lease at once: the partner's clients' addresses reused while they hold
 * them); forward 10 min in RECOVER-WAIT (would end the MCLT wait before RECOVER-DONE at once).
 */
const FIXED_CLOCK_STEPS_S = { communicationsInterrupted: -300, partnerDown: 600, recover: 600 };
const isClockScheduleFixed = process.env.CHAOS_SEED === undefined;
/** How long a step lasts in COMMUNICATIONS-INTERRUPTED and RECOVER (below the switch interval). */
const CLOCK_HOLD_MS = 8000;
/** The clock phase takes about two minutes; load runs until it ends (perfdhcp gets this much). */
const CLOCK_PHASE_MAX_S = 360;

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
  /** Each server's wall clock, moved by the clock phase (libfaketime; monotonic stays real). */
  const clocks = new Map<PairMember, FakeWallClock>();
  const clockOf = (m: PairMember): FakeWallClock => clocks.get(m)!;

  before(async () => {
    await topologyUp();
    for (const m of pair.members) {
      const clock = new FakeWallClock(m.server.dir);
      clocks.set(m, clock);
      m.server.env = clock.env();
    }
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
    for (const c of clocks.values()) c.set(0);
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

  /** Wall-clock time-mismatch refusals or closes (reject reason 4) in `m`'s log so far. */
  function timeMismatches(m: PairMember): number {
    return m.server.lines.filter(
      (l) =>
        (l.includes('"event":"failover.connect-rejected"') ||
          l.includes('"event":"failover.partner-disconnected"') ||
          l.includes('"event":"failover.connect-refused-by-partner"')) &&
        l.includes('"rejectReason":4'),
    ).length;
  }

  /** Steps `m`'s wall clock by `seconds` (0: puts it right) and notes it. */
  function stepClock(m: PairMember, seconds: number, kind: string, when: string): void {
    clockOf(m).set(seconds);
    note(
      kind,
      `${m.name}'s wall clock ${seconds === 0 ? 'put right' : `${seconds > 0 ? '+' : ''}${seconds} s`} ${when}`,
    );
  }

  /**
   * The clock phase (issue 16): one server's wall clock stepped by minutes in each of
   * COMMUNICATIONS-INTERRUPTED, PARTNER-DOWN and RECOVER, under the same load. The waits of both
   * servers run on their timelines (monotonic): no step may end a wait early or stretch a lease.
   * The stepped server is the primary where the link comes back: the secondary reconnects every
   * 5 s and is refused until the clock is right, so the pair is back within seconds of the fix
   * (a stepped secondary would be retried only after the minute's back-off of a refused primary).
   */
  async function clockPhase(random: () => number): Promise<void> {
    const drawn = () =>
      Math.round(CLOCK_STEP_MIN_S + random() * (CLOCK_STEP_MAX_S - CLOCK_STEP_MIN_S)) *
      (random() < 0.5 ? -1 : 1);
    const step = (where: keyof typeof FIXED_CLOCK_STEPS_S) =>
      isClockScheduleFixed ? FIXED_CLOCK_STEPS_S[where] : drawn();
    const p = pair.primary;
    const s = pair.secondary;

    // 1. COMMUNICATIONS-INTERRUPTED: the step breaks the running link (the stepped server closes
    //    it at its next tick) and every handshake is refused (reject reason 4) until the clock is
    //    put right. Both serve meanwhile; neither takes the other for dead (it keeps answering,
    //    if only to refuse, and clients show it serving).
    await pair.waitBoth(['normal'], 60_000);
    const refusedBefore = timeMismatches(p) + timeMismatches(s);
    stepClock(p, step('communicationsInterrupted'), 'clock-comm-intr', 'under a running link');
    await pair.waitBoth(['communicationsInterrupted'], 15_000);
    const holdUntil = Date.now() + CLOCK_HOLD_MS;
    while (Date.now() < holdUntil) {
      for (const m of pair.members) {
        const st = await m.sample();
        if (st !== null && st.state === 'partnerDown')
          partnerDownInCut.add(`${m.name} in partnerDown while ${p.name}'s wall clock was stepped`);
      }
      await sleep(500);
    }
    assert.ok(
      timeMismatches(p) + timeMismatches(s) > refusedBefore,
      'the clocks over 60 s apart were refused',
    );
    stepClock(p, 0, 'clock-restored', '(COMMUNICATIONS-INTERRUPTED)');
    await pair.waitBoth(['normal'], 90_000);

    // 2. PARTNER-DOWN: the secondary is killed; once the primary has declared it down, its wall
    //    clock jumps forward by minutes (backward when the seed says so), which on wall-clock
    //    arithmetic would end the MCLT wait and every lease at once.
    note('kill9', `kill -9 ${s.name} (clock phase)`);
    await s.server.kill9();
    await p.waitState(['partnerDown'], 60_000);
    stepClock(p, step('partnerDown'), 'clock-partner-down', 'in partnerDown');
    await sleep(MCLT_S * 1000 + 5000);
    stepClock(p, 0, 'clock-restored', '(partnerDown)');
    note('restart', `restart ${s.name}`);
    await s.start(30_000);
    await pair.waitBoth(['normal'], 90_000);

    // 3. RECOVER: the primary is killed and declared down by the operator at once, so that it comes
    //    back within MCLT and must wait in RECOVER-WAIT; its wall clock is stepped while it recovers.
    note('kill9', `kill -9 ${p.name} (clock phase)`);
    await p.server.kill9();
    await s.waitState(['communicationsInterrupted'], 15_000);
    const status = await s.api.declarePartnerDown();
    assert.ok(status >= 200 && status < 300, `operator partner-down answered ${status}`);
    await s.waitState(['partnerDown'], 15_000);
    // Clearly after the primary last served (whole-second times): it comes back in RECOVER, not
    // POTENTIAL-CONFLICT.
    await sleep(2000);
    note('restart', `restart ${p.name}`);
    await p.start(30_000);
    // RECOVER-WAIT (MCLT since it last served, on its timeline) is where a wall-clock wait would
    // end at once; it lasts only seconds here, so any recovery state will do if it is missed.
    const inRecovery = await p.waitState(['recoverWait'], 10_000).catch(() => null);
    stepClock(
      p,
      step('recover'),
      'clock-recover',
      `in ${inRecovery?.state ?? p.seen.at(-1)?.state ?? 'recovery'}`,
    );
    await sleep(CLOCK_HOLD_MS);
    stepClock(p, 0, 'clock-restored', '(recovery)');
    await pair.waitBoth(['normal'], 120_000);
  }

  /** A RELEASE or NAK ends every holding (the ACK and its renewals) of the address by the client. */
  function endHoldings(mac: string, address: string, atMs: number): void {
    for (const h of holdings) if (h.mac === mac && h.address === address) h.endMs = Math.min(h.endMs, atMs);
  }

  function ackOf(reply: Reply | null): reply is Reply {
    return reply !== null && reply.type === DhcpMessageType.Ack;
  }

  /** The recording clients: each acts in turn (DORA, renew, rebind or release), while `isOn()`. */
  async function clients(random: () => number, isOn: () => boolean): Promise<void> {
    const population: ClientState[] = [];
    for (let i = 0; i < CLIENTS; i++) population.push({ mac: testMac(0xc4, i), lease: null });
    while (isOn()) {
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
    t.diagnostic(
      `CHAOS_SEED=${SEED} CHAOS_SECONDS=${CHAOS_SECONDS}; clock steps ${isClockScheduleFixed ? 'fixed' : 'drawn from the seed'}`,
    );
    perf = new LineProcess('timeout', [
      '-k',
      '5',
      String(CHAOS_SECONDS + CLOCK_PHASE_MAX_S + 20),
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
      String(CHAOS_SECONDS + CLOCK_PHASE_MAX_S + 10),
      '-l',
      'br0',
    ]);
    const random = prng(SEED);
    const until = Date.now() + CHAOS_SECONDS * 1000;
    const chaosRandom = prng(random() * 2 ** 31);
    const clientRandom = prng(random() * 2 ** 31);
    // Drawn last, so the random phase's schedule for a seed is what it was before the clock phase.
    const clockRandom = prng(random() * 2 ** 31);
    let isLoadOn = true;
    const load = clients(clientRandom, () => isLoadOn);
    try {
      await chaos(chaosRandom, until);
      await heal();
      for (const m of pair.members) if (!m.server.isRunning) await m.start(30_000);
      const clockPhaseStart = Date.now();
      await clockPhase(clockRandom);
      t.diagnostic(`clock phase: ${((Date.now() - clockPhaseStart) / 1000).toFixed(0)} s`);
    } finally {
      isLoadOn = false;
      await load;
    }
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

    // 0. A partition under client traffic, or a partner refusing us for its clock, is not a dead
    //    partner.
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
    // A lease ending as the two lists are read may already be expired on one server and not yet
    // on the other (each expires it at its own tick, the partner's copy up to a second later):
    // such a difference is the end of a lease, not a divergence (the 2 s of check 2 below).
    const comparedAt = Date.now();
    const endOf = new Map<string, number>();
    for (const l of [...a, ...b]) {
      const end = l.leaseExpiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(l.leaseExpiresAt);
      endOf.set(l.ipAddress, Math.max(endOf.get(l.ipAddress) ?? 0, end));
    }
    const differ: string[] = [];
    for (const ip of new Set([...va.keys(), ...vb.keys()])) {
      const isEnding =
        (va.get(ip) === undefined || vb.get(ip) === undefined) && endOf.get(ip)! <= comparedAt + 2000;
      if (va.get(ip) !== vb.get(ip) && !isEnding)
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
    // Errors but the refusals the clock phase asks for: a partner refusing CONNECT because the
    // wall clocks are over 60 s apart is logged at error (an operator must fix the clock).
    const unexpected = pair.members.flatMap((m) =>
      m.server
        .errors()
        .filter((r) => !(r.event === 'failover.connect-refused-by-partner' && r.rejectReason === 4))
        .map((r) => `${m.name}: ${JSON.stringify(r)}`),
    );
    assert.deepEqual(unexpected, [], 'no error logged');
  });
});
