// The update planner against a scripted DNS server (sans-I/O: no sockets, time is a number):
// RFC 4703 conflict rules (name not in use → add; in use with our DHCID → replace; another
// client's DHCID → conflict, nothing overwritten, no PTR), removal steps, TSIG-signed requests
// and verified answers, retries with backoff on timeouts, REFUSED and bad keys, and the bounds.
// Plus the client-name decision of RFC 4702 (S/O/E/N) and the option 9 mapping.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideClientName, sanitizeLabel } from '../../src/ddns/client-name.js';
import { dhcidRdata } from '../../src/ddns/dhcid.js';
import {
  type DnsMessage,
  decodeDnsMessage,
  encodeDnsMessage,
  RCODE,
  RR_CLASS,
  RR_TYPE,
} from '../../src/ddns/dns-wire.js';
import { ddnsOptionOf, dnsFieldsFromOption } from '../../src/ddns/failover-ddns.js';
import { DdnsPlanner, type DdnsWork, type PlannerAction } from '../../src/ddns/planner.js';
import { type DnsSettings, resolveDnsSettings } from '../../src/ddns/settings.js';
import { signMessage, verifyMessage } from '../../src/ddns/tsig.js';
import { emptyLease } from '../../src/dhcp/lease.js';
import { parseClientFqdn } from '../../src/wire/dhcp-options.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
const SETTINGS: DnsSettings = {
  forwardZone: 'tld.test',
  reverseZone: '77.10.in-addr.arpa',
  serverAddress: '127.0.0.1',
  serverPort: 53,
  serverSourcePort: null,
  tsigKey: { name: 'tl-key', algorithm: 'hmac-sha256', secret: SECRET },
  updateBothRecords: false,
  nameProtection: true,
  cleanupOnDelete: true,
  ttlSeconds: 300,
};
const KEY = { name: 'tl-key', algorithm: 'hmac-sha256' as const, secret: Buffer.from(SECRET, 'base64') };

function work(kind: 'add' | 'remove', fqdn: string, clientId: string, address = '10.77.1.5'): DdnsWork {
  return {
    kind,
    address: parseIpv4(address),
    fqdn,
    dhcid: dhcidRdata(1, Buffer.from(clientId, 'hex'), fqdn),
    doesForward: true,
    doesReverse: true,
    ttlSeconds: 300,
    settings: SETTINGS,
  };
}

type RR = { name: string; type: number; rdata: string };

/** A toy authoritative server for the two zones: applies RFC 2136 prerequisites and updates. */
class FakeZone {
  records: RR[] = [];
  rcodeOverride: number | null = null;
  received: DnsMessage[] = [];

  answer(bytes: Uint8Array, now: number): Uint8Array {
    const d = decodeDnsMessage(bytes);
    assert.ok(d.ok);
    const m = d.decoded.message;
    this.received.push(m);
    const v = verifyMessage(bytes, m, d.decoded.additionalOffsets.at(-1), KEY, null, now);
    assert.ok(v.ok, 'the request is signed with the key');
    const rcode = this.rcodeOverride ?? this.apply(m);
    const reply = encodeDnsMessage({
      ...m,
      isResponse: true,
      rcode,
      answers: [],
      authorities: [],
      additionals: [],
    });
    // Sign the answer as a server does: request MAC first.
    const requestMac = v.tsig.mac;
    return signMessage(reply, KEY, now, 300, requestMac).bytes;
  }

  private apply(m: DnsMessage): number {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const p of m.answers) {
      const at = this.records.filter((r) => r.name === p.name);
      if (p.class === RR_CLASS.NONE && p.type === RR_TYPE.ANY && at.length > 0) return RCODE.YXDOMAIN;
      if (p.class === RR_CLASS.NONE && p.type !== RR_TYPE.ANY && at.some((r) => r.type === p.type))
        return RCODE.YXRRSET;
      if (p.class === RR_CLASS.IN && !at.some((r) => r.type === p.type && r.rdata === hex(p.rdata)))
        return RCODE.NXRRSET;
    }
    for (const u of m.authorities) {
      if (u.class === RR_CLASS.IN) {
        if (!this.records.some((r) => r.name === u.name && r.type === u.type && r.rdata === hex(u.rdata)))
          this.records.push({ name: u.name, type: u.type, rdata: hex(u.rdata) });
      } else if (u.class === RR_CLASS.ANY) {
        this.records = this.records.filter((r) => !(r.name === u.name && r.type === u.type));
      } else if (u.class === RR_CLASS.NONE) {
        this.records = this.records.filter(
          (r) => !(r.name === u.name && r.type === u.type && r.rdata === hex(u.rdata)),
        );
      }
    }
    return RCODE.NOERROR;
  }

  types(name: string): number[] {
    return this.records
      .filter((r) => r.name === name)
      .map((r) => r.type)
      .sort((a, b) => a - b);
  }
}

