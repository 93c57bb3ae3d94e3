// direct mode (README "DHCP modes"; Kea's dhcp-socket-type raw, dhcpd's LPF): one packet socket per
// configured interface, so every datagram arrives with its interface, and the reply to a client
// without an address leaves by that interface — broadcast, or unicast to the client's hardware
// address when it did not ask for broadcast (link-destination.ts). Replies that the routing table
// can carry (to a relay, to a renewing client's ciaddr) leave by a send-only UDP socket on the
// server port, which also keeps unicasts to that port from drawing ICMP port-unreachable.
//
// Interfaces are watched: one that does not exist, has no IPv4 address or goes down is logged
// (dhcp.interface-down, error at start, warn later), shown as down (twinlease_dhcp4_interface_up),
// and opened again when it comes back; the others keep serving throughout.

import type { Logger } from 'pino';
import { decodeIpv4Udp, encodeIpv4Udp } from '../../wire/ip-udp.js';
import { formatIpv4, formatMac, type Ipv4, toHex } from '../../wire/ipv4.js';
import type { Counters } from '../counters.js';
import type { DatagramReceiver, DhcpTransport, LinkArrival, OutgoingReply } from '../dhcp-transport.js';
import { type InterfaceAddress, type InterfaceLister, listInterfaceAddresses } from '../network.js';
import { linkDestination } from './link-destination.js';
import type { NativeHandle, NativeNet } from './native.js';

export interface DirectSettings {
  /** The interfaces served at layer 2 (dhcp.interfaces). */
  interfaces: readonly string[];
  port: number;
  clientPort: number;
  /** server.serverIdentifier when configured; null: each link's own address (as dhcpd does). */
  serverIdentifier: Ipv4 | null;
  /** Scope ids whose subnet holds one of `addresses` (the scopes of that link). */
  scopesFor(addresses: readonly InterfaceAddress[]): string[];
}

export interface LinkStatus {
  interfaceName: string;
  isUp: boolean;
  ifindex: number;
  addresses: string[];
  scopeIds: string[];
  /** Why it is down (null while up). */
  problem: string | null;
}

interface Link {
  readonly name: string;
  ifindex: number;
  handle: NativeHandle | null;
  addresses: InterfaceAddress[];
  scopeIds: string[];
  /** Our address on the link: the IP source of its frames, option 54 unless configured. */
  address: Ipv4;
  problem: string | null;
  /** A problem was logged since the link was last up (one line per outage). */
  isProblemLogged: boolean;
}

const WATCH_INTERVAL_MS = 2000;
const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const LIMITED_BROADCAST = 0xffffffff;

export class DirectTransport implements DhcpTransport {
  private readonly links = new Map<string, Link>();
  private udp: NativeHandle | null = null;
  private receive: DatagramReceiver | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private identification = 0;
  private isStarted = false;

  constructor(
    private readonly native: NativeNet,
    private readonly settings: () => DirectSettings,
    private readonly log: Logger,
    private readonly counters: Counters,
    private readonly lister: InterfaceLister = listInterfaceAddresses,
  ) {}

  async start(receive: DatagramReceiver): Promise<void> {
    const { port } = this.settings();
    try {
      this.udp = this.native.openUdp(port);
    } catch (err) {
      throw new Error(`cannot listen on 0.0.0.0:${port}: ${(err as Error).message}`);
    }
    this.receive = receive;
    this.isStarted = true;
    this.watch();
    const watch = () => {
      this.watch();
      this.watchTimer = setTimeout(watch, WATCH_INTERVAL_MS);
      this.watchTimer.unref();
    };
    this.watchTimer = setTimeout(watch, WATCH_INTERVAL_MS);
    this.watchTimer.unref();
  }

  async stop(): Promise<void> {
    this.isStarted = false;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = null;
    for (const link of this.links.values()) this.closeLink(link);
    this.links.clear();
    if (this.udp !== null) this.native.close(this.udp);
    this.udp = null;
  }

  describe(): Record<string, unknown> {
    const s = this.settings();
    return {
      mode: 'direct',
      port: s.port,
      interfaces: this.status().map((l) => ({
        name: l.interfaceName,
        up: l.isUp,
        addresses: l.addresses,
        scopes: l.scopeIds,
      })),
    };
  }

  /** Every configured interface and whether it is served now (API, metrics). */
  status(): LinkStatus[] {
    return this.settings().interfaces.map((name) => {
      const l = this.links.get(name);
      return {
        interfaceName: name,
        isUp: l?.handle != null,
        ifindex: l?.ifindex ?? 0,
        addresses: (l?.addresses ?? []).map((a) => `${formatIpv4(a.address)}/${a.prefixLength}`),
        scopeIds: [...(l?.scopeIds ?? [])],
        problem: l?.problem ?? 'not opened yet',
      };
    });
  }

  // -----------------------------------------------------------------------------------------------
  // Interfaces

