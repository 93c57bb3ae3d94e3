// Client conversations. A scenario is a script over made-up clients (`Conversation.client`); the
// same script runs in both worlds, and every request it sends becomes a step of that world's
// transcript with the replies seen on the wire. Requests are built from each world's own earlier
// replies (REQUEST the address this server offered), so a script never assumes an address; the
// steps of the two transcripts line up as long as the servers behave alike, and where they stop
// doing so the comparison shows the first step that differs.

import { decodeDhcp } from '../../../src/wire/dhcp-codec.js';
import { DhcpMessageType } from '../../../src/wire/dhcp-packet.js';
import { parseIpv4, parseSubnet, subnetContains } from '../../../src/wire/ipv4.js';
import { type ReplyView, type RequestContext, Symbols, viewOf } from './normalise.js';
import {
  encodeRequest,
  hex,
  ip,
  type RawOption,
  type RawRequest,
  relayAgentInfo,
  toHexString,
  u8,
} from './packet.js';
import { NET } from './spec.js';
import type { WireFrame, World } from './world.js';

/** What a typical client asks for (dhclient's list, give or take). */
export const DEFAULT_PRL = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];

export interface RelayProfile {
  giaddr: string;
  hops?: number;
  /** Option 82 sub-options, in order. */
  rai?: readonly RawOption[];
}

export interface ClientProfile {
  /** Hex of the hardware address (chaddr), usually 6 bytes. */
  mac: string;
  htype?: number;
  /** Default: the length of `mac`. */
  hlen?: number;
  /** Option 61 data as hex; none when absent. */
  clientId?: string;
  /** Option 55; null: none sent. */
  prl?: readonly number[] | null;
  /** More options on DISCOVER, REQUEST and INFORM (host name, vendor class, max size …). */
  extra?: readonly RawOption[];
  /** Behind a relay (every broadcast goes through it); direct on the server's link when absent. */
  relay?: RelayProfile;
  broadcastFlag?: boolean;
}

export interface SendOptions {
  /** Reuse the xid of the client's previous request (a client's DORA keeps one xid). */
  sameXid?: boolean;
  secs?: number;
  flags?: number;
  ciaddr?: string;
  /** Option 50; null: leave it out. */
  requested?: string | null;
  /** Option 54; null: leave it out. */
  serverId?: string | null;
  /** Options appended after the profile's. */
  extra?: readonly RawOption[];
  /** Option codes to leave out. */
  omit?: readonly number[];
  /** Header and framing overrides (malformed-but-tolerated packets). */
  raw?: Partial<RawRequest>;
  /** Transport: broadcast on the link, unicast to the server, or through the client's relay. */
  via?: 'broadcast' | 'unicast' | 'relay';
  /** A different relay for this request only. */
  relay?: RelayProfile | null;
  /** Free text appended to the step label. */
  note?: string;
}

/** What the request of a step carried (for the rules that classify a difference). */
export interface Sent {
  /** Option 53, or 0 for BOOTP. */
  type: number;
  giaddr: string;
  ciaddr: string;
  flags: number;
  hops: number;
  /** chaddr (its first hlen bytes), hex. */
  chaddr: string;
  /** Options as sent (RFC 3396 fragments concatenated), code → hex. */
  options: Record<number, string>;
}

export interface Step {
  label: string;
  /** Hex of the request sent, for the report (null when the step was skipped). */
  request: string | null;
  sent: Sent | null;
  replies: ReplyView[];
  /** Max message size the request allowed (option 57, at least 576). */
  maxSize: number;
}

export interface Transcript {
  steps: Step[];
  /** Replies that arrived after their step was closed. */
  late: { step: string; reply: ReplyView }[];
}

export interface Timing {
  /** How long a step waits for a first reply before calling it silence. */
  silenceMs: number;
  /** After a first reply, how long to wait for more. */
  settleMs: number;
  /** When the other world's server answered this step, how much longer to wait for this one (a
   * slow reply is not a different one). */
  graceMs?: number;
}

interface Collector {
  frames: WireFrame[];
  onFrame: () => void;
}

/** Routes the frames of one world to the step waiting for their xid. */
export class Dispatcher {
  private readonly waiting = new Map<number, Collector>();
  /** xid → where a late reply belongs. */
  private readonly owners = new Map<
    number,
    { transcript: Transcript; step: string; ctx: RequestContext; symbols: Symbols }
  >();
  readonly strays: WireFrame[] = [];

