// The harness topology (shared/harness/netns-up.sh) under our own prefix, and commands run inside
// its namespaces. Everything the tests send stays inside these namespaces.

import { join } from 'node:path';
import { ADDR, HARNESS_DIR, NS, PFX } from './env.js';
import { type RunOptions, type RunResult, run, sleep } from './proc.js';

const harnessEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PFX, WORK: `/tmp/${PFX}-harness` });

/**
 * A fresh topology: namespaces left by an interrupted run are removed first (a stale server
 * still bound to port 67 in an old namespace would otherwise answer in place of ours).
 */
export async function topologyUp(): Promise<void> {
  await topologyDown();
  await run('bash', [join(HARNESS_DIR, 'netns-up.sh')], { env: harnessEnv(), timeoutMs: 60_000 });
}

export async function topologyDown(): Promise<void> {
  await run('bash', [join(HARNESS_DIR, 'netns-down.sh')], {
    env: harnessEnv(),
    timeoutMs: 30_000,
    check: false,
  });
}

/** Runs `cmd args` inside network namespace `ns` (bounded, like every command here). */
export function nsRun(
  ns: string,
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], options);
}

/** `ip` inside a namespace, e.g. ip(NS.srv, 'route', 'add', ...). */
export function ip(ns: string, ...args: string[]): Promise<RunResult> {
  return run('ip', ['-n', ns, ...args], { timeoutMs: 10_000 });
}

/** Waits until something listens on UDP `port` in `ns` (like common.sh's wait_udp). */
export async function isUdpListening(ns: string, port: number): Promise<boolean> {
  const r = await nsRun(ns, 'ss', ['-H', '-uln', `sport = :${port}`], { check: false, timeoutMs: 5000 });
  return r.stdout.trim() !== '';
}

export async function isTcpListening(ns: string, port: number): Promise<boolean> {
  const r = await nsRun(ns, 'ss', ['-H', '-tln', `sport = :${port}`], { check: false, timeoutMs: 5000 });
  return r.stdout.trim() !== '';
}

export async function waitUdp(ns: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isUdpListening(ns, port)) return;
    if (Date.now() >= deadline)
      throw new Error(`nothing listens on UDP ${port} in ${ns} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Pids of processes inside a namespace (to check that a test left none behind). */
export async function nsPids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { check: false, timeoutMs: 5000 });
  return r.stdout
    .split(/\s+/)
    .filter((s) => s !== '')
    .map(Number);
}

/**
 * Makes `address` a relay address living in $PFX-srv2 (10.77.0.3): the address goes on its eth0
 * and the server namespace routes it via 10.77.0.3, so the server's reply to giaddr:67 arrives.
 */
export async function addRelayAddress(address: string): Promise<void> {
  await ip(NS.srv2, 'addr', 'replace', `${address}/32`, 'dev', 'eth0');
  await ip(NS.srv, 'route', 'replace', `${address}/32`, 'via', ADDR.srv2);
}

/** Hardware address of eth0 in `ns`, lower-case hex without separators (the store's form). */
export async function macOf(ns: string, dev = 'eth0'): Promise<string> {
  const r = await ip(ns, '-o', 'link', 'show', dev);
  const m = /link\/ether ([0-9a-f:]{17})/.exec(r.stdout);
  if (!m) throw new Error(`no MAC on ${ns}:${dev}: ${r.stdout}`);
  return m[1]!.replaceAll(':', '');
}
