// twinlease import dhcpd: dhcpd.conf translations checked by the real loader, dhcpd.leases into
// a real SQLite store that DhcpEngine and the failover endpoint read back, and the exit codes.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../src/config/loader.js';
import { DhcpEngine } from '../../src/dhcp/engine.js';
import type { PersistedRelationship } from '../../src/failover/endpoint.js';
import { runDhcpdImport } from '../../src/import/cli.js';
import { type ImportPlan, planImport } from '../../src/import/dhcpd-import.js';
import { formatFinding } from '../../src/import/source.js';
import { openSqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import { ServerState } from '../../src/wire/failover-message.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const NOW = Date.UTC(2026, 10, 26, 9, 30, 0) / 1000;

function plan(conf: string, extra: Partial<Parameters<typeof planImport>[0]> = {}): ImportPlan {
  return planImport({ confPath: conf, now: NOW, hostname: 'test-host', ...extra });
}

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tl-import-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errors(p: ImportPlan): string[] {
  return p.findings.filter((f) => f.severity === 'error').map(formatFinding);
}

function warnings(p: ImportPlan): string[] {
  return p.findings.filter((f) => f.severity === 'warning').map(formatFinding);
}

describe('dhcpd.conf translation', () => {
  test('harness primary (dhcpd-anchor.sh pair): exact config, accepted by the loader', () => {
    const p = plan(fixture('harness-primary.conf'));
    assert.deepEqual(errors(p), []);
    assert.deepEqual(warnings(p), []);
    assert.equal(p.ok, true);
    assert.deepEqual(p.config, {
      scopes: [
        {
          subnet: '10.77.0.0/16',
          ranges: [{ start: '10.77.1.0', end: '10.77.64.255' }],
          authoritative: true,
        },
      ],
      leaseTimeSeconds: 4000,
      failover: [
        {
          name: 'fo',
          role: 'primary',
          mode: 'loadBalance',
          local: { address: '10.77.0.1', port: 647 },
          partner: { address: '10.77.0.3', port: 647 },
          scopeIds: ['10.77.0.0'],
          auth: 'none',
          hbaBitMeaning: 'primary',
          poolSplit: 'even',
          mcltSeconds: 3600,
          loadBalancePercent: 50,
          receiveTimerSeconds: 30,
          maxUnackedUpdates: 10,
          loadBalanceMaxSeconds: 3,
        },
      ],
    });
    const r = p.resolved!.failover[0]!;
    assert.equal(r.role, 'primary');
    assert.equal(p.resolved!.scopes[0]!.failoverRelationship, 'fo');
  });

  test('harness secondary: defaults documented in a note; single: no failover', () => {
    const s = plan(fixture('harness-secondary.conf'));
    assert.equal(s.ok, true);
    const fo = s.config!.failover![0]!;
    assert.equal(fo.role, 'secondary');
    assert.equal(fo.mcltSeconds, undefined);
    assert.equal(fo.loadBalancePercent, undefined);
    assert.equal(s.resolved!.failover[0]!.mcltSeconds, 3600);
    assert.ok(s.findings.some((f) => f.severity === 'note' && /primary sends both/.test(f.reason)));
    const single = plan(fixture('harness-single.conf'));
    assert.equal(single.ok, true);
    assert.equal(single.config!.failover, undefined);
    assert.deepEqual(single.config!.scopes[0]!.ranges, [{ start: '10.77.1.0', end: '10.77.64.255' }]);
  });

  test('dhcpd.conf(5) failover example: DNS names are listed as untranslated, at their place', () => {
    const p = plan(fixture('isc-failover-example.conf'));
    assert.equal(p.ok, false);
    const e = errors(p);
    assert.equal(e.length, 2, e.join('\n'));
    assert.match(
      e[0]!,
      /isc-failover-example\.conf:5:11: error: 'address anthrax\.rc\.example\.com;' not translated: 'anthrax\.rc\.example\.com' is a host name/,
    );
    assert.match(e[1]!, /isc-failover-example\.conf:7:16: error: .*trantor/);
  });

  test('dhcpd.conf(5) failover example with addresses: every peer field, included master file', () => {
    const p = plan(fixture('isc-failover-example-ip.conf'));
    assert.deepEqual(errors(p), []);
    assert.equal(p.ok, true);
    const fo = p.config!.failover![0]!;
    assert.deepEqual(
      [
        fo.local,
        fo.partner,
        fo.mcltSeconds,
        fo.loadBalancePercent,
        fo.receiveTimerSeconds,
        fo.maxUnackedUpdates,
        fo.loadBalanceMaxSeconds,
        fo.scopeIds,
      ],
      [
        { address: '192.0.2.10', port: 519 },
        { address: '192.0.2.11', port: 520 },
        3600,
        50,
        60,
        10,
        3,
        ['192.0.2.0'],
      ],
    );
    const scope = p.config!.scopes[0]!;
    assert.equal(scope.leaseTimeSeconds, undefined);
    assert.equal(p.config!.leaseTimeSeconds, 600);
    assert.deepEqual(scope.options, [
      { name: 'routers', data: '192.0.2.1' },
      { name: 'broadcastAddress', data: '192.0.2.255' },
    ]);
    assert.deepEqual(p.config!.options, [
      { name: 'domainName', data: 'example.org' },
      { name: 'domainNameServers', data: '192.0.2.53, 192.0.2.54' },
    ]);
    // max-lease-time 7200 > default 600: approximate, placed in the included file.
    assert.ok(warnings(p).some((w) => /isc-failover-master\.conf:7:1: .*max-lease-time 7200.*600 s/.test(w)));
  });

  test('ISC sample with a shared-network: scopes per subnet, options inherited, topology-only subnet skipped', () => {
    const p = plan(fixture('isc-shared-network.conf'));
    assert.deepEqual(errors(p), []);
    assert.equal(p.ok, true);
    const byId = new Map(p.resolved!.scopes.map((s) => [s.id, s]));
    assert.deepEqual([...byId.keys()], ['10.254.239.32', '10.5.5.0', '10.17.224.0', '10.0.29.0']);
    const bootp = p.config!.scopes[0]!;
    assert.equal(bootp.dynamicBootp, true);
    assert.equal(bootp.authoritative, true);
    const shared = p.config!.scopes[2]!;
    assert.equal(shared.description, 'shared-network 224-29');
    assert.deepEqual(shared.ranges, [{ start: '10.17.224.10', end: '10.17.224.250' }]);
    assert.deepEqual(shared.options, [
      { name: 'interfaceMtu', data: 1400 },
      { name: 'routers', data: '10.17.224.1' },
    ]);
    assert.deepEqual(p.config!.options!.slice(2), [
      { name: 'domainSearch', data: 'example.org, corp.example.org' },
      { name: 'ntpServers', data: '10.0.0.123' },
      { name: 'timeOffset', data: -18000 },
    ]);
    const w = warnings(p);
    assert.ok(w.some((x) => /:12:1: warning: 'log-facility local7;' ignored/.test(x)));
    assert.ok(w.some((x) => /shared-network 224-29.*each subnet becomes its own scope/.test(x)));
    assert.ok(p.findings.some((f) => f.severity === 'note' && /topology declaration/.test(f.reason)));
  });

  test('hosts: reservations by MAC and client id, group options, use-host-decl-names, PXE, RFC 3442 routes', () => {
    const p = plan(fixture('isc-hosts.conf'));
    assert.deepEqual(errors(p), []);
    const scope = p.config!.scopes[0]!;
    assert.deepEqual(scope.reservations, [
      { address: '10.1.0.20', description: 'host fantasia', hardwareAddress: '08:00:07:26:c0:a5' },
      {
        address: '10.1.0.21',
        description: 'host passacaglia',
        hardwareAddress: '00:00:c0:5d:bd:95',
        hostname: 'passacaglia',
        options: [
          { name: 'domainNameServers', data: '10.1.0.53' },
          { name: 'rootPath', data: '/export/root/passacaglia' },
        ],
      },
      {
        address: '10.1.0.22',
        description: 'host toccata',
        clientId: '01:52:54:00:ab:cd:ef',
        hostname: 'toccata-1',
        options: [{ name: 'domainNameServers', data: '10.1.0.53' }],
      },
      {
        address: '10.1.0.150',
        description: 'host printer',
        hardwareAddress: '00:1b:a9:12:34:56',
        hostname: 'printer-2nd-floor',
      },
    ]);
    assert.deepEqual(scope.options, [
      { name: 'routers', data: '10.1.0.1' },
      { name: 'tftpServerName', data: '10.1.0.5', alwaysSend: true },
      { name: 'bootfileName', data: 'pxelinux.0', alwaysSend: true },
    ]);
    assert.deepEqual(p.config!.scopes[1]!.options, [
      { code: 121, data: '192.168.10.0/24 10.2.0.254, 0.0.0.0/0 10.2.0.1' },
    ]);
    const r = p.resolved!.scopes[0]!.reservations.find((x) => x.address === parseIpv4('10.1.0.22'))!;
    assert.equal(r.clientId, '01525400abcdef');
    assert.equal(
      warnings(p).filter((w) => /translated approximately: sent as option 6[67]/.test(w)).length,
      2,
    );
  });

  test('bad input: unknown statement, bad address, bad netmask, each with file:line:column', () => {
    const path = tempFile(
      'bad.conf',
      [
        'authoritative;',
        'frobnicate yes;',
        'subnet 10.0.0.0 netmask 255.0.255.0 { range 10.0.0.1 10.0.0.9; }',
        'subnet 10.1.0.0 netmask 255.255.255.0 {',
        '  range 10.1.0.1 10.1.0.300;',
        '  option routers 10.1.0.999;',
        '}',
      ].join('\n'),
    );
    const p = plan(path);
    assert.equal(p.ok, false);
    assert.deepEqual(
      errors(p).map((e) => e.replace(path, 'bad.conf')),
      [
        "bad.conf:2:1: error: 'frobnicate yes;' unknown statement 'frobnicate'",
        "bad.conf:3:25: error: 'subnet 10.0.0.0 netmask 255.0.255.0 { … }' subnet: netmask 255.0.255.0 is not contiguous",
        "bad.conf:5:18: error: 'range 10.1.0.1 10.1.0.300;' range: '10.1.0.300' is not an IPv4 address",
        "bad.conf:6:3: error: 'option routers 10.1.0.999;' option routers: '10.1.0.999' is not an IPv4 address",
      ],
    );
  });

  test('broken braces: one error with the place, nothing translated', () => {
    const path = tempFile(
      'braces.conf',
      'subnet 10.0.0.0 netmask 255.0.0.0 {\n  pool {\n    range 10.0.0.1 10.0.0.9;\n}\n',
    );
    const p = plan(path);
    assert.equal(p.ok, false);
    assert.equal(p.config, null);
    assert.deepEqual(
      errors(p).map((e) => e.replace(path, 'braces.conf')),
      [
        "braces.conf:1:35: error: '{' of 'subnet 10.0.0.0 netmask 255.0.0.0' is never closed (the file ends at line 5)",
      ],
    );
  });

  test('statements that change service are errors unless accepted; then warnings', () => {
    const text = [
      'class "pxe" { match if substring (option vendor-class-identifier, 0, 9) = "PXEClient"; }',
      'subnet 10.0.0.0 netmask 255.255.255.0 {',
      '  pool { deny members of "pxe"; range 10.0.0.10 10.0.0.99; }',
      '}',
    ].join('\n');
    const path = tempFile('class.conf', text);
    const strict = plan(path);
    assert.equal(strict.ok, false);
    assert.equal(errors(strict).length, 2);
    assert.match(errors(strict)[0]!, /:1:1: error: 'class "pxe" \{ … \}' not translated: client classes/);
    const accepted = plan(path, { acceptUntranslated: true });
    assert.equal(accepted.ok, true);
    assert.equal(warnings(accepted).length, 2);
    assert.equal(plan(path, { acceptUntranslated: true, isStrict: true }).ok, false);
  });

  test('loader problems are placed in dhcpd.conf (duplicate reservation address)', () => {
    const path = tempFile(
      'dup.conf',
      [
        'subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.99; }',
        'host a { hardware ethernet 00:00:00:00:00:01; fixed-address 10.0.0.5; }',
        'host b { hardware ethernet 00:00:00:00:00:02; fixed-address 10.0.0.5; }',
      ].join('\n'),
    );
    const p = plan(path);
    assert.equal(p.ok, false);
    assert.match(
      errors(p)[0]!,
      /dup\.conf:3:61: error: .*rejected by the loader: scopes\[0\]\.reservations\[1\]\.address: 10\.0\.0\.5 is already reserved/,
    );
  });

  test('failover rules dhcpd enforces: mclt on a secondary, split with hba, unreferenced peer, unknown peer', () => {
    const base = (peer: string, pool: string) =>
      `failover peer "p" {\n${peer}\n}\nsubnet 10.0.0.0 netmask 255.255.255.0 { pool { ${pool} range 10.0.0.10 10.0.0.20; } }\n`;
    const peer =
      'address 10.0.0.1; peer address 10.0.0.2; max-response-delay 30; max-unacked-updates 10; load balance max seconds 3;';
    const cases: [string, string, RegExp][] = [
      [`secondary; ${peer} mclt 60;`, 'failover peer "p";', /mclt is not allowed on the secondary/],
      [
        `primary; ${peer} mclt 60; split 128; hba ${Array(32).fill('ff').join(':')};`,
        'failover peer "p";',
        /mutually exclusive/,
      ],
      [`primary; ${peer} mclt 60; split 128;`, '', /no pool refers to this peer/],
      [`primary; ${peer} mclt 60; split 128;`, 'failover peer "q";', /no failover peer "q" is declared/],
      [`primary; ${peer} split 128;`, 'failover peer "p";', /mclt is missing/],
    ];
    for (const [p, pool, re] of cases) {
      const result = plan(tempFile('fo.conf', base(p, pool)));
      assert.ok(
        errors(result).some((e) => re.test(e)),
        `${re}: ${errors(result).join('\n')}`,
      );
    }
  });

  test('split/hba → loadBalancePercent; auto-partner-down → automatic transition', () => {
    const conf = (extra: string) =>
      `failover peer "p" { primary; address 10.0.0.1; peer address 10.0.0.2; max-response-delay 30; max-unacked-updates 10; load balance max seconds 5; mclt 1800; ${extra} }\nsubnet 10.0.0.0 netmask 255.255.255.0 { pool { failover peer "p"; range 10.0.0.10 10.0.0.20; } }\n`;
    const hba = plan(
      tempFile(
        'h.conf',
        conf(`hba ${[...Array(8).fill('ff'), ...Array(24).fill('00')].join(':')}; auto-partner-down 120;`),
      ),
    );
    assert.deepEqual(errors(hba), []);
    const fo = hba.config!.failover![0]!;
    assert.deepEqual(
      [fo.loadBalancePercent, fo.autoStateTransition, fo.stateSwitchIntervalSeconds],
      [25, true, 120],
    );
    const alt = plan(tempFile('a.conf', conf(`hba ${Array(32).fill('aa').join(':')};`)));
    assert.equal(alt.config!.failover![0]!.loadBalancePercent, 50);
    assert.ok(warnings(alt).some((w) => /not the first 128/.test(w)));
    const odd = plan(tempFile('o.conf', conf('split 100;')));
    assert.equal(odd.config!.failover![0]!.loadBalancePercent, 39);
    assert.deepEqual(warnings(odd), []); // 39 % is 100 buckets again
    const odd2 = plan(tempFile('o2.conf', conf('split 1;')));
    assert.ok(warnings(odd2).some((w) => /1 of 256 buckets is not a whole percentage/.test(w)));
  });
});

describe('dhcpd.leases import', () => {
  test('documentation fixture: later declarations win, states, uid escapes, failover state with the MCLT', () => {
    const p = plan(fixture('isc-failover-secondary.conf'), {
      leasesPath: fixture('isc-failover-secondary.leases'),
    });
    assert.deepEqual(errors(p), []);
    assert.equal(p.ok, true);
    assert.equal(p.summary.leaseDeclarations, 9);
    assert.equal(p.summary.leasesImported, 7);
    assert.deepEqual(p.summary.leasesByState, {
      free: 1,
      backup: 1,
      active: 2,
      released: 1,
      expired: 1,
      abandoned: 1,
    });
    assert.ok(warnings(p).some((w) => /lease 198\.51\.100\.7.*no scope holds this address/.test(w)));
    assert.ok(warnings(p).some((w) => /option agent\.circuit-id.*relay agent options/.test(w)));
    // The secondary's MCLT comes from the leases file.
    assert.equal(p.config!.failover![0]!.mcltSeconds, 3600);
    const by = new Map([...p.leases].map((l) => [l.address, l]));
    const l120 = by.get(parseIpv4('192.0.2.120'))!;
    assert.deepEqual(
      {
        state: l120.state,
        clientId: l120.clientId,
        hardware: [l120.hardwareType, l120.hardwareAddress],
        hostname: l120.hostname,
        fqdn: l120.fqdn,
        expires: l120.leaseExpiresAt,
        started: l120.stateStartedAt,
        cltt: l120.clientLastTransactionAt,
        pets: [l120.sentPotentialExpiresAt, l120.ackedPotentialExpiresAt, l120.receivedPotentialExpiresAt],
        upToDate: l120.isPartnerUpToDate,
        scope: l120.scopeId,
      },
      {
        state: 'active',
        clientId: '0152540012345' + '6',
        hardware: [1, '525400123456'],
        hostname: 'laptop-1',
        fqdn: 'laptop-1.example.org',
        expires: 0xffffffff,
        started: Date.UTC(2026, 10, 26, 9, 0, 0) / 1000,
        cltt: Date.UTC(2026, 10, 26, 9, 0, 0) / 1000,
        pets: Array(3).fill(Date.UTC(2026, 10, 26, 10, 30, 0) / 1000),
        upToDate: true,
        scope: '192.0.2.0',
      },
    );
    const l121 = by.get(parseIpv4('192.0.2.121'))!;
    assert.equal(l121.clientId, '01001ba90a0b0c');
    assert.equal(l121.isPartnerUpToDate, false); // tstp sent, never acknowledged
    assert.equal(by.get(parseIpv4('192.0.2.122'))!.stateStartedAt, 1795683000);
    const state = p.failoverState.get('failover:foo')!;
    assert.deepEqual(state, {
      state: ServerState.NORMAL,
      stateStartedAt: Date.UTC(2026, 10, 26, 8, 0, 0) / 1000,
      partnerState: ServerState.NORMAL,
      partnerStateStartedAt: Date.UTC(2026, 10, 26, 7, 59, 58) / 1000,
      mcltSeconds: 3600,
      lastOperationalAt: Date.UTC(2026, 10, 26, 9, 10, 0) / 1000,
    } satisfies PersistedRelationship);
  });

  test('lastOperationalAt is the latest cltt or start of a lease, a cltt counting for a lease without starts', () => {
    const base = readFileSync(fixture('isc-failover-secondary.leases'), 'utf8');
    // Later than every time in the fixture (09:10), before NOW (09:30); no starts, no state.
    const extra = 'lease 192.0.2.150 {\n  ends 3 2026/11/26 12:00:00;\n  cltt 3 2026/11/26 09:20:00;\n}\n';
    const p = plan(fixture('isc-failover-secondary.conf'), {
      leasesPath: tempFile('dhcpd.leases', base + extra),
    });
    assert.deepEqual(errors(p), []);
    assert.equal(
      p.failoverState.get('failover:foo')!.lastOperationalAt,
      Date.UTC(2026, 10, 26, 9, 20, 0) / 1000,
    );
    const lease = [...p.leases].find((l) => l.address === parseIpv4('192.0.2.150'))!;
    assert.equal(lease.state, 'active'); // no binding state, ends after NOW
    assert.equal(lease.stateStartedAt, Date.UTC(2026, 10, 26, 9, 20, 0) / 1000);
  });

  test('genuine dhcpd 4.4.3 failover pair files: NORMAL, pool split free/backup, the one client', () => {
    const s = plan(fixture('real-4.4.3-secondary.conf'), {
      leasesPath: fixture('real-4.4.3-secondary.leases'),
    });
    assert.deepEqual(errors(s), []);
    assert.deepEqual(s.summary.leasesByState, { free: 7, backup: 8, active: 1 });
    const active = [...s.leases].find((l) => l.state === 'active')!;
    assert.equal(active.clientId, '01020000000001');
    assert.equal(s.failoverState.get('failover:tlm')!.state, ServerState.NORMAL);
    assert.equal(s.failoverState.get('failover:tlm')!.mcltSeconds, 60);
    assert.equal(s.config!.failover![0]!.mcltSeconds, 60);
    const p = plan(fixture('real-4.4.3-primary.conf'), { leasesPath: fixture('real-4.4.3-primary.leases') });
    assert.deepEqual(errors(p), []);
    assert.deepEqual(p.summary.leasesByState, { free: 7, backup: 8, active: 1 });
    assert.equal(p.failoverState.get('failover:tlm')!.partnerState, ServerState.NORMAL);
  });

  test('CLI: writes the config and a store that DhcpEngine loads with the right states', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-import-cli-'));
    const out = join(dir, 'config.json');
    const db = join(dir, 'leases.db');
    const stderr: string[] = [];
    const code = await runDhcpdImport(
      {
        conf: fixture('isc-failover-secondary.conf'),
        leases: fixture('isc-failover-secondary.leases'),
        out,
        leaseDb: db,
      },
      { stdout: () => {}, stderr: (s) => stderr.push(s), now: NOW },
    );
    assert.equal(code, 0, stderr.join(''));
    assert.match(
      stderr.join(''),
      /7 leases \(free 1, backup 1, active 2, released 1, expired 1, abandoned 1\)/,
    );
    const loaded = parseConfigText(readFileSync(out, 'utf8'), out, { hostname: 'h' });
    assert.ok(loaded.ok);
    assert.equal(loaded.config.leaseStore.path, db);
    const store = openSqliteLeaseStore(db);
    try {
      const leases = store.loadAll();
      assert.equal(leases.length, 7);
      const meta = JSON.parse(store.getMeta('failover:foo')!) as PersistedRelationship;
      assert.equal(meta.state, ServerState.NORMAL);
      const scope = loaded.config.scopes[0]!;
      const engine = new DhcpEngine(
        {
          serverName: 'h',
          serverIdentifier: parseIpv4('192.0.2.11'),
          scopes: [scope],
          directScopeIds: [scope.id],
        },
        leases,
      );
      const state = (a: string) => engine.getLease(parseIpv4(a))?.state;
      assert.deepEqual(
        [
          '192.0.2.100',
          '192.0.2.101',
          '192.0.2.120',
          '192.0.2.121',
          '192.0.2.122',
          '192.0.2.123',
          '192.0.2.124',
        ].map(state),
        ['free', 'backup', 'active', 'active', 'released', 'expired', 'abandoned'],
      );
      // The engine expires what ran out: 192.0.2.121 ended at 09:20, the infinite one never does.
      const changed = engine.tick(NOW);
      assert.ok(changed.some((l) => l.address === parseIpv4('192.0.2.121')));
      assert.equal(state('192.0.2.121') === 'active', false);
      assert.equal(state('192.0.2.120'), 'active');
    } finally {
      await store.close();
    }
    // A second run refuses to overwrite the store.
    const again = await runDhcpdImport(
      {
        conf: fixture('isc-failover-secondary.conf'),
        leases: fixture('isc-failover-secondary.leases'),
        leaseDb: db,
      },
      { stdout: () => {}, stderr: () => {}, now: NOW },
    );
    assert.equal(again, 2);
  });

  test('CLI exit codes: 2 and nothing written on errors; --strict fails on warnings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-import-codes-'));
    const io = { stdout: () => {}, stderr: () => {}, now: NOW };
    const bad = tempFile('bad.conf', 'subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.1 10.0.0.9 }\n');
    const out = join(dir, 'c.json');
    assert.equal(await runDhcpdImport({ conf: bad, out }, io), 2);
    assert.equal(existsSync(out), false);
    const warn = fixture('isc-shared-network.conf');
    assert.equal(await runDhcpdImport({ conf: warn, out }, io), 0);
    assert.equal(existsSync(out), true);
    assert.equal(await runDhcpdImport({ conf: warn, out: join(dir, 'd.json'), strict: true }, io), 2);
    assert.equal(existsSync(join(dir, 'd.json')), false);
    assert.equal(await runDhcpdImport({ conf: warn, leaseDb: join(dir, 'x.db') }, io), 2);
  });
});