  constructor(readonly world: World) {
    world.onFrame((f) => this.onFrame(f));
  }

  private onFrame(f: WireFrame): void {
    const d = decodeDhcp(f.payload);
    if (d.ok && d.packet.op !== 2) return; // a request (nothing sends those toward us, but be sure)
    const xid = d.ok ? d.packet.xid : f.payload.length >= 8 ? readXid(f.payload) : -1;
    const c = this.waiting.get(xid);
    if (c) {
      c.frames.push(f);
      c.onFrame();
      return;
    }
    const owner = this.owners.get(xid);
    if (owner) owner.transcript.late.push({ step: owner.step, reply: viewOf(f, owner.ctx, owner.symbols) });
    else this.strays.push(f);
  }

  open(
    xid: number,
    c: Collector,
    owner: { transcript: Transcript; step: string; ctx: RequestContext; symbols: Symbols },
  ): void {
    if (this.waiting.has(xid))
      throw new Error(`xid ${xid.toString(16)} is already waiting in ${this.world.kind}`);
    this.waiting.set(xid, c);
    this.owners.set(xid, owner);
  }

  close(xid: number): void {
    this.waiting.delete(xid);
  }
}

function readXid(b: Uint8Array): number {
  return ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
}

/** The state one client keeps in one world. */
interface ClientState {
  xid: number;
  offer: { yiaddr: string; serverId: string | null } | null;
  lease: string | null;
  /** The address given up by the last RELEASE or DECLINE. */
  previous: string | null;
}

export class Conversation {
  readonly transcript: Transcript = { steps: [], late: [] };
  readonly symbols = new Symbols();
  /** The same scenario in the other world. */
  peer: Conversation | null = null;
  private readonly xids: () => number;

  constructor(
    readonly world: World,
    readonly dispatcher: Dispatcher,
    readonly timing: Timing,
    /** Draws the xids; the same sequence in both worlds. */
    xids: () => number,
  ) {
    this.xids = xids;
  }

  client(name: string, profile: ClientProfile): Client {
    return new Client(this, name, profile);
  }

  /** A note in the transcript (also a step, so both sides must reach it). */
  mark(label: string): void {
    this.transcript.steps.push({ label, request: null, sent: null, replies: [], maxSize: 0 });
  }

  nextXid(): number {
    return this.xids();
  }

  /** Sends one request and records the step with the replies that came. */
  async step(
    label: string,
    request: RawRequest,
    frame: Omit<Parameters<World['send']>[0], 'payload'>,
  ): Promise<ReplyView[]> {
    const payload = encodeRequest(request);
    const ctx: RequestContext = {
      giaddr: request.giaddr ?? '0.0.0.0',
      ciaddr: request.ciaddr ?? '0.0.0.0',
      chaddr: request.chaddr,
      srcMac: frame.srcMac,
      relayMac: this.world.relayMac,
    };
    const step: Step = {
      label,
      request: toHexString(payload),
      sent: sentOf(request),
      replies: [],
      maxSize: maxSizeOf(request),
    };
    this.transcript.steps.push(step);
    const index = this.transcript.steps.length - 1;
    const frames: WireFrame[] = [];
    await new Promise<void>((resolve) => {
      const onSilence = () => {
        const twin = this.peer?.transcript.steps[index];
        const grace = this.timing.graceMs ?? 0;
        if (frames.length === 0 && grace > 0 && twin?.label === label && twin.replies.length > 0) {
          timer = setTimeout(resolve, grace);
          return;
        }
        resolve();
      };
      let timer = setTimeout(onSilence, this.timing.silenceMs);
      this.dispatcher.open(
        request.xid,
        {
          frames,
          onFrame: () => {
            if (frames.length === 1) {
              clearTimeout(timer);
              timer = setTimeout(resolve, this.timing.settleMs);
            }
          },
        },
        { transcript: this.transcript, step: label, ctx, symbols: this.symbols },
      );
      this.world.send({ ...frame, payload });
    });
    this.dispatcher.close(request.xid);
    step.replies = frames.map((f) => viewOf(f, ctx, this.symbols));
    return step.replies;
  }
}

