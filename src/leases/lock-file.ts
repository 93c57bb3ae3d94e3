// One server per lease file: `<store>.lock` holds the owner's pid. Two servers writing one lease
// database would each keep their own in-memory lease table and could give one address to two
// clients. A lock left by a dead process (kill -9) is taken over.

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export interface LockHandle {
  path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireLockFile(storePath: string): LockHandle {
  const path = `${storePath}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        path,
        release: () => {
          try {
            if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new Error(`lease store ${storePath}: cannot create ${path}: ${(err as Error).message}`);
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `lease store ${storePath} is in use by process ${owner} (${path}); one server per lease file`,
        );
      }
      unlinkSync(path); // stale: its owner is gone
    }
  }
  throw new Error(`lease store ${storePath}: cannot take ${path}`);
}
