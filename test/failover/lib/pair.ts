// A failover pair in one process, without sockets: two DHCP engines, two failover endpoints, an
// in-memory "TCP" between them (messages go through the real codec), durable stores modelled as
// maps, and a virtual clock. The product's cores run unchanged; only the shell is replaced.

import type { ResolvedRelationship } from '../../../src/config/resolved.js';
import { DhcpEngine } from '../../../src/dhcp/engine.js';
import type { Lease } from '../../../src/dhcp/lease.js';
import type { EngineScope } from '../../../src/dhcp/scope.js';
import { FailoverEndpoint, metaKeyOf, type PersistedRelationship } from '../../../src/failover/endpoint.js';
import type { UnmeasuredRestart } from '../../../src/failover/lease-time.js';
import type { ConnectionId, EndpointAction, EndpointInput } from '../../../src/failover/types.js';
import { DhcpMessageType, type DhcpPacket } from '../../../src/wire/dhcp-packet.js';
import { decodeFailover, encodeFailover } from '../../../src/wire/failover-codec.js';
import { FailoverMessageType } from '../../../src/wire/failover-message.js';
import type { Ipv4 } from '../../../src/wire/ipv4.js';
import { ip, mac, NOW, packet, scope, settings, u32 } from '../../dhcp/helpers.js';

export const SCOPE_ID = '10.0.0.0';

export function relationship(
  role: 'primary' | 'secondary',
  over: Partial<ResolvedRelationship> = {},
): ResolvedRelationship {
  return {
    name: 'pair',
    role,
    mode: 'loadBalance',
    serverRole: null,
    loadBalancePercent: 50,
    reservePercent: 5,
    mcltSeconds: 60,
    autoStateTransition: false,
    stateSwitchIntervalSeconds: null,
    auth: 'none',
    sharedSecret: null,
    local: {
      address: role === 'primary' ? ip('10.0.0.1') : ip('10.0.0.2'),
      port: 647,
      name: role === 'primary' ? 'a' : 'b',
    },
    partner: {
      address: role === 'primary' ? ip('10.0.0.2') : ip('10.0.0.1'),
      port: 647,
      name: role === 'primary' ? 'b' : 'a',
    },
    scopeIds: [SCOPE_ID],
    maxUnackedUpdates: 10,
    receiveTimerSeconds: 15,
    loadBalanceMaxSeconds: 0,
    hbaBitMeaning: 'primary',
    poolSplit: 'even',
    maxClockSkewSeconds: 60,
    ...over,
  };
}

export interface SimServer {
  name: 'a' | 'b';
  role: 'primary' | 'secondary';
  config: ResolvedRelationship;
  scopes: EngineScope[];
  /** Durable state: what survives a crash. */
  durable: Map<Ipv4, Lease>;
  meta: Map<string, string>;
  engine: DhcpEngine;
  endpoint: FailoverEndpoint;
  isUp: boolean;
  /** Clock offset from the simulation clock, seconds (skew): the server's timeline. */
  skewSeconds: number;
  /** Wall clock − timeline, seconds: a step of the wall clock that the timeline did not follow. */
  wallStepSeconds: number;
  /** How the next boot's timeline resumes (src/server/clock.ts); null: as a new timeline. */
  nextRestart: { isMeasured: boolean; lastAliveAt: number; lastUnmeasured?: UnmeasuredRestart | null } | null;
  log: EndpointAction[];
}

interface SimConnection {
  owner: SimServer;
  peer: ConnectionId;
  /** `owner` opened it. */
  isOutbound: boolean;
  /** Messages on their way to `owner`. */
  inbox: Uint8Array[];
}

