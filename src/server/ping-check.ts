// The ping check before an OFFER (RFC 2131 §4.4.1: the server SHOULD probe an address before
// allocating it; Windows' conflict detection attempts, dhcpd's ping-check): ICMP echo requests to
// the address, `attempts` of them, each waiting `timeoutMs` for a reply; any reply means the
// address is in use. Off by default (attempts 0), as in Windows. Needs the native addon's raw ICMP
// socket (CAP_NET_RAW). Concurrent checks of one address share one probe.

import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { decodeIcmpEchoReply, encodeIcmpEchoRequest } from '../wire/ip-udp.js';
import { formatIpv4, type Ipv4 } from '../wire/ipv4.js';
import type { Counters } from './counters.js';
import type { OfferProbe } from './dhcp-service.js';
import type { NativeHandle, NativeNet } from './direct/native.js';

export interface PingCheckSettings {
  attempts: number;
  timeoutMs: number;
}

/** Bound on probes in flight: past it an address is offered unprobed (counted), not queued. */
const MAX_IN_FLIGHT = 1024;
const PAYLOAD = new TextEncoder().encode('twinlease ping check');

export class PingCheck implements OfferProbe {
  private handle: NativeHandle | null = null;
  private readonly identifier = randomInt(1, 0xffff);
  private sequence = 0;
  private hasFailedToStart = false;
  private readonly inFlight = new Map<Ipv4, Promise<boolean>>();
  /** "address:sequence" → resolve(true) of the attempt waiting for that reply. */
  private readonly waiting = new Map<string, () => void>();

  constructor(
    private readonly native: NativeNet,
    private readonly settings: () => PingCheckSettings,
    private readonly log: Logger,
    private readonly counters: Counters,
  ) {}

  /** Opens the ICMP socket; throws with the reason (no CAP_NET_RAW). */
  start(): void {
    this.handle = this.native.openIcmp((packet) => {
      if (packet === null) return;
      const reply = decodeIcmpEchoReply(packet);
      if (reply === null || reply.identifier !== this.identifier) return;
      this.waiting.get(`${reply.source}:${reply.sequence}`)?.();
    });
  }

  stop(): void {
    if (this.handle !== null) this.native.close(this.handle);
    this.handle = null;
    for (const wake of this.waiting.values()) wake();
    this.waiting.clear();
  }

  isInUse(address: Ipv4): Promise<boolean> {
    const running = this.inFlight.get(address);
    if (running !== undefined) return running;
    const { attempts, timeoutMs } = this.settings();
    if (attempts <= 0) return Promise.resolve(false);
    if (this.handle === null && !this.hasFailedToStart) {
      // Turned on by a reload: open the socket now; a failure is said once.
      try {
        this.start();
      } catch (err) {
        this.hasFailedToStart = true;
        this.log.error(
          { event: 'dhcp.ping-check-failed', err: (err as Error).message },
          'cannot open the ICMP socket of the ping check; offering without it',
        );
      }
    }
    if (this.handle === null) return Promise.resolve(false);
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.counters.inc('ping-check-skipped');
      return Promise.resolve(false);
    }
    const probe = this.probe(address, attempts, timeoutMs).finally(() => this.inFlight.delete(address));
    this.inFlight.set(address, probe);
    return probe;
  }

  private async probe(address: Ipv4, attempts: number, timeoutMs: number): Promise<boolean> {
    for (let i = 0; i < attempts; i++) {
      if (this.handle === null) return false;
      this.sequence = (this.sequence + 1) & 0xffff;
      const key = `${address}:${this.sequence}`;
      this.counters.inc('ping-check-sent');
      const request = encodeIcmpEchoRequest(this.identifier, this.sequence, PAYLOAD);
      const err = this.native.sendTo(this.handle, address, 0, request);
      if (err !== undefined) {
        // EHOSTUNREACH and the like: the kernel found nobody to send to; try again.
        this.log.debug({ event: 'dhcp.ping-check-send-failed', address: formatIpv4(address), err });
        continue;
      }
      // The reply comes through the event loop, after this executor has registered the waiter.
      const answered = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting.delete(key);
          resolve(false);
        }, timeoutMs);
        this.waiting.set(key, () => {
          clearTimeout(timer);
          this.waiting.delete(key);
          resolve(true);
        });
      });
      if (answered) {
        this.counters.inc('ping-check-answered');
        return true;
      }
    }
    return false;
  }
}