/** Drives a planner against `zone` until idle; returns the outcomes. */
function drive(
  planner: DdnsPlanner,
  zone: FakeZone | null,
  initial: PlannerAction[],
  startMs = 1_000_000,
  untilMs = startMs + 10_000,
): { outcomes: string[]; failures: string[]; endMs: number; completed: CompletedAction[] } {
  const outcomes: string[] = [];
  const completed: CompletedAction[] = [];
  const failures: string[] = [];
  let now = startMs;
  let queue = [...initial];
  while (now <= untilMs) {
    while (queue.length > 0) {
      const a = queue.shift()!;
      if (a.type === 'send') {
        if (zone !== null)
          queue.push(...planner.onResponse(a.requestId, zone.answer(a.bytes, Math.floor(now / 1000)), now));
      } else if (a.type === 'completed') {
        outcomes.push(`${a.work.kind}:${a.work.fqdn}:${a.outcome}`);
        completed.push(a);
      } else if (a.type === 'failed') failures.push(`${a.step}:${a.reason}`);
    }
    const next = planner.nextWakeAtMs();
    if (next === null) break;
    now = Math.max(now, next);
    if (now > untilMs) break;
    queue = planner.poll(now);
  }
  return { outcomes, failures, endMs: now, completed };
}

type CompletedAction = Extract<PlannerAction, { type: 'completed' }>;

let seed = 7;
const ids = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed >>> 16;
};

