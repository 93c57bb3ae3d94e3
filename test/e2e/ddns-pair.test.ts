// Dynamic DNS across a failover pair (docs/dns.md "Failover"), end to end: a BIND 9 named in
// $PFX-cli on 10.77.0.2 (PFX = tln), reachable from both servers, and two real `twinlease serve`
// processes in load balance with the same DNS settings. A real dhclient sending option 81 gets a
// lease from the server its client identifier hashes to (X); X registers A, PTR and DHCID, and its
// binding update gives the partner the name and the DNS state, while the partner sends no UPDATE.
// X is then killed with SIGKILL and the client never comes back: the lease expires on the partner
// while it is COMMUNICATIONS-INTERRUPTED (no removal there, D12 §5.12), the partner goes
// PARTNER-DOWN after its safe period, and the records stay until the address is the partner's to
// reuse (partnerDownReuseAt: expiry or potential expiration + MCLT); then the partner removes them
// and clears the binding's removalPending. DNS is looked at once a second all along.

process.env.TL_E2E_PFX = 'tln';

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ApiLease, PairMember, PairOptions } from './lib/pair.js';
import { Phases } from './lib/phases.js';

const { ADDR, e2eSkipReason, NS } = await import('./lib/env.js');
const { BindServer } = await import('./lib/bind.js');
const { FailoverPair } = await import('./lib/pair.js');
const { sleep, waitUntil } = await import('./lib/proc.js');
const { fqdnDhclient } = await import('./lib/real-client.js');
const { makeWorkDir } = await import('./lib/server.js');
const { topologyDown, topologyUp } = await import('./lib/topology.js');

const skip = e2eSkipReason(['dhclient', 'named', 'dig', 'tsig-keygen', 'curl', 'ss']);

const LEASE_S = 30;
const MCLT_S = 10;
const RECEIVE_TIMER_S = 3;
/** Longer than the client's lease (MCLT): the lease expires on the partner before PARTNER-DOWN. */
const SWITCH_S = 15;
/** The DNS service looks at removals waiting for PARTNER-DOWN this often (ddns-service.ts). */
const DDNS_SCAN_S = 5;
const FORWARD_ZONE = 'pair.test';
/** Client identifier "mike" hashes to the primary's half of the buckets (RFC 3074, 50/50). */
const CLIENT = 'mike';
const FQDN = `${CLIENT}.${FORWARD_ZONE}`;

const secondsOf = (iso: string | null): number => (iso === null ? 0 : Date.parse(iso) / 1000);

