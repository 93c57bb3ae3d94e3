// `twinlease serve` stops on SIGTERM within a few seconds whatever its log's reader does: gone
// (the pipe's reading end closed: every write fails with EPIPE) or stalled (alive, not reading:
// the pipe is full). Before, the first ignored SIGTERM for good (pino's exit hook retried the
// EPIPE write every 100 ms forever) and the second blocked in write(2).

import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { emptyLease } from '../../src/dhcp/lease.js';
import { writeNewLeaseStore } from '../../src/leases/sqlite-store.js';
import { encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { mac, NOW, packet } from '../dhcp/helpers.js';

const ENTRY = fileURLToPath(new URL('../cli/entry.ts', import.meta.url));

type Server = ChildProcessByStdio<null, Readable, Readable>;

function startServe(storePath?: string): { child: Server; dhcpPort: number } {
  const dir = mkdtempSync(join(tmpdir(), 'tl-shutdown-'));
  const base = 40000 + Math.floor(Math.random() * 9000) * 2;
  const config = {
    server: { name: 'shutdown-test', serverIdentifier: '127.0.0.1' },
    dhcp: { listenAddress: '127.0.0.1', port: base, clientPort: base + 1, broadcastAddress: '127.0.0.1' },
    api: { listenAddress: '127.0.0.1', port: base + 2 },
    leaseStore: { path: storePath ?? join(dir, 'leases.db') },
    scopes: [{ subnet: '127.0.0.0/8', ranges: [{ start: '127.0.9.1', end: '127.0.15.255' }] }],
  };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'serve', '--config', path], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, dhcpPort: base };
}

/** Reads the log until the server is up (the management API listens last). */
function ready(child: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (b: Buffer) => {
      seen += b.toString();
      if (seen.includes('"event":"api.listening"')) {
        child.stdout.off('data', onData);
        // The signal handlers are installed right after; let that turn run.
        setTimeout(resolve, 200);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before it was up: ${seen}`)));
  });
}

/** Sends SIGTERM; resolves with the exit code or signal and the seconds it took (killed after 20 s). */
async function terminate(
  child: Server,
): Promise<{ code: number | null; signal: string | null; seconds: number }> {
  const started = process.hrtime.bigint();
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const r = await exited;
  clearTimeout(killer);
  return { ...r, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

describe('a signal during start-up', () => {
  test('SIGTERM while the store loads (before the API is up): an orderly stop, exit 0', async () => {
    // 60,000 stored leases make the load last long enough (about a second) to signal inside it:
    // the lock file appears when start-up begins, before the store is read.
    const dir = mkdtempSync(join(tmpdir(), 'tl-shutdown-store-'));
    const storePath = join(dir, 'leases.db');
    const leases = Array.from({ length: 60_000 }, (_, i) => ({
      ...emptyLease(parseIpv4('127.16.0.0') + i, '127.0.0.0', 'active', NOW - 60),
      hardwareType: 1,
      hardwareAddress: `0200${i.toString(16).padStart(8, '0')}`,
      leaseExpiresAt: Math.floor(Date.now() / 1000) + 3600,
    }));
    writeNewLeaseStore(storePath, leases, []);
    const { child } = startServe(storePath);
    const lines: string[] = [];
    child.stdout.on('data', (b: Buffer) => lines.push(b.toString()));
    while (!existsSync(`${storePath}.lock`) && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGTERM');
    const r = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.exitCode !== null
        ? resolve({ code: child.exitCode, signal: child.signalCode })
        : child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const log = lines.join('');
    assert.deepEqual([r.code, r.signal], [0, null], `exit ${r.code} ${r.signal}; log: ${log}`);
    assert.match(log, /"event":"server.signal"/, 'the held signal is acted on once the server is up');
    assert.match(log, /"event":"server.stopping"/);
    assert.ok(!existsSync(`${storePath}.lock`), 'the store was closed and its lock released');
  });
});

describe('SIGTERM whatever the log reader does', () => {
  test('the reader is gone (EPIPE): a clean exit at once', async () => {
    const { child } = startServe();
    await ready(child);
    child.stdout.destroy(); // the parent died: the pipe has no reader
    await new Promise((r) => setTimeout(r, 200));
    const r = await terminate(child);
    assert.deepEqual([r.code, r.signal], [0, null], `exit ${r.code} ${r.signal} after ${r.seconds} s`);
    assert.ok(r.seconds < 3, `${r.seconds} s`);
  });

  test('the reader stalls (the pipe is full): an exit within a few seconds', async () => {
    const { child, dhcpPort } = startServe();
    await ready(child);
    child.stdout.pause(); // alive, not reading
    // Every OFFER (relayed: the scope is 127.0.0.0/8) is a log line of about 300 bytes: 1000 of
    // them overfill the pipe and what the parent buffers before it stops reading.
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    for (let i = 0; i < 1000; i++) {
      s.send(
        encodeDhcp(packet(T.Discover, { mac: mac(i + 1), xid: i + 1, giaddr: '127.0.0.1' })),
        dhcpPort,
        '127.0.0.1',
      );
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    s.close();
    const r = await terminate(child);
    assert.ok(r.seconds < 8, `${r.seconds} s`);
    console.log(`stalled reader: exit after ${r.seconds.toFixed(2)} s`);
    assert.deepEqual([r.code, r.signal], [0, null], `exit ${r.code} ${r.signal} after ${r.seconds} s`);
    child.stdout.destroy();
  });
});
