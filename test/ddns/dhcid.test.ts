// Which DHCID a client's name is protected with (RFC 4701 §3.3): a client whose option 61 is an
// RFC 4361 identifier (type 255, IAID, DUID) gets identifier type 0x0002 over the DUID, the record
// Kea (and any DHCPv6 server) writes for that DUID (RFC 4361 §6.1); other option 61 values get
// 0x0001 over the whole option; no option 61, 0x0000 over htype + chaddr. Checked against
// RFC 4701 §3.6's example 1 through every path that decides the mode: the engine making a binding,
// a binding received from the failover partner, and the DNS service computing the record.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaseDnsFields } from '../../src/ddns/client-name.js';
import { dhcidModeOf, dhcidOfClient } from '../../src/ddns/dhcid.js';
import { encodeName } from '../../src/ddns/dns-wire.js';
import { dnsFieldsFromOption } from '../../src/ddns/failover-ddns.js';
import type { DnsSettings } from '../../src/ddns/settings.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { DDNS_FLAG_FORWARD_DONE, DDNS_FLAG_OWNS_A } from '../../src/wire/failover-message.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { engine, mac, NOW, packet, scope } from '../dhcp/helpers.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** RFC 4701 §3.6 example 1: this DUID and chi6.example.com give this DHCID RDATA. */
const EXAMPLE_DUID = '000100064' + '12df1660102030405' + '06';
const EXAMPLE_FQDN = 'chi6.example.com';
const EXAMPLE_DHCID = 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=';
/** The same DUID in an RFC 4361 client identifier: type 255, IAID 0x00000001, DUID. */
const RFC4361_CLIENT_ID = `ff00000001${EXAMPLE_DUID}`;

const DNS: DnsSettings = {
  forwardZone: 'example.com',
  reverseZone: null,
  serverAddress: '10.0.0.53',
  serverPort: 53,
  tsigKey: null,
  updateBothRecords: true,
  nameProtection: true,
  cleanupOnDelete: true,
  ttlSeconds: null,
  serverSourcePort: null,
};

describe('dhcidModeOf (RFC 4701 §3.3, RFC 4361 §6.1)', () => {
  it('an RFC 4361 identifier is a DUID; other client ids are client ids; none is chaddr', () => {
    assert.equal(dhcidModeOf(RFC4361_CLIENT_ID), 'duid');
    assert.equal(dhcidModeOf('01aabbccddeeff'), 'clientId');
    assert.equal(dhcidModeOf('00666f6f'), 'clientId');
    assert.equal(dhcidModeOf(null), 'noClientId');
  });

  it('type 255 too short to hold any DUID byte stays a plain client id (type 0x0001 over all of it)', () => {
    assert.equal(dhcidModeOf('ff00000001'), 'clientId');
    assert.equal(dhcidModeOf('ff'), 'clientId');
  });

  it("the DUID mode's DHCID is RFC 4701's example 1", () => {
    const client = { clientId: RFC4361_CLIENT_ID, hardwareType: 1, hardwareAddress: '020000000001' };
    const rdata = dhcidOfClient({ ...client, dhcidMode: dhcidModeOf(client.clientId) }, EXAMPLE_FQDN);
    assert.equal(b64(rdata!), EXAMPLE_DHCID);
  });
});

describe('every path that decides the DHCID of an RFC 4361 client', () => {
  it('a binding the engine makes', () => {
    const e = engine([scope({ dns: DNS })]);
    const fqdn81 = Uint8Array.of(0x01, 255, 255, ...new TextEncoder().encode('chi6')); // S=1, ASCII
    const extra: [number, Uint8Array][] = [[81, fqdn81]];
    const offer = e.handle(packet(T.Discover, { mac: mac(1), clientId: RFC4361_CLIENT_ID, extra }), NOW);
    assert.equal(offer.action, 'reply');
    const yi = formatIpv4(offer.action === 'reply' ? offer.reply.yiaddr : 0);
    const ack = e.handle(
      packet(T.Request, {
        mac: mac(1),
        clientId: RFC4361_CLIENT_ID,
        requested: yi,
        serverId: '10.0.0.1',
        extra,
      }),
      NOW,
    );
    assert.equal(ack.action, 'reply');
    const lease = ack.changes[0]!;
    assert.equal(lease.fqdn, EXAMPLE_FQDN);
    assert.equal(lease.dhcidMode, 'duid');
    assert.equal(b64(dhcidOfClient(lease, lease.fqdn)!), EXAMPLE_DHCID);
  });

  it('a binding received from the failover partner (D12 option 9)', () => {
    const info = { flags: DDNS_FLAG_OWNS_A | DDNS_FLAG_FORWARD_DONE, fqdn: encodeName(EXAMPLE_FQDN) };
    const fields = dnsFieldsFromOption(info, 'active', RFC4361_CLIENT_ID);
    assert.equal(fields?.dhcidMode, 'duid');
  });

  it('a new registration uses the DUID; a name registered before under 0x0001 keeps it until the binding ends', () => {
    const decision = { fqdn: EXAMPLE_FQDN, doesForward: true, doesReverse: false, replyOption: null };
    const fresh = leaseDnsFields(decision, DNS, RFC4361_CLIENT_ID, undefined, false);
    assert.equal(fresh.dhcidMode, 'duid');
    assert.equal(fresh.dns.registrationPending, true);
    // Written by an earlier version as 0x0001 over the whole option: a renewal must not switch the
    // mode, or the update would meet its own old DHCID as another client's (a conflict) and the
    // removal would not match the record in DNS.
    const registered = {
      ...fresh,
      dhcidMode: 'clientId' as const,
      dns: { ...fresh.dns, registrationPending: false },
    };
    const renewal = leaseDnsFields(
      decision,
      DNS,
      RFC4361_CLIENT_ID,
      registered as unknown as Parameters<typeof leaseDnsFields>[3],
      true,
    );
    assert.equal(renewal.dhcidMode, 'clientId');
    assert.equal(renewal.dns.registrationPending, false);
  });
});
