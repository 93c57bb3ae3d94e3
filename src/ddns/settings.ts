// Dynamic DNS settings of a scope or a policy (docs/dns.md): which zones, which server, which
// TSIG key, and the Windows-style switches. The config schema (src/config/schema.ts DnsSettings)
// describes the input; resolveDnsSettings checks it and merges a policy's over its scope's.
// Pure.

import { isEncodableName, isInZone } from './dns-wire.js';
import { decodeSecret, TSIG_ALGORITHM_HMAC_SHA256 } from './tsig.js';

/** The DNS settings as configured (all optional: a policy's override its scope's field by field). */
export interface DnsSettingsInput {
  enabled?: boolean;
  forwardZone?: string;
  reverseZone?: string;
  server?: { address: string; port?: number; sourcePort?: number };
  tsigKey?: { name: string; algorithm?: string; secret: string };
  updateBothRecords?: boolean;
  nameProtection?: boolean;
  cleanupOnDelete?: boolean;
  ttlSeconds?: number;
}

/** Resolved settings; a `type` (not an interface) so it is also a plain record (EnginePolicy.dns). */
export type DnsSettings = {
  /** The zone A and DHCID records go to; names outside it are moved into it. */
  readonly forwardZone: string;
  /** The in-addr.arpa zone PTR records go to; null: no PTR records. */
  readonly reverseZone: string | null;
  /** Primary server of both zones (dotted quad). */
  readonly serverAddress: string;
  readonly serverPort: number;
  /**
   * UDP source port of the UPDATEs; null: a new random one for each (a fixed, known source port
   * makes forged answers easier to aim, RFC 5452 §9.2).
   */
  readonly serverSourcePort: number | null;
  /** null: updates are sent unsigned. */
  readonly tsigKey: {
    readonly name: string;
    readonly algorithm: typeof TSIG_ALGORITHM_HMAC_SHA256;
    /** base64, as in a BIND key statement. */
    readonly secret: string;
  } | null;
  /** Windows "always dynamically update DNS A and PTR records": also when the client asks to do A itself. */
  readonly updateBothRecords: boolean;
  /** RFC 4703 name protection with DHCID records (Windows "name protection"). */
  readonly nameProtection: boolean;
  /** Remove the records when the lease is released or expires (Windows "discard A and PTR records"). */
  readonly cleanupOnDelete: boolean;
  /** TTL of the records; null: a third of the lease time (Kea's default), at least 60 s. */
  readonly ttlSeconds: number | null;
};

export const DNS_DEFAULTS = {
  port: 53,
  updateBothRecords: false,
  nameProtection: true,
  cleanupOnDelete: true,
} as const;

export interface DnsProblem {
  path: (string | number)[];
  message: string;
}

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function zoneName(text: string): string {
  return text.replace(/\.$/, '').toLowerCase();
}

/**
 * Resolves `own` over `base` (a policy over its scope; base null for a scope). Returns null when
 * DNS is off (no settings, or enabled: false), and the problems found, with paths relative to
 * `own`.
 */
