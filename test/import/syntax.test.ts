// Tokenizer and statement parser of the dhcpd import: positions, ISC strings, braces, includes,
// and a fuzz run that may only ever raise DhcpdSyntaxError.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { translateDhcpdConf } from '../../src/import/dhcpd-conf.js';
import { readLeasesFile } from '../../src/import/dhcpd-leases.js';
import { DhcpdSyntaxError } from '../../src/import/source.js';
import { parseFileWithIncludes, parseText, type SourceReader } from '../../src/import/syntax.js';
import { tokenize } from '../../src/import/tokenizer.js';

function syntaxError(fn: () => unknown): DhcpdSyntaxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DhcpdSyntaxError) return e;
    throw e;
  }
  assert.fail('expected a DhcpdSyntaxError');
}

function memoryReader(files: Record<string, string>): SourceReader {
  return {
    read: (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return text;
    },
    canonical: (path) => path,
  };
}

describe('tokenizer', () => {
  test('words, punctuation, comments, with line and column', () => {
    const t = tokenize(
      'subnet 10.0.0.0 netmask 255.0.0.0 { # comment\n  range 10.0.0.1 10.0.0.9;\n}',
      'a.conf',
    );
    assert.deepEqual(
      t.map((x) => [x.kind, x.text, x.pos.line, x.pos.column]),
      [
        ['word', 'subnet', 1, 1],
        ['word', '10.0.0.0', 1, 8],
        ['word', 'netmask', 1, 17],
        ['word', '255.0.0.0', 1, 25],
        ['punct', '{', 1, 35],
        ['word', 'range', 2, 3],
        ['word', '10.0.0.1', 2, 9],
        ['word', '10.0.0.9', 2, 18],
        ['punct', ';', 2, 26],
        ['punct', '}', 3, 1],
      ],
    );
    assert.equal(t[0]!.pos.file, 'a.conf');
  });

  test('MACs, dates and times stay one word; = , ( ) are punctuation', () => {
    const t = tokenize('hardware ethernet 0:0:c0:5d:bd:95; starts 4 2026/11/26 09:00:00; set a=b, (c);', 'f');
    assert.deepEqual(
      t.map((x) => x.text),
      [
        'hardware',
        'ethernet',
        '0:0:c0:5d:bd:95',
        ';',
        'starts',
        '4',
        '2026/11/26',
        '09:00:00',
        ';',
        'set',
        'a',
        '=',
        'b',
        ',',
        '(',
        'c',
        ')',
        ';',
      ],
    );
  });

  test('ISC string escapes: octal, hex, \\t, quotes; bytes kept', () => {
    const [s] = tokenize('"\\001RT\\000\\0224V\\x41\\t\\"q\\\\"', 'f');
    assert.equal(s!.kind, 'string');
    assert.deepEqual([...s!.bytes!], [1, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x41, 9, 0x22, 0x71, 0x5c]);
  });

  test('a string may span lines; positions after it stay right', () => {
    const t = tokenize('"a\nb" x', 'f');
    assert.equal(t[0]!.text, 'a\nb');
    assert.deepEqual([t[1]!.pos.line, t[1]!.pos.column], [2, 4]);
  });

  test('unterminated string: error at its opening quote', () => {
    const e = syntaxError(() => tokenize('option domain-name\n  "example.org;\n', 'x.conf'));
    assert.deepEqual([e.pos.file, e.pos.line, e.pos.column], ['x.conf', 2, 3]);
    assert.match(e.message, /^x\.conf:2:3: unterminated string/);
  });
});