describe('planner (RFC 4703 §5)', () => {
  it('registers A + DHCID when the name is free, then the PTR; removes all three later', () => {
    const zone = new FakeZone();
    const p = new DdnsPlanner(ids);
    let r = drive(p, zone, p.submit(work('add', 'h1.tld.test', '01aa'), 1_000_000));
    assert.deepEqual(r.outcomes, ['add:h1.tld.test:registered']);
    assert.deepEqual(zone.types('h1.tld.test'), [RR_TYPE.A, RR_TYPE.DHCID]);
    assert.deepEqual(zone.types('5.1.77.10.in-addr.arpa'), [RR_TYPE.PTR]);
    const first = zone.received[0]!;
    assert.equal(first.questions[0]!.name, 'tld.test');
    assert.equal(first.answers[0]!.class, RR_CLASS.NONE, 'prerequisite: name not in use');
    r = drive(p, zone, p.submit(work('remove', 'h1.tld.test', '01aa'), 2_000_000), 2_000_000);
    assert.deepEqual(r.outcomes, ['remove:h1.tld.test:removed']);
    assert.deepEqual(r.completed[0]?.removed, ['A', 'DHCID', 'PTR']);
    assert.deepEqual(r.completed[0]?.refused, []);
    assert.deepEqual(zone.records, []);
  });

  it('the same client again (DHCID matches) replaces its A record', () => {
    const zone = new FakeZone();
    const p = new DdnsPlanner(ids);
    drive(p, zone, p.submit(work('add', 'h2.tld.test', '01bb', '10.77.1.5'), 1_000_000));
    const r = drive(p, zone, p.submit(work('add', 'h2.tld.test', '01bb', '10.77.1.9'), 2_000_000), 2_000_000);
    assert.deepEqual(r.outcomes, ['add:h2.tld.test:registered']);
    const a = zone.records.filter((x) => x.name === 'h2.tld.test' && x.type === RR_TYPE.A);
    assert.deepEqual(
      a.map((x) => x.rdata),
      ['0a4d0109'],
    );
  });

  it("another client's name is not overwritten, and no PTR is written for it", () => {
    const zone = new FakeZone();
    const p = new DdnsPlanner(ids);
    drive(p, zone, p.submit(work('add', 'h3.tld.test', '01cc', '10.77.1.5'), 1_000_000));
    const before = JSON.stringify(zone.records);
    const r = drive(p, zone, p.submit(work('add', 'h3.tld.test', '01dd', '10.77.1.6'), 2_000_000), 2_000_000);
    assert.deepEqual(r.outcomes, ['add:h3.tld.test:conflict']);
    assert.equal(JSON.stringify(zone.records), before);
    // And its removal leaves the owner's records alone (only the PTR of its own address goes).
    const rm = drive(
      p,
      zone,
      p.submit(work('remove', 'h3.tld.test', '01dd', '10.77.1.6'), 3_000_000),
      3_000_000,
    );
    // named refused the removal of the A record (NXRRSET: the DHCID is not ours): not "removed".
    assert.deepEqual(rm.outcomes, ['remove:h3.tld.test:removeRefused']);
    assert.deepEqual(rm.completed[0]?.refused, [{ step: 'forwardRemove', record: 'A', rcode: 'NXRRSET' }]);
    assert.deepEqual(rm.completed[0]?.removed, ['PTR']);
    assert.equal(JSON.stringify(zone.records), before);
  });

  it('records another server removed already: the removal is refused (NXRRSET), not reported as done', () => {
    const zone = new FakeZone();
    const p = new DdnsPlanner(ids);
    drive(p, zone, p.submit(work('add', 'h9.tld.test', '01ee', '10.77.1.7'), 1_000_000));
    zone.records = zone.records.filter((x) => x.name !== 'h9.tld.test');
    const rm = drive(
      p,
      zone,
      p.submit(work('remove', 'h9.tld.test', '01ee', '10.77.1.7'), 2_000_000),
      2_000_000,
    );
    assert.deepEqual(rm.outcomes, ['remove:h9.tld.test:removeRefused']);
    assert.deepEqual(rm.completed[0]?.refused, [{ step: 'forwardRemove', record: 'A', rcode: 'NXRRSET' }]);
    assert.deepEqual(rm.completed[0]?.removed, ['PTR']);
  });

  it('a name held by a record without DHCID (a static host) is a conflict', () => {
    const zone = new FakeZone();
    zone.records.push({ name: 'static.tld.test', type: RR_TYPE.A, rdata: '0a4d0001' });
    const p = new DdnsPlanner(ids);
    const r = drive(p, zone, p.submit(work('add', 'static.tld.test', '01ee'), 1_000_000));
    assert.deepEqual(r.outcomes, ['add:static.tld.test:conflict']);
  });

  it('timeouts back off exponentially up to the cap, and the work completes once the server answers', () => {
    const p = new DdnsPlanner(ids, {
      maxJobs: 10,
      maxJobsPerAddress: 2,
      maxInFlight: 2,
      requestTimeoutMs: 1000,
      firstRetryMs: 500,
      maxRetryMs: 4000,
    });
    const down = drive(p, null, p.submit(work('add', 'h4.tld.test', '01ff'), 0), 0, 20_000);
    assert.deepEqual(down.outcomes, []);
    assert.ok(
      down.failures.length >= 4 && down.failures.every((f) => f === 'forwardAdd:timeout'),
      down.failures.join(),
    );
    assert.equal(p.queuedJobs, 1, 'the work stays queued');
    const zone = new FakeZone();
    const up = drive(p, zone, p.poll(down.endMs), down.endMs, down.endMs + 10_000);
    assert.deepEqual(up.outcomes, ['add:h4.tld.test:registered']);
    assert.equal(p.queuedJobs, 0);
  });

  it('REFUSED and NOTAUTH are retried (work stays pending), with the reason', () => {
    const zone = new FakeZone();
    zone.rcodeOverride = RCODE.REFUSED;
    const p = new DdnsPlanner(ids);
    const r = drive(p, zone, p.submit(work('add', 'h5.tld.test', '0101'), 0), 0, 3_000);
    assert.ok(r.failures.length > 0 && r.failures.every((f) => f === 'forwardAdd:refused'));
    zone.rcodeOverride = RCODE.NOTAUTH;
    const n = drive(p, zone, [], r.endMs, r.endMs + 5_000);
    assert.ok(n.failures.includes('forwardAdd:notauth'), n.failures.join());
    zone.rcodeOverride = null;
    const ok = drive(p, zone, p.poll(n.endMs + 60_000), n.endMs + 60_000, n.endMs + 120_000);
    assert.deepEqual(ok.outcomes, ['add:h5.tld.test:registered']);
  });

  it('work queued again while its request is in flight (a reload: new key) goes on with the new settings', () => {
    // The e2e DNS test (reload the right key after a wrong one) hung: a retry became due and was
    // sent with the old key just before the service noticed the reload; the work queued again
    // with the new key waited behind the old job, which retried with the old key for good.
    const wrong = Buffer.from('this is not the key named knows!').toString('base64');
    const stale: DdnsWork = {
      ...work('add', 'h11.tld.test', '0111'),
      settings: { ...SETTINGS, tsigKey: { ...SETTINGS.tsigKey!, secret: wrong } },
    };
    const p = new DdnsPlanner(ids);
    const [sent] = p.submit(stale, 0);
    assert.equal(sent?.type, 'send');
    if (sent?.type !== 'send') return;
    const requeued = p.submit(work('add', 'h11.tld.test', '0111'), 100);
    assert.deepEqual(requeued, [], 'nothing more goes out while the request is in flight');
    assert.equal(p.queuedJobs, 1, 'one job for the work, not two');
    // named cannot verify the old key: NOTAUTH, unsigned (as BIND answers an unknown key).
    const m = decodeDnsMessage(sent.bytes);
    assert.ok(m.ok);
    const notauth = encodeDnsMessage({
      ...m.decoded.message,
      isResponse: true,
      rcode: RCODE.NOTAUTH,
      answers: [],
      authorities: [],
      additionals: [],
    });
    const out = p.onResponse(sent.requestId, notauth, 200);
    assert.equal(out[0]?.type === 'failed' && out[0].reason, 'notauth');
    assert.equal(
      out[0]?.type === 'failed' && out[0].work.settings.tsigKey?.secret,
      wrong,
      'the failure names what was sent',
    );
    // The next attempt leaves at once (no backoff for a failure of the old settings), signed
    // with the new key; FakeZone checks every request against it.
    const zone = new FakeZone();
    const r = drive(p, zone, [...out, ...p.poll(200)], 200, 1_000);
    assert.deepEqual(r.outcomes, ['add:h11.tld.test:registered']);
    assert.equal(p.queuedJobs, 0);
  });

  it('an answer that is not signed with our key is not trusted', () => {
    const p = new DdnsPlanner(ids);
    const [send] = p.submit(work('add', 'h6.tld.test', '0102'), 0);
    assert.equal(send?.type, 'send');
    if (send?.type !== 'send') return;
    const m = decodeDnsMessage(send.bytes);
    assert.ok(m.ok);
    const unsigned = encodeDnsMessage({ ...m.decoded.message, isResponse: true, additionals: [] });
    const out = p.onResponse(send.requestId, unsigned, 10);
    assert.equal(out[0]?.type === 'failed' && out[0].reason, 'unsigned-response');
  });

  it('bounds: a full queue drops work (reported), one job per address runs at a time', () => {
    const p = new DdnsPlanner(ids, {
      maxJobs: 2,
      maxJobsPerAddress: 2,
      maxInFlight: 8,
      requestTimeoutMs: 1000,
      firstRetryMs: 500,
      maxRetryMs: 4000,
    });
    const a1 = p.submit(work('add', 'a.tld.test', '01', '10.77.1.1'), 0);
    const a2 = p.submit(work('remove', 'a.tld.test', '01', '10.77.1.1'), 0);
    const a3 = p.submit(work('add', 'b.tld.test', '02', '10.77.1.2'), 0);
    assert.equal(a1.filter((a) => a.type === 'send').length, 1);
    assert.equal(a2.filter((a) => a.type === 'send').length, 0, 'the second job for the address waits');
    assert.deepEqual(
      a3.map((a) => a.type),
      ['dropped'],
    );
  });
});

