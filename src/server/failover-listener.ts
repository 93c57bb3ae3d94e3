// One TCP listener per local address and port, shared by every failover relationship configured on
// it (a hub backing up many branch servers on port 647, as Windows, dhcpd and Kea hubs do). An
// incoming connection goes to the relationship whose partner address it comes from; when several
// relationships share that partner address, to the one named in the CONNECT the partner sends
// first (D12 §7.8.1 relationship-name, option 22; ISC dhcpd matches its `failover peer` by that
// name). A connection that matches nothing is refused: a log line (rate limited) and a counter by
// reason, and nothing reaches any relationship, so the others keep serving.
//
// The listener only routes: framing, digests and the endpoint's CONNECT checks stay in the
// relationship's FailoverLink, which gets the socket and any bytes read while routing.

import { createServer, type Server, type Socket } from 'node:net';
import { type Logger, pino } from 'pino';
import type { FailoverRole } from '../failover/hash-bucket.js';
import { buildConnectAck, decodeFailover, encodeFailover, FailoverFramer } from '../wire/failover-codec.js';
import { FailoverMessageType, RejectReason } from '../wire/failover-message.js';
import { systemClock } from './clock.js';

/** A relationship as its listener sees it (implemented by FailoverLink). */
export interface ListenerMember {
  readonly relationshipName: string;
  /** The partner's address, plain dotted IPv4. */
  readonly partnerAddress: string;
  readonly role: FailoverRole;
  /** Takes a connection from its partner; `head`: bytes already read from it while routing. */
  acceptInbound(socket: Socket, head: Uint8Array | null): void;
  /** Opens our own connection to the partner unless one is up or under way. */
  connect(): void;
}

/** Why a connection was refused (the `reason` label of the metric, docs/metrics.md). */
export type ListenerRefusal =
  /** No relationship on this listener has the connection's source address as partner. */
  | 'unknown-peer'
  /** Several relationships have that partner; the CONNECT named none of them. */
  | 'unknown-name'
  /** Several relationships have that partner, and no CONNECT came within the wait. */
  | 'no-connect'
  /** Several relationships have that partner; the first message was not a readable CONNECT. */
  | 'not-connect'
  /** Several relationships have that partner and we are the primary of each: a wake-up (D12 §8.2). */
  | 'wake-up'
  /** The listener is closing. */
  | 'closing';

export const LISTENER_REFUSALS: readonly ListenerRefusal[] = [
  'unknown-peer',
  'unknown-name',
  'no-connect',
  'not-connect',
  'wake-up',
  'closing',
];

export interface ListenerStats {
  /** "address:port". */
  listen: string;
  relationships: string[];
  /** Connections handed to a relationship. */
  matched: number;
  refused: Record<ListenerRefusal, number>;
  /** CONNECTs naming a relationship of this listener whose partner is another address. */
  nameOfAnotherPartner: number;
  /** Connections held until their CONNECT says which relationship they belong to. */
  waitingForConnect: number;
}

const LISTEN_HINTS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use (another process listens there)',
  EADDRNOTAVAIL: 'address not available (no local interface has this address)',
  EACCES: 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE or root)',
};

/** How long a connection shared by several relationships may take to send its CONNECT (ISC: 15 s). */
export const CONNECT_WAIT_MS = 15_000;
/** Bound on connections waiting for their CONNECT, per listener (each holds ≤ one message). */
const MAX_WAITING = 64;
/** At most one refusal log line per reason per this many seconds; the rest are counted. */
const REFUSAL_LOG_INTERVAL_SECONDS = 10;
/** A message longer than this cannot be a CONNECT (D12 §6.1 caps messages at 2048 bytes). */
const MAX_HEAD_BYTES = 4096;

/** '::ffff:10.0.0.1' (an IPv4 peer on a dual-stack socket) → '10.0.0.1'. */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function errorCode(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}

interface Waiting {
  readonly socket: Socket;
  readonly remote: string;
  readonly candidates: readonly ListenerMember[];
  readonly framer: FailoverFramer;
  readonly chunks: Buffer[];
  bytes: number;
  timer: NodeJS.Timeout;
}

