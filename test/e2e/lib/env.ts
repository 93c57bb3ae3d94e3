// Where the e2e tests live and whether they may run here. The e2e suite needs root (network
// namespaces, port 67) and the Debian tools it drives; CI (.ci/run) installs them and runs as root.
// Outside CI a missing prerequisite skips the suite with the reason; in CI it fails the run.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The shared folder sits beside the repository (`<repo>/../shared`), locally and in CI. */
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');
export const HARNESS_DIR = join(SHARED_DIR, 'harness');
export const TWINLEASE_BIN = join(REPO_ROOT, 'bin', 'twinlease.js');

/** Our own harness prefix, so a benchmark on the default prefix (dhb) never shares a namespace with us. */
export const PFX = process.env.TL_E2E_PFX ?? 'tle';
export const NS = {
  srv: `${PFX}-srv`,
  srv2: `${PFX}-srv2`,
  cli: `${PFX}-cli`,
  rc: `${PFX}-rc`,
} as const;

/** Addresses of the harness topology (shared/harness/common.sh). */
export const ADDR = {
  srv: '10.77.0.1',
  srv2: '10.77.0.3',
  cli: '10.77.0.2',
  broadcast: '10.77.255.255',
  poolStart: '10.77.1.0',
  poolEnd: '10.77.64.255',
} as const;

export const isCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Returns null when the e2e prerequisites are met, else why not. Throws in CI, where a skipped
 * e2e suite would hide a broken server: CI must run these tests, never skip them.
 */
export function e2eSkipReason(commands: readonly string[] = []): string | null {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (network namespaces, UDP port 67)');
  for (const c of ['ip', ...commands]) if (!hasCommand(c)) missing.push(`command ${c}`);
  if (!existsSync(join(HARNESS_DIR, 'netns-up.sh'))) missing.push(`harness at ${HARNESS_DIR}`);
  if (!existsSync(TWINLEASE_BIN)) missing.push(`${TWINLEASE_BIN} (the server entry point)`);
  if (missing.length === 0) return null;
  const reason = `e2e prerequisites missing: ${missing.join(', ')}`;
  if (isCi) throw new Error(`${reason} — CI must run the e2e suite as root with .ci/run's packages`);
  return `${reason}; skipped (run as root, or with CI=true to make this a failure)`;
}
