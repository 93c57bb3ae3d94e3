// Stage 3 of loading: the rules a schema cannot express (addresses inside their subnet, nothing
// overlapping, ids and identities unique, option values that encode, failover relationships that
// make sense), checked on a schema-valid Config while it is turned into a ResolvedConfig. Every
// problem names the JSON pointer of the value to fix. Never throws.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DNS_OFF, type DnsSettings, type DnsSettingsInput, resolveDnsSettings } from '../ddns/settings.js';
import { compileCondition, inProcessingOrder, type PolicyCondition } from '../dhcp/policy.js';
import { encodeOptionValue, type OptionValue, optionByCode, optionByName } from '../wire/dhcp-options.js';
import {
  formatIpv4,
  formatSubnet,
  type Ipv4,
  type Ipv4Subnet,
  parseIpv4,
  parseSubnet,
  subnetBroadcast,
  subnetContains,
} from '../wire/ipv4.js';
import {
  API_DEFAULTS,
  DHCP_DEFAULTS,
  FAILOVER_DEFAULTS,
  LEASE_STORE_DEFAULTS,
  LOGGING_DEFAULTS,
  SCOPE_DEFAULTS,
  SERVER_DEFAULTS,
} from './defaults.js';
import { didYouMean, pointerOf, readablePath } from './errors.js';
import type {
  CompiledOptions,
  ResolvedApiToken,
  ResolvedConfig,
  ResolvedPolicy,
  ResolvedRange,
  ResolvedRelationship,
  ResolvedReservation,
  ResolvedScope,
  ResolvedTls,
} from './resolved.js';
import type { Config, FailoverRelationship, OptionData, Policy, Scope } from './schema.js';

export interface SemanticProblem {
  pointer: string;
  message: string;
}

export interface ResolveEnvironment {
  /** Name of the file, recorded in the result. */
  file: string;
  /** Default for server.name (the shell passes os.hostname()). */
  hostname: string;
}

export type ResolveResult = { ok: true; config: ResolvedConfig } | { ok: false; problems: SemanticProblem[] };

type Path = readonly (string | number)[];

/** A policy checked at its level, before it is placed in each scope's evaluation list. */
interface PolicyDraft {
  name: string;
  description: string | null;
  processingOrder: number;
  isEnabled: boolean;
  condition: PolicyCondition;
  ranges: ResolvedRange[];
  /** The policy's own options only. */
  options: CompiledOptions;
  alwaysSend: ReadonlySet<number>;
  leaseTimeSeconds: number | null;
  dns: Readonly<Record<string, unknown>> | null;
}

/** Options the server itself manages in every exchange; configuring them would contradict it. */
const MANAGED_OPTIONS = new Map<number, string>([
  [50, 'it is sent by clients'],
  [51, 'set leaseTimeSeconds instead'],
  [52, 'the codec decides about overloading'],
  [53, 'the server sets the message type'],
  [54, 'set server.serverIdentifier instead'],
  [55, 'it is sent by clients'],
  [58, 'set renewTimeSeconds instead'],
  [59, 'set rebindTimeSeconds instead'],
  [61, 'it is sent by clients; reserve by clientId instead'],
  [82, 'relay agents add it; the server echoes it'],
]);

const MAX_HARDWARE_ADDRESS_BYTES = 16; // chaddr (RFC 2131 §2)
const MAX_CLIENT_ID_BYTES = 255;

function showRange(r: ResolvedRange): string {
  return r.start === r.end ? formatIpv4(r.start) : `${formatIpv4(r.start)}–${formatIpv4(r.end)}`;
}

function optionLabel(code: number): string {
  const def = optionByCode(code);
  return def ? `option ${code} (${def.name})` : `option ${code}`;
}

/** "aa:bb:cc:dd:ee:ff", "aa-bb-…", "aabb.ccdd.eeff" or "aabbccddeeff" → "aabbccddeeff"; null if malformed. */
export function normalizeHardwareAddress(text: string): string | null {
  const t = text.trim().toLowerCase();
  const isWellFormed =
    /^[0-9a-f]{2}(:[0-9a-f]{2})*$/.test(t) ||
    /^[0-9a-f]{2}(-[0-9a-f]{2})*$/.test(t) ||
    /^[0-9a-f]{4}(\.[0-9a-f]{4})*$/.test(t) ||
    /^([0-9a-f]{2})+$/.test(t);
  if (!isWellFormed) return null;
  const hex = t.replace(/[:.-]/g, '');
  return hex.length / 2 <= MAX_HARDWARE_ADDRESS_BYTES ? hex : null;
}

