// `twinlease probe`: leases an address from running servers as a relayed client would (DORA,
// optionally renew and release) and says what came back and how fast — the operator's dhcping or
// a small perfdhcp. It talks DHCP, not the management API: --api and --token do not apply.
// The probe acts as the relay agent (src/probe/relay-agent.ts), so it needs no root and no
// client port: replies come to giaddr at the servers' port.

import type { Command } from 'commander';
import { normalizeClientId, normalizeHardwareAddress } from '../../config/resolver.js';
import { type ClientOutcome, probeClient } from '../../probe/conversation.js';
import { nthClient, type ProbeClient } from '../../probe/messages.js';
import { formatServer, RelayAgent, RelayAgentError, type ServerAddress } from '../../probe/relay-agent.js';
import { formatIpv4, formatMac, fromHex, isIpv4, parseIpv4, toHex } from '../../wire/ipv4.js';
import { CliError } from '../api-client.js';
import { print, printJson, table } from '../output.js';
import { action } from './context.js';

/** Bounds of --count and --timeout: a probe, not a load generator. */
const MAX_CLIENTS = 1000;
const MAX_TIMEOUT_SECONDS = 600;
const DEFAULT_MAC = '02:00:00:00:00:01';

interface ProbeOptions {
  server: string[];
  port: string;
  giaddr?: string;
  relayAddress?: string;
  mac: string;
  clientId?: string;
  hostname?: string;
  renew: boolean;
  release: boolean;
  count: string;
  timeout: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim())];
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description(
      'lease an address from DHCP servers as a relay agent would (DORA, optionally renew and release) and print the result',
    )
    .option(
      '--server <address[:port]>',
      'a server to relay to (repeat it, or separate by commas, for a failover pair)',
      collect,
      [],
    )
    .option('--port <port>', 'server UDP port for --server addresses without one', '67')
    .option(
      '--giaddr <address>',
      'relay address: giaddr in the requests, and where the probe listens for the replies (at the servers’ port); must be an address of this machine on which no server listens',
    )
    .option('--relay-address <address>', 'the same as --giaddr')
    .option(
      '--mac <mac>',
      'hardware address of the (first) client; the next ones count up from it',
      DEFAULT_MAC,
    )
    .option('--client-id <hex>', 'client identifier (option 61), type byte first, e.g. 01:02:00:00:00:00:01')
    .option('--hostname <name>', 'host name (option 12); with --count, the n-th client sends name-n')
    .option('--renew', 'renew the lease after the ACK (a REQUEST with ciaddr)', false)
    .option('--release', 'release the lease at the end', false)
    .option('--count <n>', `number of clients, one after another (at most ${MAX_CLIENTS})`, '1')
    .option('--timeout <seconds>', 'how long to wait for each answer (retransmitting every second)', '5')
    .action(
      action(async ({ json }, opts: ProbeOptions) => {
        const settings = parseSettings(opts);
        let agent: RelayAgent;
        try {
          agent = await RelayAgent.open(settings.relayAddress, settings.servers);
        } catch (err) {
          if (err instanceof RelayAgentError) throw new CliError(err.message);
          throw err;
        }
        const outcomes: ClientOutcome[] = [];
        try {
          for (let n = 0; n < settings.count; n++) {
            outcomes.push(
              await probeClient(agent, nthClient(settings.client, n), {
                giaddr: parseIpv4(settings.relayAddress),
                servers: settings.servers,
                timeoutMs: settings.timeoutSeconds * 1000,
                renew: opts.renew,
                release: opts.release,
              }),
            );
          }
        } finally {
          agent.close();
        }
        if (json) printJson(outcomes.map(outcomeJson));
        else {
          print(
            table(
              ['Client', 'Address', 'Server id', 'Lease', 'DORA', 'Renewal', 'Release'],
              outcomes.map(row),
            ),
          );
          const leased = outcomes.filter((o) => o.address !== null).length;
          print(
            `${leased} of ${outcomes.length} client${outcomes.length === 1 ? '' : 's'} leased (relay ${settings.relayAddress} to ${settings.servers.map(formatServer).join(', ')})`,
          );
        }
        const failed = outcomes.filter((o) => o.failure !== null);
        for (const o of failed) {
          process.stderr.write(`twinlease: ${clientLabel(o.client)}: ${o.failure}\n`);
        }
        if (failed.length > 0) process.exitCode = 1;
      }),
    );
}

interface Settings {
  servers: ServerAddress[];
  relayAddress: string;
  client: ProbeClient;
  count: number;
  timeoutSeconds: number;
}

