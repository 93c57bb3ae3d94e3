// A real BIND 9 named for the dynamic DNS tests (docs/dns.md): started in one of the harness
// namespaces with a TSIG key from tsig-keygen, a forward zone and an in-addr.arpa zone that the key
// may update, and `dig` run in the same namespace to look at the records.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineProcess, run, waitUntil } from './proc.js';

export interface BindOptions {
  /** Namespace named and dig run in. */
  ns: string;
  /** Address named listens on (port 53), also the NS record's address. */
  listenAddress: string;
  keyName: string;
  forwardZone: string;
  reverseZone: string;
}

/** What `dig +short` shows for one client's name and address. */
export interface ClientRecords {
  a: string[];
  ptr: string[];
  dhcid: string[];
}

/** The in-addr.arpa name of an IPv4 address. */
export const reverseName = (ip: string): string => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;

export class BindServer {
  private named: LineProcess | null = null;
  /** The TSIG key's base64 secret (set by `setup`). */
  secret = '';

  constructor(
    readonly dir: string,
    readonly o: BindOptions,
  ) {}

  /** Generates the key and writes named.conf and empty zones; returns the key's secret. */
  async setup(): Promise<string> {
    const { dir, o } = this;
    mkdirSync(dir, { recursive: true });
    const key = (await run('tsig-keygen', ['-a', 'hmac-sha256', o.keyName])).stdout;
    const m = /secret "([^"]+)"/.exec(key);
    if (!m) throw new Error(`tsig-keygen printed no secret: ${key}`);
    this.secret = m[1]!;
    writeFileSync(join(dir, 'key.conf'), key);
    const ns = `ns.${o.forwardZone}.`;
    const zone = (extra: string) =>
      `$TTL 300\n@ IN SOA ${ns} admin.${o.forwardZone}. 1 3600 600 86400 60\n@ IN NS ${ns}\n${extra}`;
    writeFileSync(join(dir, 'forward.db'), zone(`ns IN A ${o.listenAddress}\n`));
    writeFileSync(join(dir, 'rev.db'), zone(''));
    const policy = `update-policy { grant ${o.keyName} zonesub ANY; };`;
    writeFileSync(
      join(dir, 'named.conf'),
      `include "${dir}/key.conf";
options {
  directory "${dir}";
  listen-on port 53 { ${o.listenAddress}; };
  listen-on-v6 { none; };
  pid-file "${dir}/named.pid";
  recursion no;
  dnssec-validation no;
};
controls { };
zone "${o.forwardZone}" { type primary; file "${dir}/forward.db"; ${policy} };
zone "${o.reverseZone}" { type primary; file "${dir}/rev.db"; ${policy} };
`,
    );
    return this.secret;
  }

  async start(): Promise<void> {
    this.named = new LineProcess('ip', [
      'netns',
      'exec',
      this.o.ns,
      'named',
      '-g',
      '-u',
      'root',
      '-c',
      join(this.dir, 'named.conf'),
    ]);
    await this.named.waitForLine('named running', (l) => l.includes('running'), 15_000);
  }

  async stop(): Promise<void> {
    await this.named?.stop('SIGTERM', 5000);
  }

  /** `dig +short name type` at this named (empty when there is no such record or no answer). */
  async dig(name: string, type: string): Promise<string[]> {
    const r = await run(
      'ip',
      [
        'netns',
        'exec',
        this.o.ns,
        'dig',
        '+short',
        '+time=2',
        '+tries=1',
        `@${this.o.listenAddress}`,
        name,
        type,
      ],
      { timeoutMs: 6000, check: false },
    );
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  }

  async records(name: string, ip: string): Promise<ClientRecords> {
    return {
      a: await this.dig(name, 'A'),
      ptr: await this.dig(reverseName(ip), 'PTR'),
      dhcid: await this.dig(name, 'DHCID'),
    };
  }

  /** A → ip, PTR → name and one DHCID are all there. */
  static isRegistered(r: ClientRecords, name: string, ip: string): boolean {
    return r.a.includes(ip) && r.ptr.includes(`${name}.`) && r.dhcid.length === 1;
  }

  /** None of them is left. */
  static isRemoved(r: ClientRecords, name: string, ip: string): boolean {
    return !r.a.includes(ip) && !r.ptr.includes(`${name}.`) && r.dhcid.length === 0;
  }

  /** Waits until the records of `name` ↔ `ip` are all there (or all gone). */
  async waitRecords(name: string, ip: string, present: boolean, timeoutMs = 20_000): Promise<void> {
    let last: ClientRecords | null = null;
    try {
      await waitUntil(
        `${name} ${present ? 'registered' : 'removed'}`,
        async () => {
          last = await this.records(name, ip);
          return (
            (present ? BindServer.isRegistered(last, name, ip) : BindServer.isRemoved(last, name, ip)) ||
            undefined
          );
        },
        timeoutMs,
        300,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen ${JSON.stringify(last)}`);
    }
  }
}