/** Client identifier hex ("01:aa:…", "01aa…", optional "hex:" prefix) → lower-case hex; null if malformed. */
export function normalizeClientId(text: string): string | null {
  const t = text.trim().toLowerCase().replace(/^hex:/, '');
  if (!/^[0-9a-f]{2}([:-]?[0-9a-f]{2})*$/.test(t)) return null;
  const hex = t.replace(/[:-]/g, '');
  // RFC 2132 §9.14: at least two octets (type and identifier).
  return hex.length >= 4 && hex.length / 2 <= MAX_CLIENT_ID_BYTES ? hex : null;
}

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  // Typed arrays cannot be frozen; Maps and Sets are exposed read-only by type.
  if (ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

class Resolver {
  readonly problems: SemanticProblem[] = [];

  constructor(
    private readonly config: Config,
    private readonly environment: ResolveEnvironment,
  ) {}

  private report(path: Path, message: string): void {
    this.problems.push({ pointer: pointerOf(path), message });
  }

  /** A PostgreSQL store needs a URL it can parse (the database itself is checked at start). */
  private checkLeaseStore(): void {
    const ls = this.config.leaseStore;
    if (ls?.type === 'postgresql') {
      if (ls.url === undefined) {
        this.report(
          ['leaseStore', 'url'],
          "leaseStore type 'postgresql' needs a url (postgresql://user:password@host/db)",
        );
        return;
      }
      let protocol = '';
      try {
        protocol = new URL(ls.url).protocol;
      } catch {
        // reported below
      }
      if (protocol !== 'postgresql:' && protocol !== 'postgres:') {
        this.report(
          ['leaseStore', 'url'],
          'not a postgresql:// URL (postgresql://user:password@host:port/database)',
        );
      }
    } else if (ls?.url !== undefined) {
      this.report(['leaseStore', 'url'], "url is for leaseStore type 'postgresql'");
    }
  }

  resolve(): ResolveResult {
    const c = this.config;
    const serverName = c.server?.name ?? this.environment.hostname;
    const serverWide = this.compileOptions(c.options, ['options'], null);
    const leaseTimeSeconds = c.leaseTimeSeconds ?? SERVER_DEFAULTS.leaseTimeSeconds;

    let serverIdentifier: Ipv4 | null = null;
    if (c.server?.serverIdentifier !== undefined) {
      serverIdentifier = parseIpv4(c.server.serverIdentifier);
      if (serverIdentifier === 0 || serverIdentifier === 0xffffffff) {
        this.report(['server', 'serverIdentifier'], `${c.server.serverIdentifier} cannot identify a server`);
      }
    }

    const scopes = c.scopes.map((s, i) => this.resolveScope(s, i, serverWide, leaseTimeSeconds));
    this.checkAcrossScopes(c.scopes, scopes);
    const serverPolicies = this.resolvePolicies(c.policies, ['policies'], null);
    const scopePolicies = c.scopes.map((s, i) =>
      this.resolvePolicies(s.policies, ['scopes', i, 'policies'], scopes[i] ?? null),
    );
    const failover = this.resolveFailover(c.failover ?? [], scopes, serverName);
    const tokens = this.resolveTokens();
    const apiTls = this.resolveTls(c.api?.tls, ['api', 'tls']);
    this.checkLeaseStore();
    this.checkDhcpMode();

    if (this.problems.length > 0) return { ok: false, problems: this.problems };

    const relationshipOf = new Map<string, string>();
    for (const r of failover) for (const id of r.scopeIds) relationshipOf.set(id, r.name);
    const resolvedScopes: ResolvedScope[] = [];
    for (const [i, s] of scopes.entries()) {
      if (s === null)
        return { ok: false, problems: [{ pointer: '/scopes', message: 'internal: unresolved scope' }] };
      const policies = policiesInScope(s, scopePolicies[i] ?? [], serverPolicies);
      resolvedScopes.push({
        ...s,
        failoverRelationship: relationshipOf.get(s.id) ?? null,
        ...(policies.length > 0 ? { policies } : {}),
      });
    }

    const config: ResolvedConfig = {
      file: this.environment.file,
      server: { name: serverName, serverIdentifier },
      dhcp: {
        listenAddress: parseIpv4(c.dhcp?.listenAddress ?? DHCP_DEFAULTS.listenAddress),
        port: c.dhcp?.port ?? DHCP_DEFAULTS.port,
        clientPort: c.dhcp?.clientPort ?? DHCP_DEFAULTS.clientPort,
        interface: c.dhcp?.interface ?? null,
        broadcastAddress: parseIpv4(c.dhcp?.broadcastAddress ?? DHCP_DEFAULTS.broadcastAddress),
        mode: c.dhcp?.mode ?? DHCP_DEFAULTS.mode,
        interfaces: [...(c.dhcp?.interfaces ?? [])],
        pingCheck: {
          attempts: c.dhcp?.pingCheck?.attempts ?? DHCP_DEFAULTS.pingCheckAttempts,
          timeoutMs: c.dhcp?.pingCheck?.timeoutMs ?? DHCP_DEFAULTS.pingCheckTimeoutMs,
        },
        warmUp: {
          exchanges: c.dhcp?.warmUp?.exchanges ?? DHCP_DEFAULTS.warmUpExchanges,
          maxMs: c.dhcp?.warmUp?.maxMs ?? DHCP_DEFAULTS.warmUpMaxMs,
        },
      },
      leaseStore: {
        type: c.leaseStore?.type ?? LEASE_STORE_DEFAULTS.type,
        path: c.leaseStore?.path ?? LEASE_STORE_DEFAULTS.path,
        commitIntervalMs: c.leaseStore?.commitIntervalMs ?? LEASE_STORE_DEFAULTS.commitIntervalMs,
        commitBatchSize: c.leaseStore?.commitBatchSize ?? LEASE_STORE_DEFAULTS.commitBatchSize,
        commitMaxDelayMs: c.leaseStore?.commitMaxDelayMs ?? LEASE_STORE_DEFAULTS.commitMaxDelayMs,
        writerThread: c.leaseStore?.writerThread ?? LEASE_STORE_DEFAULTS.writerThread,
        url: c.leaseStore?.url ?? null,
        poolSize: c.leaseStore?.poolSize ?? LEASE_STORE_DEFAULTS.poolSize,
        connectTimeoutMs: c.leaseStore?.connectTimeoutMs ?? LEASE_STORE_DEFAULTS.connectTimeoutMs,
        statementTimeoutMs: c.leaseStore?.statementTimeoutMs ?? LEASE_STORE_DEFAULTS.statementTimeoutMs,
      },
      logging: {
        level: c.logging?.level ?? LOGGING_DEFAULTS.level,
        isGrantLogged: c.logging?.grants ?? LOGGING_DEFAULTS.grants,
      },
      api: {
        listenAddress: parseIpv4(c.api?.listenAddress ?? API_DEFAULTS.listenAddress),
        port: c.api?.port ?? API_DEFAULTS.port,
        tokens,
        tls: apiTls,
      },
      leaseTimeSeconds,
      options: serverWide.options,
      alwaysSend: serverWide.alwaysSend,
      scopes: resolvedScopes,
      failover,
    };
    return { ok: true, config: deepFreeze(config) };
  }

  // -------------------------------------------------------------------------------------------
  // Options

  /** Compiles one option list; with `base`, the result is base overridden code by code. */
  private compileOptions(
    list: readonly OptionData[] | undefined,
    path: Path,
    base: { options: CompiledOptions; alwaysSend: ReadonlySet<number> } | null,
  ): { options: Map<number, Uint8Array>; alwaysSend: Set<number> } {
    const options = new Map<number, Uint8Array>(base?.options ?? []);
    const alwaysSend = new Set<number>(base?.alwaysSend ?? []);
    const definedAt = new Map<number, Path>();
    (list ?? []).forEach((o, i) => {
      const at = [...path, i];
      if (o.name === undefined && o.code === undefined) {
        this.report(at, "an option needs a 'name' or a 'code'");
        return;
      }
      if (o.name !== undefined && o.code !== undefined) {
        const def = optionByName(o.name);
        if (def !== undefined && def.code !== o.code) {
          this.report(
            [...at, 'code'],
            `code ${o.code} contradicts name '${o.name}' (option ${def.code}); give one of them`,
          );
          return;
        }
      }
      const encoded = encodeOptionValue(o.name ?? (o.code as number), o.data as OptionValue);
      if (!encoded.ok) {
        const isNameProblem = o.name !== undefined && optionByName(o.name) === undefined;
        this.report([...at, isNameProblem ? 'name' : 'data'], encoded.message);
        return;
      }
      const managed = MANAGED_OPTIONS.get(encoded.code);
      if (managed !== undefined) {
        this.report(
          [...at, o.name !== undefined ? 'name' : 'code'],
          `${optionLabel(encoded.code)} is managed by the server; ${managed}`,
        );
        return;
      }
      const earlier = definedAt.get(encoded.code);
      if (earlier !== undefined) {
        this.report(at, `${optionLabel(encoded.code)} is already set by ${readablePath(pointerOf(earlier))}`);
        return;
      }
      definedAt.set(encoded.code, at);
      options.set(encoded.code, encoded.data);
      // The winning definition decides, so a scope can turn off a server-wide alwaysSend.
      if (o.alwaysSend === true) alwaysSend.add(encoded.code);
      else alwaysSend.delete(encoded.code);
    });
    return { options, alwaysSend };
  }

  // -------------------------------------------------------------------------------------------
  // Scopes

  private resolveRange(
    range: { start: string; end: string },
    path: Path,
    subnet: Ipv4Subnet | null,
  ): ResolvedRange | null {
    const start = parseIpv4(range.start);
    const end = parseIpv4(range.end);
    let isValid = true;
    if (subnet !== null) {
      for (const [key, address] of [
        ['start', start],
        ['end', end],
      ] as const) {
        if (!subnetContains(subnet, address)) {
          this.report(
            [...path, key],
            `${formatIpv4(address)} is outside the scope subnet ${formatSubnet(subnet)}`,
          );
          isValid = false;
        }
      }
    }
    if (start > end) {
      this.report([...path, 'end'], `${range.end} is before the start of the range (${range.start})`);
      isValid = false;
    }
    return isValid && subnet !== null ? { start, end } : null;
  }

  private resolveScope(
    scope: Scope,
    i: number,
    serverWide: { options: CompiledOptions; alwaysSend: ReadonlySet<number> },
    serverLeaseTimeSeconds: number,
  ): Omit<ResolvedScope, 'failoverRelationship'> | null {
    const at: Path = ['scopes', i];
    let subnet: Ipv4Subnet | null = null;
    try {
      subnet = parseSubnet(scope.subnet);
    } catch (e) {
      this.report([...at, 'subnet'], e instanceof Error ? e.message : String(e));
    }

    const ranges: ResolvedRange[] = [];
    scope.ranges.forEach((r, j) => {
      const resolved = this.resolveRange(r, [...at, 'ranges', j], subnet);
      if (resolved) ranges.push(resolved);
    });
    const exclusions: ResolvedRange[] = [];
    (scope.exclusions ?? []).forEach((r, j) => {
      const resolved = this.resolveRange(r, [...at, 'exclusions', j], subnet);
      if (resolved) exclusions.push(resolved);
    });

    const reservations: ResolvedReservation[] = [];
    const byAddress = new Map<Ipv4, number>();
    const byHardware = new Map<string, number>();
    const byClientId = new Map<string, number>();
    (scope.reservations ?? []).forEach((r, k) => {
      const rAt: Path = [...at, 'reservations', k];
      const address = parseIpv4(r.address);
      if (subnet !== null) {
        if (!subnetContains(subnet, address)) {
          this.report(
            [...rAt, 'address'],
            `${r.address} is outside the scope subnet ${formatSubnet(subnet)}`,
          );
        } else if (
          subnet.prefixLength <= 30 &&
          (address === subnet.network || address === subnetBroadcast(subnet))
        ) {
          const which = address === subnet.network ? 'network' : 'broadcast';
          this.report([...rAt, 'address'], `${r.address} is the ${which} address of ${formatSubnet(subnet)}`);
        }
      }
      const exclusion = exclusions.find((x) => address >= x.start && address <= x.end);
      if (exclusion)
        this.report([...rAt, 'address'], `${r.address} is inside the exclusion ${showRange(exclusion)}`);
      const earlierAddress = byAddress.get(address);
      if (earlierAddress !== undefined) {
        this.report(
          [...rAt, 'address'],
          `${r.address} is already reserved by ${readablePath(pointerOf([...at, 'reservations', earlierAddress]))}`,
        );
      } else byAddress.set(address, k);

      let hardwareAddress: string | null = null;
      let clientId: string | null = null;
      if (r.hardwareAddress === undefined && r.clientId === undefined) {
        this.report(rAt, "a reservation needs a 'hardwareAddress' or a 'clientId'");
      }
      if (r.hardwareAddress !== undefined) {
        hardwareAddress = normalizeHardwareAddress(r.hardwareAddress);
        if (hardwareAddress === null) {
          this.report(
            [...rAt, 'hardwareAddress'],
            `${JSON.stringify(r.hardwareAddress)} is not a hardware address (1–16 hex bytes, e.g. aa:bb:cc:dd:ee:ff)`,
          );
        } else {
          const earlier = byHardware.get(hardwareAddress);
          if (earlier !== undefined) {
            this.report(
              [...rAt, 'hardwareAddress'],
              `${r.hardwareAddress} already has a reservation: ${readablePath(pointerOf([...at, 'reservations', earlier]))}`,
            );
          } else byHardware.set(hardwareAddress, k);
        }
      }
      if (r.clientId !== undefined) {
        clientId = normalizeClientId(r.clientId);
        if (clientId === null) {
          this.report(
            [...rAt, 'clientId'],
            `${JSON.stringify(r.clientId)} is not a client identifier (2–255 hex bytes, e.g. 01:aa:bb:cc:dd:ee:ff)`,
          );
        } else {
          const earlier = byClientId.get(clientId);
          if (earlier !== undefined) {
            this.report(
              [...rAt, 'clientId'],
              `${r.clientId} already has a reservation: ${readablePath(pointerOf([...at, 'reservations', earlier]))}`,
            );
          } else byClientId.set(clientId, k);
        }
      }
      const own = this.compileOptions(r.options, [...rAt, 'options'], null);
      reservations.push({
        address,
        hardwareAddress,
        clientId,
        hostname: r.hostname ?? null,
        description: r.description ?? null,
        options: own.options,
        alwaysSend: own.alwaysSend,
      });
    });

    const merged = this.compileOptions(scope.options, [...at, 'options'], serverWide);

    const relayAddresses: Ipv4[] = [];
    (scope.relayAddresses ?? []).forEach((text, k) => {
      const address = parseIpv4(text);
      if (relayAddresses.includes(address))
        this.report([...at, 'relayAddresses', k], `${text} is listed twice`);
      else relayAddresses.push(address);
    });

    const leaseTimeSeconds = scope.leaseTimeSeconds ?? serverLeaseTimeSeconds;
    const renewTimeSeconds =
      scope.renewTimeSeconds ?? Math.floor(leaseTimeSeconds * SERVER_DEFAULTS.renewFraction);
    const rebindTimeSeconds =
      scope.rebindTimeSeconds ?? Math.floor(leaseTimeSeconds * SERVER_DEFAULTS.rebindFraction);
    this.checkTimers(scope, at, leaseTimeSeconds, renewTimeSeconds, rebindTimeSeconds);
    const dns = this.resolveDns(scope.dns, null, [...at, 'dns']);

    if (subnet === null) return null;
    return {
      id: scope.id ?? formatIpv4(subnet.network),
      name: scope.name ?? null,
      description: scope.description ?? null,
      isActive: scope.active ?? true,
      subnet,
      ranges,
      exclusions,
      reservations,
      options: merged.options,
      alwaysSend: merged.alwaysSend,
      leaseTimeSeconds,
      renewTimeSeconds,
      rebindTimeSeconds,
      relayAddresses,
      dynamicBootp: scope.dynamicBootp ?? SCOPE_DEFAULTS.dynamicBootp,
      bootpLeaseSeconds:
        scope.bootpLeaseSeconds === undefined ? SCOPE_DEFAULTS.bootpLeaseSeconds : scope.bootpLeaseSeconds,
      declineHoldSeconds: scope.declineHoldSeconds ?? SCOPE_DEFAULTS.declineHoldSeconds,
      offerHoldSeconds: scope.offerHoldSeconds ?? SCOPE_DEFAULTS.offerHoldSeconds,
      authoritative: scope.authoritative ?? SCOPE_DEFAULTS.authoritative,
      ...(dns === null ? {} : { dns }),
    };
  }

  /** Dynamic DNS settings (src/ddns/settings.ts); problems reported under `path`. */
  private resolveDns(
    own: DnsSettingsInput | undefined,
    base: DnsSettings | null,
    path: Path,
  ): DnsSettings | null {
    const { settings, problems } = resolveDnsSettings(own, base);
    for (const p of problems) this.report([...path, ...p.path], p.message);
    return settings;
  }

  // -------------------------------------------------------------------------------------------
  // Policies (docs/policies.md)

  /** Checks one level's policies; `scope` is null for the server-wide list. */
  private resolvePolicies(
    list: readonly Policy[] | undefined,
    path: Path,
    scope: Omit<ResolvedScope, 'failoverRelationship'> | null,
  ): PolicyDraft[] {
    const byName = new Map<string, number>();
    const byOrder = new Map<number, number>();
    const taken: { range: ResolvedRange; at: Path }[] = [];
    const out: PolicyDraft[] = [];
    (list ?? []).forEach((p, i) => {
      const at: Path = [...path, i];
      const earlierName = byName.get(p.name);
      if (earlierName !== undefined)
        this.report(
          [...at, 'name'],
          `policy name '${p.name}' is already used by ${readablePath(pointerOf([...path, earlierName]))}`,
        );
      else byName.set(p.name, i);
      const earlierOrder = byOrder.get(p.processingOrder);
      if (earlierOrder !== undefined)
        this.report(
          [...at, 'processingOrder'],
          `processing order ${p.processingOrder} is already used by ${readablePath(pointerOf([...path, earlierOrder]))} ('${list?.[earlierOrder]?.name}'); each policy of a level has its own`,
        );
      else byOrder.set(p.processingOrder, i);

      const compiled = compileCondition(p.conditions);
      if (!compiled.ok)
        for (const problem of compiled.problems)
          this.report([...at, 'conditions', ...problem.path], problem.message);

      const ranges: ResolvedRange[] = [];
      if (p.ranges !== undefined && p.ranges.length > 0 && path[0] === 'policies') {
        this.report(
          [...at, 'ranges'],
          'only a scope policy has ranges (as in Windows); move the policy into the scope, or keep its options and lease time here',
        );
      } else if (scope !== null) {
        (p.ranges ?? []).forEach((r, j) => {
          const rAt: Path = [...at, 'ranges', j];
          const range = this.resolveRange(r, rAt, scope.subnet);
          if (range === null) return;
          if (!isCovered(range, scope.ranges)) {
            this.report(
              rAt,
              `${showRange(range)} is not inside the scope's ranges (${scope.ranges.map(showRange).join(', ')}); a policy hands out scope addresses only`,
            );
            return;
          }
          const overlap = taken.find((t) => range.start <= t.range.end && t.range.start <= range.end);
          if (overlap !== undefined) {
            this.report(
              rAt,
              `${showRange(range)} overlaps ${readablePath(pointerOf(overlap.at))} (${showRange(overlap.range)}); an address belongs to one policy at most`,
            );
            return;
          }
          taken.push({ range, at: rAt });
          ranges.push(range);
        });
      }

      const own = this.compileOptions(p.options, [...at, 'options'], null);
      if (p.dns !== undefined) {
        // Checked over the scope's settings; a server policy's over any complete settings (in a
        // scope without DNS settings of its own, it needs forwardZone and server itself).
        this.resolveDns(p.dns, scope?.dns ?? (scope === null ? POLICY_DNS_CHECK_BASE : null), [...at, 'dns']);
      }
      if (!compiled.ok) return;
      out.push({
        name: p.name,
        description: p.description ?? null,
        processingOrder: p.processingOrder,
        isEnabled: p.enabled ?? true,
        condition: compiled.condition,
        ranges,
        options: own.options,
        alwaysSend: own.alwaysSend,
        leaseTimeSeconds: p.leaseTimeSeconds ?? null,
        dns: (p.dns as Readonly<Record<string, unknown>> | undefined) ?? null,
      });
    });
    return out;
  }

  /** RFC 2131 §4.4.5: T1 < T2 < lease. Only explicit values can break it (defaults are 50 % and 87.5 %). */
  private checkTimers(scope: Scope, at: Path, lease: number, renew: number, rebind: number): void {
    const hasRenew = scope.renewTimeSeconds !== undefined;
    const hasRebind = scope.rebindTimeSeconds !== undefined;
    if (!hasRenew && !hasRebind) return;
    if (renew >= rebind) {
      if (hasRenew && hasRebind) {
        this.report([...at, 'renewTimeSeconds'], `${renew} must be less than rebindTimeSeconds (${rebind})`);
      } else if (hasRenew) {
        this.report(
          [...at, 'renewTimeSeconds'],
          `${renew} must be less than the rebind time (${rebind}, 87.5% of the lease time ${lease})`,
        );
      } else {
        this.report(
          [...at, 'rebindTimeSeconds'],
          `${rebind} must be greater than the renew time (${renew}, 50% of the lease time ${lease})`,
        );
      }
    }
    if (rebind >= lease) {
      const key = hasRebind ? 'rebindTimeSeconds' : 'renewTimeSeconds';
      const value = hasRebind ? rebind : renew;
      if (hasRebind || renew >= lease)
        this.report([...at, key], `${value} must be less than the lease time (${lease})`);
    }
  }

  private checkAcrossScopes(
    configured: readonly Scope[],
    scopes: readonly (Omit<ResolvedScope, 'failoverRelationship'> | null)[],
  ): void {
    // Subnets never overlap: a client's network must select exactly one scope.
    for (let j = 0; j < scopes.length; j++) {
      const b = scopes[j];
      if (!b) continue;
      for (let i = 0; i < j; i++) {
        const a = scopes[i];
        if (!a) continue;
        const mask = a.subnet.prefixLength < b.subnet.prefixLength ? a.subnet.mask : b.subnet.mask;
        if ((a.subnet.network & mask) >>> 0 === (b.subnet.network & mask) >>> 0) {
          this.report(
            ['scopes', j, 'subnet'],
            `${formatSubnet(b.subnet)} overlaps scopes[${i}].subnet (${formatSubnet(a.subnet)})`,
          );
          break;
        }
      }
    }

    // Scope ids are unique.
    const idOwner = new Map<string, number>();
    scopes.forEach((s, j) => {
      if (!s) return;
      const earlier = idOwner.get(s.id);
      if (earlier === undefined) {
        idOwner.set(s.id, j);
        return;
      }
      const isExplicit = configured[j]?.id !== undefined;
      this.report(
        ['scopes', j, isExplicit ? 'id' : 'subnet'],
        isExplicit
          ? `scope id '${s.id}' is already used by scopes[${earlier}]`
          : `the default scope id '${s.id}' (the subnet's network address) is already used by scopes[${earlier}]; set a distinct 'id'`,
      );
    });

    // No address is in two ranges, within a scope or across scopes.
    const all: { range: ResolvedRange; path: Path }[] = [];
    configured.forEach((scope, i) => {
      if (!scopes[i]) return;
      scope.ranges.forEach((r, j) => {
        const start = parseIpv4(r.start);
        const end = parseIpv4(r.end);
        if (scopes[i]?.ranges.some((x) => x.start === start && x.end === end))
          all.push({ range: { start, end }, path: ['scopes', i, 'ranges', j] });
      });
    });
    all.sort(
      (x, y) => x.range.start - y.range.start || x.range.end - y.range.end || comparePaths(x.path, y.path),
    );
    let widest: { range: ResolvedRange; path: Path } | null = null;
    for (const current of all) {
      if (widest !== null && current.range.start <= widest.range.end) {
        // Report the later of the two in the file, naming the other.
        const [report, other] =
          comparePaths(current.path, widest.path) > 0 ? [current, widest] : [widest, current];
        this.report(
          report.path,
          `${showRange(report.range)} overlaps ${readablePath(pointerOf(other.path))} (${showRange(other.range)})`,
        );
      }
      if (widest === null || current.range.end > widest.range.end) widest = current;
    }

    // A relay address selects one scope: not listed twice, not inside another scope's subnet.
    const relayOwner = new Map<Ipv4, number>();
    configured.forEach((scope, i) => {
      (scope.relayAddresses ?? []).forEach((text, k) => {
        const address = parseIpv4(text);
        const inside = scopes.findIndex((s, j) => j !== i && s !== null && subnetContains(s.subnet, address));
        const insideScope = inside >= 0 ? scopes[inside] : null;
        if (insideScope) {
          this.report(
            ['scopes', i, 'relayAddresses', k],
            `${text} is inside scopes[${inside}].subnet (${formatSubnet(insideScope.subnet)}), which a relay with that address selects`,
          );
          return;
        }
        const owner = relayOwner.get(address);
        if (owner !== undefined && owner !== i) {
          this.report(
            ['scopes', i, 'relayAddresses', k],
            `${text} is already a relay address of scopes[${owner}]`,
          );
        } else relayOwner.set(address, i);
      });
    });
  }

  // -------------------------------------------------------------------------------------------
  // Failover

  private resolveFailover(
    relationships: readonly FailoverRelationship[],
    scopes: readonly (Omit<ResolvedScope, 'failoverRelationship'> | null)[],
    serverName: string,
  ): ResolvedRelationship[] {
    const scopeIds = new Set(scopes.flatMap((s) => (s ? [s.id] : [])));
    // A scope whose subnet is broken has no default id; do not add "no such scope" to its error.
    this.config.scopes.forEach((s, i) => {
      if (scopes[i] === null && s.id !== undefined) scopeIds.add(s.id);
    });
    const hasUnknownIds = this.config.scopes.some((s, i) => scopes[i] === null && s.id === undefined);
    const nameOwner = new Map<string, number>();
    const scopeOwner = new Map<string, number>();
    const out: ResolvedRelationship[] = [];
    relationships.forEach((r, i) => {
      const at: Path = ['failover', i];
      const earlierName = nameOwner.get(r.name);
      if (earlierName !== undefined)
        this.report(
          [...at, 'name'],
          `relationship name '${r.name}' is already used by failover[${earlierName}]`,
        );
      else nameOwner.set(r.name, i);

      const seen = new Set<string>();
      r.scopeIds.forEach((id, k) => {
        const idAt = [...at, 'scopeIds', k];
        if (seen.has(id)) {
          this.report(idAt, `scope '${id}' is listed twice`);
          return;
        }
        seen.add(id);
        if (!scopeIds.has(id)) {
          if (hasUnknownIds) return;
          this.report(idAt, `no scope has the id '${id}'${didYouMean(id, scopeIds)}`);
          return;
        }
        const owner = scopeOwner.get(id);
        if (owner !== undefined) {
          this.report(
            idAt,
            `scope '${id}' is already in relationship '${relationships[owner]?.name}' (failover[${owner}])`,
          );
        } else scopeOwner.set(id, i);
      });

      const local = {
        address: parseIpv4(r.local.address),
        port: r.local.port ?? FAILOVER_DEFAULTS.port,
        name: r.local.name ?? serverName,
      };
      const partner = {
        address: parseIpv4(r.partner.address),
        port: r.partner.port ?? FAILOVER_DEFAULTS.port,
        name: r.partner.name ?? null,
      };
      if (local.address === partner.address && local.port === partner.port) {
        this.report(
          [...at, 'partner', 'address'],
          `the partner is this server itself (${r.partner.address} port ${partner.port}, same as local)`,
        );
      }

      const auth = r.auth ?? FAILOVER_DEFAULTS.auth;
      if (auth === 'none' && r.sharedSecret !== undefined) {
        this.report(
          [...at, 'sharedSecret'],
          "a shared secret is set but auth is 'none'; set auth or remove the secret",
        );
      }
      if (auth !== 'none' && r.sharedSecret === undefined) {
        this.report(at, `missing property 'sharedSecret' (required when auth is '${auth}')`);
      }

      const mode = r.mode ?? FAILOVER_DEFAULTS.mode;
      if (mode === 'loadBalance') {
        if (r.serverRole !== undefined)
          this.report([...at, 'serverRole'], "applies only to mode 'hotStandby'");
        if (r.reservePercent !== undefined)
          this.report([...at, 'reservePercent'], "applies only to mode 'hotStandby'");
      } else if (r.loadBalancePercent !== undefined) {
        this.report([...at, 'loadBalancePercent'], "applies only to mode 'loadBalance'");
      }

      const interval = r.stateSwitchIntervalSeconds ?? null;
      if (r.autoStateTransition === false && interval !== null) {
        this.report(
          [...at, 'stateSwitchIntervalSeconds'],
          'is set but autoStateTransition is false; remove one of them',
        );
      }
      let partnerApi: ResolvedRelationship['partnerApi'] | null = null;
      if (r.partner.api !== undefined) {
        let url: URL | null = null;
        try {
          url = new URL(r.partner.api.url);
        } catch {
          this.report([...at, 'partner', 'api', 'url'], `'${r.partner.api.url}' is not a URL`);
        }
        if (url !== null && (url.search !== '' || url.hash !== '' || url.username !== '')) {
          this.report(
            [...at, 'partner', 'api', 'url'],
            'must be a base URL without credentials, query or fragment (http://host:port)',
          );
        }
        partnerApi = { url: r.partner.api.url.replace(/\/+$/, ''), token: r.partner.api.token ?? null };
      }

      // Windows semantics: setting the interval turns automatic transition on.
      const autoStateTransition = r.autoStateTransition ?? interval !== null;

      out.push({
        name: r.name,
        role: r.role,
        mode,
        serverRole:
          mode === 'hotStandby' ? (r.serverRole ?? (r.role === 'primary' ? 'active' : 'standby')) : null,
        loadBalancePercent: r.loadBalancePercent ?? FAILOVER_DEFAULTS.loadBalancePercent,
        reservePercent: r.reservePercent ?? FAILOVER_DEFAULTS.reservePercent,
        mcltSeconds: r.mcltSeconds ?? FAILOVER_DEFAULTS.mcltSeconds,
        autoStateTransition,
        stateSwitchIntervalSeconds: autoStateTransition
          ? (interval ?? FAILOVER_DEFAULTS.enabledStateSwitchIntervalSeconds)
          : null,
        auth,
        sharedSecret: auth === 'none' ? null : (r.sharedSecret ?? null),
        local,
        partner,
        scopeIds: [...r.scopeIds],
        maxUnackedUpdates: r.maxUnackedUpdates ?? FAILOVER_DEFAULTS.maxUnackedUpdates,
        receiveTimerSeconds: r.receiveTimerSeconds ?? FAILOVER_DEFAULTS.receiveTimerSeconds,
        loadBalanceMaxSeconds: r.loadBalanceMaxSeconds ?? FAILOVER_DEFAULTS.loadBalanceMaxSeconds,
        hbaBitMeaning: r.hbaBitMeaning ?? FAILOVER_DEFAULTS.hbaBitMeaning,
        poolSplit: r.poolSplit ?? FAILOVER_DEFAULTS.poolSplit,
        maxClockSkewSeconds: r.maxClockSkewSeconds ?? FAILOVER_DEFAULTS.maxClockSkewSeconds,
        ...(partnerApi === null ? {} : { partnerApi }),
        tls: this.resolveTls(r.tls, [...at, 'tls']),
      });
    });
    this.checkFailoverListeners(out);
    return out;
  }

  /** dhcp.mode: which settings belong to which mode (README "DHCP modes"). */
  private checkDhcpMode(): void {
    const d = this.config.dhcp;
    if (d === undefined) return;
    const mode = d.mode ?? DHCP_DEFAULTS.mode;
    if (mode === 'udp' && d.interfaces !== undefined) {
      this.report(
        ['dhcp', 'interfaces'],
        "applies only to mode 'direct' (udp mode serves one directly attached interface: set 'interface')",
      );
    }
    if (mode !== 'direct') return;
    if (d.interfaces === undefined) {
      this.report(['dhcp'], "mode 'direct' needs 'interfaces': the interfaces to serve");
    }
    for (const key of ['interface', 'broadcastAddress', 'listenAddress'] as const) {
      if (d[key] !== undefined) {
        this.report(
          ['dhcp', key],
          `applies only to mode 'udp' (direct mode answers on each of 'interfaces' by the interface itself)`,
        );
      }
    }
    const seen = new Set<string>();
    (d.interfaces ?? []).forEach((name, i) => {
      if (seen.has(name)) this.report(['dhcp', 'interfaces', i], `interface '${name}' is listed twice`);
      seen.add(name);
    });
  }

  /**
   * Any number of relationships may share a local address and port: one listener serves them all
   * and routes each connection by the partner's address and the CONNECT's relationship name
   * (src/server/failover-listener.ts). On one port, 0.0.0.0 and a specific address cannot both be
   * bound (EADDRINUSE), so that mix is refused here rather than at start.
   */
  private checkFailoverListeners(relationships: readonly ResolvedRelationship[]): void {
    const firstByPort = new Map<number, { address: Ipv4; index: number }>();
    relationships.forEach((r, i) => {
      const first = firstByPort.get(r.local.port);
      if (first === undefined) {
        firstByPort.set(r.local.port, { address: r.local.address, index: i });
        return;
      }
      if (first.address === r.local.address || (first.address !== 0 && r.local.address !== 0)) return;
      this.report(
        ['failover', i, 'local', 'address'],
        `listens on ${formatIpv4(r.local.address)} port ${r.local.port}, where failover[${first.index}] listens on ${formatIpv4(first.address)}: relationships on one port use the same local address (or distinct addresses, none of them 0.0.0.0)`,
      );
    });
  }

  /**
   * TLS files: each must be readable and hold what it says (a PEM certificate, a private key that
   * belongs to it), so a wrong path is a config error with its place, not a failure at the first
   * connection.
   */
  private resolveTls(
    tls: { cert: string; key: string; ca?: string } | undefined,
    at: Path,
  ): ResolvedTls | null {
    if (tls === undefined) return null;
    const read = (field: string, path: string): string | null => {
      try {
        return readFileSync(path, 'utf8');
      } catch (e) {
        this.report(
          [...at, field],
          `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
        return null;
      }
    };
    const certPem = read('cert', tls.cert);
    const keyPem = read('key', tls.key);
    const caPem = tls.ca === undefined ? null : read('ca', tls.ca);
    let cert: X509Certificate | null = null;
    if (certPem !== null) {
      try {
        cert = new X509Certificate(certPem);
      } catch {
        this.report([...at, 'cert'], `${tls.cert} holds no PEM certificate`);
      }
    }
    if (keyPem !== null) {
      try {
        const key = createPrivateKey(keyPem);
        if (cert !== null && !cert.checkPrivateKey(key))
          this.report([...at, 'key'], `${tls.key} is not the private key of the certificate ${tls.cert}`);
      } catch {
        this.report([...at, 'key'], `${tls.key} holds no PEM private key`);
      }
    }
    if (caPem !== null) {
      try {
        new X509Certificate(caPem);
      } catch {
        this.report([...at, 'ca'], `${tls.ca} holds no PEM certificate`);
      }
    }
    return { certPath: tls.cert, keyPath: tls.key, caPath: tls.ca ?? null };
  }

  // -------------------------------------------------------------------------------------------
  // API

  private resolveTokens(): ResolvedApiToken[] {
    const byName = new Map<string, number>();
    const byToken = new Map<string, number>();
    const out: ResolvedApiToken[] = [];
    (this.config.api?.tokens ?? []).forEach((t, k) => {
      const at: Path = ['api', 'tokens', k];
      const earlierName = byName.get(t.name);
      if (earlierName !== undefined)
        this.report([...at, 'name'], `token name '${t.name}' is already used by api.tokens[${earlierName}]`);
      else byName.set(t.name, k);
      const earlierToken = byToken.get(t.token);
      // Never echo the token itself.
      if (earlierToken !== undefined)
        this.report(
          [...at, 'token'],
          `the same token as api.tokens[${earlierToken}]; every token must be distinct`,
        );
      else byToken.set(t.token, k);
      out.push({ name: t.name, token: t.token, isReadOnly: t.readOnly ?? false });
    });
    return out;
  }
}

/** Whether every address of `range` is in one of `ranges` (which do not overlap). */
function isCovered(range: ResolvedRange, ranges: readonly ResolvedRange[]): boolean {
  let next = range.start;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    if (r.end < next || r.start > next) continue;
    if (r.end >= range.end) return true;
    next = r.end + 1;
  }
  return false;
}

/**
 * A scope's evaluation list (Windows): its own enabled policies by processing order, then the
 * server's. Options: the policy's own over the scope's (which already has the server's under it).
 */
function policiesInScope(
  scope: Omit<ResolvedScope, 'failoverRelationship'>,
  own: readonly PolicyDraft[],
  serverWide: readonly PolicyDraft[],
): ResolvedPolicy[] {
  const place = (d: PolicyDraft, level: 'scope' | 'server'): ResolvedPolicy => {
    const options = new Map([...scope.options, ...d.options]);
    const alwaysSend = new Set([...scope.alwaysSend].filter((code) => !d.options.has(code)));
    for (const code of d.alwaysSend) alwaysSend.add(code);
    const lease = d.leaseTimeSeconds;
    return {
      name: d.name,
      description: d.description,
      level,
      processingOrder: d.processingOrder,
      condition: d.condition,
      ranges: d.ranges,
      options,
      alwaysSend,
      leaseTimeSeconds: lease ?? scope.leaseTimeSeconds,
      renewTimeSeconds:
        lease === null ? scope.renewTimeSeconds : Math.floor(lease * SERVER_DEFAULTS.renewFraction),
      rebindTimeSeconds:
        lease === null ? scope.rebindTimeSeconds : Math.floor(lease * SERVER_DEFAULTS.rebindFraction),
      dns: policyDnsIn(scope.dns ?? null, d.dns),
    };
  };
  return [
    ...inProcessingOrder(own.filter((d) => d.isEnabled)).map((d) => place(d, 'scope')),
    ...inProcessingOrder(serverWide.filter((d) => d.isEnabled)).map((d) => place(d, 'server')),
  ];
}

/** Complete settings a server policy's `dns` is checked over (its fields are checked, not their absence). */
const POLICY_DNS_CHECK_BASE: DnsSettings = {
  forwardZone: 'check.invalid',
  reverseZone: null,
  serverAddress: '127.0.0.1',
  serverPort: 53,
  serverSourcePort: null,
  tsigKey: null,
  updateBothRecords: false,
  nameProtection: true,
  cleanupOnDelete: true,
  ttlSeconds: null,
};

/**
 * EnginePolicy.dns of a policy in a scope: null when the policy sets none (the scope's apply), its
 * settings merged over the scope's, or DNS_OFF (`enabled: false`, or incomplete settings in a
 * scope without DNS settings).
 */
function policyDnsIn(
  scopeDns: DnsSettings | null,
  own: Readonly<Record<string, unknown>> | null,
): Readonly<Record<string, unknown>> | null {
  if (own === null) return null;
  return resolveDnsSettings(own as DnsSettingsInput, scopeDns).settings ?? DNS_OFF;
}

function comparePaths(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

/** Stage 3: semantic checks and resolution of a schema-valid config. */
export function resolveConfig(config: Config, environment: ResolveEnvironment): ResolveResult {
  return new Resolver(config, environment).resolve();
}
