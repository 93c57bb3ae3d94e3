// The README's failover walk-through ("A failover pair on one machine"), run as written: every
// `$ command` line between <!-- demo:begin --> and <!-- demo:end --> is executed in order, and what
// it prints is compared with the lines the README shows under it. So the walk-through cannot rot:
// change a command, an output or the behaviour behind them, and this test fails.
//
// How the README is read:
// * In ```console blocks, a line `$ cmd` is a step; the lines up to the next `$ ` line or the end of
//   the block are what it prints. A block with no `$` line shows what the previous step made the
//   pair's terminal print (e.g. after `kill -9`).
// * `…` in a line matches anything; a line that is only `…` skips any number of lines. Times
//   (ISO dates, "12 ms"), pids and table column widths are not compared.
// * `npm run pair` and `node scripts/pair.mjs …` start the pair in the background (`npm run pair` is
//   `npm run build && node scripts/pair.mjs`; the build is the test runner's: run `npm run build`
//   first, as for every e2e test). Their expected lines are waited for, in any order.
// * `kill -9 N` kills the server that the README's own output shows as `<role> started, pid N`.
// * Read-only commands (stats, failover get, lease list, status) are retried until their output
//   matches (the partner learns of leases lazily); everything else must match the first time.
// * `alias` and `export` lines are kept and prefixed to every later command (run by bash).
//
// No root needed: everything is on loopback (127.0.0.1–3), ports 6767, 6470/6471, 8067/8068. The
// commands run in a scratch copy of the repository's config/ and scripts/ (bin/ links to the
// built one), so the demo's lease files in the working copy are left alone. The ports are fixed,
// so run it under the e2e lock like the other e2e tests. TWINLEASE_DEMO_RECORD=<file> writes what
// every step printed, to refresh the README.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { REPO_ROOT } from './lib/env.js';
import { LineProcess, sleep } from './lib/proc.js';

const README = join(REPO_ROOT, 'README.md');
const RECORD = process.env.TWINLEASE_DEMO_RECORD;
const BACKGROUND_WAIT_MS = 30_000;
const RETRY_WINDOW_MS = 20_000;
const READ_ONLY = /^twinlease\b.*\b(stats|failover get|lease list|lease get|status)\b/;

export interface Step {
  command: string;
  /** What the README shows the command printing. */
  expected: string[];
  /** What the README shows appearing in the pair's terminals because of it. */
  background: string[];
}

