// A reload (SIGHUP or POST /api/v1/config/reload) takes the file as the truth, as dhcpd and Kea do:
// it applies a file that leaves active leases outside every scope, but names every such lease — in
// the log (`config.orphaned-leases`, one `config.orphaned-lease` per lease) and in the API's answer
// (`orphanedLeases`, also for a dry run, which applies nothing).

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import {
  eventually,
  http,
  mac,
  RELAY_LAB,
  RELAY_OFFICE,
  Relay,
  startTestServer,
  type TestServer,
  WRITE_TOKEN,
} from './helpers.js';

type Json = Record<string, unknown>;
type ConfigJson = Json & { scopes: (Json & { id: string; ranges: Json[] })[] };
interface Orphans {
  count: number;
  items: { ipAddress: string; scopeId: string; hardwareAddress: string | null }[];
}

describe('reload: active leases the new file leaves outside every scope', () => {
  let t: TestServer;
  let lab: Relay;
  let office: Relay;
  const labLeases: string[] = [];
  let officeLease = '';
  const readConfig = () => JSON.parse(readFileSync(t.configPath, 'utf8')) as ConfigJson;
  const logLines = () =>
    readFileSync(join(t.dir, 'server.log'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Json);
  /** The file with `scopeId`'s ranges starting after every address in `leased`. */
  const withRangesAfter = (scopeId: string, leased: string[], end: string) => {
    const config = readConfig();
    const scope = config.scopes.find((s) => s.id === scopeId)!;
    const start = formatIpv4(Math.max(...leased.map(parseIpv4)) + 1);
    scope.ranges = [{ start, end }];
    writeFileSync(t.configPath, JSON.stringify(config, null, 2));
  };

  before(async () => {
    t = await startTestServer();
    lab = await Relay.open(RELAY_LAB, t.dhcpPort);
    office = await Relay.open(RELAY_OFFICE, t.dhcpPort);
    labLeases.push(await lab.dora({ mac: mac(1) }), await lab.dora({ mac: mac(2) }));
    officeLease = await office.dora({ mac: mac(3) });
  });
  after(async () => {
    await lab?.close();
    await office?.close();
    await t?.dispose();
  });

  test('POST /config/reload: the dry run lists them and applies nothing; the reload applies and lists them', async () => {
    withRangesAfter('lab', labLeases, '10.50.0.29');
    const dry = await http<{ applied: boolean; orphanedLeases: Orphans }>(
      t.baseUrl,
      '/api/v1/config/reload',
      {
        method: 'POST',
        token: WRITE_TOKEN,
        body: { dryRun: true },
      },
    );
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.applied, false);
    assert.equal(dry.body.orphanedLeases.count, 2);
    assert.deepEqual(
      dry.body.orphanedLeases.items.map((l) => [l.ipAddress, l.scopeId, l.hardwareAddress]),
      [
        [labLeases[0], 'lab', '02:00:00:00:00:01'],
        [labLeases[1], 'lab', '02:00:00:00:00:02'],
      ],
    );
    assert.equal(
      logLines().filter((l) => l.event === 'config.orphaned-lease').length,
      0,
      'a dry run logs none',
    );

    const applied = await http<{ applied: boolean; orphanedLeases: Orphans }>(
      t.baseUrl,
      '/api/v1/config/reload',
      {
        method: 'POST',
        token: WRITE_TOKEN,
        body: {},
      },
    );
    assert.equal(applied.status, 200, applied.text);
    assert.equal(applied.body.applied, true);
    assert.deepEqual(applied.body.orphanedLeases, dry.body.orphanedLeases);
    await eventually(
      async () => logLines().filter((l) => l.event === 'config.orphaned-lease').length === 2,
      'one config.orphaned-lease line per lease',
    );
    const lines = logLines();
    const summary = lines.find((l) => l.event === 'config.orphaned-leases');
    assert.equal(summary?.level, 'warn');
    assert.equal(summary?.count, 2);
    const each = lines.filter((l) => l.event === 'config.orphaned-lease');
    assert.deepEqual(
      each.map((l) => [l.level, l.address, l.scope, l.mac]),
      [
        ['warn', labLeases[0], 'lab', '02:00:00:00:00:01'],
        ['warn', labLeases[1], 'lab', '02:00:00:00:00:02'],
      ],
    );
  });

  test('SIGHUP: applied, and the same warnings in the log', async () => {
    withRangesAfter('office', [officeLease], '10.60.0.149');
    assert.equal(t.server.reload(), true);
    await eventually(
      async () => logLines().some((l) => l.event === 'config.orphaned-lease' && l.address === officeLease),
      'the office lease named in the log',
    );
    const summaries = logLines().filter((l) => l.event === 'config.orphaned-leases');
    assert.equal(summaries.at(-1)?.count, 1);
    // Leases already outside every scope before a reload are not reported again.
    assert.equal(t.server.reload(), true);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(logLines().filter((l) => l.event === 'config.orphaned-leases').length, 2);
  });
});
