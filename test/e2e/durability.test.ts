// Durability: an ACK leaves the server only once its lease is on disk. Under perfdhcp load plus a
// recording relay client doing DORA for many clients, the server is killed with SIGKILL. Then:
//  - every address the recording client saw ACKed is in the store, active, bound to that client;
//  - after a restart, new clients are never offered any of those addresses (nor any other lease
//    that was active at the crash);
//  - the clients that were ACKed get their own addresses back.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DhcpMessageType, DhcpTestClient, type DoraResult, testMac } from './lib/dhcp-test-client.js';
import { ADDR, e2eSkipReason, NS } from './lib/env.js';
import { describeLease, readLeases } from './lib/lease-db.js';
import { LineProcess, sleep } from './lib/proc.js';
import { harnessConfig, harnessScope, makeWorkDir, TwinleaseServer } from './lib/server.js';
import { topologyDown, topologyUp } from './lib/topology.js';

const skip = e2eSkipReason(['ss', 'perfdhcp']);

const LEASE_S = 4000;
const RECORDED_CLIENTS = 3000; // DORAs the recording client attempts before the crash
const RECORDED_RATE = 250; // per second
const KILL_AFTER_ACKS = 800; // crash once this many ACKs were seen (or after KILL_AFTER_MS)
const KILL_AFTER_MS = 6000;
const PERF_RATE = 500; // perfdhcp DORA/s in the background
const PERF_CLIENTS = 4000;
const NEW_CLIENTS = 1500; // fresh clients after the restart

