// The lease store's writer thread (sqlite-writer-thread.ts): owns the SQLite connection that
// writes, so that a group commit's fsync, and the WAL checkpoints, never block the event loop
// that answers DHCP packets. One message is one transaction:
//   {id, rows, removals, meta} → {id, added} | {id, error};  {close: true} → {closed: true}.

import { parentPort, workerData } from 'node:worker_threads';
import { SqliteBatchWriter } from './sqlite-store.js';

export interface WriteRequest {
  id: number;
  /** LEASE_ROW_VALUES values per lease (fillLeaseParams). */
  rows: unknown[];
  removals: number[];
  meta: [string, string][];
}
export type WriteReply = { id: number; added: number } | { id: number; error: string };

const port = parentPort;
if (port === null) throw new Error('sqlite-writer must run in a worker thread');
const writer = new SqliteBatchWriter((workerData as { path: string }).path);

port.on('message', (m: WriteRequest | { close: true }) => {
  if ('close' in m) {
    let error: string | undefined;
    try {
      writer.close();
    } catch (err) {
      error = (err as Error).message;
    }
    port.postMessage({ closed: true, error });
    return;
  }
  try {
    port.postMessage({ id: m.id, added: writer.write(m.rows, m.removals, m.meta) });
  } catch (err) {
    port.postMessage({ id: m.id, error: (err as Error).message });
  }
});