/** The listener of one address and port. Built and shared by FailoverListeners. */
class FailoverListener {
  readonly members = new Map<string, ListenerMember>();
  private server: Server | null = null;
  private readonly waiting = new Set<Waiting>();
  private matched = 0;
  private nameOfAnotherPartner = 0;
  private readonly refused: Record<ListenerRefusal, number> = Object.fromEntries(
    LISTENER_REFUSALS.map((r) => [r, 0]),
  ) as Record<ListenerRefusal, number>;
  private readonly lastLoggedAt = new Map<string, number>();
  private readonly notLogged = new Map<string, number>();
  private isClosing = false;
  /** Resolves once listening; rejects with the address in the message. */
  readonly ready: Promise<void>;
  closed: Promise<void> | null = null;

  constructor(
    readonly address: string,
    readonly port: number,
    private readonly log: Logger,
    private readonly nowSeconds: () => number,
    firstMember: string,
  ) {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    this.ready = new Promise<void>((resolve, reject) => {
      const onListenError = (err: Error) => {
        this.server = null;
        const code = errorCode(err);
        const hint = LISTEN_HINTS[code] ?? err.message;
        reject(
          new Error(
            `failover relationship "${firstMember}": cannot listen on ${address}:${port}: ${code}: ${hint}`,
            { cause: err },
          ),
        );
      };
      server.once('error', onListenError);
      // Exclusive: another process on this port must fail here, not share our connections.
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', onListenError);
        server.on('error', (err) =>
          this.log.error(
            { event: 'failover.listen-error', listen: this.listen, err: errorCode(err) },
            'failover listener error',
          ),
        );
        this.log.debug({ event: 'failover.listening', address: this.listen }, 'failover listener open');
        resolve();
      });
    });
    // A failed listen is reported to every attach(); nobody else waits on it.
    this.ready.catch(() => {});
  }

  get listen(): string {
    return `${this.address}:${this.port}`;
  }

  /** Stops listening, drops the connections still waiting for their CONNECT. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.isClosing = true;
      for (const w of [...this.waiting]) this.drop(w);
      const server = this.server;
      if (server === null) {
        resolve();
        return;
      }
      // After a failed listen the server is not listening: close() would report that as an error.
      this.ready.then(
        () => server.close(() => resolve()),
        () => resolve(),
      );
    });
    return this.closed;
  }

  stats(): ListenerStats {
    return {
      listen: this.listen,
      relationships: [...this.members.keys()],
      matched: this.matched,
      refused: { ...this.refused },
      nameOfAnotherPartner: this.nameOfAnotherPartner,
      waitingForConnect: this.waiting.size,
    };
  }

  /**
   * A CONNECT on a connection matched by its address names `name`, not the relationship that has
   * this partner (`member`). When `name` is another relationship of this listener, the partner's
   * configuration reuses a name of ours: say so (the endpoint refuses the CONNECT, reason 8).
   */
  noteForeignName(member: ListenerMember, name: string, remote: string): void {
    const owner = this.members.get(name);
    if (owner === undefined) return;
    this.nameOfAnotherPartner++;
    this.logLimited(
      `name:${member.relationshipName}:${name}`,
      {
        event: 'failover.connect-name-of-another-partner',
        listen: this.listen,
        remoteAddress: remote,
        relationship: member.relationshipName,
        namedRelationship: name,
        namedRelationshipPartner: owner.partnerAddress,
      },
      `the partner of "${member.relationshipName}" (${remote}) sent CONNECT for "${name}", a relationship whose partner is ${owner.partnerAddress}: its relationship name is wrong; refused, "${name}" is not affected`,
    );
  }

  private onConnection(socket: Socket): void {
    const remote = plainAddress(socket.remoteAddress);
    socket.on('error', () => {}); // destroyed here or adopted by a link (which listens itself)
    if (this.isClosing) {
      this.refuse(socket, remote, 'closing');
      return;
    }
    const candidates = [...this.members.values()].filter((m) => m.partnerAddress === remote);
    if (candidates.length === 0) {
      this.refuse(socket, remote, 'unknown-peer');
      return;
    }
    if (candidates.length === 1) {
      this.matched++;
      candidates[0]!.acceptInbound(socket, null);
      return;
    }
    if (candidates.every((m) => m.role === 'primary')) {
      // A secondary's connection carries nothing until the primary's CONNECT, so nothing here
      // tells which relationship it is for; it is a wake-up (D12 §8.2): answer with our own.
      this.refuse(socket, remote, 'wake-up');
      for (const m of candidates) m.connect();
      return;
    }
    if (this.waiting.size >= MAX_WAITING) {
      this.refuse(socket, remote, 'no-connect');
      return;
    }
    const w: Waiting = {
      socket,
      remote,
      candidates,
      framer: new FailoverFramer(),
      chunks: [],
      bytes: 0,
      timer: setTimeout(() => this.giveUp(w, 'no-connect'), CONNECT_WAIT_MS),
    };
    this.waiting.add(w);
    socket.on('data', (chunk: Buffer) => this.onWaitingData(w, chunk));
    socket.on('close', () => {
      if (this.waiting.delete(w)) clearTimeout(w.timer);
    });
  }

  private onWaitingData(w: Waiting, chunk: Buffer): void {
    if (!this.waiting.has(w)) return;
    w.chunks.push(chunk);
    w.bytes += chunk.length;
    w.framer.push(chunk);
    const frame = w.framer.next();
    if (frame === null) {
      if (w.bytes > MAX_HEAD_BYTES) this.giveUp(w, 'not-connect');
      return;
    }
    const decoded = frame.ok ? decodeFailover(frame.bytes) : null;
    if (decoded === null || !decoded.ok || decoded.message.type !== FailoverMessageType.CONNECT) {
      this.giveUp(w, 'not-connect');
      return;
    }
    const message = decoded.message;
    const name = message.relationshipName ?? '';
    const member = w.candidates.find((m) => m.relationshipName === name);
    if (member === undefined) {
      if (this.members.has(name)) this.noteForeignName(w.candidates[0]!, name, w.remote);
      // As ISC does, echo the name with reject reason 8 so the partner's log says why (spec §5.1).
      const reply = buildConnectAck({
        time: Math.floor(this.nowSeconds()) >>> 0,
        xid: message.xid,
        relationshipName: name,
        rejectReason: RejectReason.INVALID_PARTNER,
        message: `no failover relationship "${name}" with ${w.remote} here`,
      });
      w.socket.end(encodeFailover(reply));
      this.giveUp(w, 'unknown-name', name);
      return;
    }
    this.waiting.delete(w);
    clearTimeout(w.timer);
    w.socket.removeAllListeners('data');
    w.socket.removeAllListeners('close');
    this.matched++;
    member.acceptInbound(w.socket, Buffer.concat(w.chunks));
  }

  private giveUp(w: Waiting, reason: ListenerRefusal, name?: string): void {
    if (!this.waiting.delete(w)) return;
    clearTimeout(w.timer);
    this.refuse(w.socket, w.remote, reason, name, w.candidates);
  }

  private drop(w: Waiting): void {
    this.giveUp(w, 'closing');
  }

  private refuse(
    socket: Socket,
    remote: string,
    reason: ListenerRefusal,
    name?: string,
    candidates?: readonly ListenerMember[],
  ): void {
    this.refused[reason]++;
    // end() lets a CONNECTACK written just before leave; destroy() if the peer does not close.
    if (socket.writableLength > 0) setTimeout(() => socket.destroy(), 1000).unref();
    else socket.destroy();
    if (reason === 'closing') return;
    const partners = [...this.members.values()].map((m) => m.partnerAddress);
    const fields: Record<string, unknown> = {
      event: 'failover.connection-refused',
      listen: this.listen,
      remoteAddress: remote,
      reason,
    };
    if (name !== undefined) fields.relationshipNamed = name;
    if (candidates !== undefined) fields.relationships = candidates.map((m) => m.relationshipName);
    const messages: Record<Exclude<ListenerRefusal, 'closing'>, string> = {
      'unknown-peer': `refused a failover connection from ${remote}: no relationship on ${this.listen} has this partner address (partners: ${[...new Set(partners)].slice(0, 8).join(', ')}${partners.length > 8 ? ', …' : ''})`,
      'unknown-name': `refused a failover connection from ${remote}: its CONNECT names "${name}", which is none of its relationships here`,
      'no-connect': `closed a failover connection from ${remote}: several relationships have this partner and no CONNECT said which one within ${CONNECT_WAIT_MS / 1000} s`,
      'not-connect': `closed a failover connection from ${remote}: several relationships have this partner and its first message was not a CONNECT`,
      'wake-up': `closed a failover connection from ${remote}, partner of several relationships where we are primary; connecting back on each`,
    };
    this.logLimited(`refused:${reason}`, fields, messages[reason], reason === 'wake-up' ? 'info' : 'warn');
  }

  private logLimited(
    key: string,
    fields: Record<string, unknown>,
    msg: string,
    level: 'info' | 'warn' = 'warn',
  ): void {
    const now = this.nowSeconds();
    const last = this.lastLoggedAt.get(key);
    if (last !== undefined && now - last < REFUSAL_LOG_INTERVAL_SECONDS) {
      this.notLogged.set(key, (this.notLogged.get(key) ?? 0) + 1);
      return;
    }
    if (this.lastLoggedAt.size > 1000) this.lastLoggedAt.clear();
    this.lastLoggedAt.set(key, now);
    const suppressed = this.notLogged.get(key) ?? 0;
    this.notLogged.delete(key);
    this.log[level]({ ...fields, alsoRefusedSinceLastLine: suppressed }, msg);
  }
}

