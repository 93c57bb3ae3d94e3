// The never-used cursor of a free pool after a restart with many bindings at the bottom of the
// range (issue 15): the first allocation must not visit every bound address on its way.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import { FreePool } from '../../src/dhcp/free-pool.js';
import { emptyLease } from '../../src/dhcp/lease.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { ip, NOW, packet, scope, settings } from './helpers.js';

const START = ip('10.1.0.0');
const END = ip('10.1.255.255');
const BOUND = 60_000;

function tableWithBottomBound(): LeaseTable {
  const t = new LeaseTable();
  for (let i = 0; i < BOUND; i++)
    t.put({ ...emptyLease(START + i, 's', 'active', NOW), leaseExpiresAt: NOW + 3600 });
  return t;
}

test('the first never-used address after a restart costs a few candidate checks, not one per binding', () => {
  const t = tableWithBottomBound();
  const pool = new FreePool([{ start: START, end: END }], 1000, (from, to) => t.nextAbsent(from, to));
  let checked = 0;
  const a = pool.takeNeverUsed((x) => {
    checked++;
    return !t.has(x);
  });
  assert.equal(a, START + BOUND);
  assert.ok(checked <= 2, `${checked} candidates checked`);
});

test('the engine offers the first never-used address after a restart with bound addresses below it', () => {
  const t = tableWithBottomBound();
  const e = new DhcpEngine(
    settings([scope({ subnet: '10.1.0.0/16', ranges: [{ start: START + 1, end: END - 1 }] })]),
    t,
  );
  let lookups = 0;
  const has = t.has.bind(t);
  t.has = (x) => {
    lookups++;
    return has(x);
  };
  const r = e.handle(packet(T.Discover, { giaddr: '10.1.0.1', mac: '02aa00000001' }), NOW);
  assert.equal(r.action, 'reply');
  if (r.action === 'reply') assert.equal(r.reply.yiaddr, START + BOUND);
  assert.ok(lookups < 10, `${lookups} table lookups`);
});
