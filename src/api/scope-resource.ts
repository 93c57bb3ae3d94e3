// A scope as the API shows it: the resolved configuration (ranges, exclusions, reservations,
// options decoded to their text form) plus what the engine derives from it.

import type { CompiledOptions, ResolvedConfig, ResolvedRange, ResolvedScope } from '../config/resolved.js';
import type { ScopeRole } from '../dhcp/statistics.js';
import { decodeOptionValue, optionByCode } from '../wire/dhcp-options.js';
import { formatIpv4, formatSubnet } from '../wire/ipv4.js';
import { colonHex } from './format.js';
import type { Scope } from './schemas.js';

/** This server's role in a scope, from the failover relationship that covers it (if any). */
export function roleOfScope(config: ResolvedConfig, scopeId: string): ScopeRole {
  const scope = config.scopes.find((s) => s.id === scopeId);
  const name = scope?.failoverRelationship ?? null;
  if (name === null) {
    const r = config.failover.find((x) => x.scopeIds.includes(scopeId));
    return r ? r.role : 'standalone';
  }
  const r = config.failover.find((x) => x.name === name);
  return r ? r.role : 'standalone';
}

export function scopeResource(config: ResolvedConfig, scope: ResolvedScope, dynamicAddresses: number): Scope {
  const configuredMask = scope.options.get(1);
  return {
    id: scope.id,
    name: scope.name,
    description: scope.description,
    active: scope.isActive,
    subnet: formatSubnet(scope.subnet),
    subnetMask: configuredMask?.length === 4 ? [...configuredMask].join('.') : formatIpv4(scope.subnet.mask),
    ranges: scope.ranges.map(rangeResource),
    exclusions: scope.exclusions.map(rangeResource),
    reservations: scope.reservations.map((r) => ({
      address: formatIpv4(r.address),
      hardwareAddress: colonHex(r.hardwareAddress),
      clientId: colonHex(r.clientId),
      hostname: r.hostname,
      description: r.description,
      options: optionEntries(r.options, r.alwaysSend),
    })),
    options: optionEntries(scope.options, scope.alwaysSend),
    leaseTimeSeconds: scope.leaseTimeSeconds,
    renewTimeSeconds: scope.renewTimeSeconds,
    rebindTimeSeconds: scope.rebindTimeSeconds,
    relayAddresses: scope.relayAddresses.map(formatIpv4),
    dynamicBootp: scope.dynamicBootp,
    bootpLeaseSeconds: scope.bootpLeaseSeconds,
    declineHoldSeconds: scope.declineHoldSeconds,
    offerHoldSeconds: scope.offerHoldSeconds,
    authoritative: scope.authoritative,
    failoverRelationship: scope.failoverRelationship,
    role: roleOfScope(config, scope.id),
    dynamicAddresses,
  };
}

function rangeResource(r: ResolvedRange): { start: string; end: string } {
  return { start: formatIpv4(r.start), end: formatIpv4(r.end) };
}

function optionEntries(options: CompiledOptions, alwaysSend: ReadonlySet<number>): Scope['options'] {
  return [...options.entries()]
    .sort(([a], [b]) => a - b)
    .map(([code, data]) => ({
      code,
      name: optionByCode(code)?.name ?? null,
      value: decodeOptionValue(code, data),
      alwaysSend: alwaysSend.has(code),
    }));
}