describe('client name (RFC 4702)', () => {
  const fqdnOption = (flags: number, name: string, wire: boolean) => {
    const n = wire
      ? Buffer.concat([
          ...name.split('.').map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l)])),
          Buffer.of(0),
        ])
      : Buffer.from(name);
    return new Uint8Array(Buffer.concat([Buffer.of(flags, 0, 0), n]));
  };

  it('S=1: the server updates A and PTR and answers S=1 in the client encoding', () => {
    const d = decideClientName(SETTINGS, fqdnOption(0x05, 'laptop.tld.test', true), null)!;
    assert.deepEqual([d.fqdn, d.doesForward, d.doesReverse], ['laptop.tld.test', true, true]);
    const reply = parseClientFqdn(d.replyOption!)!;
    assert.equal(reply.flags, 0x05);
    assert.equal(reply.name, 'laptop.tld.test');
    assert.ok(reply.isFullyQualified);
    assert.deepEqual([d.replyOption![1], d.replyOption![2]], [255, 255]);
  });

  it('S=0: PTR only; with updateBothRecords the server overrides (S=1, O=1)', () => {
    const d = decideClientName(SETTINGS, fqdnOption(0x00, 'pc', false), null)!;
    assert.deepEqual(
      [d.fqdn, d.doesForward, d.doesReverse, d.replyOption![0]],
      ['pc.tld.test', false, true, 0],
    );
    const o = decideClientName(
      { ...SETTINGS, updateBothRecords: true },
      fqdnOption(0x00, 'pc', false),
      null,
    )!;
    assert.deepEqual([o.doesForward, o.replyOption![0]], [true, 0x03]);
  });

  it('N=1: no update (N=1 back) unless updateBothRecords', () => {
    const d = decideClientName(SETTINGS, fqdnOption(0x0c, 'quiet.tld.test', true), null)!;
    assert.deepEqual([d.doesForward, d.doesReverse, d.replyOption![0]], [false, false, 0x0c]);
    const o = decideClientName(
      { ...SETTINGS, updateBothRecords: true },
      fqdnOption(0x0c, 'quiet.tld.test', true),
      null,
    )!;
    assert.deepEqual([o.doesForward, o.replyOption![0]], [true, 0x07]);
  });

  it('a wire-format name with characters DNS host names do not allow is sanitised, as an ASCII one is', () => {
    // docs/dns.md: labels are lower-cased, other characters become '-'. The wire form used to be
    // refused outright (no registration, no option 81 in the reply), the ASCII form sanitised.
    const wire = decideClientName(SETTINGS, fqdnOption(0x05, 'Lap_Top 26', true), null);
    const ascii = decideClientName(SETTINGS, fqdnOption(0x01, 'Lap_Top 26', false), null);
    assert.equal(ascii?.fqdn, 'lap-top-26.tld.test');
    assert.equal(wire?.fqdn, 'lap-top-26.tld.test');
    assert.equal(parseClientFqdn(wire!.replyOption!)!.name, 'lap-top-26.tld.test');
  });

  it('names: qualified with the zone, moved into it, sanitised; host name 12 without option 81', () => {
    assert.equal(
      decideClientName(SETTINGS, fqdnOption(1, 'Host_1.other.example.', false), null)!.fqdn,
      'host-1.tld.test',
    );
    assert.equal(decideClientName(SETTINGS, fqdnOption(1, 'a.b', false), null)!.fqdn, 'a.b.tld.test');
    const h = decideClientName(SETTINGS, undefined, 'My Laptop.local')!;
    assert.deepEqual(
      [h.fqdn, h.doesForward, h.doesReverse, h.replyOption],
      ['my-laptop.tld.test', true, true, null],
    );
    assert.equal(decideClientName(SETTINGS, undefined, null), null);
    assert.equal(sanitizeLabel('--'), null);
  });
});

