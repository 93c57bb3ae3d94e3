// One probe client's conversation through the relay agent: DISCOVER → OFFER → REQUEST → ACK
// (RFC 2131 §3.1), then optionally a renewal and a release. Each exchange retransmits once a
// second until its timeout, with `secs` counting the seconds since the client began, as a real
// client's does (RFC 2131 §2): so a load-balancing server that leaves this client to its partner
// answers it anyway once `secs` passes its loadBalanceMaxSeconds (RFC 3074 §4, D12 §5.3).

import { randomInt } from 'node:crypto';
import type { DhcpPacket } from '../wire/dhcp-packet.js';
import type { Ipv4 } from '../wire/ipv4.js';
import {
  discover,
  type ProbeClient,
  type ProbeReply,
  type RelayedRequest,
  readReply,
  release,
  requestRenewing,
  requestSelecting,
} from './messages.js';
import type { RelayAgent, ServerAddress } from './relay-agent.js';

/** Between retransmissions of an unanswered request. */
const RETRANSMIT_INTERVAL_MS = 1000;

export interface ProbeSettings {
  giaddr: Ipv4;
  /** The servers the relay forwards to (a relay's helper addresses). */
  servers: readonly ServerAddress[];
  /** Per exchange (DISCOVER, REQUEST, renewal). */
  timeoutMs: number;
  renew: boolean;
  release: boolean;
}

export interface Exchange {
  reply: ProbeReply | null;
  /** Who answered; null when nobody did. */
  from: ServerAddress | null;
  /** From the first transmission to the reply (or to the timeout). */
  elapsedMs: number;
  /** How many times the request was sent. */
  transmissions: number;
}

export interface ClientOutcome {
  client: ProbeClient;
  /** The leased address, when the DORA ended in an ACK. */
  address: Ipv4 | null;
  offer: Exchange | null;
  ack: Exchange | null;
  renewal: Exchange | null;
  /** From the first DISCOVER to the ACK, when there was one. */
  doraMs: number | null;
  /** Whether a RELEASE was sent (it has no answer). */
  isReleased: boolean;
  /** null when every step asked for succeeded; else what went wrong, one sentence. */
  failure: string | null;
}

export async function probeClient(
  agent: RelayAgent,
  client: ProbeClient,
  settings: ProbeSettings,
): Promise<ClientOutcome> {
  const outcome: ClientOutcome = {
    client,
    address: null,
    offer: null,
    ack: null,
    renewal: null,
    doraMs: null,
    isReleased: false,
    failure: null,
  };
  const all = settings.servers;
  const startedAtMs = performance.now();
  const xid = randomInt(0, 0x1_0000_0000);
  const base = (): RelayedRequest => ({
    client,
    giaddr: settings.giaddr,
    xid,
    secs: (performance.now() - startedAtMs) / 1000,
  });

  outcome.offer = await exchange(agent, xid, () => discover(base()), all, ['offer'], settings);
  const offer = outcome.offer.reply;
  if (offer === null) {
    outcome.failure = `no OFFER within ${settings.timeoutMs / 1000}s from ${list(all)}`;
    return outcome;
  }
  if (offer.serverId === null) {
    outcome.failure = `the OFFER from ${list([outcome.offer.from!])} has no server identifier (option 54)`;
    return outcome;
  }
  // The SELECTING REQUEST is a broadcast: the relay forwards it to every server, so the ones whose
  // offer was declined learn it (RFC 2131 §4.3.2) — the partner withdraws its offer.
  const serverId = offer.serverId;
  outcome.ack = await exchange(
    agent,
    xid,
    () => requestSelecting(base(), offer.address, serverId),
    all,
    ['ack', 'nak'],
    settings,
  );
  const ack = outcome.ack.reply;
  if (ack === null) {
    outcome.failure = `no ACK within ${settings.timeoutMs / 1000}s for the REQUEST of the address offered`;
    return outcome;
  }
  if (ack.type === 'nak') {
    outcome.failure = `NAK from ${list([outcome.ack.from!])}${ack.message ? `: ${ack.message}` : ''}`;
    return outcome;
  }
  outcome.address = ack.address;
  outcome.doraMs = performance.now() - startedAtMs;
  let granting = outcome.ack.from!;
  let grantingId = ack.serverId ?? serverId;

  if (settings.renew) {
    // RENEWING: unicast to the server that granted the lease (RFC 2131 §4.4.5), here through the
    // relay because the probe has no interface with the leased address to receive at.
    const renewXid = randomInt(0, 0x1_0000_0000);
    const renewStartedAtMs = performance.now();
    outcome.renewal = await exchange(
      agent,
      renewXid,
      () =>
        requestRenewing(
          {
            client,
            giaddr: settings.giaddr,
            xid: renewXid,
            secs: (performance.now() - renewStartedAtMs) / 1000,
          },
          ack.address,
        ),
      [granting],
      ['ack', 'nak'],
      settings,
    );
    const renewed = outcome.renewal.reply;
    if (renewed === null) {
      outcome.failure = `no answer to the renewal within ${settings.timeoutMs / 1000}s from ${list([granting])}`;
      return outcome;
    }
    if (renewed.type === 'nak') {
      outcome.failure = `renewal NAKed by ${list([granting])}${renewed.message ? `: ${renewed.message}` : ''}`;
      return outcome;
    }
    granting = outcome.renewal.from!;
    grantingId = renewed.serverId ?? grantingId;
  }

  if (settings.release) {
    const releaseXid = randomInt(0, 0x1_0000_0000);
    await agent.send(
      release({ client, giaddr: settings.giaddr, xid: releaseXid, secs: 0 }, ack.address, grantingId),
      [granting],
    );
    outcome.isReleased = true;
  }
  return outcome;
}

/** Sends `build()` to `to` until a reply of a `wanted` type to `xid` arrives or the timeout. */
function exchange(
  agent: RelayAgent,
  xid: number,
  build: () => DhcpPacket,
  to: readonly ServerAddress[],
  wanted: readonly ProbeReply['type'][],
  settings: ProbeSettings,
): Promise<Exchange> {
  const startedAtMs = performance.now();
  let transmissions = 0;
  return new Promise((resolve) => {
    let retransmitTimer: NodeJS.Timeout | undefined;
    const finish = (e: Omit<Exchange, 'transmissions'>) => {
      stopListening();
      clearTimeout(deadline);
      clearTimeout(retransmitTimer);
      resolve({ ...e, transmissions });
    };
    const stopListening = agent.listen((arrival) => {
      const reply = readReply(arrival.packet, xid);
      if (reply === null || !wanted.includes(reply.type)) return;
      finish({ reply, from: arrival.from, elapsedMs: arrival.atMs - startedAtMs });
    });
    const deadline = setTimeout(
      () => finish({ reply: null, from: null, elapsedMs: performance.now() - startedAtMs }),
      settings.timeoutMs,
    );
    const transmit = () => {
      transmissions++;
      void agent.send(build(), to);
      retransmitTimer = setTimeout(transmit, RETRANSMIT_INTERVAL_MS);
    };
    transmit();
  });
}

function list(servers: readonly ServerAddress[]): string {
  return servers.map((s) => `${s.address}:${s.port}`).join(', ');
}
