// The DHCP service's UDP sockets, and the one fact about a datagram that Node's dgram does not
// report (no IP_PKTINFO) but RFC 2131 §4.3.2 needs: was it sent to one of our addresses (a
// RENEWING client unicasts) or to a broadcast address (a REBINDING client on a directly attached
// link)? Linux answers it through the sockets themselves (measured in network namespaces,
// docs/configuration.md §"How the DHCP socket is bound"):
// - a unicast datagram goes to the one socket bound to its destination address in preference to
//   one bound to 0.0.0.0;
// - a broadcast goes to sockets bound to 0.0.0.0 (or to that broadcast address), never to one
//   bound to a unicast address.
// So with `listenAddress` 0.0.0.0 the service binds the wildcard socket plus one socket per local
// IPv4 address, all on the server port. What arrives on an address socket was unicast; what
// arrives on the wildcard socket was broadcast, or unicast to a local address without a socket of
// its own (one added since we started: coverNewAddresses() finds and binds those).
//
// Two sockets on one port need SO_REUSEADDR on both, and that would also let a second server bind
// the port beside us and share the traffic. So the exclusive bind is kept by hand: an exclusive
// probe socket is bound on 0.0.0.0:port and closed first (it fails while any socket holds the
// port), and once ours are bound, the kernel's table (/proc/net/udp) must show no other socket on
// the port (it catches two servers started in the same instant). A server started after us does
// the same probe, which our sockets make fail.
//
// With a specific `listenAddress` there is one exclusive socket, as before: it receives no
// broadcasts, so everything on it was unicast.

import dgram from 'node:dgram';
import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import os from 'node:os';

/** Which socket a datagram came in on. */
export type ReceivedOn = 'address' | 'wildcard';

export type DatagramHandler = (bytes: Buffer, from: dgram.RemoteInfo, receivedOn: ReceivedOn) => void;

/** Local IPv4 addresses (loopback included), dotted. */
export type LocalAddressLister = () => string[];

export function listLocalIpv4Addresses(): string[] {
  const out = new Set<string>();
  for (const infos of Object.values(os.networkInterfaces())) {
    for (const info of infos ?? []) if (info.family === 'IPv4') out.add(info.address);
  }
  return [...out];
}

/**
 * At most this many address sockets (a host with more addresses keeps the rest on the wildcard
 * socket, and datagrams there are of unknown destination: coverNewAddresses() says false).
 */
export const MAX_ADDRESS_SOCKETS = 256;

const WILDCARD = '0.0.0.0';
const BUFFER_BYTES = 4 * 1024 * 1024;

export class DhcpSockets {
  private wildcard: dgram.Socket | null = null;
  /** Address sockets by local address (also the one socket of a specific listen address). */
  private readonly byAddress = new Map<string, dgram.Socket>();
  private isClosed = false;

  constructor(
    private readonly listenAddress: string,
    private readonly port: number,
    private readonly onDatagram: DatagramHandler,
    private readonly onError: (err: Error, address: string) => void,
    private readonly localAddresses: LocalAddressLister = listLocalIpv4Addresses,
  ) {}

  /** The port bound (the configured one, or the one the kernel chose for port 0). */
  get boundPort(): number {
    const s = this.wildcard ?? this.byAddress.values().next().value;
    return s ? s.address().port : this.port;
  }

  /** Addresses with a socket of their own, for the log. */
  get addresses(): string[] {
    return [...this.byAddress.keys()];
  }

