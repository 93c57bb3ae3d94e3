// One server process's wall clock under libfaketime (Debian package faketime), moved at run time:
// the library reads the offset from a file on every time call (FAKETIME_NO_CACHE=1), and leaves
// CLOCK_MONOTONIC alone (FAKETIME_DONT_FAKE_MONOTONIC=1), as a real clock step does: NTP, an
// operator or a hypervisor set CLOCK_REALTIME; the monotonic clock never steps.

import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian puts the multi-threaded preload library (node runs threads), per architecture. */
const LIBRARY_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
];

export function fakeTimeLibrary(): string | null {
  return LIBRARY_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export class FakeWallClock {
  readonly path: string;
  /** Seconds the process's wall clock is off from the real one. */
  offsetSeconds = 0;

  constructor(dir: string) {
    this.path = join(dir, 'faketime-offset');
    this.set(0);
  }

  /** The environment that puts a process (started afterwards) on this clock. */
  env(): Record<string, string> {
    const library = fakeTimeLibrary();
    if (library === null) throw new Error(`libfaketime not found (${LIBRARY_CANDIDATES.join(', ')})`);
    return {
      LD_PRELOAD: library,
      FAKETIME_TIMESTAMP_FILE: this.path,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }

  /** Steps the wall clock to `offsetSeconds` from real time, at once (the file is replaced whole). */
  set(offsetSeconds: number): void {
    this.offsetSeconds = offsetSeconds;
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${offsetSeconds >= 0 ? '+' : ''}${Math.round(offsetSeconds)}\n`);
    renameSync(tmp, this.path);
  }
}
