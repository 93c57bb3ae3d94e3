// Every `twinlease <verb …>` the README and docs/ mention is a verb the CLI has: the words after
// `twinlease` (global options and their values skipped) are walked down the real command tree
// (buildProgram(), the one `twinlease` runs). A renamed or invented verb in the docs fails here.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Options of the root command that take a value. */
const ROOT_OPTIONS_WITH_VALUE = new Set(['--api', '--token']);

function documents(): string[] {
  return [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
}

/** Each mention: the words that follow `twinlease` on its line. */
export function mentions(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    for (const m of line.matchAll(/\btwinlease((?: +[^\s`|)]+)+)/g)) {
      out.push(m[1]!.trim().split(/ +/));
    }
  }
  return out;
}

/** null when the words name a verb of `program` (or none at all); else what is wrong. */
export function checkVerb(program: Command, words: readonly string[]): string | null {
  let command = program;
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    if (w.startsWith('-')) {
      if (command === program && ROOT_OPTIONS_WITH_VALUE.has(w)) i++;
      i++;
      continue;
    }
    if (command.commands.length === 0) return null; // arguments of a leaf verb
    const sub = command.commands.find((c) => c.name() === w || c.aliases().includes(w));
    if (sub === undefined) {
      // Only a word that looks like a verb (lower-case letters and dashes) counts: not a path, a
      // placeholder or punctuation.
      if (!/^[a-z][a-z-]*$/.test(w)) return null;
      const known = command.commands.map((c) => c.name()).join(', ');
      return `"${w}" is not a verb of \`${command === program ? 'twinlease' : command.name()}\` (it has: ${known})`;
    }
    command = sub;
    i++;
  }
  return null;
}

test('every `twinlease <verb>` in the README and docs/ is a verb the CLI has', () => {
  const program = buildProgram();
  const problems: string[] = [];
  let checked = 0;
  for (const file of documents()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const words of mentions(text)) {
      checked++;
      const problem = checkVerb(program, words);
      if (problem !== null) problems.push(`${file}: twinlease ${words.join(' ')}: ${problem}`);
    }
  }
  assert.ok(checked > 50, `found ${checked} mentions`);
  assert.deepEqual(problems, []);
});

test('the check itself: known verbs pass, unknown ones are named', () => {
  const program = buildProgram();
  assert.equal(checkVerb(program, ['lease', 'get', '10.0.0.1']), null);
  assert.equal(
    checkVerb(program, ['--api', 'http://x', '--token', '"$T"', 'failover', 'get', '--name', 'x']),
    null,
  );
  assert.equal(checkVerb(program, ['import', 'dhcpd', '--conf', 'x']), null);
  assert.match(checkVerb(program, ['lease', 'show', '10.0.0.1']) ?? '', /"show" is not a verb of `lease`/);
  assert.match(checkVerb(program, ['failover', 'shwo']) ?? '', /"shwo" is not a verb of `failover`/);
  assert.match(checkVerb(program, ['restart']) ?? '', /"restart" is not a verb of `twinlease`/);
});