function parseSettings(opts: ProbeOptions): Settings {
  const defaultPort = parsePort(opts.port, '--port');
  const servers = opts.server.filter((s) => s !== '').map((s) => parseServer(s, defaultPort));
  if (servers.length === 0) {
    throw new CliError('--server is required: the address of a DHCP server (repeat it for a pair)');
  }
  if (opts.giaddr !== undefined && opts.relayAddress !== undefined && opts.giaddr !== opts.relayAddress) {
    throw new CliError('--giaddr and --relay-address name the same thing: give one');
  }
  const relayAddress = opts.giaddr ?? opts.relayAddress;
  if (relayAddress === undefined) {
    throw new CliError(
      '--giaddr is required: an address of this machine for the probe to act as relay on (the servers reply there), e.g. 127.0.0.3 for servers on loopback',
    );
  }
  if (!isIpv4(relayAddress) || relayAddress === '0.0.0.0') {
    throw new CliError(`--giaddr ${JSON.stringify(relayAddress)} is not a unicast IPv4 address`);
  }
  const mac = normalizeHardwareAddress(opts.mac);
  if (mac === null) {
    throw new CliError(
      `--mac ${JSON.stringify(opts.mac)} is not a hardware address (e.g. 02:00:00:00:00:01)`,
    );
  }
  let clientId: Uint8Array | null = null;
  if (opts.clientId !== undefined) {
    const hex = normalizeClientId(opts.clientId);
    if (hex === null) {
      throw new CliError(
        `--client-id ${JSON.stringify(opts.clientId)} is not a client identifier: hex bytes, type first, at least two (e.g. 01:02:00:00:00:00:01)`,
      );
    }
    clientId = fromHex(hex);
  }
  if (opts.hostname !== undefined && opts.hostname === '') throw new CliError('--hostname is empty');
  const count = wholeNumber(opts.count, '--count', 1, MAX_CLIENTS);
  const timeoutSeconds = wholeNumber(opts.timeout, '--timeout', 1, MAX_TIMEOUT_SECONDS);
  return {
    servers,
    relayAddress,
    client: { hardwareAddress: fromHex(mac), clientId, hostname: opts.hostname ?? null },
    count,
    timeoutSeconds,
  };
}

function parseServer(text: string, defaultPort: number): ServerAddress {
  const [address, port, ...rest] = text.split(':');
  if (rest.length > 0 || address === undefined || !isIpv4(address)) {
    throw new CliError(`--server ${JSON.stringify(text)} is not an IPv4 address[:port]`);
  }
  return { address, port: port === undefined ? defaultPort : parsePort(port, `--server ${text}`) };
}

function parsePort(text: string, label: string): number {
  return wholeNumber(text, label, 1, 65535);
}

function wholeNumber(text: string, label: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
    throw new CliError(`${label} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

function clientLabel(c: ProbeClient): string {
  return formatMac(toHex(c.hardwareAddress));
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

function leaseText(seconds: number | null, t1: number | null, t2: number | null): string {
  if (seconds === null) return '-';
  const timers = t1 !== null && t2 !== null ? ` (T1 ${t1}s, T2 ${t2}s)` : '';
  return `${seconds}s${timers}`;
}

function row(o: ClientOutcome): (string | null)[] {
  const ack = o.ack?.reply ?? null;
  const lease = ack?.type === 'ack' ? ack : null;
  let dora: string;
  if (o.offer?.reply === null) dora = 'no OFFER';
  else if (o.ack?.reply === null) dora = 'no ACK';
  else if (ack?.type === 'nak') dora = 'NAK';
  else dora = ms(o.doraMs ?? 0);
  let renewal: string | null = null;
  if (o.renewal !== null) {
    const r = o.renewal.reply;
    renewal =
      r === null
        ? 'no answer'
        : r.type === 'nak'
          ? 'NAK'
          : `ACK ${r.leaseSeconds ?? '-'}s from ${r.serverId === null ? '-' : formatIpv4(r.serverId)}, ${ms(o.renewal.elapsedMs)}`;
  }
  return [
    clientLabel(o.client),
    o.address === null ? null : formatIpv4(o.address),
    lease?.serverId == null ? null : formatIpv4(lease.serverId),
    lease === null ? null : leaseText(lease.leaseSeconds, lease.renewSeconds, lease.rebindSeconds),
    dora,
    renewal,
    o.isReleased ? 'sent' : null,
  ];
}

function exchangeJson(e: ClientOutcome['offer']) {
  if (e === null) return null;
  const r = e.reply;
  return {
    reply: r?.type ?? null,
    from: e.from === null ? null : formatServer(e.from),
    elapsedMs: Math.round(e.elapsedMs * 10) / 10,
    transmissions: e.transmissions,
    address: r === null || r.address === 0 ? null : formatIpv4(r.address),
    serverId: r?.serverId == null ? null : formatIpv4(r.serverId),
    leaseSeconds: r?.leaseSeconds ?? null,
    renewSeconds: r?.renewSeconds ?? null,
    rebindSeconds: r?.rebindSeconds ?? null,
    message: r?.message ?? null,
  };
}

function outcomeJson(o: ClientOutcome) {
  return {
    mac: clientLabel(o.client),
    clientId: o.client.clientId === null ? null : formatMac(toHex(o.client.clientId)),
    hostname: o.client.hostname,
    address: o.address === null ? null : formatIpv4(o.address),
    doraMs: o.doraMs === null ? null : Math.round(o.doraMs * 10) / 10,
    offer: exchangeJson(o.offer),
    ack: exchangeJson(o.ack),
    renewal: exchangeJson(o.renewal),
    released: o.isReleased,
    failure: o.failure,
  };
}
