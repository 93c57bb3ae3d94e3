// leaseStore.writerThread (issue 17): the server commits on a worker thread and still sends the
// ACK only once the binding is on disk; the binding is there after a stop and a reopen.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteLeaseStore } from '../../src/leases/sqlite-store.js';
import { ThreadedSqliteLeaseStore } from '../../src/leases/sqlite-writer-thread.js';
import { startServer } from '../../src/server/server.js';
import { encodeDhcp } from '../../src/wire/dhcp-codec.js';
import { DhcpMessageType as T } from '../../src/wire/dhcp-packet.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { freeUdpPort } from '../api/helpers.js';
import { mac, packet } from '../dhcp/helpers.js';

test('with leaseStore.writerThread a REQUEST is committed by the writer thread and durable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-writer-thread-'));
  try {
    const path = join(dir, 'leases.db');
    const configPath = join(dir, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        server: { name: 'tl-test', serverIdentifier: '127.0.0.1' },
        dhcp: { listenAddress: '127.0.0.1', port: await freeUdpPort() },
        leaseStore: { path, writerThread: true },
        logging: { level: 'warn' },
        api: { listenAddress: '127.0.0.1', port: 0 },
        scopes: [{ subnet: '127.0.0.0/8', ranges: [{ start: '127.0.9.1', end: '127.0.15.255' }] }],
      }),
    );
    const server = await startServer({ configPath, logDestination: join(dir, 'server.log') });
    let address = 0;
    try {
      assert.ok(server.store instanceof ThreadedSqliteLeaseStore);
      const now = Math.floor(Date.now() / 1000);
      const offer = server.dhcp.currentEngine.handle(
        packet(T.Discover, { mac: mac(7), xid: 7, giaddr: '127.0.0.1' }),
        now,
      );
      assert.equal(offer.action, 'reply');
      address = offer.action === 'reply' ? offer.reply.yiaddr : 0;
      const request = packet(T.Request, {
        mac: mac(7),
        xid: 8,
        giaddr: '127.0.0.1',
        requested: formatIpv4(address),
        serverId: '127.0.0.1',
      });
      server.dhcp.onDatagram(encodeDhcp(request), '127.0.0.1', 67);
      const deadline = Date.now() + 5000;
      while (server.store.count() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(server.store.count(), 1, 'the writer thread committed the binding');
    } finally {
      await server.stop();
    }
    const reopened = new SqliteLeaseStore(path);
    const stored = reopened.loadAll();
    await reopened.close();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.address, address);
    assert.equal(stored[0]!.state, 'active');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
