// The directory of the lease store, created when missing. One component at a time, not with
// Node's recursive mkdir: that one retries forever when a component exists but cannot hold new
// entries — a path under /proc or /sys (the kernel answers ENOENT, which it takes for "the parent
// is missing", creates the parent, gets EEXIST, and tries again), or a dangling symlink — and the
// server would spin at 100 % CPU before writing a line (nodejs/node recursive mkdir; seen with
// leaseStore.path under /proc). Bounded by the number of components; every failure names the path.

import { mkdirSync, statSync } from 'node:fs';
import { dirname, parse, resolve, sep } from 'node:path';

/** Creates the missing directories of `storePath`'s directory; throws an Error saying why not. */
export function makeStoreDirectory(storePath: string): void {
  const target = dirname(resolve(storePath));
  const { root } = parse(target);
  const parts = target
    .slice(root.length)
    .split(sep)
    .filter((p) => p !== '');
  let at = root;
  for (const part of parts) {
    const parent = at;
    at = at === root ? `${root}${part}` : `${at}${sep}${part}`;
    try {
      mkdirSync(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        if (!statSync(at).isDirectory()) {
          throw new Error(
            `lease store ${storePath}: cannot create the directory ${target}: ${at} is not a directory`,
          );
        }
        continue;
      }
      // ENOENT with the parent there: the filesystem (procfs, sysfs) does not take new entries.
      const why =
        code === 'ENOENT' && isDirectory(parent)
          ? `${parent} does not take new directories (a virtual filesystem such as /proc or /sys?)`
          : (err as Error).message;
      throw new Error(`lease store ${storePath}: cannot create the directory ${at}: ${why}`);
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