function sentOf(r: RawRequest): Sent {
  const options: Record<number, string> = {};
  const add = (code: number, data: Uint8Array) => {
    if (code !== 0 && code !== 255) options[code] = (options[code] ?? '') + toHexString(data);
  };
  for (const [code, data] of r.options) add(code, data);
  // RFC 2132 §9.3: with option 52, the file (1), sname (2) or both (3) fields carry options too.
  const overload = options[52] === undefined ? 0 : Number.parseInt(options[52], 16);
  for (const [bit, field] of [
    [1, r.file],
    [2, r.sname],
  ] as const) {
    if ((overload & bit) === 0 || field === undefined) continue;
    for (let i = 0; i + 1 < field.length && field[i] !== 255; ) {
      if (field[i] === 0) {
        i++;
        continue;
      }
      add(field[i]!, field.subarray(i + 2, i + 2 + field[i + 1]!));
      i += 2 + field[i + 1]!;
    }
  }
  const type = options[53]?.length === 2 ? Number.parseInt(options[53], 16) : 0;
  return {
    type,
    giaddr: r.giaddr ?? '0.0.0.0',
    ciaddr: r.ciaddr ?? '0.0.0.0',
    flags: r.flags ?? 0,
    hops: r.hops ?? 0,
    chaddr: toHexString(r.chaddr.subarray(0, Math.min(r.hlen, 16))),
    options,
  };
}

function maxSizeOf(r: RawRequest): number {
  for (const [code, data] of r.options)
    if (code === 57 && data.length === 2) return Math.max(576, (data[0]! << 8) | data[1]!);
  return 576;
}

export interface Exchange {
  /** The first reply's message (OFFER, ACK, NAK …) or null for silence. */
  message: string | null;
  reply: ReplyView | null;
}

const BROADCAST_MAC = 'ffffffffffff';
const MAIN = parseSubnet(NET.subnet);
const isInMainSubnet = (a: string) => subnetContains(MAIN, parseIpv4(a));

export class Client {
  private readonly state: ClientState = { xid: 0, offer: null, lease: null, previous: null };

  constructor(
    private readonly conv: Conversation,
    readonly name: string,
    readonly profile: ClientProfile,
  ) {}

  /** The address this client holds in this world (null when none). */
  get lease(): string | null {
    return this.state.lease;
  }

  get offered(): string | null {
    return this.state.offer?.yiaddr ?? null;
  }

  get previous(): string | null {
    return this.state.previous;
  }

  private get chaddr(): Uint8Array {
    return hex(this.profile.mac);
  }

  /** Source MAC of frames the client itself sends: its chaddr when that is an Ethernet address. */
  private get linkMac(): string {
    const m = this.profile.mac.toLowerCase();
    const isEthernet =
      (this.profile.htype ?? 1) === 1 && m.length === 12 && (parseInt(m.slice(0, 2), 16) & 1) === 0;
    return isEthernet ? m : `02ee${toHexString(hex(m.padEnd(8, '0').slice(0, 8)))}`;
  }

  private name_(address: string | null): string {
    return address === null ? 'none' : this.conv.symbols.name(address);
  }

  discover(o: SendOptions = {}): Promise<Exchange> {
    return this.send(DhcpMessageType.Discover, 'DISCOVER', { requested: null, serverId: null, ...o });
  }

  /** REQUEST in SELECTING: the offered address and the server that offered it. */
  async requestSelecting(o: SendOptions = {}): Promise<Exchange> {
    const offer = this.state.offer;
    if (offer === null && o.requested === undefined) return this.skip('REQUEST(selecting)', 'no OFFER');
    return this.send(DhcpMessageType.Request, 'REQUEST(selecting)', {
      sameXid: true,
      requested: offer?.yiaddr ?? null,
      serverId: offer?.serverId ?? NET.server,
      ...o,
    });
  }

  /** DISCOVER, then REQUEST of what was offered, with one xid. */
  async dora(o: SendOptions = {}): Promise<Exchange> {
    const offer = await this.discover(o);
    if (offer.message !== 'OFFER') return offer;
    const { requested: _r, serverId: _s, ...rest } = o;
    return this.requestSelecting({ ...rest, sameXid: true });
  }

