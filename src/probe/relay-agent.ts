// The probe's sockets: a relay agent on one address of this machine. A server sends its replies
// to a relayed request to giaddr at the server's own port (RFC 2131 §4.1: the "DHCP server"
// port of the relay), so the agent binds giaddr at every port one of its servers listens on, and
// sends each request from the socket of that port, as a relay sends from port 67. No root is
// needed when the servers use ports above 1023 (the loopback demo pair: 6767).

import dgram from 'node:dgram';
import { decodeDhcp, encodeDhcp } from '../wire/dhcp-codec.js';
import type { DhcpPacket } from '../wire/dhcp-packet.js';

export interface ServerAddress {
  address: string;
  port: number;
}

export function formatServer(s: ServerAddress): string {
  return `${s.address}:${s.port}`;
}

/** A reply as it arrived: the decoded packet and who sent it. */
export interface Arrival {
  packet: DhcpPacket;
  from: ServerAddress;
  /** performance.now() at arrival, in milliseconds. */
  atMs: number;
}

export class RelayAgentError extends Error {}

export class RelayAgent {
  private readonly listeners = new Set<(a: Arrival) => void>();

  private constructor(
    readonly relayAddress: string,
    private readonly socketsByPort: Map<number, dgram.Socket>,
  ) {
    for (const socket of socketsByPort.values()) {
      socket.on('message', (msg, rinfo) => {
        const decoded = decodeDhcp(msg);
        if (!decoded.ok) return; // not DHCP, or damaged: a client ignores it too
        const arrival = {
          packet: decoded.packet,
          from: { address: rinfo.address, port: rinfo.port },
          atMs: performance.now(),
        };
        for (const l of this.listeners) l(arrival);
      });
    }
  }

  /** Binds `relayAddress` at each of the servers' ports. */
  static async open(relayAddress: string, servers: readonly ServerAddress[]): Promise<RelayAgent> {
    for (const s of servers) {
      if (s.address === relayAddress) {
        throw new RelayAgentError(
          `the relay address ${relayAddress} is the address of server ${formatServer(s)}: its replies to giaddr ${relayAddress} would go to its own socket; choose another --giaddr (on loopback e.g. 127.0.0.3)`,
        );
      }
    }
    const sockets = new Map<number, dgram.Socket>();
    try {
      for (const port of new Set(servers.map((s) => s.port))) {
        sockets.set(port, await bind(relayAddress, port));
      }
    } catch (err) {
      for (const s of sockets.values()) s.close();
      throw err;
    }
    return new RelayAgent(relayAddress, sockets);
  }

  /** Calls `listener` for every DHCP message that arrives until the returned function is called. */
  listen(listener: (a: Arrival) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sends `packet` to each server in `to`, from the socket bound at that server's port; resolves
   * once the datagrams have left (a socket closed before that drops them: a RELEASE at the end).
   */
  send(packet: DhcpPacket, to: readonly ServerAddress[]): Promise<void> {
    const bytes = encodeDhcp(packet);
    return Promise.all(
      to.map(
        (s) =>
          new Promise<void>((resolve) => {
            const socket = this.socketsByPort.get(s.port);
            if (socket === undefined) return resolve();
            // A send error (no route, ICMP unreachable) shows as silence: the caller's timeout reports it.
            socket.send(bytes, s.port, s.address, () => resolve());
          }),
      ),
    ).then(() => undefined);
  }

  close(): void {
    for (const s of this.socketsByPort.values()) s.close();
    this.socketsByPort.clear();
  }
}

function bind(address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  return new Promise((resolve, reject) => {
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      reject(new RelayAgentError(`cannot listen as relay on ${address}:${port}: ${explain(err, port)}`));
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // send errors surface as timeouts
      resolve(socket);
    });
  });
}

function explain(err: NodeJS.ErrnoException, port: number): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address in use (a server or another probe listens there; choose another --giaddr)';
    case 'EADDRNOTAVAIL':
      return 'not an address of this machine (--giaddr must be local; any 127.x.y.z is, on Linux)';
    case 'EACCES':
      return port < 1024 ? `port ${port} needs root` : 'permission denied';
    default:
      return err.message;
  }
}
