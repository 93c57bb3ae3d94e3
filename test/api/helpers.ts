// A real Twinlease server for the API and CLI tests: startServer() with a temp SQLite store, DHCP
// on a free high UDP port of 127.0.0.1 and the API on a free TCP port; plus a relay agent on
// another loopback address that makes real leases with real DHCP packets (the project's codec).
// Replies to a relay go to giaddr:<server port>, so each relay binds 127.0.0.N:<server port>.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { decodeDhcp, encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { getIpv4Option, OPTION } from '../../src/wire/dhcp-options.js';
import { BOOTREQUEST, DhcpMessageType, type DhcpPacket } from '../../src/wire/dhcp-packet.js';
import { formatIpv4, fromHex, parseIpv4 } from '../../src/wire/ipv4.js';

export const WRITE_TOKEN = 'ops-token-0123456789abcdef';
export const READ_TOKEN = 'ro-token-0123456789abcdef';
export const SERVER_NAME = 'tl-api-test';

/** Relay addresses (giaddr) of the two test scopes. */
export const RELAY_LAB = '127.0.0.2';
export const RELAY_OFFICE = '127.0.0.3';

export function testConfig(
  dir: string,
  dhcpPort: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    server: { name: SERVER_NAME, serverIdentifier: '127.0.0.1' },
    dhcp: { listenAddress: '127.0.0.1', port: dhcpPort },
    leaseStore: { path: join(dir, 'leases.db') },
    logging: { level: 'debug' },
    api: {
      listenAddress: '127.0.0.1',
      port: 0,
      tokens: [
        { name: 'ops', token: WRITE_TOKEN },
        { name: 'grafana', token: READ_TOKEN, readOnly: true },
      ],
    },
    scopes: [
      {
        id: 'lab',
        name: 'lab',
        description: 'relayed lab network',
        subnet: '10.50.0.0/24',
        relayAddresses: [RELAY_LAB],
        ranges: [{ start: '10.50.0.10', end: '10.50.0.29' }],
        exclusions: [{ start: '10.50.0.15', end: '10.50.0.16' }],
        reservations: [
          {
            address: '10.50.0.5',
            hardwareAddress: '02:00:00:00:00:99',
            hostname: 'printer',
            description: 'the printer by the door',
          },
        ],
        options: [
          { name: 'routers', data: '10.50.0.1' },
          { name: 'domainName', data: 'lab.example.test' },
        ],
        leaseTimeSeconds: 3600,
      },
      {
        id: 'office',
        subnet: '10.60.0.0/24',
        relayAddresses: [RELAY_OFFICE],
        ranges: [{ start: '10.60.0.100', end: '10.60.0.149' }],
        leaseTimeSeconds: 7200,
      },
    ],
    ...extra,
  };
}

