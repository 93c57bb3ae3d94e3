// A small scriptable DHCP client that acts as a relay agent (RFC 2131 §4.1: giaddr set, hops 1,
// replies come back to giaddr:67). It crafts DISCOVER/REQUEST/DECLINE/RELEASE for any number of
// made-up clients and records every OFFER/ACK/NAK it gets, so the tests can check what the server
// promised against what it stored. The socket lives in a namespace (udp-agent.ts); packets are
// built and read here with the project's own codec (src/wire).

import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeDhcp, encodeDhcp } from '../../../src/wire/dhcp-codec.js';
import {
  encodeRelayAgentInfo,
  getIpv4Option,
  getUint8Option,
  getUint32Option,
  OPTION,
} from '../../../src/wire/dhcp-options.js';
import { BOOTREQUEST, DhcpMessageType, type DhcpPacket } from '../../../src/wire/dhcp-packet.js';
import { formatIpv4, fromHex, parseIpv4, toHex } from '../../../src/wire/ipv4.js';
import { REPO_ROOT } from './env.js';
import { LineProcess } from './proc.js';

/** RFC 3046 / RFC 3527 sub-options of option 82 that the tests set. */
const RAI_CIRCUIT_ID = 1;
const RAI_LINK_SELECTION = 5;

export interface TestClientOptions {
  /** Namespace the relay socket lives in. */
  ns: string;
  /** giaddr of every packet (must be an address of `ns` routed from the server). */
  giaddr: string;
  /** Server address and port the relay sends to. */
  server: string;
  serverPort?: number;
  /** Local address to bind port 67 on (default 0.0.0.0). */
  bindAddress?: string;
  /** Per-attempt wait for a reply (default 1000 ms). */
  attemptTimeoutMs?: number;
  /** Attempts per exchange (default 3). */
  attempts?: number;
}

export interface Reply {
  type: DhcpMessageType;
  xid: number;
  yiaddr: string;
  /** Client hardware address, lower-case hex. */
  mac: string;
  serverId: string | null;
  leaseTimeSeconds: number | null;
  renewalTimeSeconds: number | null;
  rebindingTimeSeconds: number | null;
  giaddr: string;
  from: string;
  /** Local time the reply arrived, ms since epoch. */
  at: number;
  packet: DhcpPacket;
}

export interface ExchangeOptions {
  /** Option 50 (DISCOVER/REQUEST in SELECTING/INIT-REBOOT). */
  requestedAddress?: string;
  /** Option 54 for REQUEST (SELECTING), DECLINE, RELEASE. */
  serverId?: string;
  /** ciaddr (REQUEST in RENEWING, RELEASE). */
  ciaddr?: string;
  /** Option 61 as hex. */
  clientId?: string;
  /** giaddr for this packet only (default: the client's). */
  giaddr?: string;
  /** Option 82 link-selection sub-option (RFC 3527). */
  linkSelection?: string;
  /** Option 82 circuit-id sub-option, hex. */
  circuitId?: string;
  xid?: number;
  /** Destination of this packet (default: the client's `server`), e.g. one partner of a pair. */
  to?: string;
  attemptTimeoutMs?: number;
  attempts?: number;
}

export interface DoraResult {
  mac: string;
  offer: Reply | null;
  /** The ACK or NAK; null when the server did not answer the REQUEST. */
  reply: Reply | null;
}

