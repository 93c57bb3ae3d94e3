// The DHCP service's sockets, behind one interface so that the service and the engine do not care
// how packets come and go (README "DHCP modes"):
//   udp (UdpTransport, here)          one Node UDP socket: relayed clients, renewals, one directly
//                                     attached interface served by broadcast;
//   direct (src/server/direct/)      a packet socket per interface: the interface of every packet is
//                                     known and the reply leaves by it, by unicast to the client's
//                                     hardware address when it asked for it (RFC 2131 §4.1).

import dgram from 'node:dgram';
import type { ReplyDestination } from '../dhcp/engine.js';
import type { DhcpPacket } from '../wire/dhcp-packet.js';
import { formatIpv4, type Ipv4 } from '../wire/ipv4.js';

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
}

export interface UdpTransportSettings {
  listenAddress: string;
  port: number;
  clientPort: number;
  /** Where broadcast replies go: the directly attached subnet's broadcast address. */
  broadcastAddress: string;
}

/** udp mode: one UDP socket (Kea's dhcp-socket-type udp). */
export class UdpTransport implements DhcpTransport {
  private socket: dgram.Socket | null = null;

  constructor(private settings: () => UdpTransportSettings) {}

  async start(receive: DatagramReceiver): Promise<void> {
    const { listenAddress, port } = this.settings();
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => receive(msg, { fromAddress: rinfo.address, fromPort: rinfo.port }));
    await new Promise<void>((resolve, reject) => {
      // Exclusive bind: a second server on the same port must fail, not share the traffic.
      const onBindError = (err: Error) =>
        reject(new Error(`cannot listen on ${listenAddress}:${port}: ${err.message}`));
      socket.once('error', onBindError);
      socket.bind(port, listenAddress, () => {
        socket.off('error', onBindError);
        socket.setBroadcast(true);
        // Large buffers absorb bursts while a group commit is in progress.
        try {
          socket.setRecvBufferSize(4 * 1024 * 1024);
          socket.setSendBufferSize(4 * 1024 * 1024);
        } catch {
          // Not fatal: the kernel caps it (net.core.rmem_max).
        }
        resolve();
      });
    });
  }

  /** After a successful bind, socket errors are the service's to log. */
  onError(listener: (err: Error) => void): void {
    this.socket?.on('error', listener);
  }

  send(bytes: Uint8Array, out: OutgoingReply, done: (err: Error | null) => void): string {
    const [address, port] = this.destination(out.to);
    this.socket?.send(bytes, port, address, (err) => done(err ?? null));
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
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  describe(): Record<string, unknown> {
    const s = this.settings();
    return { mode: 'udp', address: s.listenAddress, port: s.port, broadcast: s.broadcastAddress };
  }
}