/** A UDP port free on 127.0.0.1 and the relay addresses right now. */
export async function freeUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const ok = await Promise.all(
      ['127.0.0.1', RELAY_LAB, RELAY_OFFICE].map(
        (address) =>
          new Promise<boolean>((resolve) => {
            const s = dgram.createSocket('udp4');
            s.once('error', () => resolve(false));
            s.bind(port, address, () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return port;
  }
  throw new Error('no free UDP port');
}

export interface TestServer {
  server: RunningServer;
  dir: string;
  configPath: string;
  dbPath: string;
  dhcpPort: number;
  baseUrl: string;
  stop(): Promise<void>;
  /** stop() and delete the temp directory. */
  dispose(): Promise<void>;
}

export async function startTestServer(extra: Record<string, unknown> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'twinlease-api-'));
  const dhcpPort = await freeUdpPort();
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(testConfig(dir, dhcpPort, extra), null, 2));
  const server = await startServer({ configPath, logDestination: join(dir, 'server.log') });
  let isStopped = false;
  const stop = async () => {
    if (isStopped) return;
    isStopped = true;
    await server.stop();
  };
  return {
    server,
    dir,
    configPath,
    dbPath: join(dir, 'leases.db'),
    dhcpPort,
    baseUrl: `http://127.0.0.1:${server.api.port}`,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// -------------------------------------------------------------------------------------------------
// HTTP

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function http<T = Record<string, unknown>>(
  baseUrl: string,
  path: string,
  init: { token?: string | null; method?: string; body?: unknown; rawBody?: string } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? READ_TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined || init.rawBody !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.rawBody !== undefined ? { body: init.rawBody } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  if (res.headers.get('content-type')?.includes('application/json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: body as T, text };
}

// -------------------------------------------------------------------------------------------------
// DHCP relay

export interface ClientSpec {
  /** 12 hex digits */
  mac: string;
  hostname?: string;
  /** hex */
  clientId?: string;
}

export interface Reply {
  type: DhcpMessageType;
  yiaddr: string;
  serverId: string | null;
  packet: DhcpPacket;
}

export function mac(n: number): string {
  return `0200000000${n.toString(16).padStart(2, '0')}`;
}

export class Relay {
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private nextXid = Math.floor(Math.random() * 0xffff) << 8;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly giaddr: string,
    private readonly serverPort: number,
  ) {
    socket.on('message', (msg) => {
      const d = decodeDhcp(msg);
      if (!d.ok) return;
      const type = d.packet.options.get(OPTION.messageType)?.[0] as DhcpMessageType;
      const sid = getIpv4Option(d.packet.options, OPTION.serverIdentifier);
      const waiter = this.waiting.get(d.packet.xid);
      if (waiter) {
        this.waiting.delete(d.packet.xid);
        waiter({
          type,
          yiaddr: formatIpv4(d.packet.yiaddr),
          serverId: sid === null ? null : formatIpv4(sid),
          packet: d.packet,
        });
      }
    });
  }

  static async open(giaddr: string, serverPort: number): Promise<Relay> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(serverPort, giaddr, () => resolve());
    });
    return new Relay(socket, giaddr, serverPort);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  /** Sends one request; resolves with the reply, or null when none came within `timeoutMs`. */
  async exchange(
    type: DhcpMessageType,
    client: ClientSpec,
    o: { requested?: string; serverId?: string; ciaddr?: string; expectReply?: boolean } = {},
  ): Promise<Reply | null> {
    const xid = this.nextXid++;
    const options = new Map<number, Uint8Array>([[OPTION.messageType, Uint8Array.of(type)]]);
    if (o.requested) options.set(OPTION.requestedAddress, u32(parseIpv4(o.requested)));
    if (o.serverId) options.set(OPTION.serverIdentifier, u32(parseIpv4(o.serverId)));
    if (client.hostname) options.set(OPTION.hostName, new TextEncoder().encode(client.hostname));
    if (client.clientId) options.set(OPTION.clientId, fromHex(client.clientId));
    options.set(OPTION.parameterRequestList, Uint8Array.of(1, 3, 6, 15, 51));
    const chaddr = new Uint8Array(16);
    chaddr.set(fromHex(client.mac));
    const packet: DhcpPacket = {
      op: BOOTREQUEST,
      htype: 1,
      hlen: 6,
      hops: 1,
      xid,
      secs: 0,
      flags: 0,
      ciaddr: o.ciaddr ? parseIpv4(o.ciaddr) : 0,
      yiaddr: 0,
      siaddr: 0,
      giaddr: parseIpv4(this.giaddr),
      chaddr,
      sname: new Uint8Array(64),
      file: new Uint8Array(128),
      hasMagicCookie: true,
      options,
    };
    const bytes = encodeDhcp(packet);
    const expectReply = o.expectReply ?? true;
    const reply = new Promise<Reply | null>((resolve) => {
      const timer = setTimeout(
        () => {
          this.waiting.delete(xid);
          resolve(null);
        },
        expectReply ? 3000 : 300,
      );
      this.waiting.set(xid, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    this.socket.send(bytes, this.serverPort, '127.0.0.1');
    return reply;
  }

  async discover(client: ClientSpec): Promise<Reply> {
    const offer = await this.exchange(DhcpMessageType.Discover, client);
    assert.ok(offer, `no OFFER for ${client.mac}`);
    assert.equal(offer.type, DhcpMessageType.Offer);
    return offer;
  }

  /** DISCOVER, REQUEST; returns the ACKed address. */
  async dora(client: ClientSpec): Promise<string> {
    const offer = await this.discover(client);
    const ack = await this.exchange(DhcpMessageType.Request, client, {
      requested: offer.yiaddr,
      serverId: offer.serverId ?? undefined,
    });
    assert.ok(ack, `no ACK for ${client.mac}`);
    assert.equal(ack.type, DhcpMessageType.Ack, `ACK for ${client.mac}`);
    return ack.yiaddr;
  }

  async decline(client: ClientSpec, address: string): Promise<void> {
    await this.exchange(DhcpMessageType.Decline, client, {
      requested: address,
      serverId: '127.0.0.1',
      expectReply: false,
    });
  }

  async release(client: ClientSpec, address: string): Promise<void> {
    await this.exchange(DhcpMessageType.Release, client, {
      ciaddr: address,
      serverId: '127.0.0.1',
      expectReply: false,
    });
  }
}

function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

/** Polls `probe` until it returns true (for changes that need no reply: DECLINE, RELEASE). */
export async function eventually(
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

// -------------------------------------------------------------------------------------------------
// Prometheus text format (0.0.4): a small strict parser, so the test checks the syntax itself.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SUFFIXES = ['_total', '_bucket', '_sum', '_count', '_created', '_info'];

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const familyOf = (sample: string): MetricFamily | undefined => {
    const exact = families.get(sample);
    if (exact) return exact;
    for (const s of SUFFIXES) if (sample.endsWith(s)) return families.get(sample.slice(0, -s.length));
    return undefined;
  };
  assert.ok(text.endsWith('\n'), 'exposition ends with a newline');
  const lines = text.split('\n').slice(0, -1);
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const [, name, ...help] = line.split(' ').slice(1);
      assert.match(name ?? '', NAME, where);
      const f = families.get(name!) ?? { name: name!, type: 'untyped', help: '', samples: [] };
      f.help = help.join(' ');
      families.set(name!, f);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      assert.match(name ?? '', NAME, where);
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? ''), where);
      const f = families.get(name!) ?? { name: name!, type: 'untyped', help: '', samples: [] };
      f.type = type!;
      families.set(name!, f);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
    assert.ok(m, `sample syntax, ${where}`);
    const labels: Record<string, string> = {};
    if (m[3] !== undefined && m[3] !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let consumed = 0;
      for (let lm = re.exec(m[3]); lm !== null; lm = re.exec(m[3])) {
        labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed = re.lastIndex;
      }
      assert.equal(consumed, m[3].length, `label syntax, ${where}`);
    }
    const raw = m[4]!;
    const value =
      raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    // NaN in any letter case: prom-client writes "Nan" for an empty event-loop-lag histogram, and
    // Prometheus parses floats with Go's ParseFloat, which accepts it.
    assert.ok(raw.toLowerCase() === 'nan' || !Number.isNaN(value), `value, ${where}`);
    const f = familyOf(m[1]!);
    assert.ok(f, `sample without # TYPE, ${where}`);
    f.samples.push({ name: m[1]!, labels, value });
  }
  return families;
}

/** The value of one sample (labels must match exactly those given); 0 when absent. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const keys = Object.keys(labels);
      if (keys.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return 0;
}
