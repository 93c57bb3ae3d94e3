// The partner's state while it is unreachable is only the last one it reported: `status` and
// `failover get` say so, with when it was last heard (issue 14: it read plain `normal`).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ServerState } from '../../src/wire/failover-message.js';
import {
  type FailoverApiServer,
  fakeStatus,
  NOW,
  READ_TOKEN,
  relationshipConfig,
  startFailoverApi,
} from '../api/failover-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { TWINLEASE_TOKEN: _t, TWINLEASE_API: _a, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ENTRY, ...args],
      { cwd: ROOT, env, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('the partner state while the partner is unreachable', () => {
  let a: FailoverApiServer;
  let ro: string[];

  before(async () => {
    a = await startFailoverApi('dhcp-a', { failover: [relationshipConfig()] });
    a.failover.statusList = [
      fakeStatus({
        localState: ServerState.COMMUNICATIONS_INTERRUPTED,
        partnerState: ServerState.NORMAL,
        isCommunicating: false,
        lastContactAt: NOW - 300,
      }),
    ];
    ro = ['--api', a.baseUrl, '--token', READ_TOKEN];
  });
  after(async () => {
    await a.close();
  });

  test('status and failover get mark it as the last known state, with when it was last heard', async () => {
    const status = await cli([...ro, 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /normal \(last known, heard 2026-11-23 23:55:00Z\)/);
    const get = await cli([...ro, 'failover', 'get', '--name', 'dc-pair']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /Partner state\s+│ normal \(last known, heard 2026-11-23 23:55:00Z\)/);
    assert.match(get.stdout, /Server2 \(secondary\)\s+│ 10\.0\.0\.3\s+│ dhcp-b\s+│ normal \(last known\)/);
    const list = await cli([...ro, 'failover', 'get']);
    assert.match(list.stdout, /normal \(last known, heard 2026-11-23 23:55:00Z\)/);
  });
});