  async open(): Promise<void> {
    if (this.listenAddress !== WILDCARD) {
      // The socket sends too: its replies leave from the listen address.
      const s = await this.bind(this.listenAddress, this.port, false, 'address');
      this.byAddress.set(this.listenAddress, s);
      return;
    }
    if (this.port !== 0) {
      // Exclusive probe: fails while any socket (shared or not) holds the port on any address.
      const probe = await this.bind(WILDCARD, this.port, false, null);
      await closeSocket(probe);
    }
    try {
      this.wildcard = await this.bind(WILDCARD, this.port, true, 'wildcard');
      const port = this.wildcard.address().port;
      for (const address of this.localAddresses().slice(0, MAX_ADDRESS_SOCKETS)) {
        try {
          this.byAddress.set(address, await this.bind(address, port, true, 'address'));
        } catch (err) {
          // Gone between the listing and the bind: nothing can be sent to it either.
          if ((err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
        }
      }
      const others = socketsOnPort(port) - (1 + this.byAddress.size);
      if (others > 0) {
        throw new Error(
          `EADDRINUSE: ${others} other socket${others === 1 ? '' : 's'} bound to port ${port} (another server started at the same time?)`,
        );
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Sends from the wildcard socket (or the one socket of a specific listen address). */
  send(bytes: Uint8Array, port: number, address: string, done: (err: Error | null) => void): void {
    const s = this.wildcard ?? this.byAddress.get(this.listenAddress);
    if (!s) return;
    s.send(bytes, port, address, done);
  }

  /**
   * Whether every local address has its own socket, so that a datagram on the wildcard socket was
   * a broadcast. Binds sockets for addresses added since (in the background: the datagram being
   * asked about may have been sent to one of them, so the answer for it is false). One interface
   * listing, about 50 µs: ask only when the answer matters.
   */
  coverNewAddresses(): boolean {
    if (this.wildcard === null || this.isClosed) return false;
    const port = this.wildcard.address().port;
    let isCovered = true;
    for (const address of this.localAddresses()) {
      if (this.byAddress.has(address)) continue;
      isCovered = false;
      if (this.byAddress.size >= MAX_ADDRESS_SOCKETS) break;
      this.bind(address, port, true, 'address').then(
        (s) => {
          if (this.isClosed || this.byAddress.has(address)) void closeSocket(s);
          else this.byAddress.set(address, s);
        },
        (err: Error) => this.onError(err, address),
      );
    }
    return isCovered;
  }

  async close(): Promise<void> {
    this.isClosed = true;
    const all = [...this.byAddress.values(), ...(this.wildcard ? [this.wildcard] : [])];
    this.byAddress.clear();
    this.wildcard = null;
    await Promise.all(all.map(closeSocket));
  }

  private bind(
    address: string,
    port: number,
    isShared: boolean,
    receivedOn: ReceivedOn | null,
  ): Promise<dgram.Socket> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: isShared, lookup: lookupLiteral });
    return new Promise<dgram.Socket>((resolve, reject) => {
      const onBindError = (err: Error) => {
        socket.close();
        reject(new Error(`cannot listen on ${address}:${port}: ${err.message}`));
      };
      socket.once('error', onBindError);
      socket.bind(port, address, () => {
        socket.off('error', onBindError);
        if (receivedOn === null) return resolve(socket);
        socket.on('error', (err) => this.onError(err, address));
        socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo, receivedOn));
        const isSender = receivedOn === 'wildcard' || address === this.listenAddress;
        if (isSender) socket.setBroadcast(true);
        // Large buffers absorb bursts while a group commit is in progress.
        try {
          socket.setRecvBufferSize(BUFFER_BYTES);
          if (isSender) socket.setSendBufferSize(BUFFER_BYTES);
        } catch {
          // Not fatal: the kernel caps it (net.core.rmem_max).
        }
        resolve(socket);
      });
    });
  }
}

/**
 * dgram resolves the address of every send (and bind) with dns.lookup, which answers a dotted
 * address through process.nextTick: a deferred call per reply. Every address the service binds to
 * or sends to is dotted already, so it is answered at once (issue 17: ~0.5-1 us less CPU per send
 * on loopback); anything else still goes to dns.lookup.
 */
export function lookupLiteral(
  address: string,
  family: number | dns.LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  if (isIPv4(address)) callback(null, address, 4);
  else dns.lookup(address, family as dns.LookupOneOptions, callback);
}

function closeSocket(s: dgram.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** UDP sockets bound to `port` on any IPv4 address, from /proc/net/udp; 0 where it cannot be read. */
export function socketsOnPort(port: number, table?: string): number {
  let text = table;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/udp', 'utf8');
    } catch {
      return 0; // not Linux: the probe bind is the only check
    }
  }
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let count = 0;
  for (const line of text.split('\n').slice(1)) {
    // "  sl  local_address rem_address   st …": local_address is HEXADDR:HEXPORT
    const local = line.trim().split(/\s+/)[1];
    if (local?.endsWith(hexPort)) count++;
  }
  return count;
}