  /** INIT-REBOOT: option 50, no server identifier, no ciaddr (RFC 2131 §4.3.2). */
  requestInitReboot(address: string | null = this.state.lease, o: SendOptions = {}): Promise<Exchange> {
    if (address === null) return this.skip('REQUEST(init-reboot)', 'no address');
    return this.send(DhcpMessageType.Request, 'REQUEST(init-reboot)', {
      requested: address,
      serverId: null,
      ...o,
    });
  }

  /** RENEWING: ciaddr, unicast to the server, no option 50/54. */
  renew(o: SendOptions = {}): Promise<Exchange> {
    const ciaddr = o.ciaddr ?? this.state.lease;
    if (ciaddr === null) return this.skip('REQUEST(renewing)', 'no lease');
    return this.send(DhcpMessageType.Request, 'REQUEST(renewing)', {
      via: 'unicast',
      ciaddr,
      requested: null,
      serverId: null,
      ...o,
    });
  }

  /** REBINDING: ciaddr, broadcast, no option 50/54. */
  rebind(o: SendOptions = {}): Promise<Exchange> {
    const ciaddr = o.ciaddr ?? this.state.lease;
    if (ciaddr === null) return this.skip('REQUEST(rebinding)', 'no lease');
    return this.send(DhcpMessageType.Request, 'REQUEST(rebinding)', {
      via: 'broadcast',
      ciaddr,
      requested: null,
      serverId: null,
      ...o,
    });
  }

  /** RELEASE: ciaddr and server identifier, unicast (RFC 2131 §4.4.6). */
  release(o: SendOptions = {}): Promise<Exchange> {
    const ciaddr = o.ciaddr ?? this.state.lease;
    if (ciaddr === null) return this.skip('RELEASE', 'no lease');
    const sent = this.send(DhcpMessageType.Release, 'RELEASE', {
      via: 'unicast',
      ciaddr,
      requested: null,
      serverId: NET.server,
      ...o,
    });
    this.forget();
    return sent;
  }

  /** DECLINE: option 50 and server identifier, broadcast (RFC 2131 §4.4.1). */
  decline(o: SendOptions = {}): Promise<Exchange> {
    const address = o.requested ?? this.state.lease ?? this.state.offer?.yiaddr ?? null;
    if (address === null) return this.skip('DECLINE', 'no address');
    const sent = this.send(DhcpMessageType.Decline, 'DECLINE', {
      via: 'broadcast',
      serverId: NET.server,
      ...o,
      requested: address,
    });
    this.forget();
    return sent;
  }

  /** INFORM: the client has an address (ciaddr) and wants only parameters. */
  inform(o: SendOptions = {}): Promise<Exchange> {
    const ciaddr = o.ciaddr ?? this.state.lease;
    if (ciaddr === null) return this.skip('INFORM', 'no address');
    return this.send(DhcpMessageType.Inform, 'INFORM', {
      via: 'unicast',
      ciaddr,
      requested: null,
      serverId: null,
      ...o,
    });
  }

  /** A BOOTP request (RFC 951): no option 53; with the magic cookie and options unless `raw` says otherwise. */
  bootp(o: SendOptions = {}): Promise<Exchange> {
    return this.send(0, 'BOOTREQUEST', { requested: null, serverId: null, ...o });
  }

  private skip(kind: string, why: string): Promise<Exchange> {
    this.conv.mark(`${this.name} ${kind}: skipped (${why})`);
    return Promise.resolve({ message: null, reply: null });
  }

