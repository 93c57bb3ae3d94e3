// Rolling migration from an ISC dhcpd failover pair to a Twinlease pair under continuous load, as
// docs/migrate-from-isc-dhcp.md's runbook says, in the harness namespaces ($PFX = tlr):
//  1. dhcpd primary ($PFX-srv, 10.77.0.1) + dhcpd secondary ($PFX-srv2, 10.77.0.3), split 128,
//     MCLT 30, ~1000 addresses, serve perfdhcp (relay, broadcast, 100 DORA/s over 300 MACs) and a
//     recording relay client population (100 clients: DORA / renew / release, every ACK recorded);
//  2. the dhcpd secondary is stopped (SIGTERM), `twinlease import dhcpd` runs on its dhcpd.conf and
//     dhcpd.leases, Twinlease starts from that config (fixed up only for the test environment:
//     server name/identifier, interface, subnet broadcast, API, logging) and lease store in the
//     same namespace; dhcpd (its log) and Twinlease (its API) both NORMAL;
//  3. the same for the dhcpd primary; both Twinlease servers NORMAL;
//  4. throughout: no address in two clients' hands (2 s tolerance), no ACKed lease lost (every
//     unexpired recorded lease active for its client on both Twinlease servers), and the share of
//     DISCOVERs left unanswered per phase (perfdhcp's periodic counters and the recording client's)
//     stays under 20 %.

import './lib/migration-prefix.js';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { DhcpTestClient } from './lib/dhcp-test-client.js';
import { ADDR, e2eSkipReason, NS } from './lib/env.js';
import { IscDhcpd, type IscPeerConfig } from './lib/isc-dhcpd.js';
import { TwinleaseMember } from './lib/isc-twinlease.js';
import {
  addRecorderAddress,
  fixUpImported,
  importDhcpd,
  overlaps,
  PerfLoad,
  RECORDER_GIADDR,
  Recorder,
} from './lib/migration.js';
import { type ApiLease, colonMac, type PairSide, PRIMARY_SIDE, SECONDARY_SIDE } from './lib/pair.js';
import { Phases } from './lib/phases.js';
import { sleep } from './lib/proc.js';
import { makeWorkDir } from './lib/server.js';
import { topologyDown, topologyUp } from './lib/topology.js';

const skip = e2eSkipReason(['ss', 'curl', 'dhcpd', 'perfdhcp']);

const RELATIONSHIP = 'tlr-migration';
const POOL_START = '10.77.1.0';
const POOL_END = '10.77.4.231'; // 1000 addresses
const LEASE_S = 120;
const MCLT_S = 30;
const STEADY_MS = Number(process.env.TL_MIGRATION_STEADY_S ?? 12) * 1000;
const TOLERANCE_MS = 2000;
const MAX_UNANSWERED = 0.2;
const PERF = { rate: 100, clients: 300, seconds: 270 };

type Role = 'primary' | 'secondary';
const SIDE: Record<Role, PairSide> = { primary: PRIMARY_SIDE, secondary: SECONDARY_SIDE };

function iscPeer(role: Role): IscPeerConfig {
  const me = SIDE[role].address;
  const peer = role === 'primary' ? ADDR.srv2 : ADDR.srv;
  return {
    name: RELATIONSHIP,
    role,
    address: me,
    peerAddress: peer,
    port: 647,
    peerPort: 647,
    maxResponseDelaySeconds: 6,
    maxUnackedUpdates: 10,
    mcltSeconds: MCLT_S,
    split: 128,
    loadBalanceMaxSeconds: 5,
    poolStart: POOL_START,
    poolEnd: POOL_END,
    leaseTimeSeconds: LEASE_S,
  };
}

interface PhaseSpan {
  name: string;
  from: number;
  to: number;
}

