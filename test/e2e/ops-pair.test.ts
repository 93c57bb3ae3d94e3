// Day-two operations (issue 18) against a REAL failover pair in a network namespace: the shipped
// pair configs (config/pair-*.json) on port 67 with partner.api, leases made by relayed DORA, and
// then every new verb through the `twinlease` command (the built bin) and the API — lease release
// and delete (the partner learns it by a binding update), reservation, exclusion and scope changes
// with --replicate (and their refusals), failover set on both partners, resync, rebalance, state
// history, check, export, import, backup — including the refusals.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DhcpMessageType, DhcpTestClient, testMac } from './lib/dhcp-test-client.js';
import { REPO_ROOT, TWINLEASE_BIN } from './lib/env.js';
import { type Json, NsHttp } from './lib/ns-http.js';
import { LineProcess, run, waitUntil } from './lib/proc.js';

const NS = 'tlo-pair';
const REL = 'demo-pair';
const RELAY = '127.0.0.3';
const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (network namespace, UDP port 67)';

interface Side {
  role: 'primary' | 'secondary';
  name: string;
  url: string;
  token: string;
  dhcpAddress: string;
  configPath: string;
  proc: LineProcess | null;
}

describe('day-two operations against a real loopback failover pair', { skip }, () => {
  let dir = '';
  let http: NsHttp | null = null;
  let client: DhcpTestClient | null = null;
  const sides: Side[] = [];
  const primary = () => sides[0]!;
  const secondary = () => sides[1]!;
  const api = (s: Side, method: string, path: string, body?: unknown) =>
    http!.request(method, `${s.url}${path}`, s.token, body);
  const getJson = async (s: Side, path: string): Promise<Json> => {
    const r = await api(s, 'GET', path);
    assert.equal(r.status, 200, `${s.role} GET ${path}: ${r.status} ${r.text}`);
    return r.json;
  };
  const relationship = (s: Side) => getJson(s, `/api/v1/failover/relationships/${REL}`);
  const fileOf = (s: Side) => JSON.parse(readFileSync(s.configPath, 'utf8')) as Json;
  const cli = (s: Side, args: string[]) =>
    run(
      'ip',
      ['netns', 'exec', NS, process.execPath, TWINLEASE_BIN, '--api', s.url, '--token', s.token, ...args],
      {
        cwd: REPO_ROOT,
        check: false,
        timeoutMs: 30_000,
        env: { ...process.env, TWINLEASE_API: '', TWINLEASE_TOKEN: '' },
      },
    );
  const bothNormal = async (what: string) => {
    for (const s of sides) {
      await waitUntil(
        `${s.role}: ${what}`,
        async () => {
          if (!s.proc!.isRunning) throw new Error(`${s.role} exited:\n${s.proc!.tail()}`);
          const r = await api(s, 'GET', `/api/v1/failover/relationships/${REL}`);
          return r.status === 200 && r.json.state === 'normal' && r.json.partnerState === 'normal';
        },
        45_000,
        250,
      );
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinlease-ops-pair-'));
    await run('ip', ['netns', 'del', NS], { check: false });
    await run('ip', ['netns', 'add', NS]);
    await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', NS, 'addr', 'add', '127.0.0.2/8', 'dev', 'lo']);
    const configs = ['primary', 'secondary'].map((role) =>
      JSON.parse(readFileSync(join(REPO_ROOT, `config/pair-${role}.json`), 'utf8')),
    );
    for (const [i, role] of (['primary', 'secondary'] as const).entries()) {
      const c = configs[i]!;
      const other = configs[1 - i]!;
      delete c.$schema;
      // As in api-pair.test.ts: port 67 on each server's own address, clients relayed via 127.0.0.3.
      c.dhcp.port = 67;
      c.scopes[0].relayAddresses = [RELAY];
      c.leaseStore.path = join(dir, `${role}-leases.db`);
      c.logging = { level: 'info' };
      c.failover[0].partner.api = {
        url: `http://${other.api.listenAddress}:${other.api.port}`,
        token: other.api.tokens[0].token,
      };
      const configPath = join(dir, `${role}.json`);
      writeFileSync(configPath, `${JSON.stringify(c, null, 2)}\n`);
      sides.push({
        role,
        name: c.server.name,
        url: `http://${c.api.listenAddress}:${c.api.port}`,
        token: c.api.tokens[0].token,
        dhcpAddress: c.dhcp.listenAddress,
        configPath,
        proc: null,
      });
    }
    for (const s of sides) {
      s.proc = new LineProcess(
        'ip',
        ['netns', 'exec', NS, process.execPath, TWINLEASE_BIN, 'serve', '--config', s.configPath],
        {
          cwd: dir,
        },
      );
    }
    http = await NsHttp.start(NS);
    client = await DhcpTestClient.start({
      ns: NS,
      giaddr: RELAY,
      server: sides[0]!.dhcpAddress,
      bindAddress: RELAY,
      attempts: 1,
      attemptTimeoutMs: 700,
    });
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await http?.close().catch(() => undefined);
    for (const s of sides) await s.proc?.stop('SIGTERM', 3000).catch(() => undefined);
    const pids = await run('ip', ['netns', 'pids', NS], { check: false });
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    await run('ip', ['netns', 'del', NS], { check: false });
    rmSync(dir, { recursive: true, force: true });
  });

  const grants: { mac: string; ip: string; side: Side }[] = [];

  test('1. the pair is normal; clients lease from both servers', async () => {
    await bothNormal('normal');
    for (let n = 1; n <= 8; n++) {
      const mac = testMac(0x7b, n);
      for (const s of sides) {
        const offer = await client!.discover(mac, { to: s.dhcpAddress });
        if (offer?.type !== DhcpMessageType.Offer) continue;
        const ack = await client!.request(mac, {
          to: s.dhcpAddress,
          requestedAddress: offer.yiaddr,
          serverId: offer.serverId ?? s.dhcpAddress,
          attempts: 3,
        });
        assert.equal(ack?.type, DhcpMessageType.Ack);
        grants.push({ mac, ip: ack!.yiaddr, side: s });
      }
    }
    assert.equal(grants.length, 8);
    assert.ok(grants.some((g) => g.side === primary()) && grants.some((g) => g.side === secondary()));
    for (const s of sides) {
      await waitUntil(
        `${s.role} holds every lease`,
        async () => (await getJson(s, '/api/v1/scopes/demo/leases?state=active&limit=1000')).total === 8,
        10_000,
        200,
      );
    }
  });

  test('2. lease release (CLI): the binding ends on the granting server, the partner learns it', async () => {
    const g = grants.find((x) => x.side === primary())!;
    const r = await cli(primary(), ['lease', 'release', g.ip]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^Lease ${g.ip.replace(/\./g, '\\.')} released \\(binding released: free once the failover partner acknowledges it\\)`,
      ),
    );
    await waitUntil(
      'the secondary to hear of the release',
      async () => (await getJson(secondary(), `/api/v1/leases/${g.ip}`)).bindingState !== 'active',
      10_000,
      200,
    );
    await waitUntil(
      'the primary to get the acknowledgement (free)',
      async () => (await getJson(primary(), `/api/v1/leases/${g.ip}`)).bindingState === 'free',
      10_000,
      200,
    );
    const again = await cli(primary(), ['lease', 'release', g.ip]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refused: .* is not an active lease \(its binding is free\)/);
  });

  test('3. lease delete: refused for an active lease; forced, released then deleted once acknowledged', async () => {
    const g = grants.find((x) => x.side === secondary())!;
    const refused = await cli(secondary(), ['lease', 'delete', g.ip]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused: .* is an active lease/);
    const forced = await cli(secondary(), ['lease', 'delete', g.ip, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, `Lease record ${g.ip} deleted.\n`);
    assert.equal((await api(secondary(), 'GET', `/api/v1/leases/${g.ip}`)).status, 404);
    const onPrimary = await getJson(primary(), `/api/v1/leases/${g.ip}`);
    assert.notEqual(onPrimary.bindingState, 'active', 'the primary heard the release');
    // A BACKUP record cannot be deleted on the primary: it is the secondary's to allocate.
    const backup = (await getJson(primary(), '/api/v1/scopes/demo/leases?state=backup&limit=1')).items[0];
    const noBackup = await api(primary(), 'DELETE', `/api/v1/leases/${backup.ipAddress}?force=true`);
    assert.equal(noBackup.status, 409, noBackup.text);
    assert.equal(noBackup.json.error, 'failover-state');
  });

  test('4. reservation and exclusion changes: refused without --replicate (partner check), on both with it', async () => {
    const refused = await cli(primary(), [
      'reservation',
      'add',
      '--scope',
      'demo',
      '--ip',
      '192.168.77.50',
      '--mac',
      '02:00:00:00:00:50',
    ]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /refused: the partner of relationship "demo-pair" would reject binding updates for 192\.168\.77\.50/,
    );
    const added = await cli(primary(), [
      'reservation',
      'add',
      '--scope',
      'demo',
      '--ip',
      '192.168.77.50',
      '--mac',
      '02:00:00:00:00:50',
      '--replicate',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /here and on the failover partner/);
    for (const s of sides)
      assert.deepEqual(fileOf(s).scopes[0].reservations, [
        { address: '192.168.77.50', hardwareAddress: '02:00:00:00:00:50' },
      ]);
    const exc = await cli(primary(), [
      'exclusion',
      'add',
      '--scope',
      'demo',
      '--range',
      '192.168.77.150-192.168.77.152',
      '--replicate',
    ]);
    assert.equal(exc.code, 0, exc.stderr);
    for (const s of sides)
      assert.deepEqual(fileOf(s).scopes[0].exclusions, [{ start: '192.168.77.150', end: '192.168.77.152' }]);
    const resSet = await cli(primary(), [
      'reservation',
      'set',
      '--scope',
      'demo',
      '--ip',
      '192.168.77.50',
      '--description',
      'printer',
      '--replicate',
    ]);
    assert.equal(resSet.code, 0, resSet.stderr);
    for (const s of sides) assert.equal(fileOf(s).scopes[0].reservations[0].description, 'printer');
    const excGone = await cli(primary(), [
      'exclusion',
      'remove',
      '--scope',
      'demo',
      '--range',
      '192.168.77.150-192.168.77.152',
      '--replicate',
    ]);
    assert.equal(excGone.code, 0, excGone.stderr);
    for (const s of sides) assert.deepEqual(fileOf(s).scopes[0].exclusions ?? [], []);
    const dry = await cli(primary(), [
      'reservation',
      'remove',
      '--scope',
      'demo',
      '--ip',
      '192.168.77.50',
      '--replicate',
      '--dry-run',
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run: nothing was changed/);
    assert.equal(fileOf(secondary()).scopes[0].reservations.length, 1);
    assert.equal((await relationship(primary())).configurationDiffers, false);
  });

  test('5. scope deactivate/activate on both; a scope in a relationship cannot be removed', async () => {
    const off = await cli(primary(), ['scope', 'deactivate', 'demo', '--replicate']);
    assert.equal(off.code, 0, off.stderr);
    for (const s of sides) assert.equal((await getJson(s, '/api/v1/scopes/demo')).active, false);
    const mac = testMac(0x7c, 1);
    const unanswered = await client!.discover(mac, { to: primary().dhcpAddress });
    assert.equal(unanswered, null, 'a deactivated scope answers nobody');
    const on = await cli(primary(), ['scope', 'activate', 'demo', '--replicate']);
    assert.equal(on.code, 0, on.stderr);
    for (const s of sides) assert.equal((await getJson(s, '/api/v1/scopes/demo')).active, true);
    // A standalone scope: add, set, remove.
    const add = await cli(primary(), [
      'scope',
      'add',
      'lab',
      '--subnet',
      '10.88.0.0/24',
      '--range',
      '10.88.0.10-10.88.0.20',
    ]);
    assert.equal(add.code, 0, add.stderr);
    const labSet = await cli(primary(), ['scope', 'set', 'lab', '--lease-time', '2h']);
    assert.equal(labSet.code, 0, labSet.stderr);
    assert.equal((await getJson(primary(), '/api/v1/scopes/lab')).leaseTimeSeconds, 7200);
    const labGone = await cli(primary(), ['scope', 'remove', 'lab']);
    assert.equal(labGone.code, 0, labGone.stderr);
    assert.equal((await api(primary(), 'GET', '/api/v1/scopes/lab')).status, 404);
    const remove = await cli(primary(), ['scope', 'remove', 'demo', '--force']);
    assert.equal(remove.code, 1);
    assert.match(
      remove.stderr,
      /is in failover relationship "demo-pair"; take it out of the relationship first/,
    );
  });

  test('6. failover set --replicate changes both partners; the pair returns to normal', async () => {
    const r = await cli(primary(), ['failover', 'set', '--name', REL, '--mclt', '15m', '--replicate']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Changed "demo-pair" here and on the partner/);
    for (const s of sides) assert.equal(fileOf(s).failover[0].mcltSeconds, 900);
    await bothNormal('normal after the change');
    for (const s of sides) assert.equal((await relationship(s)).configurationDiffers, false);
  });

  test('7. resync and rebalance in NORMAL; the state history says what happened', async () => {
    const resync = await cli(secondary(), ['failover', 'resync', '--name', REL]);
    assert.equal(resync.code, 0, resync.stderr);
    await waitUntil(
      'the resync to be logged',
      () => secondary().proc!.lines.some((l) => l.includes('"event":"failover.operator-resync"')),
      10_000,
    );
    const rebalance = await cli(primary(), ['failover', 'rebalance', '--name', REL]);
    assert.equal(rebalance.code, 0, rebalance.stderr);
    await bothNormal('still normal');
    const history = await cli(primary(), ['failover', 'history', '--name', REL]);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /^State normal since/);
    const r = await relationship(primary());
    assert.ok(r.stateHistory.length > 0);
    assert.equal(r.stateHistory[0].to, 'normal');
    assert.equal(r.previousState, r.stateHistory[0].from);
    assert.equal(typeof r.stateChangeReason, 'string');
    const ops = (r.operationTracker as Json[]).map((o) => o.operation);
    assert.ok(ops.includes('rebalance'), ops.join(', '));
  });

  test('8. check, export, backup; import into the partner is refused for addresses in use', async () => {
    const check = await run(
      process.execPath,
      [TWINLEASE_BIN, 'check', '--config', primary().configPath, '--leases', join(dir, 'primary-leases.db')],
      {
        check: false,
      },
    );
    assert.equal(check.code, 0, check.stderr);
    const exportFile = join(dir, 'export.json');
    const exported = await cli(primary(), ['export', '--out', exportFile]);
    assert.equal(exported.code, 0, exported.stderr);
    const doc = JSON.parse(readFileSync(exportFile, 'utf8')) as Json;
    assert.equal(doc.format, 'twinlease-export');
    assert.ok((doc.leases as Json[]).some((l) => l.state === 'active'));
    const imported = await cli(secondary(), ['lease', 'import', '--file', exportFile, '--dry-run']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^Dry run: would import 0 of \d+ leases; skipped/);
    // An import that writes: one active lease of the document moved onto an address free on the
    // primary, for a new client; the primary holds it and the partner learns it by binding update.
    const freeItems = (await getJson(primary(), '/api/v1/scopes/demo/leases?state=free&limit=1'))
      .items as Json[];
    assert.equal(freeItems.length, 1, 'a free address on the primary');
    const target = freeItems[0]!.ipAddress as string;
    const template = (doc.leases as Json[]).find((l) => l.state === 'active')!;
    const newMac = '02:00:00:00:0e:01';
    const one = { ...doc, leases: [{ ...template, address: target, hardwareAddress: '020000000e01' }] };
    const oneFile = join(dir, 'import-one.json');
    writeFileSync(oneFile, JSON.stringify(one));
    const wrote = await cli(primary(), ['lease', 'import', '--file', oneFile]);
    assert.equal(wrote.code, 0, wrote.stderr);
    assert.match(wrote.stdout, /^Imported 1 of 1 leases/);
    for (const s of sides)
      await waitUntil(
        `${s.role}: the imported lease of ${target}`,
        async () => {
          const r = await api(s, 'GET', `/api/v1/leases/${target}`);
          return (
            r.status === 200 && r.json.bindingState === 'active' && r.json.hardwareAddress?.mac === newMac
          );
        },
        10_000,
        200,
      );
    // Offline: the export into a new store (Import-DhcpServer), which `check` then reads.
    const offlineDb = join(dir, 'offline-imported.db');
    const offlineConfig = join(dir, 'offline-imported.json');
    const offline = await run(
      process.execPath,
      [
        TWINLEASE_BIN,
        'import',
        'twinlease',
        '--file',
        exportFile,
        '--out',
        offlineConfig,
        '--lease-db',
        offlineDb,
      ],
      { check: false },
    );
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stderr, new RegExp(`(\\d+) of \\1 leases into ${offlineDb.replace(/[.]/g, '\\.')}`));
    const offlineCheck = await run(
      process.execPath,
      [TWINLEASE_BIN, 'check', '--config', offlineConfig, '--leases', offlineDb],
      { check: false },
    );
    assert.equal(offlineCheck.code, 0, offlineCheck.stderr);
    const backupFile = join(dir, 'backup.db');
    const backup = await cli(primary(), ['backup', '--path', backupFile]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.ok(existsSync(backupFile));
  });
});