/** A service counter of GET /metrics (twinlease_events_total{name=...}); 0 before its first event. */
async function counter(m: PairMember, name: string): Promise<number> {
  const text = await m.api.text('/metrics');
  const line = text.split('\n').find((l) => l.startsWith(`twinlease_events_total{name="${name}"} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const leaseOf = (m: PairMember, ip: string): Promise<ApiLease> => m.api.get<ApiLease>(`/api/v1/leases/${ip}`);

const describeLease = (l: ApiLease): string =>
  `${l.bindingState} owner=${l.ownerServer.name} fqdn=${l.fqdn} dns=${JSON.stringify(l.dns)} ` +
  `expires=${l.leaseExpiresAt} pet sent/acked/received=${l.sentPotentialExpiresAt}/` +
  `${l.ackedPotentialExpiresAt}/${l.receivedPotentialExpiresAt}`;

describe('dynamic DNS across a failover pair (BIND 9)', { skip: skip ?? false }, () => {
  const bind = new BindServer(join(makeWorkDir('ddns-pair-bind'), 'bind'), {
    ns: NS.cli,
    listenAddress: ADDR.cli,
    keyName: 'tln-e2e-key',
    forwardZone: FORWARD_ZONE,
    reverseZone: '77.10.in-addr.arpa',
  });
  let pair: InstanceType<typeof FailoverPair> | null = null;
  let client: ReturnType<typeof fqdnDhclient> | null = null;
  let owner: PairMember;
  let partner: PairMember;
  let ip = '';
  let killedAtMs = 0;
  /** When the partner may remove the records (seconds since epoch), as the rule computes it. */
  let reuseAt = 0;

  const phases = new Phases((t) => {
    for (const m of pair?.members ?? []) {
      t.diagnostic(`${m.name} states: ${m.describeSeen()}`);
      const ddns = m.server.lines.filter((l) => l.includes('"event":"ddns.'));
      t.diagnostic(`${m.name} ddns log:\n${ddns.slice(-10).join('\n')}`);
    }
  });
  const phase = phases.phase;

  before(async () => {
    await topologyUp();
    const secret = await bind.setup();
    await bind.start();
    const options: PairOptions = {
      mode: 'loadBalance',
      poolStart: '10.77.1.0',
      poolEnd: '10.77.1.19',
      leaseTimeSeconds: LEASE_S,
      mcltSeconds: MCLT_S,
      receiveTimerSeconds: RECEIVE_TIMER_S,
      stateSwitchIntervalSeconds: SWITCH_S,
      loadBalancePercent: 50,
      dns: {
        forwardZone: FORWARD_ZONE,
        reverseZone: '77.10.in-addr.arpa',
        server: { address: ADDR.cli, port: 53 },
        tsigKey: { name: 'tln-e2e-key', algorithm: 'hmac-sha256', secret },
        ttlSeconds: 60,
      },
    };
    pair = new FailoverPair('ddns-pair', options);
  });

  after(async () => {
    await client?.stop().catch(() => {});
    await pair?.stop().catch(() => {});
    await bind.stop().catch(() => {});
    await topologyDown();
  });

  phase('1. both servers reach NORMAL and the secondary has its half of the free pool', 90_000, async () => {
    await pair!.start();
    await pair!.waitBoth(['normal'], 60_000);
    const { primary, secondary } = pair!;
    await waitUntil(
      'the secondary to hold BACKUP addresses on both sides',
      async () => {
        const [sp, ss] = await Promise.all([primary.api.statistics(), secondary.api.statistics()]);
        return ss.thisAddrFree > 0 && sp.partnerAddrFree === ss.thisAddrFree;
      },
      30_000,
      300,
    );
  });

  phase(
    '2. a dhclient with option 81 gets a lease from X; X registers A, PTR, DHCID; the partner only learns',
    60_000,
    async (t) => {
      client = fqdnDhclient(pair!.dir, CLIENT, FQDN);
      await client.start();
      const bound = await client.waitEvent(['BOUND'], 30_000);
      // The client goes away for good (no RELEASE, no renewal): its lease can only expire.
      await client.stop();
      ip = bound.ip;
      const { primary, secondary } = pair!;
      owner = bound.serverId === ADDR.srv ? primary : secondary;
      partner = owner === primary ? secondary : primary;
      assert.equal(
        bound.serverId,
        ADDR.srv,
        `client id "${CLIENT}" hashes to the primary (ACK from ${bound.serverId})`,
      );
      t.diagnostic(`${ip} from ${owner.name}, client lease ${bound.leaseTime} s`);

      await bind.waitRecords(FQDN, ip, true, 20_000);
      const own = await waitUntil(
        `${owner.name}: the registration of ${ip} done`,
        async () => {
          const l = await leaseOf(owner, ip);
          return !l.dns.registrationPending && l;
        },
        15_000,
        300,
      );
      assert.equal(own.ownerServer.name, owner.side.serverName);
      // The binding update carried the name and the DNS state to the partner.
      const seen = await waitUntil(
        `${partner.name}: ${ip} active with ${FQDN}, registration done`,
        async () => {
          const l = await leaseOf(partner, ip);
          return l.bindingState === 'active' && l.fqdn === FQDN && !l.dns.registrationPending && l;
        },
        15_000,
        300,
      );
      t.diagnostic(`${partner.name} holds ${describeLease(seen)}`);
      assert.equal(seen.ownerServer.name, owner.side.serverName, 'the partner knows who granted it');
      assert.equal(seen.dns.updateBothRecords, true, 'X owns the A record (option 81 S=1)');
      assert.equal(seen.dns.removalPending, false);
      assert.equal(seen.dhcidMode, 'clientId');
      // While the owner is alive the partner leaves DNS alone.
      assert.equal(await counter(partner, 'ddns-requests-sent'), 0, 'the partner sent no DNS UPDATE');
      assert.ok((await counter(owner, 'ddns-requests-sent')) > 0, 'the owner did');
    },
  );

  /**
   * Looks at DNS once a second while `isStill()` holds (at most `maxMs`): A, PTR and DHCID must be
   * there every time, and the partner must not have sent an UPDATE. Returns the number of looks.
   */
  async function recordsStay(what: string, isStill: () => Promise<boolean>, maxMs: number): Promise<number> {
    const deadline = Date.now() + maxMs;
    let looks = 0;
    while (await isStill()) {
      if (Date.now() >= deadline) throw new Error(`still ${what} after ${maxMs} ms`);
      const r = await bind.records(FQDN, ip);
      assert.ok(BindServer.isRegistered(r, FQDN, ip), `records gone while ${what}: ${JSON.stringify(r)}`);
      assert.equal(
        await counter(partner, 'ddns-requests-sent'),
        0,
        `the partner sent an UPDATE while ${what}`,
      );
      looks++;
      await sleep(1000);
    }
    return looks;
  }

  phase(
    '3. X killed: the lease expires on the partner in COMMUNICATIONS-INTERRUPTED; the records stay',
    60_000,
    async (t) => {
      killedAtMs = Date.now();
      await owner.server.kill9();
      const ci = await partner.waitState(['communicationsInterrupted'], 10_000);
      t.diagnostic(`${partner.name} communicationsInterrupted ${ci.at - killedAtMs} ms after kill -9`);

      // Expiry on the partner (the client's lease was MCLT long): the binding ends with its
      // records still to remove, and the partner is still in its safe period (SWITCH_S).
      const ended = await waitUntil(
        `${partner.name}: ${ip} no longer active`,
        async () => {
          const l = await leaseOf(partner, ip);
          return l.bindingState !== 'active' && l;
        },
        25_000,
        500,
      );
      const state = await partner.sample();
      t.diagnostic(`${partner.name} after expiry (${state?.state}): ${describeLease(ended)}`);
      assert.equal(state?.state, 'communicationsInterrupted', 'the lease expired before PARTNER-DOWN');
      assert.equal(ended.bindingState, 'expired');
      assert.equal(ended.fqdn, FQDN);
      assert.equal(ended.dns.removalPending, true, 'its records are still to be removed');
      // D12 §5.12: no removal in COMMUNICATIONS-INTERRUPTED.
      const looks = await recordsStay(
        'COMMUNICATIONS-INTERRUPTED',
        async () => (await partner.sample())?.state === 'communicationsInterrupted',
        SWITCH_S * 1000 + 10_000,
      );
      t.diagnostic(`${looks} looks at DNS in COMMUNICATIONS-INTERRUPTED: A, PTR and DHCID there each time`);
      assert.ok(looks >= 2, 'watched the records in COMMUNICATIONS-INTERRUPTED');
    },
  );

  phase(
    '4. the partner goes PARTNER-DOWN; the records stay until the reuse time (expiry or potential expiry + MCLT)',
    90_000,
    async (t) => {
      const pd = await partner.waitState(['partnerDown'], 15_000);
      t.diagnostic(
        `${partner.name} partnerDown ${pd.at - killedAtMs} ms after kill -9 (${partner.describeSeen()})`,
      );
      const ended = await leaseOf(partner, ip);
      // The rule (partnerDownReuseAt): MCLT past the latest of PARTNER-DOWN's start, the expiry
      // and every potential expiration.
      const rel = await partner.api.relationship();
      assert.equal(rel?.state, 'partnerDown');
      reuseAt =
        Math.max(
          secondsOf(rel.stateSince),
          secondsOf(ended.leaseExpiresAt),
          secondsOf(ended.sentPotentialExpiresAt),
          secondsOf(ended.ackedPotentialExpiresAt),
          secondsOf(ended.receivedPotentialExpiresAt),
        ) + MCLT_S;
      const expiredAt = secondsOf(ended.leaseExpiresAt);
      t.diagnostic(
        `expiry ${expiredAt}, reuse at ${reuseAt} (${(reuseAt - Date.now() / 1000).toFixed(1)} s from now)`,
      );
      assert.ok(reuseAt >= expiredAt + MCLT_S, 'reuse is at least MCLT past the expiry');
      assert.ok(reuseAt - Date.now() / 1000 > 3, 'time left to watch the records before the reuse time');

      // Up to a second before the reuse time, the records are there and nothing was sent.
      const looks = await recordsStay(
        'PARTNER-DOWN before the reuse time',
        async () => Date.now() / 1000 < reuseAt - 1,
        (LEASE_S + 2 * MCLT_S) * 1000,
      );
      t.diagnostic(`${looks} looks at DNS in PARTNER-DOWN before the reuse time: all records there`);
      assert.ok(looks >= 2);
      assert.equal((await leaseOf(partner, ip)).dns.removalPending, true);
    },
  );

  phase(
    '5. after the reuse time the partner removes A, PTR and DHCID and clears removalPending',
    90_000,
    async (t) => {
      await bind.waitRecords(
        FQDN,
        ip,
        false,
        (DDNS_SCAN_S + 25) * 1000 + Math.max(0, reuseAt * 1000 - Date.now()),
      );
      const goneAt = Date.now() / 1000;
      t.diagnostic(`records gone ${(goneAt - reuseAt).toFixed(1)} s after the reuse time`);
      assert.ok(goneAt >= reuseAt, 'not removed before the reuse time');
      const removed = await partner.server.waitForLog(
        'ddns.removed',
        (r) => r.event === 'ddns.removed' && r.fqdn === FQDN,
        5_000,
      );
      const removedAt = Date.parse((JSON.parse(removed) as { time: string }).time) / 1000;
      assert.ok(
        removedAt >= reuseAt,
        `ddns.removed logged at ${removedAt}, before the reuse time ${reuseAt}`,
      );
      const l = await waitUntil(
        `${partner.name}: removalPending of ${ip} cleared`,
        async () => {
          const x = await leaseOf(partner, ip);
          return !x.dns.removalPending && x;
        },
        10_000,
        300,
      );
      t.diagnostic(`${partner.name} after removal: ${describeLease(l)}`);
      assert.notEqual(l.bindingState, 'active');
      assert.ok((await counter(partner, 'ddns-removals-completed')) >= 1, 'removal counted');
      assert.ok((await counter(partner, 'ddns-requests-sent')) > 0, 'the partner sent the UPDATEs');
      assert.equal(await counter(partner, 'ddns-conflicts'), 0);
    },
  );

  test('the servers logged no error', () => {
    assert.equal(pair?.errors() ?? '', '');
  });
});