export interface PairOptions {
  primary?: Partial<ResolvedRelationship>;
  secondary?: Partial<ResolvedRelationship>;
  /** Vendor class the primary sends in CONNECT (e.g. "isc-4.4.3-P1": its partner treats it as dhcpd). */
  primaryVendorClass?: string;
  /** Overrides of the scope (test/dhcp/helpers.ts scope(); the subnet as text). */
  scope?: Omit<Partial<EngineScope>, 'subnet'> & { subnet?: string };
  /**
   * Each server opens its own outbound connection, as the TCP shell does (both listen and both
   * connect, docs/failover.md): connections asked for during a simulated second are established
   * after both servers ticked, so two servers starting together get one each way and the primary
   * closes the extra one. Default: one connection between the two, at once.
   */
  isEachSideConnecting?: boolean;
}

export class SimPair {
  now = NOW;
  readonly a: SimServer;
  readonly b: SimServer;
  isPartitioned = false;
  private readonly isEachSideConnecting: boolean;
  /** isEachSideConnecting: servers whose outbound connection is being established. */
  private readonly connecting = new Set<SimServer>();
  /** While it returns true for a server, messages to it wait in its inbox (in order). */
  holdMessagesTo: ((to: SimServer) => boolean) | null = null;
  private nextConnectionId = 1;
  private readonly connections = new Map<ConnectionId, SimConnection>();
  /** Every message sent, as [from, type] (for assertions on the protocol flow). */
  readonly trace: string[] = [];
  /** Every binding delivered in a BNDUPD: who sent it, the address and the binding status. */
  readonly sentBindings: Array<{ from: 'a' | 'b'; address: number; status: number | undefined }> = [];
  private readonly vendorClassOf: Record<'a' | 'b', string>;

  constructor(options: PairOptions = {}) {
    this.isEachSideConnecting = options.isEachSideConnecting ?? false;
    this.vendorClassOf = { a: options.primaryVendorClass ?? 'twinlease-test', b: 'twinlease-test' };
    const sc = [
      scope({
        ranges: [{ start: ip('10.0.0.100'), end: ip('10.0.0.139') }],
        leaseTimeSeconds: 3600,
        ...options.scope,
      }),
    ];
    this.a = this.makeServer('a', relationship('primary', options.primary), sc);
    this.b = this.makeServer('b', relationship('secondary', options.secondary), sc);
  }

  private makeServer(name: 'a' | 'b', config: ResolvedRelationship, scopes: EngineScope[]): SimServer {
    const s = {
      name,
      role: config.role,
      config,
      scopes,
      durable: new Map(),
      meta: new Map(),
      isUp: false,
      skewSeconds: 0,
      wallStepSeconds: 0,
      nextRestart: null,
      log: [],
    } as unknown as SimServer;
    this.boot(s);
    return s;
  }

  private boot(s: SimServer): void {
    const stored = [...s.durable.values()].map((l) => ({ ...l, dns: { ...l.dns } }));
    const text = s.meta.get(metaKeyOf(s.config.name));
    const persisted = text === undefined ? null : (JSON.parse(text) as PersistedRelationship);
    const endpoint = new FailoverEndpoint({
      relationship: s.config,
      // The engine in use (a reconfigure replaces it, as a reload does in the shell).
      engine: () => s.engine,
      serverName: s.name,
      vendorClass: this.vendorClassOf[s.name],
      persisted,
      isStoreEmpty: stored.length === 0,
      now: this.clockOf(s),
      wallNow: this.wallOf(s),
      restart: s.nextRestart,
    });
    const engine = new DhcpEngine(
      settings(s.scopes, { serverName: s.name, serverIdentifier: s.config.local.address }),
      stored,
      new Map([[SCOPE_ID, endpoint.gate]]),
    );
    s.engine = engine;
    s.endpoint = endpoint;
    s.isUp = true;
    // Like the shell: expire what ran out while down.
    const expired = engine.tick(this.clockOf(s));
    this.persistLeases(s, expired);
  }

  clockOf(s: SimServer): number {
    return this.now + s.skewSeconds;
  }

  wallOf(s: SimServer): number {
    return this.clockOf(s) + s.wallStepSeconds;
  }

  other(s: SimServer): SimServer {
    return s === this.a ? this.b : this.a;
  }

  // ---------------------------------------------------------------------------------------------
  // Driving

