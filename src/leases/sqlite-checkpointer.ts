// The default lease store's WAL checkpointer thread (wal-checkpointer.ts, issue 15): a connection
// of its own that copies the WAL back into the database file (PRAGMA wal_checkpoint(PASSIVE)), so
// that the copy and its fsync of the database file, ~120-140 ms for 4000 pages spread over a table
// of 1M rows, never run inside a COMMIT on the event loop. PASSIVE never waits for the writer and
// never makes it wait: the store's connection goes on committing meanwhile. One message is one
// checkpoint:
//   {id} → {id, busy, logFrames, checkpointedFrames} | {id, error};  {close: true} → exits.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointRequest {
  id: number;
}
export type CheckpointReply =
  | { id: number; busy: number; logFrames: number; checkpointedFrames: number }
  | { id: number; error: string };

const port = parentPort;
if (port === null) throw new Error('sqlite-checkpointer must run in a worker thread');
// The file exists and is in WAL mode (the store opened it first); this connection only reads it
// and writes the database file back from the WAL.
const db = new Database((workerData as { path: string }).path, { fileMustExist: true });
// The checkpoint syncs the WAL before and the database file after it copies (as the store's own
// checkpoints do).
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0');

port.on('message', (m: CheckpointRequest | { close: true }) => {
  if ('close' in m) {
    db.close();
    process.exit(0);
  }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    port.postMessage({ id: m.id, busy: r!.busy, logFrames: r!.log, checkpointedFrames: r!.checkpointed });
  } catch (err) {
    port.postMessage({ id: m.id, error: (err as Error).message });
  }
});