/**
 * Every failover listener of the process, by address and port. A relationship attaches when it
 * starts and detaches when it stops; a listener opens with its first relationship and closes with
 * its last.
 */
export class FailoverListeners {
  private readonly byKey = new Map<string, FailoverListener>();
  private readonly log: Logger;

  constructor(
    log?: Logger,
    private readonly nowSeconds: () => number = systemClock.nowSeconds,
  ) {
    this.log = log ?? pino({ level: 'silent' });
  }

  /** Resolves once `member` receives the connections of its partner on address:port. */
  async attach(address: string, port: number, member: ListenerMember): Promise<void> {
    const key = `${address}:${port}`;
    for (;;) {
      const existing = this.byKey.get(key);
      if (existing === undefined) break;
      if (existing.closed === null) {
        if (existing.members.has(member.relationshipName)) {
          throw new Error(`failover relationship "${member.relationshipName}" is already attached to ${key}`);
        }
        existing.members.set(member.relationshipName, member);
        try {
          await existing.ready;
        } catch (err) {
          existing.members.delete(member.relationshipName);
          throw err;
        }
        return;
      }
      // The last relationship left and the listener is closing: open a new one once it is closed.
      await existing.closed;
      if (this.byKey.get(key) === existing) this.byKey.delete(key);
    }
    const listener = new FailoverListener(address, port, this.log, this.nowSeconds, member.relationshipName);
    listener.members.set(member.relationshipName, member);
    this.byKey.set(key, listener);
    try {
      await listener.ready;
    } catch (err) {
      if (this.byKey.get(key) === listener) this.byKey.delete(key);
      listener.members.clear();
      await listener.close();
      throw err;
    }
  }

  /** The listener stops routing to `member`; the last one out closes it. */
  async detach(address: string, port: number, member: ListenerMember): Promise<void> {
    const key = `${address}:${port}`;
    const listener = this.byKey.get(key);
    if (listener === undefined || listener.members.get(member.relationshipName) !== member) return;
    listener.members.delete(member.relationshipName);
    if (listener.members.size > 0) return;
    await listener.close();
    if (this.byKey.get(key) === listener) this.byKey.delete(key);
  }

  /** See FailoverListener.noteForeignName. */
  noteForeignName(address: string, port: number, member: ListenerMember, name: string, remote: string): void {
    this.byKey.get(`${address}:${port}`)?.noteForeignName(member, name, remote);
  }

  stats(): ListenerStats[] {
    return [...this.byKey.values()].filter((l) => l.closed === null).map((l) => l.stats());
  }
}