  feed(s: SimServer, input: EndpointInput): void {
    if (!s.isUp) return;
    this.perform(s, s.endpoint.handle(input, this.clockOf(s), this.wallOf(s)));
  }

  private perform(s: SimServer, actions: readonly EndpointAction[]): void {
    for (const a of actions) {
      if (!s.isUp) return;
      switch (a.type) {
        case 'send': {
          const c = this.connections.get(a.connectionId);
          if (!c) break;
          const peer = this.connections.get(c.peer);
          this.trace.push(`${s.name}>${a.message.type}`);
          peer?.inbox.push(encodeFailover(a.message));
          break;
        }
        case 'close':
          this.closeConnection(a.connectionId);
          break;
        case 'connect':
          if (this.isEachSideConnecting) this.connecting.add(s);
          else this.connect(s);
          break;
        case 'persist':
          this.persistLeases(s, a.leases);
          for (const m of a.meta) s.meta.set(m.key, m.value);
          this.perform(s, a.afterDurable);
          break;
        case 'log':
          s.log.push(a);
          break;
      }
    }
  }

  private persistLeases(s: SimServer, leases: readonly Lease[]): void {
    for (const l of leases) s.durable.set(l.address, { ...l, dns: { ...l.dns } });
  }

  private connect(s: SimServer): void {
    const peer = this.other(s);
    if (this.isPartitioned || !peer.isUp) return;
    for (const c of this.connections.values()) {
      if (c.owner === s && (c.isOutbound || !this.isEachSideConnecting)) return;
    }
    const mine = this.nextConnectionId++;
    const theirs = this.nextConnectionId++;
    this.connections.set(mine, { owner: s, peer: theirs, inbox: [], isOutbound: true });
    this.connections.set(theirs, { owner: peer, peer: mine, inbox: [], isOutbound: false });
    this.feed(s, { type: 'connected', connectionId: mine, outbound: true });
    this.feed(peer, { type: 'connected', connectionId: theirs, outbound: false });
  }

  private closeConnection(id: ConnectionId): void {
    const c = this.connections.get(id);
    if (!c) return;
    this.connections.delete(id);
    const peer = this.connections.get(c.peer);
    this.feed(c.owner, { type: 'disconnected', connectionId: id, reason: 'closed' });
    if (peer) {
      // The peer reads what was written before the close, then sees the close.
      this.deliverInbox(c.peer);
      this.connections.delete(c.peer);
      this.feed(peer.owner, { type: 'disconnected', connectionId: c.peer, reason: 'peer closed' });
    }
  }

  private deliverInbox(id: ConnectionId): boolean {
    const c = this.connections.get(id);
    if (!c || c.inbox.length === 0 || this.holdMessagesTo?.(c.owner) === true) return false;
    const bytes = c.inbox.shift()!;
    const r = decodeFailover(bytes);
    if (!r.ok) throw new Error(`undecodable failover message: ${r.error.message}`);
    if (r.message.type === FailoverMessageType.BNDUPD) {
      const from = this.other(c.owner).name;
      for (const b of r.message.bindings)
        this.sentBindings.push({ from, address: b.address, status: b.bindingStatus });
    }
    this.feed(c.owner, { type: 'message', connectionId: id, message: r.message, auth: 'ok' });
    return true;
  }

  /** Delivers messages until both inboxes are empty. */
  flush(limit = 100_000): void {
    for (let n = 0; n < limit; n++) {
      let any = false;
      for (const id of [...this.connections.keys()]) any = this.deliverInbox(id) || any;
      if (!any) return;
    }
    throw new Error('message storm: flush did not settle');
  }

  /** Advances the clock second by second, ticking both servers and delivering messages. */
  run(seconds: number): void {
    for (let i = 0; i < seconds; i++) {
      this.now += 1;
      for (const s of [this.a, this.b]) {
        if (!s.isUp) continue;
        const expired = s.engine.tick(this.clockOf(s));
        if (expired.length > 0) {
          this.persistLeases(s, expired);
          this.feed(s, { type: 'leasesChanged', leases: expired });
        }
        this.feed(s, { type: 'tick' });
      }
      for (const s of [...this.connecting]) this.connect(s);
      this.connecting.clear();
      this.flush();
    }
  }