describe('durability across kill -9', { skip: skip ?? false }, () => {
  let server: TwinleaseServer;
  let relay: DhcpTestClient;
  let perf: LineProcess | null = null;
  const dir = makeWorkDir('durability');

  before(async () => {
    await topologyUp();
    server = new TwinleaseServer(
      dir,
      harnessConfig(dir, [harnessScope({ leaseTimeSeconds: LEASE_S })], { logging: { level: 'warn' } }),
    );
    await server.start();
    relay = await DhcpTestClient.start({
      ns: NS.srv2,
      giaddr: ADDR.srv2,
      server: ADDR.srv,
      attemptTimeoutMs: 1000,
      attempts: 2,
    });
  });

  after(async () => {
    await perf?.stop('SIGTERM', 3000);
    await relay?.close();
    await server?.stop();
    await topologyDown();
  });

  test('every ACKed lease survives SIGKILL and is never handed to anyone else', {
    timeout: 120_000,
  }, async (t) => {
    // 1. Load: perfdhcp in the background (relay 10.77.0.2), then the recording client.
    perf = new LineProcess('timeout', [
      '-k',
      '5',
      '40',
      'ip',
      'netns',
      'exec',
      NS.cli,
      'perfdhcp',
      '-4',
      '-r',
      String(PERF_RATE),
      '-R',
      String(PERF_CLIENTS),
      '-p',
      '30',
      '-l',
      ADDR.cli,
      ADDR.srv,
    ]);
    await sleep(1000);

    const acked = new Map<string, { ip: string; atMs: number }>(); // mac -> address seen in an ACK
    const byAddress = new Map<string, string>(); // address -> mac, to catch a double grant
    let nakCount = 0;
    let isKilled = false;
    const loadStart = Date.now();
    const onResult = (r: DoraResult) => {
      if (r.reply?.type === DhcpMessageType.Ack) {
        const other = byAddress.get(r.reply.yiaddr);
        assert.ok(other === undefined || other === r.mac, `${r.reply.yiaddr} ACKed to ${other} and ${r.mac}`);
        byAddress.set(r.reply.yiaddr, r.mac);
        acked.set(r.mac, { ip: r.reply.yiaddr, atMs: r.reply.at });
      } else if (r.reply?.type === DhcpMessageType.Nak) nakCount++;
    };
    const macs = Array.from({ length: RECORDED_CLIENTS }, (_, i) => testMac(0xd1, i));
    const loading = relay.doraMany(macs, {
      ratePerSecond: RECORDED_RATE,
      maxInFlight: 300,
      onResult,
      shouldStop: () => isKilled,
    });

    // 2. Crash mid-run.
    while (acked.size < KILL_AFTER_ACKS && Date.now() - loadStart < KILL_AFTER_MS) await sleep(20);
    const acksBeforeKill = acked.size;
    await server.kill9();
    isKilled = true;
    t.diagnostic(
      `SIGKILL after ${Date.now() - loadStart} ms with ${acksBeforeKill} ACKs seen; exit ${JSON.stringify(server.exit)}`,
    );
    assert.equal(server.exit?.signal, 'SIGKILL');
    await loading; // open exchanges time out; ACKs still in flight are recorded too
    await perf.stop('SIGINT', 3000);
    const perfReceived = [...perf.lines.join('\n').matchAll(/received packets: (\d+)/g)].map((m) => m[1]);
    t.diagnostic(
      `recording client: ${acked.size} ACKs, ${nakCount} NAKs; perfdhcp OFFERs/ACKs: ${perfReceived.join('/')}`,
    );
    assert.ok(acked.size >= 100, `too few ACKs before the crash (${acked.size}): was the server under load?`);

    // 3. The store, as the crashed server left it.
    const stored = await readLeases(server.dbPath);
    const missing: string[] = [];
    for (const [mac, { ip, atMs }] of acked) {
      const l = stored.get(ip);
      if (l?.state !== 'active' || l.hardwareAddress !== mac) {
        missing.push(`${mac} ACKed ${ip} at ${atMs}: ${describeLease(l)}`);
        continue;
      }
      if (l.leaseExpiresAt < Math.floor(atMs / 1000) + LEASE_S - 5) {
        missing.push(`${mac} ${ip}: stored expiry ${l.leaseExpiresAt} earlier than the ACK's`);
      }
    }
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} ACKed leases not durable`);
    const activeAtCrash = new Set([...stored.values()].filter((l) => l.state === 'active').map((l) => l.ip));
    t.diagnostic(`store after the crash: ${stored.size} rows, ${activeAtCrash.size} active`);

    // 4. Restart; new clients must not get any address that was bound at the crash.
    await server.start();
    const fresh = Array.from({ length: NEW_CLIENTS }, (_, i) => testMac(0xd2, i));
    const stolen: string[] = [];
    let freshAcks = 0;
    const patient = { attempts: 4, attemptTimeoutMs: 1000 }; // a busy CI host must not fail these phases
    await relay.doraMany(fresh, {
      ratePerSecond: 400,
      maxInFlight: 200,
      exchange: patient,
      onResult: (r) => {
        for (const reply of [r.offer, r.reply]) {
          if (!reply || (reply.type !== DhcpMessageType.Offer && reply.type !== DhcpMessageType.Ack))
            continue;
          if (byAddress.has(reply.yiaddr) || activeAtCrash.has(reply.yiaddr)) {
            stolen.push(
              `${r.mac} got ${reply.yiaddr} (${DhcpMessageType[reply.type]}), bound to ${byAddress.get(reply.yiaddr) ?? 'a perfdhcp client'}`,
            );
          }
        }
        if (r.reply?.type === DhcpMessageType.Ack) freshAcks++;
      },
    });
    assert.deepEqual(
      stolen.slice(0, 20),
      [],
      `${stolen.length} offers/ACKs of addresses bound before the crash`,
    );
    assert.ok(
      freshAcks >= NEW_CLIENTS * 0.99,
      `new clients ACKed after restart: ${freshAcks}/${NEW_CLIENTS}`,
    );

    // 5. The ACKed clients come back and get their own addresses.
    const wrong: string[] = [];
    await relay.doraMany([...acked.keys()], {
      ratePerSecond: 400,
      maxInFlight: 200,
      exchange: patient,
      onResult: (r) => {
        const want = acked.get(r.mac)!.ip;
        if (r.reply?.type !== DhcpMessageType.Ack || r.reply.yiaddr !== want || r.offer?.yiaddr !== want) {
          wrong.push(
            `${r.mac} had ${want}, now offer ${r.offer?.yiaddr} reply ${r.reply ? DhcpMessageType[r.reply.type] : 'none'} ${r.reply?.yiaddr}`,
          );
        }
      },
    });
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} clients did not get their address back`);
  });

  test('the server logged no error', () => {
    assert.deepEqual(server.errors(), []);
  });
});
