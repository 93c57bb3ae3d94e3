// The engine told where a packet arrived (direct mode, several links): the scope of the link, our
// address on it as option 54, any of our addresses accepted as the selected server; and an address
// found in use by the ping check held out like a declined one.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DhcpEngine, type EngineResult } from '../../src/dhcp/engine.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { ip, mac, NOW, packet, readU32, SERVER_ID, scope, settings } from './helpers.js';

type Reply = Extract<EngineResult, { action: 'reply' }>;

const LINK_A = scope({
  id: 'a',
  subnet: '10.1.0.0/24',
  ranges: [{ start: ip('10.1.0.10'), end: ip('10.1.0.19') }],
});
const LINK_B = scope({
  id: 'b',
  subnet: '10.2.0.0/24',
  ranges: [{ start: ip('10.2.0.10'), end: ip('10.2.0.19') }],
});
const ADDRESS_A = ip('10.1.0.1');
const ADDRESS_B = ip('10.2.0.1');

function twoLinks(): DhcpEngine {
  return new DhcpEngine(
    settings([LINK_A, LINK_B], {
      serverIdentifier: ADDRESS_A,
      otherServerIdentifiers: [ADDRESS_B],
      directScopeIds: ['a'],
    }),
    [],
  );
}

const asReply = (r: EngineResult, type: T): Reply => {
  assert.equal(r.action, 'reply', JSON.stringify(r.action === 'ignore' ? r.reason : ''));
  assert.equal((r as Reply).messageType, type);
  return r as Reply;
};

describe('arrival: the link a packet came in on', () => {
  test("a client on link B gets B's scope and B's address as server identifier; its REQUEST naming B is ours", () => {
    const e = twoLinks();
    const onB = { directScopeIds: ['b'], serverIdentifier: ADDRESS_B };
    const offer = asReply(e.handle(packet(T.Discover, { mac: mac(1) }), NOW, 'broadcast', onB), T.Offer);
    assert.match(formatIpv4(offer.reply.yiaddr), /^10\.2\.0\./);
    assert.equal(offer.scopeId, 'b');
    assert.equal(readU32(offer.reply.options.get(54)), ADDRESS_B);
    const ack = asReply(
      e.handle(
        packet(T.Request, { mac: mac(1), requested: formatIpv4(offer.reply.yiaddr), serverId: '10.2.0.1' }),
        NOW,
        'broadcast',
        onB,
      ),
      T.Ack,
    );
    assert.equal(ack.reply.yiaddr, offer.reply.yiaddr);
    assert.equal(readU32(ack.reply.options.get(54)), ADDRESS_B);
  });

  test('without an arrival: udp mode as before (directScopeIds, the configured identifier)', () => {
    const e = twoLinks();
    const offer = asReply(e.handle(packet(T.Discover, { mac: mac(2) }), NOW), T.Offer);
    assert.equal(offer.scopeId, 'a');
    assert.equal(readU32(offer.reply.options.get(54)), ADDRESS_A);
    // The arrival of one call does not stick to the next.
    e.handle(packet(T.Discover, { mac: mac(3) }), NOW, 'broadcast', {
      directScopeIds: ['b'],
      serverIdentifier: ADDRESS_B,
    });
    const again = asReply(e.handle(packet(T.Discover, { mac: mac(4) }), NOW), T.Offer);
    assert.equal(again.scopeId, 'a');
    assert.equal(readU32(again.reply.options.get(54)), ADDRESS_A);
  });

  test('a link with no scope: nothing is served from another link', () => {
    const e = twoLinks();
    const r = e.handle(packet(T.Discover, { mac: mac(5) }), NOW, 'broadcast', {
      directScopeIds: [],
      serverIdentifier: ip('10.3.0.1'),
    });
    assert.equal(r.action, 'ignore');
    assert.equal((r as Extract<EngineResult, { action: 'ignore' }>).reason, 'no-scope');
  });

  test('a REQUEST naming an address that is not ours is another server selected', () => {
    const e = twoLinks();
    const offer = asReply(e.handle(packet(T.Discover, { mac: mac(6) }), NOW), T.Offer);
    const r = e.handle(
      packet(T.Request, { mac: mac(6), requested: formatIpv4(offer.reply.yiaddr), serverId: '10.9.9.9' }),
      NOW,
    );
    assert.equal(r.action, 'ignore');
    assert.equal((r as Extract<EngineResult, { action: 'ignore' }>).reason, 'other-server-selected');
    assert.notEqual(SERVER_ID, ip('10.9.9.9'));
  });
});

describe('abandonConflict: an address someone answers for (ping check)', () => {
  test('the offer is withdrawn, the address held out like a declined one, the client offered another', () => {
    const e = twoLinks();
    const first = asReply(e.handle(packet(T.Discover, { mac: mac(7) }), NOW), T.Offer);
    const taken = first.reply.yiaddr;
    const changes = e.abandonConflict(taken, NOW);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.state, 'abandoned');
    assert.equal(changes[0]!.leaseExpiresAt, NOW + LINK_A.declineHoldSeconds);
    assert.equal(e.getLease(taken)?.state, 'abandoned');
    const second = asReply(e.handle(packet(T.Discover, { mac: mac(7) }), NOW), T.Offer);
    assert.notEqual(second.reply.yiaddr, taken);
    // Nobody else gets it either, until the hold ends.
    for (let n = 10; n < 18; n++) {
      const r = e.handle(packet(T.Discover, { mac: mac(n) }), NOW);
      if (r.action === 'reply') assert.notEqual(r.reply.yiaddr, taken);
    }
  });

  test('an address bound to a client, or outside every scope, is left alone', () => {
    const e = twoLinks();
    const offer = asReply(e.handle(packet(T.Discover, { mac: mac(8) }), NOW), T.Offer);
    const yi = formatIpv4(offer.reply.yiaddr);
    asReply(e.handle(packet(T.Request, { mac: mac(8), requested: yi, serverId: '10.1.0.1' }), NOW), T.Ack);
    assert.deepEqual(e.abandonConflict(offer.reply.yiaddr, NOW), []);
    assert.equal(e.getLease(offer.reply.yiaddr)?.state, 'active');
    assert.deepEqual(e.abandonConflict(ip('192.0.2.1'), NOW), []);
  });
});
