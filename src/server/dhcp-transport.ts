// The DHCP service's sockets, behind one interface so that the service and the engine do not care
// how packets come and go (README "DHCP modes"):
//   udp (UdpTransport, here)          Node UDP sockets (dhcp-sockets.ts): relayed clients, renewals,
//                                     one directly attached interface served by broadcast;
//   direct (src/server/direct/)      a packet socket per interface: the interface of every packet is
//                                     known and the reply leaves by it, by unicast to the client's
//                                     hardware address when it asked for it (RFC 2131 §4.1).

import type { ReplyDestination } from '../dhcp/engine.js';
import type { DhcpPacket } from '../wire/dhcp-packet.js';
import { formatIpv4, type Ipv4 } from '../wire/ipv4.js';
import { DhcpSockets, type LocalAddressLister, type ReceivedOn } from './dhcp-sockets.js';

/** The link a datagram arrived on (direct mode only). */
export interface LinkArrival {
  interfaceName: string;
  ifindex: number;
  /** Scopes whose subnet holds an address of the interface. */
  directScopeIds: readonly string[];
  /** Our address on the link: option 54 of replies and the IP source of frames sent on it. */
  serverIdentifier: Ipv4;
  /** Source hardware address of the frame. */
  sourceMac: Uint8Array;
  /** IP destination of the frame (broadcast or one of ours). */
  destination: Ipv4;
}

export interface DhcpArrival {
  fromAddress: string;
  fromPort: number;
  /** Direct mode: the link; udp mode cannot tell (DEPENDENCIES.md). */
  link?: LinkArrival;
  /** udp mode: the socket it came in on (dhcp-sockets.ts: unicast to us, or broadcast). */
  receivedOn?: ReceivedOn;
}

export interface OutgoingReply {
  to: ReplyDestination;
  request: DhcpPacket;
  reply: DhcpPacket;
  /** DHCP message type of the reply, 0 for BOOTP. */
  messageType: number;
  arrival: DhcpArrival;
}

export type DatagramReceiver = (bytes: Uint8Array, arrival: DhcpArrival) => void;

export interface DhcpTransport {
  /** Opens the sockets; every datagram goes to `receive`. Rejects with the address in the message. */
  start(receive: DatagramReceiver): Promise<void>;
  /**
   * Sends an encoded reply where RFC 2131 §4.1 says it goes; `done` gets the error of a send that
   * failed. Returns the destination as the log names it ("10.0.0.7:68", "10.0.0.7:68 via eth1 to
   * 02:…" in direct mode).
   */
  send(bytes: Uint8Array, out: OutgoingReply, done: (err: Error | null) => void): string;
  stop(): Promise<void>;
  /** Fields of the dhcp.listening log line. */
  describe(): Record<string, unknown>;
  /**
   * udp mode: whether every local address has a socket of its own, so that a datagram received
   * on the wildcard socket was a broadcast (DhcpSockets.coverNewAddresses).
   */
  coverNewAddresses?(): boolean;
}

export interface UdpTransportSettings {
  listenAddress: string;
  port: number;
  clientPort: number;
  /** Where broadcast replies go: the directly attached subnet's broadcast address. */
  broadcastAddress: string;
}

/**
 * udp mode (Kea's dhcp-socket-type udp): the wildcard socket plus one per local address when
 * listening on 0.0.0.0, so that a unicast is told from a broadcast (dhcp-sockets.ts).
 */
export class UdpTransport implements DhcpTransport {
  private sockets: DhcpSockets | null = null;

  constructor(
    private settings: () => UdpTransportSettings,
    private readonly onError: (err: Error, address: string) => void = () => {},
    private readonly localAddresses?: LocalAddressLister,
  ) {}

  async start(receive: DatagramReceiver): Promise<void> {
    const { listenAddress, port } = this.settings();
    const sockets = new DhcpSockets(
      listenAddress,
      port,
      (msg, rinfo, receivedOn) =>
        receive(msg, { fromAddress: rinfo.address, fromPort: rinfo.port, receivedOn }),
      this.onError,
      this.localAddresses,
    );
    await sockets.open();
    this.sockets = sockets;
  }

  coverNewAddresses(): boolean {
    return this.sockets?.coverNewAddresses() ?? false;
  }

  send(bytes: Uint8Array, out: OutgoingReply, done: (err: Error | null) => void): string {
    const [address, port] = this.destination(out.to);
    this.sockets?.send(bytes, port, address, (err) => done(err ?? null));
    return `${address}:${port}`;
  }

  private destination(to: ReplyDestination): [string, number] {
    const s = this.settings();
    switch (to.kind) {
      case 'relay':
        return [formatIpv4(to.address), s.port];
      case 'client':
        return [formatIpv4(to.address), s.clientPort];
      case 'broadcast':
        return [s.broadcastAddress, s.clientPort];
    }
  }

  async stop(): Promise<void> {
    const s = this.sockets;
    this.sockets = null;
    await s?.close();
  }

  describe(): Record<string, unknown> {
    const s = this.settings();
    return {
      mode: 'udp',
      address: s.listenAddress,
      port: this.sockets?.boundPort ?? s.port,
      broadcast: s.broadcastAddress,
      // With 0.0.0.0: the addresses whose unicast datagrams are told from broadcasts.
      unicastAddresses: this.sockets?.addresses ?? [],
    };
  }
}
