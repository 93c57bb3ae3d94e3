// Real bytes from a dhcpd 4.4.3-P1 failover pair (shared/fixtures/README.md): every message decodes
// to the fields the independent decoder listed, re-encodes byte-identically, and our builders,
// fed the typed view, produce the same bytes (so our option order is ISC's).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  buildBndAck,
  buildBndUpd,
  buildConnect,
  buildConnectAck,
  buildContact,
  buildState,
  buildUpdDone,
  buildUpdReqAll,
  decodeFailover,
  encodeFailover,
} from '../../src/wire/failover-codec.js';
import {
  BINDING_STATUS_NAMES,
  type BindingStatus,
  type DecodedFailoverMessage,
  type FailoverBinding,
  type FailoverMessage,
  FailoverMessageType,
  SERVER_STATE_NAMES,
  type ServerState,
} from '../../src/wire/failover-message.js';
import { formatIpv4, fromHex, toHex } from '../../src/wire/ipv4.js';

// The shared dir is a sibling of the repository root: <repo>/../shared.
const FIXTURE = new URL('../../../shared/fixtures/isc-dhcpd-4.4.3-failover.jsonl', import.meta.url);
const CAPTURE_DAY = '2026-11-23';

interface FixtureLine {
  t: number;
  from: string;
  to: string;
  type: string;
  xid: number;
  decoded: string[];
  hex: string;
}

const lines: FixtureLine[] = readFileSync(FIXTURE, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as FixtureLine);

/** Times in the fixture: UTC hh:mm:ss of the capture day, or "0" for a zero time. */
function formatTime(seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  if (seconds === 0) return '0';
  const iso = new Date(seconds * 1000).toISOString();
  assert.equal(iso.slice(0, 10), CAPTURE_DAY, `time ${seconds} is not on the capture day`);
  return iso.slice(11, 19);
}

/** "01:00:0c" → "01000c"; our typed view keeps ids as plain lower-case hex. */
function colonHex(hex: string): string {
  return toHex(fromHex(hex));
}

function quoted(text: string | undefined): string | undefined {
  return text === undefined ? undefined : JSON.stringify(text);
}

/** The value our decoder gives for one fixture field name, formatted as the fixture does. */
function ourValue(m: DecodedFailoverMessage, name: string): string | undefined {
  const b: FailoverBinding | undefined = m.bindings[0];
  switch (name) {
    case 'relationship-name':
      return quoted(m.relationshipName);
    case 'max-unacked':
      return m.maxUnackedUpdates?.toString();
    case 'receive-timer':
      return m.receiveTimerSeconds?.toString();
    case 'vendor-class':
      return quoted(m.vendorClass);
    case 'protocol-version':
      return m.protocolVersion?.toString();
    case 'tls-request':
      return m.tlsRequest?.toString();
    case 'tls-reply':
      return m.tlsReply?.toString();
    case 'mclt':
      return m.mcltSeconds?.toString();
    case 'hba':
      return m.hashBucketAssignment && toHex(m.hashBucketAssignment);
    case 'server-state':
      return m.serverState === undefined ? undefined : SERVER_STATE_NAMES[m.serverState as ServerState];
    case 'server-flags':
      return m.serverFlags?.toString();
    case 'stos':
      // STATE: message level; BNDUPD: per binding.
      return formatTime(b ? b.stateStartedAt : m.startTimeOfState);
    case 'assigned-ip':
      return b && formatIpv4(b.address);
    case 'binding-status':
      return b?.bindingStatus === undefined
        ? undefined
        : BINDING_STATUS_NAMES[b.bindingStatus as BindingStatus];
    case 'client-id':
      return b?.clientId;
    case 'chaddr':
      // Option 5 as on the wire: htype byte + chaddr.
      return b?.hardwareType === undefined
        ? undefined
        : b.hardwareType.toString(16).padStart(2, '0') + (b.hardwareAddress ?? '');
    case 'lease-expiration':
      return formatTime(b?.leaseExpiresAt);
    case 'pet':
      return formatTime(b?.potentialExpiresAt);
    case 'cltt':
      return formatTime(b?.clientLastTransactionAt);
    case 'reject-reason':
      return (b ? b.rejectReason : m.rejectReason)?.toString();
    case 'message':
      return quoted(b ? b.message : m.message);
    default:
      assert.fail(`fixture field ${name} has no mapping in this test`);
  }
}