/** Made-up but stable MAC for test client number `n` of a test run (locally administered). */
export function testMac(tag: number, n: number): string {
  const b = [0x02, tag & 255, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join('');
}

function u32(value: number): Uint8Array {
  return Uint8Array.of(value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
}

function ipv4Option(options: Map<number, Uint8Array>, code: number): string | null {
  const v = getIpv4Option(options, code);
  return v === null ? null : formatIpv4(v);
}

interface Pending {
  accept: ReadonlySet<DhcpMessageType>;
  resolve: (reply: Reply) => void;
}

export class DhcpTestClient {
  /** Every reply received, in arrival order (matched or not). */
  readonly replies: Reply[] = [];
  /** Replies nobody waited for (late retransmission answers, foreign xids). */
  readonly unmatched: Reply[] = [];
  readonly errors: string[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly attemptTimeoutMs: number;
  private readonly attempts: number;

  private constructor(
    private readonly agent: LineProcess,
    readonly options: TestClientOptions,
  ) {
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 1000;
    this.attempts = options.attempts ?? 3;
  }

  static async start(options: TestClientOptions): Promise<DhcpTestClient> {
    const agent = new LineProcess(
      'ip',
      [
        'netns',
        'exec',
        options.ns,
        process.execPath,
        '--import',
        'tsx',
        join(REPO_ROOT, 'test/e2e/lib/udp-agent.ts'),
        options.bindAddress ?? '0.0.0.0',
        '67',
      ],
      { cwd: REPO_ROOT },
    );
    const client = new DhcpTestClient(agent, options);
    const rl = createInterface({ input: agent.child.stdout! });
    rl.on('line', (line) => client.onAgentLine(line));
    await agent.waitForLine(
      'udp agent ready',
      (l) => l.includes('"t":"ready"') || l.includes('"t":"error"'),
      15_000,
    );
    const err = agent.lines.find((l) => l.includes('"t":"error"'));
    if (err) {
      await agent.stop();
      throw new Error(`udp agent in ${options.ns}: ${err}`);
    }
    return client;
  }

  async close(): Promise<void> {
    this.agent.child.stdin?.end();
    await this.agent.stop('SIGTERM', 3000);
  }

  private onAgentLine(line: string): void {
    if (!line.startsWith('{')) return;
    const msg = JSON.parse(line) as { t: string; from?: string; b64?: string; at?: number; message?: string };
    if (msg.t === 'error') {
      this.errors.push(msg.message ?? line);
      return;
    }
    if (msg.t !== 'rx' || msg.b64 === undefined) return;
    const decoded = decodeDhcp(new Uint8Array(Buffer.from(msg.b64, 'base64')));
    if (!decoded.ok) {
      this.errors.push(
        `undecodable reply from ${msg.from}: ${decoded.error.reason} at ${decoded.error.offset}`,
      );
      return;
    }
    const p = decoded.packet;
    const type = getUint8Option(p.options, OPTION.messageType);
    if (type === null) {
      this.errors.push(`reply without option 53 from ${msg.from}`);
      return;
    }
    const reply: Reply = {
      type,
      xid: p.xid,
      yiaddr: formatIpv4(p.yiaddr),
      mac: toHex(p.chaddr.subarray(0, Math.min(p.hlen, 16))),
      serverId: ipv4Option(p.options, OPTION.serverIdentifier),
      leaseTimeSeconds: getUint32Option(p.options, OPTION.leaseTime),
      renewalTimeSeconds: getUint32Option(p.options, OPTION.renewalTime),
      rebindingTimeSeconds: getUint32Option(p.options, OPTION.rebindingTime),
      giaddr: formatIpv4(p.giaddr),
      from: msg.from ?? '',
      at: msg.at ?? Date.now(),
      packet: p,
    };
    this.replies.push(reply);
    const waiter = this.pending.get(p.xid);
    if (waiter?.accept.has(type)) {
      this.pending.delete(p.xid);
      waiter.resolve(reply);
    } else this.unmatched.push(reply);
  }

  /** Builds a relayed BOOTREQUEST of `type` for client `mac`. */
  buildPacket(type: DhcpMessageType, mac: string, xid: number, o: ExchangeOptions = {}): DhcpPacket {
    const hw = fromHex(mac);
    const chaddr = new Uint8Array(16);
    chaddr.set(hw);
    const options = new Map<number, Uint8Array>();
    options.set(OPTION.messageType, Uint8Array.of(type));
    if (o.clientId !== undefined) options.set(OPTION.clientId, fromHex(o.clientId));
    if (o.requestedAddress !== undefined)
      options.set(OPTION.requestedAddress, u32(parseIpv4(o.requestedAddress)));
    if (o.serverId !== undefined) options.set(OPTION.serverIdentifier, u32(parseIpv4(o.serverId)));
    if (type === DhcpMessageType.Discover || type === DhcpMessageType.Request) {
      options.set(
        OPTION.parameterRequestList,
        Uint8Array.of(OPTION.subnetMask, OPTION.routers, OPTION.leaseTime, OPTION.serverIdentifier),
      );
    }
    const rai: [number, Uint8Array][] = [];
    if (o.circuitId !== undefined) rai.push([RAI_CIRCUIT_ID, fromHex(o.circuitId)]);
    if (o.linkSelection !== undefined) rai.push([RAI_LINK_SELECTION, u32(parseIpv4(o.linkSelection))]);
    if (rai.length > 0) options.set(OPTION.relayAgentInfo, encodeRelayAgentInfo(rai));
    return {
      op: BOOTREQUEST,
      htype: 1,
      hlen: hw.length,
      hops: 1,
      xid,
      secs: 0,
      flags: 0,
      ciaddr: o.ciaddr !== undefined ? parseIpv4(o.ciaddr) : 0,
      yiaddr: 0,
      siaddr: 0,
      giaddr: parseIpv4(o.giaddr ?? this.options.giaddr),
      chaddr,
      sname: new Uint8Array(64),
      file: new Uint8Array(128),
      hasMagicCookie: true,
      options,
    };
  }

  /** Sends a packet as is (no reply expected), to `to` (default: the client's `server`). */
  send(packet: DhcpPacket, to: string = this.options.server): void {
    const bytes = encodeDhcp(packet);
    const line = JSON.stringify({
      t: 'send',
      to,
      port: this.options.serverPort ?? 67,
      b64: Buffer.from(bytes).toString('base64'),
    });
    this.agent.child.stdin!.write(`${line}\n`);
  }

  private newXid(): number {
    for (;;) {
      const xid = randomInt(1, 0xffffffff);
      if (!this.pending.has(xid)) return xid;
    }
  }

  /**
   * Sends `type` and waits for a reply of one of `accept`, retransmitting with the same xid up
   * to `attempts` times. Null when no reply came.
   */
  async exchange(
    type: DhcpMessageType,
    mac: string,
    accept: readonly DhcpMessageType[],
    o: ExchangeOptions = {},
  ): Promise<Reply | null> {
    const xid = o.xid ?? this.newXid();
    const packet = this.buildPacket(type, mac, xid, o);
    const attemptMs = o.attemptTimeoutMs ?? this.attemptTimeoutMs;
    const attempts = o.attempts ?? this.attempts;
    const got = new Promise<Reply>((resolve) => this.pending.set(xid, { accept: new Set(accept), resolve }));
    for (let i = 0; i < attempts; i++) {
      this.send(packet, o.to);
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        got,
        new Promise<null>((res) => (timer = setTimeout(() => res(null), attemptMs))),
      ]);
      clearTimeout(timer);
      if (r !== null) return r;
    }
    this.pending.delete(xid);
    return null;
  }

  discover(mac: string, o: ExchangeOptions = {}): Promise<Reply | null> {
    return this.exchange(DhcpMessageType.Discover, mac, [DhcpMessageType.Offer, DhcpMessageType.Nak], o);
  }

  /** REQUEST (SELECTING when serverId+requestedAddress, RENEWING when ciaddr). Resolves to ACK/NAK or null. */
  request(mac: string, o: ExchangeOptions = {}): Promise<Reply | null> {
    return this.exchange(DhcpMessageType.Request, mac, [DhcpMessageType.Ack, DhcpMessageType.Nak], o);
  }

  decline(mac: string, address: string, serverId: string, o: ExchangeOptions = {}): void {
    this.send(
      this.buildPacket(DhcpMessageType.Decline, mac, o.xid ?? this.newXid(), {
        ...o,
        requestedAddress: address,
        serverId,
      }),
      o.to,
    );
  }

  release(mac: string, address: string, serverId: string, o: ExchangeOptions = {}): void {
    this.send(
      this.buildPacket(DhcpMessageType.Release, mac, o.xid ?? this.newXid(), {
        ...o,
        ciaddr: address,
        serverId,
      }),
      o.to,
    );
  }

  /** DISCOVER → OFFER → REQUEST (selecting) → ACK/NAK, with one xid as a real client does. */
  async dora(mac: string, o: ExchangeOptions = {}): Promise<DoraResult> {
    const xid = o.xid ?? this.newXid();
    const offer = await this.discover(mac, { ...o, xid });
    if (offer === null || offer.type !== DhcpMessageType.Offer) return { mac, offer, reply: null };
    const reply = await this.request(mac, {
      ...o,
      xid,
      requestedAddress: offer.yiaddr,
      serverId: offer.serverId ?? this.options.server,
    });
    return { mac, offer, reply };
  }

  /**
   * DORA for every MAC, starting them at `ratePerSecond` with at most `maxInFlight` open at once.
   * `onResult` sees each result as soon as it is known (the ACK is recorded before anything else
   * happens to the server). Stops starting new ones when `shouldStop()` says so.
   */
  async doraMany(
    macs: readonly string[],
    opts: {
      ratePerSecond: number;
      maxInFlight?: number;
      onResult?: (r: DoraResult) => void;
      shouldStop?: () => boolean;
      exchange?: ExchangeOptions;
    },
  ): Promise<DoraResult[]> {
    const results: DoraResult[] = [];
    const maxInFlight = opts.maxInFlight ?? 200;
    const gapMs = 1000 / opts.ratePerSecond;
    const started = Date.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < macs.length; i++) {
      if (opts.shouldStop?.()) break;
      const due = started + i * gapMs;
      const wait = due - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const p: Promise<void> = this.dora(macs[i]!, opts.exchange).then((r) => {
        results.push(r);
        opts.onResult?.(r);
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    return results;
  }
}

export { DhcpMessageType };