/** The `$` steps of the README's walk-through. */
export function readWalkThrough(markdown: string): Step[] {
  const begin = markdown.indexOf('<!-- demo:begin');
  const end = markdown.indexOf('<!-- demo:end');
  assert.ok(begin >= 0 && end > begin, 'README.md has the <!-- demo:begin --> … <!-- demo:end --> section');
  const steps: Step[] = [];
  let block: string[] | null = null;
  for (const line of markdown.slice(begin, end).split('\n')) {
    if (block === null) {
      if (/^```console\s*$/.test(line)) block = [];
      continue;
    }
    if (!/^```\s*$/.test(line)) {
      block.push(line);
      continue;
    }
    const hasCommands = block.some((l) => l.startsWith('$ '));
    if (!hasCommands) {
      const last = steps.at(-1);
      assert.ok(last, 'an output-only block follows a command');
      last.background.push(...block.filter((l) => l.trim() !== ''));
    } else {
      for (const l of block) {
        if (l.startsWith('$ ')) steps.push({ command: l.slice(2).trim(), expected: [], background: [] });
        else steps.at(-1)?.expected.push(l);
      }
    }
    block = null;
  }
  return steps;
}

/** Times, durations and pids vary; column widths follow them. */
function normalize(line: string): string {
  return line
    .replace(/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/\d+(\.\d+)? ms\b/g, '<n> ms')
    .replace(/\bpid (\d+)/g, 'pid <n>')
    .replace(/"pid":\d+/g, '"pid":<n>')
    .replace(/─+/g, '─')
    .replace(/ *│ */g, '│')
    .trimEnd();
}

function lineMatcher(expected: string): RegExp {
  const parts = normalize(expected).split('…');
  return new RegExp(`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Whether `actual` shows the `expected` lines in order (a `…` line skips any lines). */
export function matchesInOrder(expected: readonly string[], actual: readonly string[]): string | null {
  const want = expected.filter((l) => l.trim() !== '');
  const have = actual.filter((l) => l.trim() !== '');
  let i = 0;
  let isSkipping = false;
  for (const e of want) {
    if (e.trim() === '…') {
      isSkipping = true;
      continue;
    }
    const re = lineMatcher(e);
    if (isSkipping) {
      while (i < have.length && !re.test(normalize(have[i]!))) i++;
    }
    if (i >= have.length || !re.test(normalize(have[i]!))) {
      return `expected ${JSON.stringify(e)}, got ${i < have.length ? JSON.stringify(have[i]) : 'the end of the output'}`;
    }
    i++;
    isSkipping = false;
  }
  if (!isSkipping && i < have.length) return `unexpected line ${JSON.stringify(have[i])}`;
  return null;
}

async function portsInUse(): Promise<string[]> {
  const busy: string[] = [];
  const udp = (address: string, port: number) =>
    new Promise<void>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => {
        busy.push(`udp ${address}:${port}`);
        resolve();
      });
      s.bind(port, address, () => s.close(() => resolve()));
    });
  const tcp = (address: string, port: number) =>
    new Promise<void>((resolve) => {
      const s = net.createServer();
      s.once('error', () => {
        busy.push(`tcp ${address}:${port}`);
        resolve();
      });
      s.listen(port, address, () => s.close(() => resolve()));
    });
  for (const a of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) await udp(a, 6767);
  for (const p of [6470, 6471, 8067, 8068]) await tcp('127.0.0.1', p);
  return busy;
}

const dist = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const skip = existsSync(dist) ? false : 'dist/ is missing: run `npm run build` first';

describe('README walk-through: a failover pair on one machine', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'twinlease-demo-'));
  const background: { role: string; proc: LineProcess }[] = [];
  const preamble: string[] = [];
  const markdown = readFileSync(README, 'utf8');
  const steps = readWalkThrough(markdown);
  /** The README's own pids → roles, from its `<role> started, pid N` lines. */
  const readmeRoles = new Map<string, string>();
  for (const m of markdown.matchAll(/^(\w+)\s+started, pid (\d+)/gm)) readmeRoles.set(m[2]!, m[1]!);

  after(async () => {
    for (const b of background) await b.proc.stop('SIGTERM', 8000).catch(() => undefined);
    // Servers a pair.mjs left behind (it was SIGKILLed past its grace): end them by their pids.
    for (const b of background) {
      for (const l of b.proc.lines) {
        const pid = /^\w+\s+started, pid (\d+)/.exec(l)?.[1];
        if (pid === undefined) continue;
        try {
          // Only a server of this run (its working directory is the scratch copy), not a reused pid.
          if (realpathSync(`/proc/${pid}/cwd`) !== realpathSync(dir)) continue;
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (RECORD === undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('the walk-through has its steps', () => {
    assert.ok(steps.length >= 10, `found ${steps.length} steps`);
    assert.ok(steps.some((s) => s.command === 'npm run pair'));
    assert.ok(steps.some((s) => s.command.startsWith('kill -9 ')));
    assert.ok(steps.some((s) => s.command.includes('twinlease probe')));
    assert.ok(steps.some((s) => s.command.includes('partner-down')));
  });

  test('the commands, as written, print what the README shows', { timeout: 300_000 }, async (t) => {
    const busy = await portsInUse();
    assert.deepEqual(
      busy,
      [],
      `the demo pair's ports are in use (is \`npm run pair\` running?): ${busy.join(', ')}`,
    );
    // A scratch copy of what the pair needs (not the working copy's lease files or operation logs).
    for (const f of ['config/pair-primary.json', 'config/pair-secondary.json', 'scripts/pair.mjs']) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(REPO_ROOT, f), join(dir, f));
    }
    symlinkSync(join(REPO_ROOT, 'bin'), join(dir, 'bin'));
    if (RECORD !== undefined) writeFileSync(RECORD, `# demo run in ${dir}\n`);
    const { TWINLEASE_API: _a, TWINLEASE_TOKEN: _t, ...env } = process.env;

    for (const step of steps) {
      const c = step.command;
      t.diagnostic(`$ ${c}`);
      const record = (lines: readonly string[]) => {
        if (RECORD !== undefined) appendFileSync(RECORD, `$ ${c}\n${lines.join('\n')}\n`);
      };
      if (/^(alias|export) /.test(c)) {
        preamble.push(c);
        continue;
      }
      const pair = /^npm run pair$|^node scripts\/pair\.mjs( (primary|secondary))*$/.exec(c);
      if (pair) {
        const args = c === 'npm run pair' ? [] : c.split(' ').slice(2);
        const from = background.map((b) => b.proc.lines.length);
        const proc = new LineProcess(process.execPath, ['scripts/pair.mjs', ...args], { cwd: dir, env });
        const earlier = [...background];
        // Registered at once, so that after() stops it also when a wait below fails.
        for (const role of args.length > 0 ? args : ['primary', 'secondary']) background.push({ role, proc });
        await waitForLines(proc, step.expected, c);
        for (const l of step.background) await waitForAny(earlier, from, l, c);
        record([...proc.lines, ...linesSince(earlier, from)]);
        continue;
      }
      const kill = /^kill -9 (\d+)$/.exec(c);
      if (kill) {
        const role = readmeRoles.get(kill[1]!);
        assert.ok(role, `README: no "<role> started, pid ${kill[1]}" line for ${c}`);
        const owner = background.filter((b) => b.role === role).at(-1);
        assert.ok(owner, `no ${role} was started before ${c}`);
        const line = await owner.proc.waitForLine(
          `${role} pid`,
          (l) => new RegExp(`^${role}\\s+started, pid \\d+`).test(l),
          1000,
        );
        const pid = Number(/pid (\d+)/.exec(line)![1]);
        const from = background.map((b) => b.proc.lines.length);
        process.kill(pid, 'SIGKILL');
        for (const l of [...step.expected, ...step.background]) await waitForAny(background, from, l, c);
        record(linesSince(background, from));
        continue;
      }
      const from = background.map((b) => b.proc.lines.length);
      const script = [...preamble, c].join('\n');
      const deadline = Date.now() + (READ_ONLY.test(c) ? RETRY_WINDOW_MS : 0);
      for (;;) {
        const r = spawnSync('bash', ['-O', 'expand_aliases', '-c', script], {
          cwd: dir,
          env,
          encoding: 'utf8',
          timeout: 60_000,
        });
        const output = `${r.stdout}${r.stderr}`.split('\n');
        const problem = matchesInOrder(step.expected, output);
        if (problem === null) {
          record(output);
          // A command the README shows failing ("twinlease: …" on stderr) exits with status 1.
          const isFailureShown = step.expected.some((l) => l.startsWith('twinlease: '));
          assert.equal(r.status, isFailureShown ? 1 : 0, `${c} exited with ${r.status}`);
          break;
        }
        if (Date.now() >= deadline) {
          record(output);
          if (RECORD !== undefined) break; // recording a new walk-through: take what it printed
          assert.fail(`${c}: ${problem}\n--- printed:\n${output.join('\n')}`);
        }
        await sleep(500);
      }
      for (const l of step.background) await waitForAny(background, from, l, c);
    }
  });
});