describe('settings and the failover DDNS option', () => {
  it('a policy overrides its scope field by field; bad values are reported without the secret', () => {
    const scope = resolveDnsSettings({ forwardZone: 'TLD.test.', server: { address: '10.0.0.1' } }, null)
      .settings!;
    assert.equal(scope.forwardZone, 'tld.test');
    assert.equal(scope.serverPort, 53);
    const policy = resolveDnsSettings({ updateBothRecords: true, ttlSeconds: 60 }, scope).settings!;
    assert.deepEqual(
      [policy.forwardZone, policy.updateBothRecords, policy.ttlSeconds],
      ['tld.test', true, 60],
    );
    const bad = resolveDnsSettings(
      {
        forwardZone: 'x',
        reverseZone: 'tld.test',
        server: { address: '10.0.0.1' },
        tsigKey: { name: 'k', secret: 'not base64!!' },
      },
      null,
    );
    assert.deepEqual(
      bad.problems.map((p) => p.path.join('.')),
      ['reverseZone', 'tsigKey.secret'],
    );
    assert.ok(!JSON.stringify(bad.problems).includes('not base64!!'));
    assert.equal(resolveDnsSettings({ enabled: false }, scope).settings, null);
  });

  it('option 9 carries the name and C/A/D/P and gives the same flags back', () => {
    const lease = {
      ...emptyLease(parseIpv4('10.77.1.5'), 's', 'active', 0),
      fqdn: 'h.tld.test',
      clientId: '01aa',
    };
    lease.dns = {
      cleanupOnDelete: true,
      updateBothRecords: true,
      registrationPending: false,
      removalPending: false,
    };
    const o = ddnsOptionOf(lease)!;
    assert.equal(o.flags, 0x0f);
    assert.deepEqual(dnsFieldsFromOption(o, 'active', '01aa'), {
      fqdn: 'h.tld.test',
      dhcidMode: 'clientId',
      dns: lease.dns,
    });
    const ended = { ...lease, state: 'expired' as const, dns: { ...lease.dns, removalPending: true } };
    const e = ddnsOptionOf(ended)!;
    assert.equal(dnsFieldsFromOption(e, 'free', '01aa')!.dns.removalPending, true);
    const done = { ...ended, dns: { ...ended.dns, removalPending: false } };
    assert.equal(dnsFieldsFromOption(ddnsOptionOf(done)!, 'free', '01aa')!.dns.removalPending, false);
  });
});