  private async send(type: DhcpMessageType | 0, kind: string, o: SendOptions): Promise<Exchange> {
    const p = this.profile;
    const relay = o.relay === null ? undefined : (o.relay ?? p.relay);
    const via = o.via === 'relay' || (relay && o.via !== 'unicast') ? 'relay' : (o.via ?? 'broadcast');
    const ciaddr = o.ciaddr ?? '0.0.0.0';
    const options: RawOption[] = [];
    if (type !== 0) options.push([53, u8(type)]);
    if (p.clientId !== undefined) options.push([61, hex(p.clientId)]);
    if (o.requested) options.push([50, ip(o.requested)]);
    if (o.serverId) options.push([54, ip(o.serverId)]);
    const isConfigRequest =
      type === DhcpMessageType.Discover ||
      type === DhcpMessageType.Request ||
      type === DhcpMessageType.Inform ||
      type === 0;
    if (isConfigRequest) {
      const prl = p.prl === undefined ? DEFAULT_PRL : p.prl;
      if (prl !== null) options.push([55, Uint8Array.from(prl)]);
      if (p.extra) options.push(...p.extra);
    }
    if (o.extra) options.push(...o.extra);
    if (via === 'relay' && relay?.rai) options.push([82, relayAgentInfo(relay.rai)]);
    const omitted = new Set(o.omit ?? []);
    const xid = o.sameXid && this.state.xid !== 0 ? this.state.xid : this.conv.nextXid();
    this.state.xid = xid;
    const mac = this.chaddr;
    const request: RawRequest = {
      htype: p.htype ?? 1,
      hlen: p.hlen ?? Math.min(mac.length, 16),
      hops: via === 'relay' ? (relay?.hops ?? 1) : 0,
      xid,
      secs: o.secs ?? 0,
      flags: o.flags ?? (p.broadcastFlag ? 0x8000 : 0),
      ciaddr,
      giaddr: via === 'relay' ? relay!.giaddr : '0.0.0.0',
      chaddr: mac,
      options: options.filter(([c]) => !omitted.has(c)),
      ...o.raw,
    };
    if (type === 0 && o.raw?.hasCookie === false) request.options = [];
    const world = this.conv.world;
    let frame: Omit<Parameters<World['send']>[0], 'payload'>;
    if (via === 'relay') {
      frame = {
        srcMac: world.relayMac,
        dstMac: world.serverMac,
        srcIp: relay!.giaddr,
        dstIp: NET.server,
        srcPort: 67,
        dstPort: 67,
      };
    } else if (via === 'unicast') {
      // A client on a relayed subnet reaches the server through its router (the hub); one on the
      // server's own subnet (also behind the on-link relay) is on the link and answers ARP.
      const isOnLink = ciaddr === '0.0.0.0' || isInMainSubnet(ciaddr);
      const srcMac = isOnLink ? this.linkMac : world.relayMac;
      if (isOnLink && ciaddr !== '0.0.0.0') world.answerArp(ciaddr, srcMac);
      frame = { srcMac, dstMac: world.serverMac, srcIp: ciaddr, dstIp: NET.server, srcPort: 68, dstPort: 67 };
    } else {
      if (ciaddr !== '0.0.0.0') world.answerArp(ciaddr, this.linkMac);
      frame = {
        srcMac: this.linkMac,
        dstMac: BROADCAST_MAC,
        srcIp: ciaddr,
        dstIp: '255.255.255.255',
        srcPort: 68,
        dstPort: 67,
      };
    }
    const s = (a: string | null | undefined) => (a ? this.name_(a) : '');
    const parts = [
      via,
      o.ciaddr !== undefined ? `ciaddr ${s(o.ciaddr)}` : '',
      o.requested ? `requested ${s(o.requested)}` : '',
      o.serverId && o.serverId !== NET.server ? `server-id ${o.serverId}` : '',
      o.note ?? '',
    ].filter((x) => x !== '');
    const label = `${this.name} ${kind} (${parts.join(', ')})`;
    const replies = await this.conv.step(label, request, frame);
    return this.absorb(replies, type);
  }

  /** Updates the client's state from the first reply, as a client would. */
  private absorb(replies: ReplyView[], sent: DhcpMessageType | 0): Exchange {
    const first = replies[0];
    if (!first) return { message: null, reply: null };
    const yiaddr = this.addressOf(first.header.yiaddr);
    if (first.message === 'OFFER' && yiaddr) {
      this.state.offer = { yiaddr, serverId: NET.server };
    } else if (
      (first.message === 'ACK' && sent !== DhcpMessageType.Inform) ||
      first.message.startsWith('BOOTREPLY')
    ) {
      if (yiaddr) this.state.lease = yiaddr;
    } else if (first.message === 'NAK') {
      this.state.lease = null;
      this.state.offer = null;
    }
    return { message: first.message, reply: first };
  }

  /** The address behind a header value (symbols map back to what this world gave). */
  private addressOf(value: string | undefined): string | null {
    if (value === undefined || value === '0.0.0.0') return null;
    return this.conv.symbols.address(value);
  }

  /** Forget the lease after a RELEASE or DECLINE (the client no longer uses it). */
  forget(): void {
    this.state.previous = this.state.lease;
    this.state.lease = null;
    this.state.offer = null;
  }
}
