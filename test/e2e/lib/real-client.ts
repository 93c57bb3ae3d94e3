// Unmodified ISC dhclient and busybox udhcpc in $PFX-rc (unnumbered eth0 on the harness bridge),
// modelled on shared/harness/real-client.sh, but kept running so a test can watch it renew and
// then make it release. A hook script records every event the client reports and puts the bound
// address on eth0, so the unicast RENEW and RELEASE can leave the namespace.

import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NS } from './env.js';
import { LineProcess, run, sleep, waitUntil } from './proc.js';
import { ip } from './topology.js';

export type ClientKind = 'dhclient' | 'udhcpc';

export interface ClientEvent {
  atMs: number;
  /** dhclient's $reason (BOUND, RENEW, ...) or udhcpc's $1 (bound, renew, deconfig), upper-cased. */
  reason: string;
  ip: string;
  mask: string;
  serverId: string;
  leaseTime: string;
}

export class RealClient {
  private proc: LineProcess | null = null;
  readonly eventsPath: string;
  private readonly hookPath: string;
  private readonly confPath: string;
  private readonly leasesPath: string;
  private readonly pidPath: string;
  readonly logPath: string;

  /**
   * `declineFirstBound`: the hook fails the first BOUND, as when the client finds the address in
   * use; dhclient then sends a DHCPDECLINE for it and starts over.
   */
  constructor(
    readonly kind: ClientKind,
    readonly dir: string,
    options: { declineFirstBound?: boolean } = {},
  ) {
    this.eventsPath = join(dir, `${kind}.events`);
    const declineMark = join(dir, `${kind}.declined-once`);
    this.hookPath = join(dir, `${kind}-hook.sh`);
    this.confPath = join(dir, 'dhclient.conf');
    this.leasesPath = join(dir, 'dhclient.leases');
    this.pidPath = join(dir, 'dhclient.pid');
    this.logPath = join(dir, `${kind}.log`);
    // dhclient runs its script with a scrubbed environment: the events path is written into it.
    // The hook must exit 0: a failing BOUND makes dhclient DECLINE the address.
    writeFileSync(
      this.hookPath,
      `#!/bin/sh
ip_=\${new_ip_address:-$ip} mask_=\${new_subnet_mask:-$subnet} ev=\${reason:-$1}
echo "$(date +%s%3N) $ev $ip_ $mask_ \${new_dhcp_server_identifier:-$serverid} \${new_dhcp_lease_time:-$lease}" >>"${this.eventsPath}"
${
  options.declineFirstBound
    ? `if [ "$ev" = BOUND ] && [ ! -e "${declineMark}" ]; then : >"${declineMark}"; exit 1; fi
`
    : ''
}case $ev in
  BOUND|RENEW|REBIND|REBOOT|bound|renew) [ -n "$ip_" ] && ip addr replace "$ip_/\${mask_:-255.255.255.255}" dev eth0 ;;
  RELEASE|EXPIRE|FAIL|STOP|deconfig) ip addr flush dev eth0 scope global ;;
esac
exit 0
`,
    );
    chmodSync(this.hookPath, 0o755);
    // Its own empty config: Debian's /etc/dhcp/dhclient.conf would send this machine's host name.
    writeFileSync(this.confPath, '\n');
    writeFileSync(this.eventsPath, '');
  }

  /** `keepAddress`: leave eth0 as it is (a restart of a bound client); else start unconfigured. */
  async start(options: { keepAddress?: boolean } = {}): Promise<void> {
    if (!options.keepAddress) await ip(NS.rc, 'addr', 'flush', 'dev', 'eth0', 'scope', 'global');
    const args =
      this.kind === 'dhclient'
        ? [
            '-4',
            '-d',
            '-v',
            '-cf',
            this.confPath,
            '-sf',
            this.hookPath,
            '-lf',
            this.leasesPath,
            '-pf',
            this.pidPath,
            'eth0',
          ]
        : // -f foreground, -t/-T: 5 DISCOVERs 2 s apart; stays running (no -q) so it renews.
          ['-f', '-t', '5', '-T', '2', '-i', 'eth0', '-s', this.hookPath];
    this.proc = new LineProcess('ip', ['netns', 'exec', NS.rc, this.kind, ...args]);
  }

  events(): ClientEvent[] {
    if (!existsSync(this.eventsPath)) return [];
    return readFileSync(this.eventsPath, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [at = '0', reason = '', ipText = '', mask = '', serverId = '', leaseTime = ''] = l.split(' ');
        return { atMs: Number(at), reason: reason.toUpperCase(), ip: ipText, mask, serverId, leaseTime };
      });
  }

  /** Waits for an event whose reason is one of `reasons`, at index >= `fromIndex`. */
  waitEvent(reasons: readonly string[], timeoutMs: number, fromIndex = 0): Promise<ClientEvent> {
    return waitUntil(
      `${this.kind} event ${reasons.join('|')}; client log:\n${this.proc?.tail() ?? ''}`,
      () =>
        this.events()
          .slice(fromIndex)
          .find((e) => reasons.includes(e.reason)),
      timeoutMs,
      100,
    );
  }

  /**
   * Releases the lease the way an operator would: `dhclient -r` (after stopping the running
   * dhclient, as real-client.sh does), or SIGUSR2 for udhcpc (RELEASE, then the deconfig event).
   */
  async release(): Promise<string> {
    if (this.kind === 'dhclient') {
      await this.proc?.stop('SIGTERM', 3000);
      const r = await run(
        'ip',
        [
          'netns',
          'exec',
          NS.rc,
          'dhclient',
          '-4',
          '-v',
          '-r',
          '-cf',
          this.confPath,
          '-sf',
          this.hookPath,
          '-lf',
          this.leasesPath,
          '-pf',
          this.pidPath,
          'eth0',
        ],
        { timeoutMs: 20_000, check: false },
      );
      const out = r.stdout + r.stderr;
      if (!/DHCPRELEASE of/.test(out) || /unreachable/i.test(out))
        throw new Error(`dhclient -r did not send a RELEASE:\n${out}`);
      return out;
    }
    const n = this.events().length;
    this.proc?.child.kill('SIGUSR2');
    await this.waitEvent(['DECONFIG'], 10_000, n);
    await sleep(200);
    return this.proc?.tail() ?? '';
  }

  log(): string {
    return this.proc?.lines.join('\n') ?? '';
  }

  async stop(): Promise<void> {
    if (this.proc) {
      await this.proc.stop('SIGTERM', 3000);
      appendFileSync(this.logPath, `${this.proc.lines.join('\n')}\n`);
      this.proc = null;
    }
  }
}

/**
 * A dhclient in `parentDir/name` with client identifier `name` that asks the server to register
 * `fqdn` in DNS (option 81: server-update, DNS wire encoding).
 */
export function fqdnDhclient(parentDir: string, name: string, fqdn: string): RealClient {
  const dir = join(parentDir, name);
  mkdirSync(dir, { recursive: true });
  const c = new RealClient('dhclient', dir);
  writeFileSync(
    join(dir, 'dhclient.conf'),
    `send dhcp-client-identifier "${name}";\nsend fqdn.fqdn "${fqdn}.";\nsend fqdn.encoded on;\nsend fqdn.server-update on;\nrequest subnet-mask, routers, fqdn;\n`,
  );
  return c;
}
