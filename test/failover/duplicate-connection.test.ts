// Both servers listen and both connect (docs/failover.md), so every healthy start has one TCP
// connection too many, which the primary closes (DISCONNECT, reject reason 7 "duplicate
// connection"). That is expected and must not be a warning on either side (issue 14: a
// "duplicate connection" warning on every healthy start); a real duplicate still is.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointAction } from '../../src/failover/types.js';
import { buildConnect, decodeFailover, encodeFailover } from '../../src/wire/failover-codec.js';
import { FailoverMessageType, RejectReason, ServerState } from '../../src/wire/failover-message.js';
import { SimPair, type SimServer } from './lib/pair.js';

type LogAction = Extract<EndpointAction, { type: 'log' }>;

const logs = (s: SimServer): LogAction[] => s.log.filter((a): a is LogAction => a.type === 'log');
const warnings = (s: SimServer) => logs(s).filter((a) => a.level !== 'info');

test('a healthy start with both sides connecting logs no warning about the extra connection', () => {
  const p = new SimPair({ isEachSideConnecting: true });
  p.runUntil(
    () =>
      p.a.endpoint.currentState === ServerState.NORMAL && p.b.endpoint.currentState === ServerState.NORMAL,
    120,
    'both NORMAL',
  );
  p.run(5);
  assert.ok(p.trace.includes(`a>${FailoverMessageType.DISCONNECT}`), 'the primary closed the extra link');
  assert.deepEqual(
    [...warnings(p.a), ...warnings(p.b)].map((a) => `${a.level} ${a.event} ${JSON.stringify(a.fields)}`),
    [],
  );
  // It is still logged, as what it is.
  assert.ok(
    [...logs(p.a), ...logs(p.b)].some((a) => a.event === 'failover-extra-connection-closed'),
    'the closed extra connection is logged at info',
  );
});

test('a real duplicate (a CONNECT while a connection is in use) is still a warning', () => {
  const p = new SimPair({ isEachSideConnecting: true });
  p.runUntil(() => p.b.endpoint.currentState === ServerState.NORMAL, 120, 'NORMAL');
  const before = warnings(p.b).length;
  // A primary that restarted behind a half-open connection: a new connection and a CONNECT on it.
  p.feed(p.b, { type: 'connected', connectionId: 9001, outbound: false });
  const connect = decodeFailover(
    encodeFailover(
      buildConnect({
        time: Math.floor(p.now),
        xid: 1,
        relationshipName: p.a.config.name,
        maxUnackedUpdates: 10,
        receiveTimerSeconds: 15,
        vendorClass: 'twinlease-test',
        mcltSeconds: p.a.config.mcltSeconds,
        hashBucketAssignment: new Uint8Array(32),
      }),
    ),
  );
  assert.ok(connect.ok);
  p.feed(p.b, { type: 'message', connectionId: 9001, message: connect.message, auth: 'ok' });
  const added = warnings(p.b).slice(before);
  assert.deepEqual(
    added.map((a) => [a.level, a.event, a.fields.rejectReason]),
    [['warn', 'failover-connect-rejected', RejectReason.DUPLICATE_CONNECTION]],
  );
});