  /** Opens what came up, closes what went away, follows address changes. */
  private watch(): void {
    if (!this.isStarted) return;
    const s = this.settings();
    const wanted = new Set(s.interfaces);
    for (const [name, link] of this.links) {
      if (!wanted.has(name)) {
        this.closeLink(link);
        this.links.delete(name);
      }
    }
    const all = this.lister();
    for (const name of s.interfaces) {
      let link = this.links.get(name);
      if (link === undefined) {
        link = {
          name,
          ifindex: 0,
          handle: null,
          addresses: [],
          scopeIds: [],
          address: 0,
          problem: null,
          isProblemLogged: false,
        };
        this.links.set(name, link);
      }
      const ifindex = this.native.interfaceIndex(name);
      // Node lists only interfaces that are up and running, with their addresses.
      const addresses = all.filter((a) => a.interfaceName === name);
      if (ifindex === 0) {
        this.down(
          link,
          `interface ${name} does not exist (have: ${[...new Set(all.map((a) => a.interfaceName))].join(', ') || 'none'})`,
        );
        continue;
      }
      if (addresses.length === 0) {
        this.down(link, `interface ${name} is down or has no IPv4 address`);
        continue;
      }
      if (link.handle !== null && link.ifindex !== ifindex) this.closeLink(link); // re-created
      link.ifindex = ifindex;
      const addressKey = (list: InterfaceAddress[]) =>
        list.map((a) => `${a.address}/${a.prefixLength}`).join();
      const isChanged = addressKey(addresses) !== addressKey(link.addresses);
      link.addresses = addresses;
      link.address = addresses[0]!.address;
      link.scopeIds = s.scopesFor(addresses);
      if (link.handle === null) this.open(link);
      else if (isChanged) this.logUp(link, 'dhcp.interface-changed');
    }
  }

  private open(link: Link): void {
    const ifindex = link.ifindex;
    try {
      link.handle = this.native.openPacket(
        ifindex,
        this.settings().port,
        (packet, info, mac, _type, csum) => {
          if (packet === null) {
            this.closeLink(link);
            this.down(link, `interface ${link.name}: ${String(info)}`);
            return;
          }
          this.onFrame(link, packet, mac ?? new Uint8Array(6), csum === true);
        },
      );
    } catch (err) {
      this.down(link, `interface ${link.name}: cannot open a packet socket: ${(err as Error).message}`);
      return;
    }
    link.problem = null;
    link.isProblemLogged = false;
    this.logUp(link, 'dhcp.interface-up');
  }

  private logUp(link: Link, event: string): void {
    this.log.info(
      {
        event,
        interface: link.name,
        addresses: link.addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLength}`),
        scopes: link.scopeIds,
      },
      link.scopeIds.length === 0
        ? `serving interface ${link.name} directly; no scope's subnet holds its addresses, so its clients get no answer`
        : `serving interface ${link.name} directly`,
    );
  }

  private down(link: Link, problem: string): void {
    if (link.handle !== null) this.closeLink(link);
    link.problem = problem;
    if (link.isProblemLogged) return;
    link.isProblemLogged = true;
    this.counters.inc(`dhcp-interface-down:${link.name}`);
    this.log[this.isFirstLook(link) ? 'error' : 'warn'](
      { event: 'dhcp.interface-down', interface: link.name, problem },
      `${problem}: its clients are not served until it is back (checked every ${WATCH_INTERVAL_MS / 1000} s); the other interfaces keep serving`,
    );
  }

  private isFirstLook(link: Link): boolean {
    return link.addresses.length === 0 && link.ifindex === 0;
  }

  private closeLink(link: Link): void {
    if (link.handle !== null) this.native.close(link.handle);
    link.handle = null;
  }

  // -----------------------------------------------------------------------------------------------
  // Receiving

  private onFrame(link: Link, packet: Buffer, sourceMac: Uint8Array, isChecksumNotReady: boolean): void {
    const decoded = decodeIpv4Udp(packet, { isUdpChecksumNotReady: isChecksumNotReady });
    if (!decoded.ok) {
      this.counters.inc('pkt4-receive-drop');
      this.counters.inc(`pkt4-frame-dropped:${decoded.error.reason}`);
      return;
    }
    const d = decoded.datagram;
    const serverIdentifier = this.settings().serverIdentifier ?? link.address;
    const arrival: LinkArrival = {
      interfaceName: link.name,
      ifindex: link.ifindex,
      directScopeIds: link.scopeIds,
      serverIdentifier,
      sourceMac,
      destination: d.destination,
    };
    this.receive?.(d.payload, { fromAddress: formatIpv4(d.source), fromPort: d.sourcePort, link: arrival });
  }

  // -----------------------------------------------------------------------------------------------
  // Sending

  send(bytes: Uint8Array, out: OutgoingReply, done: (err: Error | null) => void): string {
    const s = this.settings();
    const to = out.to;
    if (to.kind === 'relay' || to.kind === 'client') {
      const port = to.kind === 'relay' ? s.port : s.clientPort;
      const label = `${formatIpv4(to.address)}:${port}`;
      const err = this.udp === null ? 'closed' : this.native.sendTo(this.udp, to.address, port, bytes);
      done(err === undefined ? null : new Error(err));
      return label;
    }
    const arrival = out.arrival.link;
    const link = arrival === undefined ? undefined : this.links.get(arrival.interfaceName);
    if (arrival === undefined || link === undefined || link.handle === null) {
      const name = arrival?.interfaceName ?? '?';
      done(new Error(`interface ${name} is not served now`));
      return `255.255.255.255:${s.clientPort} via ${name}`;
    }
    const where = linkDestination(out.request, out.reply, out.messageType);
    const mac = where.kind === 'unicast' ? where.mac : BROADCAST_MAC;
    const destination = where.kind === 'unicast' ? where.address : LIMITED_BROADCAST;
    this.identification = (this.identification + 1) & 0xffff;
    const frame = encodeIpv4Udp({
      source: link.address,
      destination,
      sourcePort: s.port,
      destinationPort: s.clientPort,
      payload: bytes,
      identification: this.identification,
    });
    const err = this.native.sendPacket(link.handle, link.ifindex, mac, frame);
    done(err === undefined ? null : new Error(`${err} on ${link.name}`));
    return `${formatIpv4(destination)}:${s.clientPort} via ${link.name} to ${formatMac(toHex(mac))}`;
  }
}