/** Rebuild the message from the typed view with our builders. */
function rebuild(m: DecodedFailoverMessage): FailoverMessage {
  const header = { time: m.time, xid: m.xid };
  switch (m.type) {
    case FailoverMessageType.CONNECT:
      return buildConnect({
        ...header,
        relationshipName: m.relationshipName!,
        maxUnackedUpdates: m.maxUnackedUpdates!,
        receiveTimerSeconds: m.receiveTimerSeconds!,
        vendorClass: m.vendorClass!,
        protocolVersion: m.protocolVersion!,
        tlsRequest: m.tlsRequest!,
        mcltSeconds: m.mcltSeconds!,
        hashBucketAssignment: m.hashBucketAssignment!,
      });
    case FailoverMessageType.CONNECTACK:
      return buildConnectAck({
        ...header,
        relationshipName: m.relationshipName!,
        maxUnackedUpdates: m.maxUnackedUpdates!,
        receiveTimerSeconds: m.receiveTimerSeconds!,
        vendorClass: m.vendorClass!,
        protocolVersion: m.protocolVersion!,
        tlsReply: m.tlsReply!,
      });
    case FailoverMessageType.STATE:
      return buildState({
        ...header,
        serverState: m.serverState!,
        serverFlags: m.serverFlags!,
        startTimeOfState: m.startTimeOfState!,
      });
    case FailoverMessageType.BNDUPD:
      return buildBndUpd({ ...header, bindings: m.bindings });
    case FailoverMessageType.BNDACK:
      return buildBndAck({ ...header, acks: m.bindings });
    case FailoverMessageType.UPDREQALL:
      return buildUpdReqAll(header);
    case FailoverMessageType.UPDDONE:
      return buildUpdDone(header);
    case FailoverMessageType.CONTACT:
      return buildContact(header);
    default:
      assert.fail(`no builder mapping for type ${m.type}`);
  }
}

describe('ISC dhcpd 4.4.3-P1 fixtures', () => {
  it('has the 58 documented messages', () => {
    assert.equal(lines.length, 58);
  });

  lines.forEach((line, index) => {
    it(`#${index} ${line.type} xid ${line.xid} (${line.from} → ${line.to})`, () => {
      const bytes = fromHex(line.hex);
      const result = decodeFailover(bytes);
      assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.error));
      const m = result.message;

      assert.equal(FailoverMessageType[m.type], line.type);
      assert.equal(m.xid, line.xid);
      assert.equal(m.payloadOffset, 12);
      assert.deepEqual(m.duplicateOptions, []);
      assert.deepEqual(m.otherOptions, []);
      for (const b of m.bindings) assert.deepEqual(b.otherOptions, []);
      formatTime(m.time); // the header time is on the capture day too

      // Every decoded field, and nothing more: one fixture entry per option.
      assert.equal(m.options.length, line.decoded.length);
      for (const entry of line.decoded) {
        const eq = entry.indexOf('=');
        const name = entry.slice(0, eq);
        let expected = entry.slice(eq + 1);
        if (name === 'client-id' || name === 'chaddr') expected = colonHex(expected);
        assert.equal(ourValue(m, name), expected, `${name}`);
      }

      assert.equal(toHex(encodeFailover(m)), line.hex, 're-encoding the decoded message');
      assert.equal(toHex(encodeFailover(rebuild(m))), line.hex, 'building from the typed view');
    });
  });
});