/** What the pair's terminals printed since line `from[i]` of each (each process once). */
function linesSince(background: readonly { proc: LineProcess }[], from: readonly number[]): string[] {
  const seen = new Set<LineProcess>();
  return background.flatMap((b, i) => {
    if (seen.has(b.proc)) return [];
    seen.add(b.proc);
    return b.proc.lines.slice(from[i]);
  });
}

async function waitForLines(proc: LineProcess, lines: readonly string[], what: string): Promise<void> {
  for (const l of lines) {
    if (l.trim() === '…' || l.trim() === '') continue;
    const re = lineMatcher(l);
    await proc.waitForLine(
      `${JSON.stringify(l)} after ${what}`,
      (x) => re.test(normalize(x)),
      BACKGROUND_WAIT_MS,
    );
  }
}

/** Waits until `line` appears in one of the pair's terminals, after line `from[i]` of each. */
async function waitForAny(
  background: readonly { proc: LineProcess }[],
  from: readonly number[],
  line: string,
  what: string,
): Promise<void> {
  if (line.trim() === '…' || line.trim() === '') return;
  const re = lineMatcher(line);
  const deadline = Date.now() + BACKGROUND_WAIT_MS;
  const isShown = () =>
    background.some((b, i) => b.proc.lines.slice(from[i] ?? 0).some((x) => re.test(normalize(x))));
  while (!isShown()) {
    if (Date.now() > deadline) {
      if (RECORD !== undefined) return;
      const tails = background.map((b) => b.proc.tail(8)).join('\n');
      assert.fail(`${JSON.stringify(line)} did not appear after ${what}; last lines:\n${tails}`);
    }
    await sleep(100);
  }
}