describe('statements', () => {
  test('nested blocks and the optional ; after a block', () => {
    const s = parseText('a 1; b { c; d { e; }; } f;', 'f');
    assert.deepEqual(
      s.map((x) => x.head[0]!.text),
      ['a', 'b', 'f'],
    );
    assert.deepEqual(
      s[1]!.block!.map((x) => x.head[0]!.text),
      ['c', 'd'],
    );
  });

  test('missing ; before } names the statement and its line', () => {
    const e = syntaxError(() =>
      parseText('subnet 10.0.0.0 netmask 255.0.0.0 {\n  range 10.0.0.1 10.0.0.9\n}\n', 'd.conf'),
    );
    assert.equal(e.pos.line, 2);
    assert.match(e.reason, /missing ';' after 'range 10\.0\.0\.1 10\.0\.0\.9'/);
  });

  test("unclosed '{': error at the brace, naming the statement", () => {
    const e = syntaxError(() =>
      parseText(
        'ddns-update-style none;\nsubnet 10.0.0.0 netmask 255.0.0.0 {\n  range 10.0.0.1 10.0.0.9;\n',
        'd.conf',
      ),
    );
    assert.deepEqual([e.pos.line, e.pos.column], [2, 35]);
    assert.match(e.reason, /'\{' of 'subnet 10\.0\.0\.0 netmask 255\.0\.0\.0' is never closed/);
  });

  test("stray '}' and '{' without a statement", () => {
    assert.equal(syntaxError(() => parseText('a;\n}\n', 'f')).pos.line, 2);
    assert.match(syntaxError(() => parseText('{ a; }', 'f')).reason, /without a statement/);
  });

  test('missing ; at the end of the file', () => {
    const e = syntaxError(() => parseText('authoritative', 'f'));
    assert.match(e.reason, /missing ';' after 'authoritative'/);
  });

  test('include: relative to the including file, replaced in place, at any depth', () => {
    const reader = memoryReader({
      '/etc/dhcp/dhcpd.conf': 'a;\nsubnet 1 { include "sub/inner.conf"; }\nz;',
      '/etc/dhcp/sub/inner.conf': 'b;\ninclude "../leaf.conf";',
      '/etc/dhcp/leaf.conf': 'c;',
    });
    const s = parseFileWithIncludes('/etc/dhcp/dhcpd.conf', reader);
    assert.deepEqual(
      s.map((x) => x.head[0]!.text),
      ['a', 'subnet', 'z'],
    );
    const inner = s[1]!.block!;
    assert.deepEqual(
      inner.map((x) => [x.head[0]!.text, x.pos.file]),
      [
        ['b', '/etc/dhcp/sub/inner.conf'],
        ['c', '/etc/dhcp/leaf.conf'],
      ],
    );
  });

  test('include cycle and missing include file: errors at the include', () => {
    const cyc = memoryReader({ '/a.conf': 'x;\ninclude "b.conf";', '/b.conf': 'include "a.conf";' });
    const e = syntaxError(() => parseFileWithIncludes('/a.conf', cyc));
    assert.deepEqual([e.pos.file, e.pos.line], ['/b.conf', 1]);
    assert.match(e.reason, /include cycle: \/a\.conf → \/b\.conf → \/a\.conf/);
    const missing = memoryReader({ '/a.conf': 'x;\n  include "nope.conf";' });
    const m = syntaxError(() => parseFileWithIncludes('/a.conf', missing));
    assert.deepEqual([m.pos.line, m.pos.column], [2, 3]);
    assert.match(m.reason, /cannot read \/nope\.conf: no such file/);
  });

  test('include depth is bounded', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`/f${i}.conf`] = `include "f${i + 1}.conf";`;
    files['/f40.conf'] = 'x;';
    assert.match(
      syntaxError(() => parseFileWithIncludes('/f0.conf', memoryReader(files))).reason,
      /nested deeper than 16/,
    );
  });
});

describe('fuzz', () => {
  const piece = fc.oneof(
    fc.constantFrom(
      '{',
      '}',
      ';',
      ',',
      '=',
      '"',
      '\\',
      '#',
      '\n',
      ' ',
      'subnet',
      'netmask',
      'range',
      'pool',
      'host',
      'option',
      'failover',
      'peer',
      '"fo"',
      'state',
      'lease',
      'starts',
      'ends',
      'binding',
      'hardware',
      'ethernet',
      'uid',
      'fixed-address',
      'group',
      'shared-network',
      'split',
      'hba',
      'mclt',
      'primary',
      'secondary',
      'address',
      'port',
      'routers',
      'domain-name-servers',
      'code',
      'include',
      '10.0.0.0',
      '255.255.255.0',
      '10.0.0.5',
      '1.2.3.4.5',
      '4 2026/11/26 09:00:00',
      'never',
      'epoch',
      '99999999999',
      '0:1:2',
      'zz',
      'active',
      'my',
      'at',
    ),
    fc.string({ maxLength: 6 }),
  );
  const text = fc.array(piece, { maxLength: 60 }).map((p) => p.join(' '));

  test('tokenizer and parser throw nothing but DhcpdSyntaxError', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ maxLength: 200 })), (t) => {
        try {
          parseText(t, 'fuzz.conf');
        } catch (e) {
          assert.ok(e instanceof DhcpdSyntaxError, String(e));
          assert.ok(e.pos.line >= 1 && e.pos.column >= 1);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('translation and the leases reader never throw on parsed input', () => {
    fc.assert(
      fc.property(text, (t) => {
        let statements: ReturnType<typeof parseText>;
        try {
          statements = parseText(t, 'fuzz.conf');
        } catch (e) {
          assert.ok(e instanceof DhcpdSyntaxError);
          return;
        }
        const r = translateDhcpdConf(statements);
        for (const f of r.findings) assert.ok(f.reason.length > 0);
        const l = readLeasesFile(t, 'fuzz.leases');
        for (const f of l.findings) assert.ok(f.reason.length > 0);
      }),
      { numRuns: 2000 },
    );
  });
});
