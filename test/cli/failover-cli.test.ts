// The `twinlease failover …` verbs (spawned processes) against two real API servers (each over its
// own temp config file, a fake failover endpoint): add/get/set/scope/partner-down/replicate/stats/
// remove change the config through the API, tables by default, --json equal to the API's answer,
// and clear messages for read-only tokens, missing tokens, refused connections and refusals.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../../src/cli/commands/failover.js';
import {
  type FailoverApiServer,
  fakeStatus,
  READ_TOKEN,
  startFailoverApi,
  WRITE_TOKEN,
} from '../api/failover-helpers.js';
import { http } from '../api/helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));
const SECRET = 'cli-shared-secret-value';
const PARTNER_TOKEN = 'partner-write-token-0123456789';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { TWINLEASE_TOKEN: _t, TWINLEASE_API: _a, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ENTRY, ...args],
      { cwd: ROOT, env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test('durations: seconds, units and PowerShell hh:mm:ss', () => {
  assert.equal(parseDuration('3600'), 3600);
  assert.equal(parseDuration('60m'), 3600);
  assert.equal(parseDuration('1h'), 3600);
  assert.equal(parseDuration('01:00:00'), 3600);
  assert.equal(parseDuration('1.00:30:00'), 86400 + 1800);
  assert.throws(() => parseDuration('an hour'), /not a duration/);
  assert.throws(() => parseDuration('00:61:00'), /not a duration/);
});

describe('twinlease failover', () => {
  let a: FailoverApiServer;
  let b: FailoverApiServer;
  let rw: string[];
  let ro: string[];

  before(async () => {
    b = await startFailoverApi('dhcp-b', {
      api: { listenAddress: '127.0.0.1', port: 0, tokens: [{ name: 'partner', token: PARTNER_TOKEN }] },
    });
    a = await startFailoverApi('dhcp-a');
    // The partner's lab scope differs from ours until replication.
    const lab = await http<Record<string, unknown>>(b.baseUrl, '/api/v1/scopes/lab/config', {
      token: PARTNER_TOKEN,
    });
    await http(b.baseUrl, '/api/v1/scopes/lab/config', {
      token: PARTNER_TOKEN,
      method: 'PUT',
      body: { ...lab.body, leaseTimeSeconds: 600 },
    });
    rw = ['--api', a.baseUrl, '--token', WRITE_TOKEN];
    ro = ['--api', a.baseUrl, '--token', READ_TOKEN];
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('add, get, set, scope add/remove, replicate, stats, partner-down, remove', async () => {
    const add = await cli([
      ...rw,
      'failover',
      'add',
      '--name',
      'dc-pair',
      '--local',
      '10.0.0.2',
      '--partner',
      '10.0.0.3:647',
      '--partner-name',
      'dhcp-b',
      '--scope',
      'lab',
      '--mclt',
      '30m',
      '--shared-secret',
      SECRET,
      '--partner-api',
      b.baseUrl,
      '--partner-api-token',
      PARTNER_TOKEN,
    ]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /Created "dc-pair"/);
    assert.match(add.stdout, /MCLT\s+│ 30m 0s/);
    assert.match(add.stdout, /hmacSha256 \(shared secret set\)/);
    assert.match(add.stdout, /Configuration differs\s+│ yes/);
    assert.match(add.stdout, /restart/);
    assert.ok(!add.stdout.includes(SECRET) && !add.stdout.includes(PARTNER_TOKEN), 'secrets never printed');
    const file = JSON.parse(readFileSync(a.configPath, 'utf8'));
    assert.equal(file.failover[0].mcltSeconds, 1800);
    assert.equal(file.failover[0].sharedSecret, SECRET);

    const list = await cli([...ro, 'failover', 'get']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /│ dc-pair\s+│ primary\s+│ loadBalance\s+│ noState/);

    const asJson = await cli([...ro, 'failover', 'get', '--name', 'dc-pair', '--json']);
    assert.equal(asJson.code, 0, asJson.stderr);
    const api = await http<Record<string, unknown>>(a.baseUrl, '/api/v1/failover/relationships/dc-pair');
    assert.deepEqual(JSON.parse(asJson.stdout), api.body);

    const set = await cli([
      ...rw,
      'failover',
      'set',
      '--name',
      'dc-pair',
      '--mclt',
      '01:00:00',
      '--disable-auth',
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /Changed "dc-pair"/);
    assert.match(set.stdout, /Authentication\s+│ none/);
    assert.equal(JSON.parse(readFileSync(a.configPath, 'utf8')).failover[0].mcltSeconds, 3600);

    const scopeAdd = await cli([...rw, 'failover', 'scope', 'add', '--name', 'dc-pair', '--scope', 'office']);
    assert.equal(scopeAdd.code, 0, scopeAdd.stderr);
    assert.match(scopeAdd.stdout, /Scopes\s+│ lab, office/);

    const replicate = await cli([...rw, 'failover', 'replicate', '--name', 'dc-pair']);
    assert.equal(replicate.code, 0, replicate.stderr);
    assert.match(replicate.stdout, /│ lab\s+│ updated/);
    assert.match(replicate.stdout, /│ office\s+│ identical/);
    const ours = await http(a.baseUrl, '/api/v1/scopes/lab/config', { token: READ_TOKEN });
    const theirs = await http(b.baseUrl, '/api/v1/scopes/lab/config', { token: PARTNER_TOKEN });
    assert.deepEqual(theirs.body, ours.body);
    const byScope = await cli([...rw, 'failover', 'replicate', '--scope', 'office', '--json']);
    assert.equal(byScope.code, 0, byScope.stderr);
    assert.deepEqual(
      JSON.parse(byScope.stdout).items.map((i: { result: string }) => i.result),
      ['identical'],
    );

    const stats = await cli([...ro, 'failover', 'stats']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /│ dc-pair\s+│ lab\s+│ primary\s+│ 20\s+│ 0\s+│ 20\s+│ 20\s+│ 0/);
    assert.match(stats.stdout, /│ dc-pair\s+│ total\s+│ primary\s+│ 70/);
    const statsJson = await cli([...ro, 'failover', 'stats', '--name', 'dc-pair', '--json']);
    assert.equal(JSON.parse(statsJson.stdout).total.numAddr, 70);

    const scopeRemove = await cli([
      ...rw,
      'failover',
      'scope',
      'remove',
      '--name',
      'dc-pair',
      '--scope',
      'office',
    ]);
    assert.equal(scopeRemove.code, 0, scopeRemove.stderr);
    assert.match(scopeRemove.stdout, /Scopes\s+│ lab\s/);

    const unconfirmed = await cli([...rw, 'failover', 'partner-down', '--name', 'dc-pair']);
    assert.equal(unconfirmed.code, 1);
    assert.match(unconfirmed.stderr, /pass --yes/);
    const notRunning = await cli([...rw, 'failover', 'partner-down', '--name', 'dc-pair', '--yes']);
    assert.equal(notRunning.code, 1);
    assert.match(
      notRunning.stderr,
      /refused: relationship "dc-pair" is configured but the failover endpoint does not run it/,
    );
    a.failover.statusList = [fakeStatus({ localState: 3, isCommunicating: false })];
    const down = await cli([...rw, 'failover', 'partner-down', '--name', 'dc-pair', '--yes']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /Partner of "dc-pair" declared down/);
    assert.equal(a.failover.partnerDownCalls.at(-1), 'dc-pair', 'the API called the endpoint');

    const show = await cli([...ro, 'failover', 'get', '--scope', 'lab']);
    assert.match(show.stdout, /State\s+│ communicationsInterrupted since 2026-11-23 23:50:00Z/);
    assert.match(show.stdout, /│ partnerDown\s+│ [^│]+│ dhcp-a\s+│ ops\s+│ -/);
    a.failover.statusList = [];

    const remove = await cli([...rw, 'failover', 'remove', '--name', 'dc-pair']);
    assert.equal(remove.code, 0, remove.stderr);
    assert.match(remove.stdout, /Removed "dc-pair"/);
    assert.equal(JSON.parse(readFileSync(a.configPath, 'utf8')).failover, undefined);
  });

  test('errors: read-only token, no token, refused connection, bad input', async () => {
    const [readOnly, noToken, refused, badMode, unknown] = await Promise.all([
      cli([...ro, 'failover', 'remove', '--name', 'x']),
      cli(['--api', a.baseUrl, 'failover', 'get']),
      closedPort().then((port) => cli(['--api', `http://127.0.0.1:${port}`, 'failover', 'get'])),
      cli([...rw, 'failover', 'set', '--name', 'x', '--mode', 'sideways']),
      cli([...rw, 'failover', 'set', '--name', 'nope', '--mclt', '1h']),
    ]);
    assert.equal(readOnly.code, 1);
    assert.match(
      readOnly.stderr,
      /^twinlease: not allowed: token "grafana" is read-only\. Changes need a token without readOnly/,
    );
    assert.equal(noToken.code, 1);
    assert.match(
      noToken.stderr,
      /the API refused the request: missing Authorization: Bearer <token>\. Pass a token/,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot reach the Twinlease API at .*: connection refused/);
    assert.equal(badMode.code, 1);
    assert.match(badMode.stderr, /--mode must be load-balance or hot-standby/);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not found: no failover relationship named "nope"/);
  });
});
