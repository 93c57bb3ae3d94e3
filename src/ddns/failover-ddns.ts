// A binding's DNS state on the failover wire: the D12 DDNS option (9; failover.md §3.4) carries
// the name (DNS wire format) and four flags, C = forward update done, A = we own the A record,
// D = reverse update done, P = we own the PTR. The partner needs them to remove the records
// of a lease that ends while the server that registered them is down (docs/dns.md). Pure.
//
// Our lease flags map onto them as follows: A = updateBothRecords; P = 1 (the server always
// owns the PTR it writes); for an ACTIVE binding C/D say the registration is done (C only with
// A); for an ended binding C/D say records are still there to remove (removalPending).

import type { BindingState, DnsFlags, Lease } from '../dhcp/lease.js';
import {
  DDNS_FLAG_FORWARD_DONE,
  DDNS_FLAG_OWNS_A,
  DDNS_FLAG_OWNS_PTR,
  DDNS_FLAG_REVERSE_DONE,
  type DdnsInfo,
} from '../wire/failover-message.js';
import { dhcidModeOf } from './dhcid.js';
import { encodeName } from './dns-wire.js';

/** Option 9 for `lease`; null when it has no name. */
export function ddnsOptionOf(lease: Lease): DdnsInfo | null {
  if (lease.fqdn === null) return null;
  let fqdn: Uint8Array;
  try {
    fqdn = encodeName(lease.fqdn);
  } catch {
    return null;
  }
  const d = lease.dns;
  const isDone = lease.state === 'active' ? !d.registrationPending : d.removalPending;
  let flags = DDNS_FLAG_OWNS_PTR;
  if (d.updateBothRecords) flags |= DDNS_FLAG_OWNS_A;
  if (isDone) flags |= DDNS_FLAG_REVERSE_DONE;
  if (isDone && d.updateBothRecords) flags |= DDNS_FLAG_FORWARD_DONE;
  return { flags, fqdn };
}

/** Reads an uncompressed wire-format name; null when malformed. */
function nameOf(d: Uint8Array): string | null {
  const labels: string[] = [];
  let pos = 0;
  while (pos < d.length) {
    const len = d[pos]!;
    if (len === 0) return pos === d.length - 1 && labels.length > 0 ? labels.join('.').toLowerCase() : null;
    if (len > 63 || pos + 1 + len > d.length) return null;
    labels.push(Buffer.from(d.subarray(pos + 1, pos + 1 + len)).toString('latin1'));
    pos += 1 + len;
  }
  return null;
}

/**
 * The DNS fields of a binding received with option 9, in its new local `state`; null when the
 * option is malformed. cleanupOnDelete is not on the wire: the receiver's scope settings decide.
 */
export function dnsFieldsFromOption(
  info: DdnsInfo,
  state: BindingState,
  clientId: string | null,
): Pick<Lease, 'fqdn' | 'dhcidMode' | 'dns'> | null {
  const fqdn = nameOf(info.fqdn);
  if (fqdn === null) return null;
  const isDone = (info.flags & DDNS_FLAG_REVERSE_DONE) !== 0 || (info.flags & DDNS_FLAG_FORWARD_DONE) !== 0;
  const dns: DnsFlags = {
    cleanupOnDelete: true,
    updateBothRecords: (info.flags & DDNS_FLAG_OWNS_A) !== 0,
    registrationPending: state === 'active' && !isDone,
    removalPending: state !== 'active' && isDone,
  };
  return { fqdn, dhcidMode: dhcidModeOf(clientId), dns };
}
