// A lease record (or an offer in progress) as the API shows it: DHCPV4_FAILOVER_CLIENT_INFO
// (seed 001) in windows-model.md §4.4 form. The Windows-only parts are derived here, for display
// only: addressState from the D12 state, clientType 'unspecified' for a record with no client,
// NAP fields at their windows-model.md §1.6 defaults: NAP is deprecated by Microsoft (gone since
// Windows Server 2016), Twinlease has no quarantine policy, and no partner it pairs with (ISC dhcpd,
// Twinlease) sends MS options 37–39, so "no quarantine information" is the true value.

import type { PendingOffer } from '../dhcp/engine.js';
import { addressStateOf, emptyLease, INFINITE_EXPIRY, type Lease } from '../dhcp/lease.js';
import type { ScopeView } from '../dhcp/scope.js';
import { formatIpv4, type Ipv4 } from '../wire/ipv4.js';
import { colonHex, isoOrNull } from './format.js';
import type { Lease as LeaseResource } from './schemas.js';

export interface LeaseContext {
  /** The scope holding the address (for the mask and the reservation's description), if any. */
  view: ScopeView | undefined;
  /** Reservation descriptions by address (the engine keeps none: they come from the config). */
  reservationDescription(address: Ipv4): string | null;
  /** Address of a server by name (this server, a configured partner), when known. */
  serverAddress(name: string): Ipv4 | null;
}

export function leaseResource(
  lease: Lease,
  offer: PendingOffer | undefined,
  ctx: LeaseContext,
): LeaseResource {
  const hasClient = lease.hardwareAddress !== '' || lease.clientId !== null;
  const isInfinite = lease.leaseExpiresAt === INFINITE_EXPIRY;
  return {
    ipAddress: formatIpv4(lease.address),
    scopeId: lease.scopeId,
    subnetMask: subnetMaskText(ctx.view),
    hardwareAddress: { htype: lease.hardwareType, mac: colonHex(lease.hardwareAddress) },
    clientId: colonHex(lease.clientId),
    hostname: lease.hostname,
    description: lease.isReserved ? ctx.reservationDescription(lease.address) : null,
    fqdn: lease.fqdn,
    leaseExpiresAt: isoOrNull(lease.leaseExpiresAt),
    leaseInfinite: isInfinite,
    ownerServer: {
      name: lease.ownerServer,
      address: lease.ownerServer === null ? null : nullableIpv4(ctx.serverAddress(lease.ownerServer)),
    },
    clientType: hasClient ? lease.clientType : 'unspecified',
    reserved: lease.isReserved,
    bindingState: lease.state,
    addressState: offer !== undefined && lease.state !== 'active' ? 'offered' : addressStateOf(lease.state),
    dhcidMode: lease.dhcidMode,
    dns: { ...lease.dns },
    napStatus: 'noQuarInfo',
    probationEndsAt: null,
    napCapable: false,
    sentPotentialExpiresAt: isoOrNull(lease.sentPotentialExpiresAt),
    ackedPotentialExpiresAt: isoOrNull(lease.ackedPotentialExpiresAt),
    receivedPotentialExpiresAt: isoOrNull(lease.receivedPotentialExpiresAt),
    stateStartedAt: isoOrNull(lease.stateStartedAt),
    clientLastTransactionAt: isoOrNull(lease.clientLastTransactionAt),
    lastBindingUpdateAt: isoOrNull(lease.lastBindingUpdateAt),
    partnerUpToDate: lease.isPartnerUpToDate,
    policyName: lease.policyName,
    offerExpiresAt: offer === undefined ? null : isoOrNull(offer.expiresAt),
  };
}

/**
 * An offer for an address with no lease record (never used): shown as a record in `free` with
 * addressState 'offered' and the client the offer is for. The offer is not durable (it lives in
 * the engine's memory only), so its times are those of the offer.
 */
export function offerOnlyLease(offer: PendingOffer, serverName: string, view: ScopeView | undefined): Lease {
  return {
    ...emptyLease(offer.address, offer.scopeId, 'free', 0),
    hardwareType: offer.hardwareType,
    hardwareAddress: offer.hardwareAddress,
    clientId: offer.clientId,
    isReserved: view?.reservationByAddress.has(offer.address) ?? false,
    ownerServer: serverName,
  };
}

/**
 * A free (or expired/released) record that is being offered shows the client it is offered to,
 * not the client that held it before.
 */
export function withOffer(lease: Lease, offer: PendingOffer | undefined): Lease {
  if (offer === undefined || lease.state === 'active') return lease;
  const isSameClient =
    offer.clientId !== null
      ? offer.clientId === lease.clientId
      : lease.clientId === null &&
        offer.hardwareAddress === lease.hardwareAddress &&
        offer.hardwareType === lease.hardwareType;
  if (isSameClient) return lease;
  return {
    ...lease,
    hardwareType: offer.hardwareType,
    hardwareAddress: offer.hardwareAddress,
    clientId: offer.clientId,
    hostname: null,
    fqdn: null,
  };
}

/** The mask's text by scope view (a view is replaced, never changed, when the config is). */
const maskTexts = new WeakMap<ScopeView, string>();
const NO_SCOPE_MASK = formatIpv4(0xffffffff);

function subnetMaskText(view: ScopeView | undefined): string {
  if (view === undefined) return NO_SCOPE_MASK;
  let text = maskTexts.get(view);
  if (text === undefined) {
    text = formatIpv4(maskOf(view));
    maskTexts.set(view, text);
  }
  return text;
}

function maskOf(view: ScopeView | undefined): Ipv4 {
  if (!view) return 0xffffffff;
  const configured = view.settings.options.get(1);
  if (configured?.length === 4) {
    return ((configured[0]! << 24) | (configured[1]! << 16) | (configured[2]! << 8) | configured[3]!) >>> 0;
  }
  return view.settings.subnet.mask;
}

function nullableIpv4(address: Ipv4 | null): string | null {
  return address === null ? null : formatIpv4(address);
}