describe('rolling migration dhcpd pair → Twinlease pair under load', { skip: skip ?? false }, () => {
  const dir = makeWorkDir('migration');
  const isc: Record<Role, IscDhcpd> = {
    primary: new IscDhcpd(mkd(join(dir, 'dhcpd-primary')), NS.srv, iscPeer('primary')),
    secondary: new IscDhcpd(mkd(join(dir, 'dhcpd-secondary')), NS.srv2, iscPeer('secondary')),
  };
  const tl: Partial<Record<Role, TwinleaseMember>> = {};
  let relay: DhcpTestClient | null = null;
  let recorder: Recorder | null = null;
  let perf: PerfLoad | null = null;
  const spans: PhaseSpan[] = [];
  let current: PhaseSpan | null = null;
  const started = Date.now();

  function mkd(d: string): string {
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** Starts a new phase for the figures (recording client and perfdhcp windows). */
  function enter(name: string): void {
    const now = Date.now();
    if (current) current.to = now;
    current = { name, from: now, to: now };
    spans.push(current);
    if (recorder) recorder.phase = name;
  }

  before(async () => {
    await topologyUp();
  });

  after(async () => {
    await recorder?.stop().catch(() => {});
    await perf?.stop().catch(() => {});
    await relay?.close().catch(() => {});
    for (const m of Object.values(tl)) await m?.server.stop().catch(() => {});
    for (const d of Object.values(isc)) {
      await d.kill9().catch(() => {});
      d.saveLog();
    }
    await topologyDown();
  });

  const phases = new Phases((t) => {
    for (const [r, m] of Object.entries(tl)) t.diagnostic(`Twinlease ${r} states: ${m?.describeSeen()}`);
    for (const [r, d] of Object.entries(isc)) t.diagnostic(`dhcpd ${r} states: ${d.describeStates()}`);
  });
  const phase = phases.phase;

  /** Replaces dhcpd `role` by Twinlease: SIGTERM, import, fix-up, start, both NORMAL. */
  async function replace(t: TestContext, role: Role, partnerNormal: () => Promise<void>): Promise<void> {
    enter(`${role}: dhcpd stopped`);
    const stopAt = Date.now();
    await isc[role].stop(10_000);
    t.diagnostic(`dhcpd ${role} stopped (SIGTERM) in ${Date.now() - stopAt} ms`);
    const tlDir = mkd(join(dir, `twinlease-${role}`));
    const imp = await importDhcpd(tlDir, isc[role].confPath, isc[role].leasesPath);
    t.diagnostic(`import of dhcpd ${role}:\n${imp.report.trim()}`);
    const fo = imp.imported.failover?.[0];
    assert.ok(fo, 'the import wrote a failover relationship');
    const peer = iscPeer(role);
    assert.equal(fo.name, RELATIONSHIP, 'relationship name');
    assert.equal(fo.role, role, 'role');
    assert.deepEqual(
      { local: fo.local, partner: fo.partner && { address: fo.partner.address, port: fo.partner.port } },
      {
        local: { address: peer.address, port: peer.port },
        partner: { address: peer.peerAddress, port: peer.peerPort },
      },
      'failover addresses and ports as in dhcpd.conf',
    );
    if (role === 'primary') assert.equal(fo.mcltSeconds, MCLT_S, 'the primary keeps mclt');
    const { config, changed } = fixUpImported(imp.imported, SIDE[role]);
    t.diagnostic(`fixed up for the test environment: ${changed.join('; ')}`);
    writeFileSync(join(tlDir, 'fixups.txt'), `${changed.join('\n')}\n`);
    const m = new TwinleaseMember(SIDE[role], RELATIONSHIP, tlDir, config);
    tl[role] = m;
    enter(`${role}: Twinlease joining`);
    const startAt = Date.now();
    await m.start(20_000);
    t.diagnostic(
      `Twinlease ${role} up ${Date.now() - startAt} ms after start (${Date.now() - stopAt} ms after dhcpd stopped)`,
    );
    await Promise.all([m.waitState(['normal'], 90_000, 200), partnerNormal()]);
    t.diagnostic(
      `both NORMAL ${Date.now() - startAt} ms after Twinlease ${role} started; Twinlease ${role}: ${m.describeSeen()}; logged ${m.loggedTransitions().join(', ')}`,
    );
  }

  phase('1. dhcpd pair NORMAL, serving perfdhcp and the recording clients', 90_000, async (t) => {
    for (const d of Object.values(isc)) await d.check();
    await Promise.all([isc.primary.start(), isc.secondary.start()]);
    await Promise.all([isc.primary.waitState('normal', 40_000), isc.secondary.waitState('normal', 40_000)]);
    await addRecorderAddress(NS.cli);
    relay = await DhcpTestClient.start({
      ns: NS.cli,
      giaddr: RECORDER_GIADDR,
      server: ADDR.broadcast,
      bindAddress: RECORDER_GIADDR,
      attemptTimeoutMs: 700,
      attempts: 2,
    });
    recorder = new Recorder(relay, 100);
    enter('dhcpd pair');
    perf = new PerfLoad(NS.cli, PERF);
    recorder.start();
    await sleep(STEADY_MS);
    const acks = recorder.holdings.length;
    t.diagnostic(`recorded ACKs so far ${acks}; perfdhcp samples ${perf.samples.length}`);
    assert.ok(acks >= 50, `the recording clients got leases from the dhcpd pair (${acks} ACKs)`);
  });

  phase(
    '1b. control: plain restart of the dhcpd secondary (SIGTERM, start), both NORMAL again',
    120_000,
    async (t) => {
      enter('control: dhcpd secondary restart');
      const from = isc.primary.lines.length;
      const at = Date.now();
      await isc.secondary.stop(10_000);
      await isc.secondary.start();
      await isc.primary.waitLine('dhcpd primary back to normal', /I move from \S+ to normal/, 90_000, from);
      await isc.secondary.waitState('normal', 90_000);
      t.diagnostic(
        `both dhcpd NORMAL ${Date.now() - at} ms after the SIGTERM; primary: ${isc.primary
          .stateChanges()
          .filter((c) => c.line >= from)
          .map((c) => `${c.who} ${c.from}→${c.to}`)
          .join(', ')}; secondary: ${isc.secondary.describeStates()}`,
      );
      enter('dhcpd pair after control restart');
      await sleep(STEADY_MS / 2);
    },
  );

  /** dhcpd primary's log index when Twinlease secondary started (its complaints after it are ours). */
  let primaryFrom = 0;

  phase(
    '2. dhcpd secondary → Twinlease (imported): dhcpd primary and Twinlease NORMAL',
    150_000,
    async (t) => {
      primaryFrom = isc.primary.lines.length;
      await replace(t, 'secondary', async () => {
        // dhcpd primary's own state (its log): back to NORMAL with the new partner.
        await isc.primary.waitLine(
          'dhcpd primary to normal with Twinlease',
          /I move from \S+ to normal/,
          90_000,
          primaryFrom,
        );
      });
      t.diagnostic(
        `dhcpd primary since the secondary's SIGTERM: ${isc.primary
          .stateChanges()
          .filter((c) => c.line >= primaryFrom)
          .map((c) => `${c.who} ${c.from}→${c.to}`)
          .join(', ')}`,
      );
      enter('dhcpd primary + Twinlease secondary');
      await sleep(STEADY_MS);
    },
  );

  phase('3. dhcpd primary → Twinlease (imported): both Twinlease NORMAL', 150_000, async (t) => {
    await replace(t, 'primary', async () => {
      await tl.secondary!.waitState(['normal'], 90_000, 200);
    });
    enter('Twinlease pair');
    await sleep(STEADY_MS);
  });

  let stopped = false;
  const stopLoad = async () => {
    if (stopped) return;
    stopped = true;
    if (current) current.to = Date.now();
    await recorder?.stop();
    await perf?.stop();
  };

  test('4. no address in two clients’ hands (recorded ACKs, 2 s tolerance)', async (t) => {
    await stopLoad();
    assert.ok(recorder, 'the recording clients ran');
    const byPhase = new Map<string, number>();
    for (const h of recorder.holdings) byPhase.set(h.phase, (byPhase.get(h.phase) ?? 0) + 1);
    t.diagnostic(
      `ACKs recorded: ${recorder.holdings.length} (${[...byPhase].map(([p, n]) => `${p}: ${n}`).join(', ')})`,
    );
    const o = overlaps(recorder.holdings, TOLERANCE_MS);
    assert.deepEqual(o, [], `addresses held by two clients at once:\n${o.join('\n')}`);
  });

  test('5. no ACKed lease lost: every unexpired recorded lease is active for its client on both Twinlease servers', async (t) => {
    if (phases.broken !== '') {
      t.skip(
        `the migration did not complete (${phases.broken}); nothing to compare on two Twinlease servers`,
      );
      return;
    }
    await stopLoad();
    const p = tl.primary!;
    const s = tl.secondary!;
    await Promise.all([p.waitState(['normal'], 20_000), s.waitState(['normal'], 20_000)]);
    await sleep(2000); // updates in flight
    const [a, b] = await Promise.all([p.api.leases('active'), s.api.leases('active')]);
    const view = (list: typeof a) =>
      new Map(list.map((l) => [l.ipAddress, l.hardwareAddress.mac ?? '-'] as const));
    const va = view(a);
    const vb = view(b);
    const now = Date.now();
    const held = recorder!.current().filter((h) => h.endMs > now + TOLERANCE_MS);
    const lost = held
      .map((h) => ({ h, mac: colonMac(h.mac) }))
      .filter(({ h, mac }) => va.get(h.address) !== mac || vb.get(h.address) !== mac)
      .map(
        ({ h, mac }) =>
          `${h.address} for ${mac} (ACKed by ${h.from} in "${h.phase}", until ${new Date(h.endMs).toISOString()}): primary ${va.get(h.address) ?? '-'}, secondary ${vb.get(h.address) ?? '-'}`,
      );
    t.diagnostic(
      `unexpired recorded leases checked: ${held.length}; active on primary ${va.size}, secondary ${vb.size}`,
    );
    const differ = [...new Set([...va.keys(), ...vb.keys()])].filter((k) => va.get(k) !== vb.get(k));
    t.diagnostic(`active bindings that differ between the two Twinlease servers: ${differ.length}`);
    for (const k of differ)
      t.diagnostic(`  ${k}: primary ${va.get(k) ?? '-'}, secondary ${vb.get(k) ?? '-'}`);
    for (const n of recorder!.naks) t.diagnostic(`NAK: ${n}`);
    assert.ok(held.length >= 20, `enough recorded leases to check (${held.length})`);
    assert.deepEqual(lost, [], `ACKed leases missing:\n${lost.join('\n')}`);
  });

  test('8. the two Twinlease stores converge on the same active bindings', { timeout: 60_000 }, async (t) => {
    if (phases.broken !== '') {
      t.skip(`the migration did not complete (${phases.broken})`);
      return;
    }
    await stopLoad();
    const p = tl.primary!;
    const s = tl.secondary!;
    const view = (list: ApiLease[]) => new Map(list.map((l) => [l.ipAddress, l] as const));
    let differ: string[] = [];
    let va = new Map<string, ApiLease>();
    let vb = new Map<string, ApiLease>();
    const deadline = Date.now() + 20_000;
    for (;;) {
      [va, vb] = (await Promise.all([p.api.leases(), s.api.leases()])).map(view) as [
        Map<string, ApiLease>,
        Map<string, ApiLease>,
      ];
      const active = (m: Map<string, ApiLease>, k: string) => {
        const l = m.get(k);
        return l?.bindingState === 'active' ? l.hardwareAddress.mac : null;
      };
      differ = [...new Set([...va.keys(), ...vb.keys()])].filter((k) => active(va, k) !== active(vb, k));
      if (differ.length === 0 || Date.now() >= deadline) break;
      await sleep(1000);
    }
    if (differ.length === 0) return;
    const brief = (l: ApiLease | undefined) =>
      l
        ? `${l.bindingState} ${l.hardwareAddress.mac ?? '-'} until ${l.leaseExpiresAt ?? '-'} owner ${l.ownerServer?.address ?? '-'}`
        : 'no record';
    for (const k of differ) {
      t.diagnostic(`${k}: primary ${brief(va.get(k))} | secondary ${brief(vb.get(k))}`);
      for (const [r, m] of [
        ['primary', p],
        ['secondary', s],
      ] as const)
        for (const l of m.server.lines.filter(
          (x) => x.includes(`"address":"${k}"`) && x.includes('update-rejected'),
        ))
          t.diagnostic(`  Twinlease ${r}: ${l}`);
    }
    assert.deepEqual(
      differ,
      [],
      'active bindings differ between the two Twinlease servers (diagnostics above)',
    );
  });

  test(`6. unanswered DISCOVERs per phase stay under ${MAX_UNANSWERED * 100} %`, async (t) => {
    await stopLoad();
    assert.ok(recorder && perf, 'load ran');
    const rows: string[] = [];
    const bad: string[] = [];
    for (const sp of spans) {
      const w = perf.window(sp.from, sp.to);
      const c = recorder.perPhase.get(sp.name);
      const perfShare = w && w.sent > 0 ? 1 - w.received / w.sent : null;
      const recShare = c && c.discovers > 0 ? c.unanswered / c.discovers : null;
      const row =
        `${sp.name} (${((sp.to - sp.from) / 1000).toFixed(1)} s): perfdhcp ${w ? `${w.sent - w.received}/${w.sent}` : 'n/a'}` +
        ` = ${perfShare === null ? 'n/a' : `${(perfShare * 100).toFixed(1)} %`}; recording clients ${c ? `${c.unanswered}/${c.discovers}` : 'n/a'}` +
        ` = ${recShare === null ? 'n/a' : `${(recShare * 100).toFixed(1)} %`}` +
        (c ? `; renew/rebind ${c.requests} → ACK ${c.acks}, NAK ${c.naks}, no reply ${c.noReply}` : '');
      rows.push(row);
      t.diagnostic(row);
      if ((perfShare ?? 0) > MAX_UNANSWERED || (recShare ?? 0) > MAX_UNANSWERED) bad.push(row);
    }
    writeFileSync(
      join(dir, 'figures.txt'),
      `${rows.join('\n')}\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );
    assert.ok(
      perf.samples.length > 5,
      `perfdhcp reported (${perf.samples.length} samples): ${perf.proc.tail(10)}`,
    );
    assert.deepEqual(bad, [], 'phases above the bound');
  });

  test('7. no error logged by Twinlease; dhcpd did not complain about Twinlease’s messages', (t) => {
    const errors = Object.entries(tl).flatMap(([r, m]) =>
      m ? m.server.errors().map((e) => `${r}: ${JSON.stringify(e)}`) : [],
    );
    const bad = /answering negatively|unknown message|bad message|malformed|unexpected message|rejected/i;
    // dhcpd↔dhcpd (the secondary's whole life, the primary before Twinlease joined): counted only.
    const before = [...isc.secondary.allLines(), ...isc.primary.lines.slice(0, primaryFrom)].filter((l) =>
      bad.test(l),
    );
    const reasons = new Map<string, number>();
    for (const l of before) {
      const k = l.replace(/\d+\.\d+\.\d+\.\d+/g, 'A');
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
    for (const [k, n] of reasons) t.diagnostic(`dhcpd↔dhcpd (not Twinlease): ${n} × ${k}`);
    // The primary's lines from the start of the run that talked to Twinlease.
    const withUs = isc.primary.lines.slice(primaryFrom).filter((l) => bad.test(l));
    for (const l of withUs) t.diagnostic(`dhcpd primary with Twinlease: ${l}`);
    assert.deepEqual(errors, [], 'Twinlease errors');
    assert.deepEqual(
      withUs.filter((c) => !/bind update .* rejected/.test(c)),
      [],
      'dhcpd complaints about Twinlease',
    );
  });
});