  /** Runs until `cond` holds (checked every simulated second), or throws after `maxSeconds`. */
  runUntil(cond: () => boolean, maxSeconds: number, what: string): void {
    for (let i = 0; i < maxSeconds; i++) {
      if (cond()) return;
      this.run(1);
    }
    if (!cond()) throw new Error(`not reached after ${maxSeconds} s: ${what}`);
  }

  /** The operator's partner-down on `s`, its actions carried out as the shell does. */
  declarePartnerDown(s: SimServer): string | null {
    const r = s.endpoint.declarePartnerDown(this.clockOf(s));
    this.perform(s, r.actions);
    return r.error;
  }

  partition(on: boolean): void {
    this.isPartitioned = on;
    if (on) for (const id of [...this.connections.keys()]) this.closeConnection(id);
  }

  crash(s: SimServer): void {
    for (const [id, c] of [...this.connections]) if (c.owner === s) this.closeConnection(id);
    s.isUp = false;
  }

  restart(s: SimServer): void {
    this.boot(s);
  }

  /**
   * A config reload of one server, as the shell does it (src/server/server.ts): a new engine
   * built from the new scopes and the live leases, the same failover endpoint and gate.
   */
  reconfigure(s: SimServer, scopes: EngineScope[]): void {
    s.scopes = scopes;
    s.engine = new DhcpEngine(
      settings(scopes, { serverName: s.name, serverIdentifier: s.config.local.address }),
      [...s.engine.leases()],
      new Map([[SCOPE_ID, s.endpoint.gate]]),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // DHCP

  /** One DHCP message to one server; durable changes are reported to the endpoint. */
  dhcp(s: SimServer, p: DhcpPacket): DhcpPacket | null {
    if (!s.isUp) return null;
    const r = s.engine.handle(p, this.clockOf(s));
    if (r.changes.length > 0) {
      this.persistLeases(s, r.changes);
      this.feed(s, { type: 'leasesChanged', leases: r.changes });
    }
    return r.action === 'reply' ? r.reply : null;
  }

  /** DISCOVER + REQUEST against one server; the bound address, or null. */
  dora(s: SimServer, client: number, secs = 0): Ipv4 | null {
    const offer = this.dhcp(s, packet(DhcpMessageType.Discover, { mac: mac(client), xid: client, secs }));
    if (!offer) return null;
    const ack = this.dhcp(
      s,
      packet(DhcpMessageType.Request, {
        mac: mac(client),
        xid: client,
        secs,
        requested: ipString(offer.yiaddr),
        serverId: ipString(s.config.local.address),
      }),
    );
    if (!ack || ack.options.get(53)?.[0] !== DhcpMessageType.Ack) return null;
    return ack.yiaddr as Ipv4;
  }

  /** A RENEWING request (unicast, ciaddr set) to one server: the new expiry, or null. */
  renew(s: SimServer, client: number, address: Ipv4): number | null {
    const ack = this.dhcp(
      s,
      packet(DhcpMessageType.Request, { mac: mac(client), xid: client, ciaddr: ipString(address) }),
    );
    if (!ack || ack.options.get(53)?.[0] !== DhcpMessageType.Ack) return null;
    const t = ack.options.get(51);
    return t ? this.clockOf(s) + ((t[0]! << 24) | (t[1]! << 16) | (t[2]! << 8) | t[3]!) : null;
  }

  release(s: SimServer, client: number, address: Ipv4): void {
    this.dhcp(
      s,
      packet(DhcpMessageType.Release, {
        mac: mac(client),
        ciaddr: ipString(address),
        serverId: ipString(s.config.local.address),
      }),
    );
  }
}

export function ipString(a: number): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export { u32 };
