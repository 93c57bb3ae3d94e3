// The real `twinlease` operator commands (spawned processes) against a real running server with
// leases made over UDP: human tables, --json (equal to the API's own answer), and the messages
// for connection refused, 401, 403-free reads, 404 and 400.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type ClientSpec,
  http,
  mac,
  READ_TOKEN,
  RELAY_LAB,
  Relay,
  SERVER_NAME,
  startTestServer,
  type TestServer,
  WRITE_TOKEN,
} from '../api/helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function spawnCli(args: string[], env: Record<string, string>, viaBin: boolean): Promise<Run> {
  const { TWINLEASE_TOKEN: _t, TWINLEASE_API: _a, ...base } = process.env;
  const argv = viaBin ? [`${ROOT}bin/twinlease.js`, ...args] : ['--import', 'tsx', ENTRY, ...args];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      argv,
      { cwd: ROOT, env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

// Every run only reads server state that no test changes, and each process start costs a second
// or two: the runs start together (a few at a time) and are memoised by their arguments.
const PARALLEL_RUNS = 4;
let running = 0;
const queue: (() => void)[] = [];
const runs = new Map<string, Promise<Run>>();

function cli(args: string[], env: Record<string, string> = {}, viaBin = false): Promise<Run> {
  const key = JSON.stringify([args, env, viaBin]);
  let run = runs.get(key);
  if (run === undefined) {
    run = new Promise<void>((resolve) => {
      if (running < PARALLEL_RUNS) {
        running++;
        resolve();
      } else queue.push(resolve);
    }).then(async () => {
      try {
        return await spawnCli(args, env, viaBin);
      } finally {
        const next = queue.shift();
        if (next) next();
        else running--;
      }
    });
    runs.set(key, run);
  }
  return run;
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const ANSI = /\u001b\[/;

describe('twinlease operator commands', () => {
  let t: TestServer;
  let relay: Relay;
  let api: string[];
  const pc: ClientSpec = { mac: mac(0x31), hostname: 'pc-31' };
  const printer: ClientSpec = { mac: mac(0x99) };
  let pcAddress = '';
  let offered = '';
  let refusedPort = 0;

  before(async () => {
    t = await startTestServer();
    relay = await Relay.open(RELAY_LAB, t.dhcpPort);
    pcAddress = await relay.dora(pc);
    await relay.dora(printer);
    offered = (await relay.discover({ mac: mac(0x32) })).yiaddr;
    api = ['--api', t.baseUrl, '--token', READ_TOKEN];
    refusedPort = await closedPort();
    // Start the runs the tests below make (see cli()).
    for (const args of [
      ['status', ...api],
      [...api, '--json', 'status'],
      [...api, 'scope', 'list'],
      [...api, 'scope', 'get', 'lab'],
      [...api, 'scope', 'get', 'lab', '--json'],
      [...api, 'stats'],
      [...api, 'stats', '--scope', 'lab'],
      [...api, 'stats', '--scope', 'lab', '--json'],
      [...api, 'lease', 'list', '--scope', 'lab'],
      [...api, 'lease', 'list', '--mac', '02-00-00-00-00-31', '--json'],
      [...api, 'lease', 'list', '--state', 'offered', '--json'],
      [...api, 'lease', 'list', '--limit', '1'],
      [...api, 'lease', 'list', '--hostname', 'nobody'],
      [...api, 'lease', 'get', pcAddress],
      [...api, 'lease', 'get', pcAddress, '--scope', 'lab', '--json'],
      ['--api', `http://127.0.0.1:${refusedPort}`, 'status'],
      ['--api', t.baseUrl, 'status'],
      ['--api', t.baseUrl, '--token', 'wrong-token-000000', 'stats'],
      [...api, 'scope', 'get', 'nope'],
      [...api, 'lease', 'get', '10.50.0.200'],
      [...api, 'lease', 'list', '--state', 'sleeping'],
      ['--api', 'not a url', 'status'],
    ]) {
      void cli(args);
    }
  });

  after(async () => {
    await relay?.close();
    await t?.dispose();
  });

  test('status: table and --json', async () => {
    const human = await cli(['status', ...api]);
    assert.equal(human.code, 0, human.stderr);
    assert.doesNotMatch(human.stdout, ANSI, 'no colour codes');
    for (const s of [
      SERVER_NAME,
      '127.0.0.1',
      'lab',
      '10.50.0.0/24',
      'office',
      'standalone',
      'Failover: no relationships',
    ]) {
      assert.ok(human.stdout.includes(s), `status shows ${s}:\n${human.stdout}`);
    }
    const json = await cli([...api, '--json', 'status']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(parsed.serverName, SERVER_NAME);
    assert.equal(parsed.access, 'read');
  });

  test('scope list and scope get', async () => {
    const list = await cli([...api, 'scope', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /lab\s+│ lab\s+│ 10\.50\.0\.0\/24\s+│ 10\.50\.0\.10-10\.50\.0\.29/);
    assert.match(list.stdout, /office .*10\.60\.0\.0\/24/);
    const get = await cli([...api, 'scope', 'get', 'lab']);
    assert.equal(get.code, 0, get.stderr);
    for (const s of [
      '10.50.0.0/24 (mask 255.255.255.0)',
      '10.50.0.15-10.50.0.16',
      'routers',
      '10.50.0.1',
      'lab.example.test',
      'the printer by the door',
      '02:00:00:00:00:99',
    ]) {
      assert.ok(get.stdout.includes(s), `scope get shows ${s}:\n${get.stdout}`);
    }
    const json = await cli([...api, 'scope', 'get', 'lab', '--json']);
    assert.deepEqual(JSON.parse(json.stdout), (await http(t.baseUrl, '/api/v1/scopes/lab')).body);
  });

  test('stats: every scope with a total, one scope as a list, --json as the API', async () => {
    const all = await cli([...api, 'stats']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /Free here/);
    // lab: 19 addresses, 2 in use (pc, printer), 17 free, 1 offer pending.
    assert.match(
      all.stdout,
      /│ lab\s+│ 19\s+│ 2\s+│ 17\s+│ 10\.53\s+│ 17\s+│ 0\s+│ 2\s+│ 0\s+│ 1\s+│ 1\s+│ 0\s+│ 0\s+│/,
    );
    assert.match(all.stdout, /│ total\s+│ 69\s+│ 2\s+│ 67\s+│/);
    const one = await cli([...api, 'stats', '--scope', 'lab']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /Free on this server\s+│ 17/);
    assert.match(one.stdout, /In use on partner server\s+│ 0/);
    assert.match(one.stdout, /Pending offers\s+│ 1/);
    const json = await cli([...api, 'stats', '--scope', 'lab', '--json']);
    assert.deepEqual(
      JSON.parse(json.stdout),
      (await http(t.baseUrl, '/api/v1/scopes/lab/failover-statistics')).body,
    );
  });

  test('lease list: filters, limit, --json', async () => {
    const list = await cli([...api, 'lease', 'list', '--scope', 'lab']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      new RegExp(`${pcAddress.replace(/\./g, '\\.')}\\s+│ lab\\s+│ 02:00:00:00:00:31\\s+│ pc-31\\s+│ active`),
    );
    assert.match(list.stdout, /10\.50\.0\.5\s+│ lab .* active .* yes/);
    assert.match(
      list.stdout,
      new RegExp(`${offered.replace(/\./g, '\\.')}\\s+│ lab\\s+│ 02:00:00:00:00:32 .* offered\\s+│ free`),
    );
    const byMac = await cli([...api, 'lease', 'list', '--mac', '02-00-00-00-00-31', '--json']);
    assert.deepEqual(
      (JSON.parse(byMac.stdout) as { ipAddress: string }[]).map((l) => l.ipAddress),
      [pcAddress],
    );
    const offers = await cli([...api, 'lease', 'list', '--state', 'offered', '--json']);
    assert.deepEqual(
      (JSON.parse(offers.stdout) as { ipAddress: string }[]).map((l) => l.ipAddress),
      [offered],
    );
    const limited = await cli([...api, 'lease', 'list', '--limit', '1']);
    assert.equal(limited.code, 0, limited.stderr);
    assert.match(limited.stdout, /1 of 3 leases shown/);
    const none = await cli([...api, 'lease', 'list', '--hostname', 'nobody']);
    assert.equal(none.stdout.trim(), 'no leases match');
  });

  test('lease get: every field, --json as the API', async () => {
    const get = await cli([...api, 'lease', 'get', pcAddress]);
    assert.equal(get.code, 0, get.stderr);
    for (const s of [
      'pc-31',
      '02:00:00:00:00:31 (htype 1)',
      `${SERVER_NAME} (127.0.0.1)`,
      'noQuarInfo',
      'Partner up to date',
      'Potential expiry sent',
    ]) {
      assert.ok(get.stdout.includes(s), `lease get shows ${s}:\n${get.stdout}`);
    }
    const json = await cli([...api, 'lease', 'get', pcAddress, '--scope', 'lab', '--json']);
    assert.deepEqual(
      JSON.parse(json.stdout),
      (await http(t.baseUrl, `/api/v1/scopes/lab/leases/${pcAddress}/failover`)).body,
    );
  });

  test('the token can come from TWINLEASE_TOKEN and the URL from TWINLEASE_API', async () => {
    const r = await cli(['status', '--json'], { TWINLEASE_TOKEN: WRITE_TOKEN, TWINLEASE_API: t.baseUrl });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { access: string }).access, 'write');
  });

  test('clear messages: connection refused, 401, 404, 400', async () => {
    const refused = await cli(['--api', `http://127.0.0.1:${refusedPort}`, 'status']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(
      refused.stderr,
      /^twinlease: cannot reach the Twinlease API at http:\/\/127\.0\.0\.1:\d+: connection refused\. Is the server running/,
    );

    const noToken = await cli(['--api', t.baseUrl, 'status']);
    assert.equal(noToken.code, 1);
    assert.match(
      noToken.stderr,
      /^twinlease: the API refused the request: missing Authorization: Bearer <token>\. Pass a token with --token or TWINLEASE_TOKEN/,
    );
    const badToken = await cli(['--api', t.baseUrl, '--token', 'wrong-token-000000', 'stats']);
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /unknown token\. Check the token with --token or TWINLEASE_TOKEN/);

    const noScope = await cli([...api, 'scope', 'get', 'nope']);
    assert.equal(noScope.code, 1);
    assert.equal(noScope.stderr, 'twinlease: not found: no scope "nope"\n');
    const noLease = await cli([...api, 'lease', 'get', '10.50.0.200']);
    assert.equal(noLease.code, 1);
    assert.equal(noLease.stderr, 'twinlease: not found: no lease record for 10.50.0.200\n');

    const badState = await cli([...api, 'lease', 'list', '--state', 'sleeping']);
    assert.equal(badState.code, 1);
    assert.match(badState.stderr, /^twinlease: invalid request: \/query\/state /);
    const badUrl = await cli(['--api', 'not a url', 'status']);
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /--api "not a url" is not a URL/);
  });

  test('the built bin/twinlease.js runs the same commands', {
    skip: existsSync(`${ROOT}dist/cli/commands/index.js`) ? false : 'dist/ not built (npm run build)',
  }, async () => {
    const r = await cli([...api, 'stats', '--scope', 'lab', '--json'], {}, true);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { numAddr: number }).numAddr, 19);
  });
});
