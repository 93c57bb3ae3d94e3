// The DNS update service against a scripted DNS server on loopback UDP (issue 14): what the log
// says when named refuses a removal (NXRRSET: the records are not ours, or gone), and which UDP
// source port each update leaves from (a random one per update, unless dns.server.sourcePort).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/loader.js';
import { decodeDnsMessage, encodeDnsMessage, RCODE } from '../../src/ddns/dns-wire.js';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { emptyLease, type Lease } from '../../src/dhcp/lease.js';
import { MemoryLeaseStore } from '../../src/leases/memory-store.js';
import { Counters } from '../../src/server/counters.js';
import { DdnsService, type DdnsServiceOptions } from '../../src/server/ddns-service.js';
import { ServerState } from '../../src/wire/failover-message.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { fakeStatus } from '../api/failover-helpers.js';
import { eventually } from '../api/helpers.js';

const SERVER_NAME = 'dhcp-a';

/** A DNS server that answers every UPDATE with the rcode its zone is set to, and notes the source ports. */
class ScriptedDns {
  readonly socket = dgram.createSocket('udp4');
  readonly sourcePorts: number[] = [];
  rcodeOf: (zone: string) => number = () => RCODE.NOERROR;

  async start(): Promise<number> {
    this.socket.on('message', (msg, rinfo) => {
      const d = decodeDnsMessage(new Uint8Array(msg));
      if (!d.ok) return;
      const m = d.decoded.message;
      this.sourcePorts.push(rinfo.port);
      const reply = encodeDnsMessage({
        ...m,
        isResponse: true,
        rcode: this.rcodeOf(m.questions[0]?.name ?? ''),
        answers: [],
        authorities: [],
        additionals: [],
      });
      this.socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', () => resolve()));
    return this.socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

interface Harness {
  service: DdnsService;
  engine: DhcpEngine;
  counters: Counters;
  lines: Record<string, unknown>[];
  /** A reload: a new engine (as server.ts builds one) whose DNS server is at `dnsPort`. */
  reload(dnsPort: number): void;
}

function engineFor(dnsPort: number, server: Record<string, unknown>, leases: readonly Lease[]): DhcpEngine {
  const parsed = parseConfigText(
    JSON.stringify({
      server: { name: SERVER_NAME },
      scopes: [
        {
          id: 'lab',
          subnet: '10.77.1.0/24',
          ranges: [{ start: '10.77.1.10', end: '10.77.1.50' }],
          dns: {
            forwardZone: 'tld.test',
            reverseZone: '1.77.10.in-addr.arpa',
            server: { address: '127.0.0.1', port: dnsPort, ...server },
            nameProtection: false,
          },
        },
      ],
    }),
    'test.json',
  );
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  return new DhcpEngine(
    {
      serverName: SERVER_NAME,
      serverIdentifier: parseIpv4('10.77.1.1'),
      scopes: parsed.config.scopes,
      directScopeIds: [],
    },
    [...leases],
  );
}

function harness(
  dnsPort: number,
  server: Record<string, unknown> = {},
  relationshipOf: DdnsServiceOptions['relationshipOf'] = () => null,
): Harness {
  let engine = engineFor(dnsPort, server, []);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const counters = new Counters();
  const service = new DdnsService({
    engine: () => h.engine,
    store: new MemoryLeaseStore(),
    log: pino({ level: 'debug' }, sink),
    counters,
    serverName: () => SERVER_NAME,
    relationshipOf,
    onLeasesUpdated: () => {},
  });
  const h: Harness = {
    service,
    engine,
    counters,
    lines,
    reload: (port) => {
      engine = engineFor(port, server, [...h.engine.leases()]);
      h.engine = engine;
    },
  };
  return h;
}

/** A binding of `fqdn` whose records were registered, in `state`, with its DNS work pending. */
function binding(address: string, fqdn: string, state: 'active' | 'released'): Lease {
  const now = Math.floor(Date.now() / 1000);
  return {
    ...emptyLease(parseIpv4(address), 'lab', state, now),
    hardwareType: 1,
    hardwareAddress: '020000000001',
    leaseExpiresAt: now + 3600,
    clientLastTransactionAt: now,
    ownerServer: SERVER_NAME,
    fqdn,
    dns: {
      cleanupOnDelete: true,
      updateBothRecords: true,
      registrationPending: state === 'active',
      removalPending: state !== 'active',
    },
  };
}

describe('DNS update service', () => {
  let dns: ScriptedDns;
  let dnsPort: number;

  before(async () => {
    dns = new ScriptedDns();
    dnsPort = await dns.start();
  });
  after(async () => {
    await dns.close();
  });

  test('a removal named refuses (NXRRSET) is logged as refused, with the rcode, not as removed', async () => {
    dns.rcodeOf = (zone) => (zone === 'tld.test' ? RCODE.NXRRSET : RCODE.NOERROR);
    const h = harness(dnsPort);
    await h.service.start();
    try {
      const lease = binding('10.77.1.20', 'gone.tld.test', 'released');
      h.engine.putLease(lease);
      h.service.leasesChanged([lease]);
      await eventually(
        async () => h.lines.some((l) => l.event === 'ddns.remove-refused' || l.event === 'ddns.removed'),
        'the removal to finish',
      );
      assert.ok(!h.lines.some((l) => l.event === 'ddns.removed'), 'no claim that the records were removed');
      const line = h.lines.find((l) => l.event === 'ddns.remove-refused')!;
      assert.equal(line.rcode, 'NXRRSET');
      assert.equal(line.fqdn, 'gone.tld.test');
      assert.deepEqual(line.removed, ['PTR']);
      assert.deepEqual(
        (line.refused as { record: string; rcode: string }[]).map((r) => [r.record, r.rcode]),
        [['A', 'NXRRSET']],
      );
      assert.equal(h.counters.get('ddns-removals-refused'), 1);
      assert.equal(h.counters.get('ddns-removals-completed'), 0);
    } finally {
      await h.service.stop();
      dns.rcodeOf = () => RCODE.NOERROR;
    }
  });

  test('a binding an operator released here loses its records here, even one the partner granted', async () => {
    // In a relationship, in NORMAL: a binding the partner granted is the partner's to clean up.
    const h = harness(dnsPort, {}, () => ({ ...fakeStatus(), localState: ServerState.NORMAL }));
    await h.service.start();
    try {
      const lease = { ...binding('10.77.1.24', 'theirs.tld.test', 'released'), ownerServer: 'dhcp-b' };
      h.engine.putLease(lease);
      h.service.leasesChanged([lease]);
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(
        !h.lines.some((l) => l.event === 'ddns.removed'),
        'a client release seen here: the owner removes',
      );
      h.service.bindingEndedByOperator(lease);
      await eventually(async () => h.lines.some((l) => l.event === 'ddns.removed'), 'the removal');
      assert.equal(h.lines.find((l) => l.event === 'ddns.removed')!.fqdn, 'theirs.tld.test');
      // Done: the binding's removalPending flag is cleared.
      await eventually(
        async () => h.engine.getLease(lease.address)?.dns.removalPending === false,
        'flag cleared',
      );
    } finally {
      await h.service.stop();
    }
  });

  test('a reload while an update is in flight: the work goes to the new server, not the old one for good', async () => {
    // The e2e DNS test (right key reloaded after a wrong one) hung the same way: the work queued
    // again with the new settings waited behind the old job, which kept retrying as before.
    const silent = dgram.createSocket('udp4');
    let silentGot = 0;
    silent.on('message', () => silentGot++);
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    const h = harness(silent.address().port);
    await h.service.start();
    try {
      const lease = binding('10.77.1.40', 'moved.tld.test', 'active');
      h.engine.putLease(lease);
      h.service.leasesChanged([lease]);
      await eventually(async () => silentGot > 0, 'the update to reach the old server');
      h.reload(dnsPort); // before the old server's request times out (3 s)
      await eventually(
        async () => h.lines.some((l) => l.event === 'ddns.registered'),
        'the registration at the new server',
        15_000,
      );
      const failed = h.lines.filter((l) => l.event === 'ddns.update-failed');
      assert.deepEqual(
        failed.map((l) => [l.server, l.reason]),
        [[`127.0.0.1:${silent.address().port}`, 'timeout']],
        'one timeout at the old server, named as such',
      );
      assert.equal(h.engine.getLease(lease.address)?.dns.registrationPending, false);
    } finally {
      await h.service.stop();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('every update leaves from a port of its own, unless server.sourcePort is configured', async () => {
    dns.sourcePorts.length = 0;
    const h = harness(dnsPort);
    await h.service.start();
    try {
      const leases = ['10.77.1.21', '10.77.1.22', '10.77.1.23'].map((a, i) =>
        binding(a, `host${i}.tld.test`, 'active'),
      );
      for (const l of leases) h.engine.putLease(l);
      h.service.leasesChanged(leases);
      await eventually(
        async () => h.lines.filter((l) => l.event === 'ddns.registered').length === 3,
        'three registrations',
      );
      const ports = [...dns.sourcePorts];
      assert.equal(ports.length, 6, 'A and PTR for each');
      // Random ephemeral ports: two may coincide by chance, not more.
      assert.ok(new Set(ports).size >= ports.length - 1, `source ports ${ports.join(', ')}`);
    } finally {
      await h.service.stop();
    }

    const fixed = await freePort();
    dns.sourcePorts.length = 0;
    const f = harness(dnsPort, { sourcePort: fixed });
    await f.service.start();
    try {
      const leases = ['10.77.1.31', '10.77.1.32'].map((a, i) => binding(a, `fixed${i}.tld.test`, 'active'));
      for (const l of leases) f.engine.putLease(l);
      f.service.leasesChanged(leases);
      await eventually(
        async () => f.lines.filter((l) => l.event === 'ddns.registered').length === 2,
        'two registrations',
      );
      assert.deepEqual(new Set(dns.sourcePorts), new Set([fixed]));
    } finally {
      await f.service.stop();
    }
  });
});

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
