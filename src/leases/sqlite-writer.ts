// The lease store's writer thread: owns the SQLite connection that writes, so the fsync of each
// group commit (and WAL checkpoints) never block the event loop that answers DHCP packets.
// Messages: {type:'write', id, leases, removals, meta} → {type:'written'|'failed', id, message?};
// {type:'close'} → {type:'closed'}.

import { parentPort, workerData } from 'node:worker_threads';
import type { Lease } from '../dhcp/lease.js';
import { SqliteLeaseStore } from './sqlite-store.js';

export interface WriteRequest {
  type: 'write';
  id: number;
  leases: Lease[];
  removals: number[];
  meta: [string, string][];
}

const port = parentPort;
if (!port) throw new Error('sqlite-writer must run in a worker thread');
const store = new SqliteLeaseStore((workerData as { path: string }).path);

port.on('message', (m: WriteRequest | { type: 'close' }) => {
  if (m.type === 'write') {
    try {
      store.writeNow(m.leases, m.removals, m.meta);
      port.postMessage({ type: 'written', id: m.id });
    } catch (err) {
      port.postMessage({ type: 'failed', id: m.id, message: (err as Error).message });
    }
  } else if (m.type === 'close') {
    store.close().then(
      () => port.postMessage({ type: 'closed' }),
      (err: Error) => port.postMessage({ type: 'closed', message: err.message }),
    );
  }
});
