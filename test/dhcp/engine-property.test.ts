// Property test of the allocation engine: random client populations doing random things over
// random time, with restarts from the persisted leases. Whatever happens, no two clients may
// believe they hold the same address at the same time, and every ACK is inside the scope.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DhcpEngine, type EngineResult } from '../../src/dhcp/engine.js';
import type { Lease } from '../../src/dhcp/lease.js';
import { computeScopeStatistics } from '../../src/dhcp/statistics.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { ip, mac, NOW, packet, readU32, reservation, scope, settings } from './helpers.js';

type Op =
  | { kind: 'dora'; client: number; requested: number | null }
  | { kind: 'renew'; client: number }
  | { kind: 'reboot'; client: number }
  | { kind: 'release'; client: number }
  | { kind: 'decline'; client: number }
  | { kind: 'wait'; seconds: number }
  | { kind: 'restart' };

const CLIENTS = 12;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('dora' as const),
      client: fc.nat(CLIENTS - 1),
      requested: fc.option(fc.integer({ min: 95, max: 112 })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('renew' as const), client: fc.nat(CLIENTS - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reboot' as const), client: fc.nat(CLIENTS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), client: fc.nat(CLIENTS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('decline' as const), client: fc.nat(CLIENTS - 1) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), seconds: fc.integer({ min: 1, max: 2000 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

test('no address is ever held by two clients at once (random operations, restarts, expiry)', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 150 }), (ops) => {
      const scopes = [
        scope({
          ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.107') }],
          exclusions: [{ start: ip('10.0.0.103'), end: ip('10.0.0.103') }],
          reservations: [reservation({ address: '10.0.0.110', hardwareAddress: mac(11) })],
          leaseTimeSeconds: 1000,
          renewTimeSeconds: 500,
          rebindTimeSeconds: 875,
          declineHoldSeconds: 300,
        }),
      ];
      const durable = new Map<number, Lease>();
      let e = new DhcpEngine(settings(scopes), []);
      let now = NOW;
      // What each client believes it holds: address and expiry.
      const belief = new Map<number, { address: number; expiresAt: number }>();

      const apply = (r: EngineResult) => {
        for (const l of r.changes) durable.set(l.address, l);
      };
      const acked = (client: number, r: EngineResult) => {
        apply(r);
        if (r.action === 'reply' && r.messageType === T.Ack) {
          const a = r.reply.yiaddr;
          const okRange =
            (a >= ip('10.0.0.100') && a <= ip('10.0.0.107') && a !== ip('10.0.0.103')) ||
            a === ip('10.0.0.110');
          assert.ok(okRange, `ACK outside the scope: ${formatIpv4(a)}`);
          belief.set(client, { address: a, expiresAt: now + readU32(r.reply.options.get(51))! });
        } else if (r.action === 'reply' && r.messageType === T.Nak) {
          belief.delete(client);
        }
      };

      for (const op of ops) {
        switch (op.kind) {
          case 'dora': {
            const o = e.handle(
              packet(T.Discover, {
                mac: mac(op.client),
                requested: op.requested ? `10.0.0.${op.requested}` : undefined,
              }),
              now,
            );
            if (o.action === 'reply') {
              const req = packet(T.Request, {
                mac: mac(op.client),
                requested: formatIpv4(o.reply.yiaddr),
                serverId: '10.0.0.1',
              });
              acked(op.client, e.handle(req, now));
            }
            break;
          }
          case 'renew': {
            const b = belief.get(op.client);
            if (b && b.expiresAt > now)
              acked(
                op.client,
                e.handle(packet(T.Request, { mac: mac(op.client), ciaddr: formatIpv4(b.address) }), now),
              );
            break;
          }
          case 'reboot': {
            const b = belief.get(op.client);
            if (b)
              acked(
                op.client,
                e.handle(packet(T.Request, { mac: mac(op.client), requested: formatIpv4(b.address) }), now),
              );
            break;
          }
          case 'release': {
            const b = belief.get(op.client);
            if (b && b.expiresAt > now) {
              apply(
                e.handle(
                  packet(T.Release, {
                    mac: mac(op.client),
                    ciaddr: formatIpv4(b.address),
                    serverId: '10.0.0.1',
                  }),
                  now,
                ),
              );
              belief.delete(op.client);
            }
            break;
          }
          case 'decline': {
            const b = belief.get(op.client);
            if (b && b.expiresAt > now) {
              apply(
                e.handle(
                  packet(T.Decline, {
                    mac: mac(op.client),
                    requested: formatIpv4(b.address),
                    serverId: '10.0.0.1',
                  }),
                  now,
                ),
              );
              belief.delete(op.client);
            }
            break;
          }
          case 'wait':
            now += op.seconds;
            // In small batches, as the shell runs a mass expiry (dhcp-service.ts).
            for (let batch = e.tick(now, 2); batch.length > 0; batch = e.tick(now, 2)) {
              for (const l of batch) durable.set(l.address, l);
            }
            break;
          case 'restart':
            e = new DhcpEngine(settings(scopes), [...durable.values()]);
            for (const l of e.tick(now)) durable.set(l.address, l);
            break;
        }
        // The invariant, from the clients' side.
        const holders = new Map<number, number>();
        for (const [client, b] of belief) {
          if (b.expiresAt <= now) continue;
          const other = holders.get(b.address);
          assert.equal(
            other,
            undefined,
            `clients ${other} and ${client} both hold ${formatIpv4(b.address)} at ${now - NOW}`,
          );
          holders.set(b.address, client);
        }
        // The statistics kept as bindings change equal a count over every binding.
        assert.deepEqual(
          e.scopeStatistics(now, () => 'standalone'),
          computeScopeStatistics(
            e.scopeIds().map((id) => e.scopeView(id)!),
            e.leases(),
            e.pendingOffers(now),
            { serverName: e.settings.serverName, roleOf: () => 'standalone', now },
          ),
        );
        // And from the server's: every believed lease is an active binding for that client.
        for (const [client, b] of belief) {
          if (b.expiresAt <= now) continue;
          const l = e.getLease(b.address);
          assert.ok(
            l && l.state === 'active' && l.hardwareAddress === mac(client),
            `server lost ${formatIpv4(b.address)} of client ${client}`,
          );
        }
      }
    }),
    { numRuns: 300 },
  );
});
