// `twinlease probe` (the real command, spawned) against a real running server on loopback: DORA,
// renewal and release through the probe's relay agent, the table and --json, and the failures an
// operator meets (no answer, a relay address that is the server's own, a missing option).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { http, RELAY_LAB, startTestServer, type TestServer } from '../api/helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function probe(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ENTRY, 'probe', ...args],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** A UDP port nobody listens on (bound, then closed). */
async function silentPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON read field by field
type Json = any;

describe('twinlease probe', () => {
  let t: TestServer;
  let server: string[];

  before(async () => {
    t = await startTestServer();
    server = ['--server', '127.0.0.1', '--port', String(t.dhcpPort), '--giaddr', RELAY_LAB];
  });
  after(async () => {
    await t?.dispose();
  });

  test('DORA, renewal and release for two clients, as JSON; the server shows the leases', async () => {
    const r = await probe([
      ...server,
      '--mac',
      '02:00:00:00:0a:01',
      '--client-id',
      '01:02:00:00:00:0a:01',
      '--hostname',
      'probe',
      '--count',
      '2',
      '--renew',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out: Json[] = JSON.parse(r.stdout);
    assert.equal(out.length, 2);
    assert.deepEqual(
      out.map((o) => [o.mac, o.clientId, o.hostname]),
      [
        ['02:00:00:00:0a:01', '01:02:00:00:00:0a:01', 'probe'],
        ['02:00:00:00:0a:02', '01:02:00:00:00:0a:02', 'probe-1'],
      ],
    );
    for (const o of out) {
      assert.match(o.address, /^10\.50\.0\.\d+$/);
      assert.equal(o.failure, null);
      assert.equal(o.offer.reply, 'offer');
      assert.equal(o.offer.from, `127.0.0.1:${t.dhcpPort}`);
      assert.equal(o.ack.reply, 'ack');
      assert.equal(o.ack.serverId, '127.0.0.1');
      assert.equal(o.ack.leaseSeconds, 3600);
      assert.equal(o.ack.renewSeconds, 1800);
      assert.equal(o.renewal.reply, 'ack');
      assert.equal(o.renewal.address, o.address);
      assert.equal(typeof o.doraMs, 'number');
      assert.equal(o.released, false);
      const lease = await http<Json>(t.baseUrl, `/api/v1/leases/${o.address}`);
      assert.equal(lease.status, 200);
      assert.equal(lease.body.bindingState, 'active');
      assert.equal(lease.body.hostname, o.hostname);
    }
  });

  test('release: the address is given back; the table says so', async () => {
    const r = await probe([...server, '--mac', '02:00:00:00:0b:01', '--release']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n');
    assert.match(rows[0]!, /^┌/);
    assert.match(rows[1]!, /│ Client +│ Address +│ Server id +│ Lease +│ DORA +│ Renewal +│ Release +│/);
    const m =
      /│ 02:00:00:00:0b:01 │ (10\.50\.0\.\d+) +│ 127\.0\.0\.1 │ 3600s \(T1 1800s, T2 3150s\) │ [\d.]+ ms +│ - +│ sent +│/.exec(
        rows[2]!,
      );
    assert.ok(m, rows[2]);
    assert.match(
      r.stdout,
      new RegExp(`1 of 1 client leased \\(relay ${RELAY_LAB} to 127\\.0\\.0\\.1:${t.dhcpPort}\\)`),
    );
    // The RELEASE has no answer: wait for the server to have it.
    let state = '';
    for (let i = 0; i < 50 && state !== 'free'; i++) {
      const lease = await http<Json>(t.baseUrl, `/api/v1/leases/${m[1]}`);
      state = lease.body.bindingState;
      if (state !== 'free') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(state, 'free');
  });

  test('no answer: says from where and how long it waited, exit status 1', async () => {
    const port = await silentPort();
    const r = await probe(['--server', `127.0.0.1:${port}`, '--giaddr', RELAY_LAB, '--timeout', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /│ 02:00:00:00:00:01 │ - +│ - +│ - +│ no OFFER │/);
    assert.match(r.stdout, /0 of 1 client leased/);
    assert.equal(r.stderr, `twinlease: 02:00:00:00:00:01: no OFFER within 1s from 127.0.0.1:${port}\n`);
  });

  test("a relay address that is the server's own, and missing options, are refused with the reason", async () => {
    const own = await probe(['--server', '127.0.0.1', '--port', String(t.dhcpPort), '--giaddr', '127.0.0.1']);
    assert.equal(own.code, 1);
    assert.match(
      own.stderr,
      /^twinlease: the relay address 127\.0\.0\.1 is the address of server 127\.0\.0\.1:\d+: its replies to giaddr 127\.0\.0\.1 would go to its own socket/,
    );
    const noServer = await probe(['--giaddr', RELAY_LAB]);
    assert.equal(noServer.code, 1);
    assert.match(noServer.stderr, /^twinlease: --server is required/);
    const noGiaddr = await probe(['--server', '127.0.0.1']);
    assert.equal(noGiaddr.code, 1);
    assert.match(noGiaddr.stderr, /^twinlease: --giaddr is required/);
    const badMac = await probe([...server, '--mac', 'zz']);
    assert.equal(badMac.code, 1);
    assert.match(badMac.stderr, /^twinlease: --mac "zz" is not a hardware address/);
  });
});
