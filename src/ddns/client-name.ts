// The name a client is registered under and who updates which record (RFC 4702 §3–§5): from
// the Client FQDN option (81) with its S/O/E/N flags, else from the host name (12), qualified
// with the forward zone. Also the DNS fields the engine writes on a lease. Pure; the engine
// calls it only for scopes (or policies) with DNS settings.

import { type DhcidMode, type DnsFlags, type Lease, NO_DNS_FLAGS } from '../dhcp/lease.js';
import { FQDN_FLAG, parseClientFqdn } from '../wire/dhcp-options.js';
import { dhcidModeOf } from './dhcid.js';
import { encodeName, isEncodableName, isInZone, labelsOf } from './dns-wire.js';
import type { DnsSettings } from './settings.js';

export interface ClientNameDecision {
  /** Fully qualified, lower case, no trailing dot. */
  fqdn: string;
  /** The server adds A (and DHCID) records. */
  doesForward: boolean;
  /** The server adds the PTR record. */
  doesReverse: boolean;
  /** Option 81 data for the reply; null when the client sent none. */
  replyOption: Uint8Array | null;
}

/** A host name label as DNS accepts it: letters, digits and '-', at most 63 (RFC 952/1123). */
export function sanitizeLabel(text: string): string | null {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label === '' ? null : label;
}

/** `name` (labels already sanitised) inside `zone`: as is when it is inside, else its first label + zone. */
function qualify(labels: string[], isFullyQualified: boolean, zone: string): string | null {
  if (labels.length === 0) return null;
  const name = labels.join('.');
  if (isInZone(name, zone)) return name;
  const candidate = isFullyQualified ? `${labels[0]}.${zone}` : `${name}.${zone}`;
  if (isEncodableName(candidate)) return candidate;
  const short = `${labels[0]}.${zone}`;
  return isEncodableName(short) ? short : null;
}

function encodeReply(flags: number, fqdn: string, isWire: boolean): Uint8Array {
  const name = isWire ? encodeName(fqdn) : new TextEncoder().encode(fqdn);
  const out = new Uint8Array(3 + name.length);
  out[0] = flags;
  // RFC 4702 §4: a server sets both RCODE fields to 255.
  out[1] = 255;
  out[2] = 255;
  out.set(name, 3);
  return out;
}

/**
 * What the server does for a client asking with `fqdnOption` (option 81 data, if sent) and
 * `hostname` (option 12 or the reservation's). null: no usable name, no DNS work.
 */
export function decideClientName(
  settings: DnsSettings,
  fqdnOption: Uint8Array | undefined,
  hostname: string | null,
): ClientNameDecision | null {
  // Labels are sanitised below, so any printable name is usable (docs/dns.md), in either encoding.
  const option = fqdnOption === undefined ? null : parseClientFqdn(fqdnOption, { isAnyPrintableLabel: true });
  let fqdn: string | null = null;
  if (option !== null && option.name !== '') {
    const labels: string[] = [];
    for (const l of labelsOf(option.name)) {
      const s = sanitizeLabel(l);
      if (s !== null) labels.push(s);
    }
    fqdn = qualify(labels, option.isFullyQualified, settings.forwardZone);
  }
  if (fqdn === null && hostname !== null) {
    const first = sanitizeLabel(hostname.split('.')[0] ?? '');
    fqdn = first === null ? null : qualify([first], true, settings.forwardZone);
  }
  if (fqdn === null) return null;
  const hasReverse = settings.reverseZone !== null;
  if (option === null) {
    // No option 81: the server registers both, as ISC and Kea do for a host name (Windows:
    // "dynamically update DNS records for DHCP clients that do not request updates").
    return { fqdn, doesForward: true, doesReverse: hasReverse, replyOption: null };
  }
  const isWire = (option.flags & FQDN_FLAG.E) !== 0;
  const e = option.flags & FQDN_FLAG.E;
  const asksNone = (option.flags & FQDN_FLAG.N) !== 0;
  const asksServerForward = (option.flags & FQDN_FLAG.S) !== 0;
  if (asksNone && !settings.updateBothRecords) {
    // RFC 4702 §4: N=1, the server does no update (and says so with N=1, S=0).
    return {
      fqdn,
      doesForward: false,
      doesReverse: false,
      replyOption: encodeReply(FQDN_FLAG.N | e, fqdn, isWire),
    };
  }
  if (asksServerForward) {
    return {
      fqdn,
      doesForward: true,
      doesReverse: hasReverse,
      replyOption: encodeReply(FQDN_FLAG.S | e, fqdn, isWire),
    };
  }
  if (settings.updateBothRecords) {
    // The client wanted to update A itself (S=0) or nothing (N=1): the server overrides (O=1).
    return {
      fqdn,
      doesForward: true,
      doesReverse: hasReverse,
      replyOption: encodeReply(FQDN_FLAG.S | FQDN_FLAG.O | e, fqdn, isWire),
    };
  }
  // S=0: the client updates A, the server only PTR (RFC 4702 §3.1).
  return { fqdn, doesForward: false, doesReverse: hasReverse, replyOption: encodeReply(e, fqdn, isWire) };
}

/** Lease fields for a binding being made or renewed for a client under `decision`. */
export function leaseDnsFields(
  decision: ClientNameDecision | null,
  settings: DnsSettings,
  clientId: string | null,
  previous: Lease | undefined,
  isSameBinding: boolean,
): { fqdn: string | null; dhcidMode: DhcidMode; dns: DnsFlags } {
  if (decision === null || (!decision.doesForward && !decision.doesReverse)) {
    return {
      fqdn: decision?.fqdn ?? null,
      dhcidMode: 'none',
      dns: { ...NO_DNS_FLAGS },
    };
  }
  // A name registered for this binding keeps the DHCID it was registered with until the binding
  // ends: it is what is in DNS (the update and removal prerequisites must match it). This matters
  // for records written with another mode by an earlier version (0x0001 for an RFC 4361 client).
  const isSameName =
    isSameBinding &&
    previous !== undefined &&
    previous.fqdn === decision.fqdn &&
    previous.dhcidMode !== 'none';
  const dhcidMode: DhcidMode = !settings.nameProtection
    ? 'none'
    : isSameName && !previous.dns.registrationPending
      ? previous.dhcidMode
      : dhcidModeOf(clientId);
  // A renewal of a registered binding under the same name needs no work; anything else does.
  const isRegistered =
    isSameBinding &&
    previous !== undefined &&
    previous.fqdn === decision.fqdn &&
    previous.dhcidMode === dhcidMode &&
    previous.dns.updateBothRecords === decision.doesForward &&
    !previous.dns.registrationPending;
  return {
    fqdn: decision.fqdn,
    dhcidMode,
    dns: {
      cleanupOnDelete: settings.cleanupOnDelete,
      updateBothRecords: decision.doesForward,
      registrationPending: !isRegistered,
      removalPending: false,
    },
  };
}

/**
 * DNS flags of a binding that ends (release, expiry, a client moving to another address): its
 * records are to be removed when it had a name and cleanupOnDelete.
 */
export function dnsFlagsAfterEnd(lease: Lease): DnsFlags {
  if (lease.fqdn === null || !lease.dns.cleanupOnDelete) return lease.dns;
  return { ...lease.dns, registrationPending: false, removalPending: true };
}
