// Where broadcast replies go (docs/configuration.md, "Where broadcast replies go"): the served
// interface's subnet broadcast address, also when 255.255.255.255 is configured; 255.255.255.255
// only without an interface address; any other configured address as given.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chooseNetwork, type InterfaceAddress } from '../../src/server/network.js';
import { startServer } from '../../src/server/server.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { freeUdpPort, testConfig } from '../api/helpers.js';

const HOST: InterfaceAddress[] = [
  { interfaceName: 'eth0', address: parseIpv4('192.0.2.10'), prefixLength: 24 },
  { interfaceName: 'eth1', address: parseIpv4('10.20.3.4'), prefixLength: 22 },
];
const request = {
  interfaceName: null,
  listenAddress: '0.0.0.0',
  serverIdentifier: null,
  broadcastAddress: null,
};

describe('broadcast destination', () => {
  test("the served interface's subnet broadcast; without an interface, the host's first address's", () => {
    const onEth1 = chooseNetwork({ ...request, interfaceName: 'eth1' }, () => HOST);
    assert.ok(typeof onEth1 !== 'string');
    assert.equal(onEth1.broadcastAddress, '10.20.3.255');
    const any = chooseNetwork(request, () => HOST);
    assert.ok(typeof any !== 'string');
    assert.equal(any.broadcastAddress, '192.0.2.255');
  });

  test('255.255.255.255 only when there is no interface address; another address as given', () => {
    const none = chooseNetwork({ ...request, serverIdentifier: '127.0.0.1' }, () => []);
    assert.ok(typeof none !== 'string');
    assert.equal(none.broadcastAddress, '255.255.255.255');
    const given = chooseNetwork({ ...request, broadcastAddress: '10.20.0.255' }, () => HOST);
    assert.ok(typeof given !== 'string');
    assert.equal(given.broadcastAddress, '10.20.0.255');
  });

  test('a configured 255.255.255.255 is treated as absent: the server uses the subnet broadcast', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinlease-broadcast-'));
    try {
      const configPath = join(dir, 'config.json');
      const config = testConfig(dir, await freeUdpPort());
      (config.dhcp as Record<string, unknown>).broadcastAddress = '255.255.255.255';
      writeFileSync(configPath, JSON.stringify(config));
      const logPath = join(dir, 'server.log');
      const server = await startServer({ configPath, logDestination: logPath, interfaces: () => HOST });
      try {
        // The log is written asynchronously: wait for the line.
        let listening: { broadcast?: string } | undefined;
        for (let i = 0; i < 100 && listening === undefined; i++) {
          const line = readFileSync(logPath, 'utf8')
            .split('\n')
            .find((l) => l.includes('"dhcp.listening"'));
          if (line) listening = JSON.parse(line);
          else await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal(listening?.broadcast, '192.0.2.255');
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
