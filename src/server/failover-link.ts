// The TCP transport of one failover relationship (spec §2.1, §18): takes the partner's connections
// from the listener of its local address and port (src/server/failover-listener.ts, shared by every
// relationship on it), opens outbound connections from our configured address (ISC checks the
// source IP, spec §15.2 item 9), frames the byte stream, checks digests and decodes, and feeds the
// sans-I/O endpoint (src/failover/endpoint.ts) through a synchronous handler. It carries out the
// endpoint's send / close / connect actions. Which of several connections to keep is the endpoint's
// decision (D12 §8.2, spec §2.1); which relationship a connection belongs to is the listener's.
// Every buffer is bounded: the framer per connection, the send queue per connection.
//
// TLS (relationship `tls`, docs/failover.md "TLS"): every connection is TLS 1.3 from its first
// byte, certificates both ways, each chaining to the configured CA and naming the partner (its
// failover address as an IP SAN, or partner.name as a DNS SAN); the one who opened the TCP
// connection is the TLS client. A partner that does not agree is refused clearly, on both sides:
// a plain CONNECT reaching a TLS listener is answered in plain D12 with CONNECTACK reject 11
// ("TLS required but not supported by partner"), a TLS ClientHello reaching a plain listener is
// logged as such, and a TLS handshake that fails says why (failover.tls-failed).