export function resolveDnsSettings(
  own: DnsSettingsInput | undefined,
  base: DnsSettings | null,
): { settings: DnsSettings | null; problems: DnsProblem[] } {
  const problems: DnsProblem[] = [];
  if (own === undefined) return { settings: base, problems };
  if (own.enabled === false) return { settings: null, problems };
  const forwardZone = own.forwardZone !== undefined ? zoneName(own.forwardZone) : base?.forwardZone;
  const reverseZone = own.reverseZone !== undefined ? zoneName(own.reverseZone) : (base?.reverseZone ?? null);
  const serverAddress = own.server?.address ?? base?.serverAddress;
  const serverPort = own.server ? (own.server.port ?? DNS_DEFAULTS.port) : (base?.serverPort ?? 53);
  const serverSourcePort = own.server ? (own.server.sourcePort ?? null) : (base?.serverSourcePort ?? null);
  if (forwardZone === undefined) problems.push({ path: [], message: "missing property 'forwardZone'" });
  else if (forwardZone === '' || !isEncodableName(forwardZone))
    problems.push({ path: ['forwardZone'], message: `'${own.forwardZone}' is not a DNS zone name` });
  if (reverseZone !== null) {
    if (
      !isEncodableName(reverseZone) ||
      !isInZone(reverseZone, 'in-addr.arpa') ||
      reverseZone === 'in-addr.arpa'
    )
      problems.push({
        path: ['reverseZone'],
        message: `'${own.reverseZone ?? reverseZone}' is not an in-addr.arpa zone (e.g. 77.10.in-addr.arpa)`,
      });
  }
  if (serverAddress === undefined) problems.push({ path: [], message: "missing property 'server'" });
  else if (!DOTTED_QUAD.test(serverAddress))
    problems.push({ path: ['server', 'address'], message: `'${serverAddress}' is not an IPv4 address` });
  let tsigKey = base?.tsigKey ?? null;
  if (own.tsigKey !== undefined) {
    const algorithm = own.tsigKey.algorithm ?? TSIG_ALGORITHM_HMAC_SHA256;
    if (algorithm.toLowerCase() !== TSIG_ALGORITHM_HMAC_SHA256)
      problems.push({
        path: ['tsigKey', 'algorithm'],
        message: `'${algorithm}' is not supported; use hmac-sha256`,
      });
    if (!isEncodableName(own.tsigKey.name) || own.tsigKey.name.replace(/\.$/, '') === '')
      problems.push({ path: ['tsigKey', 'name'], message: 'a key name is a DNS name (e.g. twinlease-key)' });
    const secret = decodeSecret(own.tsigKey.secret);
    // Never echo the secret.
    if (secret === null || secret.length === 0)
      problems.push({
        path: ['tsigKey', 'secret'],
        message: 'the secret is not base64 (as tsig-keygen prints it)',
      });
    tsigKey = {
      name: own.tsigKey.name.replace(/\.$/, '').toLowerCase(),
      algorithm: TSIG_ALGORITHM_HMAC_SHA256,
      secret: own.tsigKey.secret.trim(),
    };
  }
  if (problems.length > 0 || forwardZone === undefined || serverAddress === undefined)
    return { settings: null, problems };
  return {
    settings: {
      forwardZone,
      reverseZone,
      serverAddress,
      serverPort,
      serverSourcePort,
      tsigKey,
      updateBothRecords: own.updateBothRecords ?? base?.updateBothRecords ?? DNS_DEFAULTS.updateBothRecords,
      nameProtection: own.nameProtection ?? base?.nameProtection ?? DNS_DEFAULTS.nameProtection,
      cleanupOnDelete: own.cleanupOnDelete ?? base?.cleanupOnDelete ?? DNS_DEFAULTS.cleanupOnDelete,
      ttlSeconds: own.ttlSeconds ?? base?.ttlSeconds ?? null,
    },
    problems,
  };
}

/** TTL for a record of a lease of `leaseSeconds`. */
export function ttlFor(settings: DnsSettings, leaseSeconds: number): number {
  if (settings.ttlSeconds !== null) return settings.ttlSeconds;
  return Math.max(60, Math.min(86_400, Math.floor(leaseSeconds / 3)));
}

/**
 * The settings that apply to a client: its policy's when the policy has a `dns` object
 * (resolved by the config resolver, scope's merged under it), else its scope's. `policyDns` is
 * EnginePolicy.dns (opaque to the engine); a policy that turns DNS off resolves to `{}` with
 * `enabled: false` kept, see DNS_OFF.
 */
export function effectiveDnsSettings(
  scopeDns: DnsSettings | null | undefined,
  policyDns: Readonly<Record<string, unknown>> | null | undefined,
): DnsSettings | null {
  if (policyDns !== null && policyDns !== undefined) {
    return policyDns === DNS_OFF || policyDns.forwardZone === undefined ? null : (policyDns as DnsSettings);
  }
  return scopeDns ?? null;
}

/** EnginePolicy.dns of a policy that turns DNS off for its clients (`dns: { enabled: false }`). */
export const DNS_OFF: Readonly<Record<string, unknown>> = Object.freeze({ enabled: false });