import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import {
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import { type Logger, pino } from 'pino';
import type { FailoverRole } from '../failover/hash-bucket.js';
import type { ConnectionId, EndpointAction, EndpointInput } from '../failover/types.js';
import { type FailoverAuthConfig, signFailover, verifyFailover } from '../wire/failover-auth.js';
import { buildConnectAck, decodeFailover, encodeFailover, FailoverFramer } from '../wire/failover-codec.js';
import {
  type FailoverMessage,
  FailoverMessageType,
  RejectReason,
  TLS_REPLY_USE_TLS,
} from '../wire/failover-message.js';
import { systemClock } from './clock.js';
import { errorCode, FailoverListeners, type ListenerMember, plainAddress } from './failover-listener.js';

export interface FailoverLinkOptions {
  /** For logs, and what the listener matches a CONNECT's relationship name against. */
  relationshipName: string;
  /** This server's role (default secondary): the listener needs it when one partner has several. */
  role?: FailoverRole;
  /** Listen here; outbound connections are bound to localAddress too (ISC checks the source IP). */
  localAddress: string;
  localPort: number;
  partnerAddress: string;
  partnerPort: number;
  auth: FailoverAuthConfig;
  /** Never given the secret. Default: silent. */
  log?: Logger;
  /** Retry delay after a failed outbound attempt: first, doubling up to max (spec §14: 5 s → 60 s). */
  connectRetryMs?: { first: number; max: number };
  /** An outbound attempt that is not established by then fails (and is retried). Default 5000. */
  connectTimeoutMs?: number;
  /** Per-connection cap on bytes written but not yet taken by the kernel. Default 4 MiB. */
  maxQueuedBytes?: number;
  /**
   * The process's listeners, shared with the other relationships (one per local address and
   * port). Default: a listener of this link's own (a second link on the same port then fails).
   */
  listeners?: FailoverListeners;
  /** TLS for every connection (PEM texts); absent: plain TCP. */
  tls?: FailoverLinkTls;
}

export interface FailoverLinkTls {
  cert: string;
  key: string;
  ca: string;
  /** The partner's name (partner.name): its certificate may name it as a DNS SAN. */
  partnerName: string | null;
}

/** Called synchronously from socket events. */
export type FailoverLinkHandler = (input: EndpointInput) => void;

export interface FailoverLinkStats {
  connectsAttempted: number;
  connectsFailed: number;
  /** Connections from the partner handed over by the listener. */
  accepted: number;
  /** CONNECTs received naming another relationship than this one (the endpoint refuses them). */
  connectNameMismatches: number;
  framingErrors: number;
  decodeErrors: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
}

const DEFAULT_CONNECT_RETRY_MS = { first: 5_000, max: 60_000 };
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** After close(): a peer that neither reads our last bytes nor closes its side is cut off. */
const CLOSE_LINGER_MS = 10_000;
/** A TLS listener gives an accepted connection this long to start its TLS handshake. */
const TLS_FIRST_BYTES_MS = 5_000;
const TLS_HINT_PLAIN_PARTNER =
  'is tls configured on the partner too? Both partners need it (ISC dhcpd has no TLS: pair it without tls, over IPsec or WireGuard)';

/** The first bytes of a TLS connection: a handshake record (0x16) of TLS 1.x (0x03 0x0?). */
function isTlsClientHello(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x16 && bytes[1] === 0x03;
}

/** `socket` as a stream that yields `first` again before the rest (for a TLSSocket on top). */
function replayed(socket: Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, encoding, callback) {
      socket.write(chunk, encoding, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  stream.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  socket.on('error', (err) => stream.destroy(err));
  return stream;
}

/** Why `cert` does not name the partner, or null when it does (IP SAN or DNS SAN). */
export function peerIdentityProblem(
  cert: PeerCertificate | undefined,
  partnerAddress: string,
  partnerName: string | null,
): string | null {
  if (cert === undefined || cert === null || Object.keys(cert).length === 0)
    return 'the partner sent no certificate';
  const names = (cert.subjectaltname ?? '').split(/,\s*/).filter(Boolean);
  if (names.includes(`IP Address:${partnerAddress}`)) return null;
  if (partnerName !== null && names.some((n) => n.toLowerCase() === `dns:${partnerName.toLowerCase()}`))
    return null;
  return `the partner's certificate (subject ${JSON.stringify(cert.subject?.CN ?? '')}, names ${names.join(', ') || 'none'}) names neither IP Address:${partnerAddress}${partnerName === null ? '' : ` nor DNS:${partnerName}`}`;
}

/** Process-wide, so an id names one connection for the life of the process (types.ts). */
let lastConnectionId: ConnectionId = 0;

interface Connection {
  readonly id: ConnectionId;
  /** Nothing decoded yet: the first message of an inbound one is checked for its name. */
  isFresh: boolean;
  readonly socket: Socket;
  readonly outbound: boolean;
  readonly remote: string;
  readonly framer: FailoverFramer;
  /** No byte received yet (a plain link checks the first ones for a TLS ClientHello). */
  isAwaitingFirstData: boolean;
  /** open: in use; closing: close() asked (ending after flush); destroyed: destroy() called. */
  phase: 'open' | 'closing' | 'destroyed';
  /** First cause recorded wins; reported in the single 'disconnected' input. */
  reason: string | null;
  lingerTimer: NodeJS.Timeout | null;
}

interface Attempt {
  readonly socket: Socket;
  readonly timer: NodeJS.Timeout;
}

export class FailoverLink implements ListenerMember {
  private readonly log: Logger;
  private readonly retryMs: { first: number; max: number };
  private readonly connectTimeoutMs: number;
  private readonly maxQueuedBytes: number;
  private readonly connections = new Map<ConnectionId, Connection>();
  private readonly counters: FailoverLinkStats = {
    connectsAttempted: 0,
    connectsFailed: 0,
    accepted: 0,
    connectNameMismatches: 0,
    framingErrors: 0,
    decodeErrors: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
  };
  private readonly listeners: FailoverListeners;
  private isListening = false;
  private attempt: Attempt | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs: number;
  /** Reason of the last failed attempt in the current streak (null: last attempt succeeded). */
  private lastConnectFailure: string | null = null;
  private stopping: Promise<void> | null = null;
  private isStopped = false;
  /** Resolves stop() once the server and every socket are closed. */
  private onQuiet: (() => void) | null = null;
  private readonly secureContext: SecureContext | null;
  /** Sockets accepted by a TLS listener, before their handshake ends. */
  private readonly handshaking = new Set<Socket>();
  /** Last TLS failure reason logged (a repeated one goes to debug). */
  private lastTlsFailure: string | null = null;

  constructor(
    private readonly options: FailoverLinkOptions,
    private readonly handler: FailoverLinkHandler,
    private readonly nowSeconds: () => number = systemClock.nowSeconds,
  ) {
    this.log = (options.log ?? pino({ level: 'silent' })).child({
      relationship: options.relationshipName,
    });
    this.retryMs = options.connectRetryMs ?? DEFAULT_CONNECT_RETRY_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    const { first, max } = this.retryMs;
    if (!(first > 0 && max >= first)) throw new RangeError(`connectRetryMs needs 0 < first ≤ max`);
    if (!(this.connectTimeoutMs > 0)) throw new RangeError('connectTimeoutMs must be > 0');
    if (!(this.maxQueuedBytes > 0)) throw new RangeError('maxQueuedBytes must be > 0');
    this.retryDelayMs = first;
    const tls = options.tls;
    this.secureContext =
      tls === undefined
        ? null
        : createSecureContext({ cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: 'TLSv1.3' });
    this.listeners = options.listeners ?? new FailoverListeners(this.log, nowSeconds);
  }

  get relationshipName(): string {
    return this.options.relationshipName;
  }

  get partnerAddress(): string {
    return plainAddress(this.options.partnerAddress);
  }

  get role(): FailoverRole {
    return this.options.role ?? 'secondary';
  }

  // -----------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Receive the partner's connections on localAddress:localPort (the listener opens with the first
   * relationship there). Does not connect. Rejects with the address in the message.
   */
  async start(): Promise<void> {
    if (this.isListening || this.stopping !== null) {
      throw new Error('FailoverLink.start() called twice or after stop()');
    }
    const { localAddress, localPort } = this.options;
    this.isListening = true;
    try {
      await this.listeners.attach(localAddress, localPort, this);
    } catch (err) {
      this.isListening = false;
      throw err;
    }
  }

  /**
   * Stop listening and retrying and destroy every socket. Resolves once all are closed; the
   * 'disconnected' inputs of the connections it destroys are delivered before that, none after.
   */
  stop(): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = new Promise<void>((resolve) => {
      this.onQuiet = () => {
        this.isStopped = true;
        this.onQuiet = null;
        resolve();
      };
    });
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.attempt !== null) {
      clearTimeout(this.attempt.timer);
      this.attempt.socket.destroy();
      this.attempt = null;
    }
    if (this.isListening) {
      void this.listeners.detach(this.options.localAddress, this.options.localPort, this).then(() => {
        this.isListening = false;
        this.checkQuiet();
      });
    }
    for (const c of [...this.connections.values()]) this.destroy(c, 'link-stopped');
    for (const s of this.handshaking) s.destroy();
    this.handshaking.clear();
    this.checkQuiet();
    return this.stopping;
  }

  private checkQuiet(): void {
    if (
      this.onQuiet !== null &&
      !this.isListening &&
      this.connections.size === 0 &&
      this.handshaking.size === 0
    )
      this.onQuiet();
  }

  // -----------------------------------------------------------------------------------------------
  // Outbound

  /**
   * Open one outbound connection unless one is established, in progress or scheduled for retry
   * (a scheduled retry keeps its backoff: the endpoint asks again every few seconds). A failed
   * attempt is retried with doubling delay until one succeeds or stop() is called.
   */
  connect(): void {
    if (this.stopping !== null || this.attempt !== null || this.retryTimer !== null) return;
    if (this.hasOutbound()) return;
    this.openAttempt();
  }

  private hasOutbound(): boolean {
    for (const c of this.connections.values()) if (c.outbound && c.phase === 'open') return true;
    return false;
  }

  private openAttempt(): void {
    const { partnerAddress, partnerPort, localAddress } = this.options;
    this.counters.connectsAttempted++;
    const isWildcard = localAddress === '0.0.0.0' || localAddress === '::' || localAddress === '';
    const tls = this.options.tls;
    const socket: Socket =
      tls === undefined || this.secureContext === null
        ? netConnect({ host: partnerAddress, port: partnerPort, ...(isWildcard ? {} : { localAddress }) })
        : tlsConnect({
            host: partnerAddress,
            port: partnerPort,
            ...(isWildcard ? {} : { localAddress }),
            secureContext: this.secureContext,
            minVersion: 'TLSv1.3',
            checkServerIdentity: (_host, cert) => {
              const problem = peerIdentityProblem(cert, plainAddress(partnerAddress), tls.partnerName);
              return problem === null ? undefined : new Error(problem);
            },
          });
    const timer = setTimeout(
      () => this.attemptFailed(socket, `connect-timeout after ${this.connectTimeoutMs} ms`),
      this.connectTimeoutMs,
    );
    const attempt: Attempt = { socket, timer };
    this.attempt = attempt;
    // TLS failures are told apart from an unreachable partner: they happen once TCP is up.
    let isTcpUp = false;
    socket.once('connect', () => {
      isTcpUp = true;
    });
    const isPending = () => this.attempt?.socket === socket;
    const onError = (err: Error) => {
      if (tls !== undefined && isTcpUp && isPending()) this.tlsFailed('outbound', partnerAddress, err);
      this.attemptFailed(socket, tls !== undefined && isTcpUp ? `tls: ${err.message}` : errorCode(err));
    };
    const onClose = () => {
      if (tls !== undefined && isTcpUp && isPending())
        this.tlsFailed(
          'outbound',
          partnerAddress,
          new Error('the partner closed the connection during the TLS handshake'),
        );
      this.attemptFailed(socket, 'closed before connecting');
    };
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      socket.off('error', onError);
      socket.off('close', onClose);
      clearTimeout(timer);
      this.attempt = null;
      this.retryDelayMs = this.retryMs.first;
      this.lastConnectFailure = null;
      this.adopt(socket, true);
    });
  }

  private attemptFailed(socket: Socket, reason: string): void {
    const attempt = this.attempt;
    if (attempt === null || attempt.socket !== socket) return; // already settled
    clearTimeout(attempt.timer);
    this.attempt = null;
    socket.destroy();
    this.counters.connectsFailed++;
    if (this.stopping !== null) return;
    const delayMs = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.retryMs.max);
    // Loud on the first failure and when the cause changes; quiet while the partner stays away.
    const level = this.lastConnectFailure === reason ? 'debug' : 'warn';
    this.lastConnectFailure = reason;
    this.log[level](
      {
        event: 'failover.connect-failed',
        partner: `${this.options.partnerAddress}:${this.options.partnerPort}`,
        reason,
        retryInMs: delayMs,
      },
      'could not connect to the failover partner; will retry',
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopping === null && this.attempt === null && !this.hasOutbound()) this.openAttempt();
    }, delayMs);
  }

  // -----------------------------------------------------------------------------------------------
  // Inbound

  /** The listener matched a connection to this relationship (ListenerMember). */
  acceptInbound(socket: Socket, head: Uint8Array | null): void {
    socket.on('error', () => {}); // destroyed below or adopted (which listens itself)
    if (this.stopping !== null) {
      socket.destroy();
      return;
    }
    if (this.options.tls !== undefined) {
      // TLS from the first byte: the connection is adopted once its handshake is through.
      this.onInboundTls(socket, head);
      return;
    }
    this.counters.accepted++;
    const c = this.adopt(socket, false);
    // What the listener read to learn the relationship name (the CONNECT) is this stream's start.
    if (head !== null && head.length > 0)
      this.onData(c, Buffer.from(head.buffer, head.byteOffset, head.length));
  }

  /**
   * A CONNECT naming another relationship (D12 §7.8.2): the endpoint refuses it (reason 8); here
   * it is counted and, when the name is one of our other relationships, logged as a misconfigured
   * partner so that the operator does not look for the fault in that other relationship.
   */
  private checkConnectName(c: Connection, name: string | undefined): void {
    if (name === this.options.relationshipName) return;
    this.counters.connectNameMismatches++;
    this.listeners.noteForeignName(
      this.options.localAddress,
      this.options.localPort,
      this,
      name ?? '',
      c.remote.replace(/:[^:]*$/, ''),
    );
  }

  /**
   * A TLS listener's new connection: a TLS ClientHello is handed to TLS (mutual certificates); a
   * plain D12 CONNECT is refused in plain D12 with CONNECTACK reject 11, so that a partner without
   * TLS (ISC dhcpd too) logs why; silence is cut off after TLS_FIRST_BYTES_MS.
   */
  private onInboundTls(socket: Socket, head: Uint8Array | null): void {
    const remote = plainAddress(socket.remoteAddress);
    socket.on('error', () => {});
    if (this.stopping !== null) {
      socket.destroy();
      return;
    }
    if (head !== null && head.length > 0) {
      // The listener read a plain CONNECT to learn the relationship (several share this partner).
      this.refusePlain(socket, Buffer.from(head.buffer, head.byteOffset, head.length), remote);
      return;
    }
    this.handshaking.add(socket);
    const done = () => {
      clearTimeout(timer);
      this.handshaking.delete(socket);
      this.checkQuiet();
    };
    const timer = setTimeout(() => {
      this.tlsFailed('inbound', remote, new Error(`no TLS handshake within ${TLS_FIRST_BYTES_MS} ms`));
      socket.destroy();
    }, TLS_FIRST_BYTES_MS);
    socket.once('close', done);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (!isTlsClientHello(first)) {
        done();
        this.refusePlain(socket, first, remote);
        return;
      }
      // The bytes read to tell TLS from plain go to TLS first, then the rest of the stream
      // (a TLSSocket on the raw socket would miss them: it reads the handle, not the stream).
      socket.setNoDelay(true);
      const tls = new TLSSocket(replayed(socket, first), {
        isServer: true,
        secureContext: this.secureContext!,
        requestCert: true,
        rejectUnauthorized: true,
      });
      tls.on('error', (err) => {
        this.tlsFailed('inbound', remote, err);
        socket.destroy();
      });
      tls.once('secure', () => {
        done();
        const problem = peerIdentityProblem(
          tls.getPeerCertificate(),
          plainAddress(this.options.partnerAddress),
          this.options.tls!.partnerName,
        );
        if (problem !== null) {
          this.tlsFailed('inbound', remote, new Error(problem));
          tls.destroy();
          return;
        }
        this.counters.accepted++;
        this.adopt(tls, false, `${remote}:${socket.remotePort ?? '?'}`);
      });
    });
  }

  /** A plain D12 message on a TLS listener: CONNECTACK reject 11 (spec §12), then close. */
  private refusePlain(socket: Socket, first: Buffer, remote: string): void {
    const framer = new FailoverFramer();
    framer.push(first);
    const frame = framer.next();
    const decoded = frame?.ok ? decodeFailover(frame.bytes) : null;
    const message = `TLS is required on failover relationship "${this.options.relationshipName}" here; ${TLS_HINT_PLAIN_PARTNER}`;
    this.log.error(
      {
        event: 'failover.tls-required',
        remote,
        received: decoded?.ok ? decoded.message.type : 'not a failover message',
      },
      `the partner connected without TLS; refused: ${TLS_HINT_PLAIN_PARTNER}`,
    );
    if (decoded?.ok && decoded.message.type === FailoverMessageType.CONNECT) {
      const m = decoded.message;
      socket.write(
        encodeFailover(
          buildConnectAck({
            time: Math.floor(this.nowSeconds()) >>> 0,
            xid: m.xid,
            relationshipName: m.relationshipName ?? this.options.relationshipName,
            rejectReason: RejectReason.TLS_REQUIRED,
            message,
            ...(m.tlsRequest !== undefined ? { tlsReply: TLS_REPLY_USE_TLS } : {}),
          }),
        ),
      );
    }
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
  }

  /** One line per TLS failure, loud the first time a reason is seen, with what to check. */
  private tlsFailed(direction: 'inbound' | 'outbound', remote: string, err: Error): void {
    if (this.stopping !== null) return;
    const reason = err.message;
    const isPlainPartner =
      /wrong version number|http request|closed the connection|ECONNRESET|socket disconnected|no TLS handshake/i.test(
        reason,
      );
    const level = this.lastTlsFailure === reason ? 'debug' : 'error';
    this.lastTlsFailure = reason;
    this.log[level](
      {
        event: 'failover.tls-failed',
        direction,
        remote,
        reason,
        code: (err as NodeJS.ErrnoException).code ?? null,
      },
      isPlainPartner
        ? `TLS with the failover partner failed (${reason}): ${TLS_HINT_PLAIN_PARTNER}`
        : `TLS with the failover partner failed (${reason}): check the certificates (ca, and that each names its server)`,
    );
  }

  // -----------------------------------------------------------------------------------------------
  // Connections

  /** `remote`: for a TLS socket over a stream (it knows no address of its own). */
  private adopt(socket: Socket, outbound: boolean, remote?: string): Connection {
    if (remote === undefined) socket.setNoDelay(true);
    const c: Connection = {
      id: ++lastConnectionId,
      isFresh: !outbound,
      socket,
      outbound,
      remote: remote ?? `${plainAddress(socket.remoteAddress)}:${socket.remotePort ?? '?'}`,
      framer: new FailoverFramer(),
      isAwaitingFirstData: true,
      phase: 'open',
      reason: null,
      lingerTimer: null,
    };
    this.connections.set(c.id, c);
    socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
    socket.on('end', () => {
      c.reason ??= 'peer-closed';
    });
    socket.on('error', (err) => {
      c.reason ??= `socket-error ${errorCode(err)}`;
    });
    socket.on('close', () => this.onClose(c));
    this.log.info(
      {
        event: 'failover.link-up',
        connectionId: c.id,
        outbound,
        remote: c.remote,
        isTls: this.options.tls !== undefined,
      },
      'failover TCP connection established',
    );
    this.emit({ type: 'connected', connectionId: c.id, outbound }, c);
    return c;
  }

  private onData(c: Connection, chunk: Buffer): void {
    this.counters.bytesIn += chunk.length;
    if (c.phase !== 'open') return; // closing: the endpoint is done with this connection
    if (c.isAwaitingFirstData) {
      c.isAwaitingFirstData = false;
      if (this.options.tls === undefined && isTlsClientHello(chunk)) {
        this.log.error(
          { event: 'failover.tls-unexpected', connectionId: c.id, remote: c.remote },
          `the partner opened a TLS connection, but failover relationship "${this.options.relationshipName}" has no tls here: configure tls on both partners, or on neither`,
        );
        this.protocolError(c, 'the partner speaks TLS; tls is not configured here');
        return;
      }
    }
    c.framer.push(chunk);
    while (c.phase === 'open') {
      const frame = c.framer.next();
      if (frame === null) return;
      if (!frame.ok) {
        this.counters.framingErrors++;
        this.protocolError(c, `framing: ${frame.error.message}`);
        return;
      }
      const decoded = decodeFailover(frame.bytes);
      if (!decoded.ok) {
        this.counters.decodeErrors++;
        this.protocolError(
          c,
          `decode: ${decoded.error.message} (offset ${decoded.error.offset}, ${decoded.error.reason})`,
        );
        return;
      }
      if (c.isFresh) {
        c.isFresh = false;
        if (decoded.message.type === FailoverMessageType.CONNECT) {
          this.checkConnectName(c, decoded.message.relationshipName);
        }
      }
      const auth = verifyFailover(frame.bytes, this.options.auth);
      this.counters.messagesIn++;
      this.emit({ type: 'message', connectionId: c.id, message: decoded.message, auth }, c);
    }
  }

  private protocolError(c: Connection, reason: string): void {
    this.log.warn(
      { event: 'failover.link-protocol-error', connectionId: c.id, remote: c.remote, reason },
      'failover stream from the partner cannot be decoded; closing the connection',
    );
    this.emit({ type: 'protocolError', connectionId: c.id, reason }, c);
    this.destroy(c, 'protocol-error');
  }

  private onClose(c: Connection): void {
    c.phase = 'destroyed';
    if (c.lingerTimer !== null) clearTimeout(c.lingerTimer);
    c.lingerTimer = null;
    this.connections.delete(c.id);
    const reason = c.reason ?? 'connection-closed';
    this.log.info(
      { event: 'failover.link-down', connectionId: c.id, outbound: c.outbound, remote: c.remote, reason },
      'failover TCP connection closed',
    );
    this.emit({ type: 'disconnected', connectionId: c.id, reason }, null);
    this.checkQuiet();
  }

  private destroy(c: Connection, reason: string): void {
    if (c.phase === 'destroyed') return;
    c.phase = 'destroyed';
    c.reason ??= reason;
    if (c.lingerTimer !== null) clearTimeout(c.lingerTimer);
    c.lingerTimer = null;
    c.socket.destroy();
  }

  /** Hand an input to the endpoint. A throwing handler costs the connection, not the process. */
  private emit(input: EndpointInput, c: Connection | null): void {
    if (this.isStopped) return;
    try {
      this.handler(input);
    } catch (err) {
      this.log.error(
        {
          event: 'failover.handler-error',
          input: input.type,
          connectionId: c?.id,
          err: err instanceof Error ? err.stack : String(err),
        },
        'failover input handler threw; dropping the connection',
      );
      if (c !== null) this.destroy(c, 'handler-error');
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Endpoint actions

  /**
   * Encode, sign (when a secret is configured) and write. False when the connection is gone or
   * closing, or when this write overflowed its send buffer (the connection is then destroyed).
   * Throws RangeError on a message that cannot be encoded (a caller bug).
   */
  send(connectionId: ConnectionId, message: FailoverMessage): boolean {
    let bytes = encodeFailover(message);
    if (this.options.auth.algorithm !== 'none') bytes = signFailover(bytes, this.options.auth);
    const c = this.connections.get(connectionId);
    if (c === undefined || c.phase !== 'open') return false;
    c.socket.write(bytes);
    this.counters.bytesOut += bytes.length;
    this.counters.messagesOut++;
    if (c.socket.writableLength > this.maxQueuedBytes) {
      this.log.error(
        {
          event: 'failover.send-buffer-overflow',
          connectionId: c.id,
          remote: c.remote,
          queuedBytes: c.socket.writableLength,
          maxQueuedBytes: this.maxQueuedBytes,
        },
        'failover partner does not read what we send; closing the connection',
      );
      this.destroy(c, 'send-buffer-overflow');
      return false;
    }
    return true;
  }

  /** End the connection after what was written is flushed (cut off after CLOSE_LINGER_MS). */
  close(connectionId: ConnectionId): void {
    const c = this.connections.get(connectionId);
    if (c === undefined || c.phase !== 'open') return;
    c.phase = 'closing';
    c.reason ??= 'closed-by-us';
    c.socket.end();
    c.lingerTimer = setTimeout(() => this.destroy(c, 'close-timeout'), CLOSE_LINGER_MS);
  }

  /** Carry out send / close / connect in order; persist and log are the server's. */
  perform(actions: readonly EndpointAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.send(a.connectionId, a.message);
          break;
        case 'close':
          this.close(a.connectionId);
          break;
        case 'connect':
          this.connect();
          break;
        case 'persist':
        case 'log':
          break;
      }
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Views

  /** Connections not yet closed (including ones closing). */
  connectionCount(): number {
    return this.connections.size;
  }

  stats(): FailoverLinkStats {
    return { ...this.counters };
  }
}
