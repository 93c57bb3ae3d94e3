// The dhcpd.conf / dhcpd.leases tokenizer (the same lexical rules as ISC's conflex.c, simplified
// to what a translator needs): `#` comments to the end of the line, quoted strings with ISC's
// escapes (\t \r \n \b, \NNN octal, \xHH hex, \c = c), the punctuation `{ } ; , = ( )`, and
// words: maximal runs of anything else, so 10.0.0.1, 00:11:22:aa:bb:cc, 2026/11/23 and
// 10:00:00 each stay one token. Every token carries its line and column.

import { DhcpdSyntaxError, type SourcePos } from './source.js';

export type TokenKind = 'word' | 'string' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** Words and punctuation as written; strings decoded (UTF-8, escapes applied). */
  readonly text: string;
  /** Strings only: the decoded bytes (escapes can produce bytes that are not UTF-8). */
  readonly bytes?: Uint8Array;
  readonly pos: SourcePos;
}

const PUNCT = new Set(['{', '}', ';', ',', '=', '(', ')']);
/** Bound on one input file, so a hostile file cannot exhaust memory. */
export const MAX_SOURCE_CHARS = 16 * 1024 * 1024;

const utf8 = new TextEncoder();
const utf8Lenient = new TextDecoder('utf-8', { fatal: false });

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

function isWordChar(c: string): boolean {
  return !isSpace(c) && !PUNCT.has(c) && c !== '"' && c !== '#';
}

/** Splits `text` (the contents of `file`) into tokens; throws only DhcpdSyntaxError. */
export function tokenize(text: string, file: string): Token[] {
  if (text.length > MAX_SOURCE_CHARS) {
    throw new DhcpdSyntaxError(
      { file, line: 1, column: 1 },
      `the file has ${text.length} characters; at most ${MAX_SOURCE_CHARS} are read`,
    );
  }
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (at: number): SourcePos => ({ file, line, column: at - lineStart + 1 });
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (PUNCT.has(c)) {
      tokens.push({ kind: 'punct', text: c, pos: here(i) });
      i++;
      continue;
    }
    if (c === '"') {
      const pos = here(i);
      i++;
      const bytes: number[] = [];
      let isClosed = false;
      while (i < text.length) {
        const d = text[i]!;
        if (d === '"') {
          i++;
          isClosed = true;
          break;
        }
        if (d === '\n') {
          line++;
          lineStart = i + 1;
        }
        if (d === '\\' && i + 1 < text.length) {
          const e = text[i + 1]!;
          i += 2;
          if (e === 't') bytes.push(9);
          else if (e === 'r') bytes.push(13);
          else if (e === 'n') bytes.push(10);
          else if (e === 'b') bytes.push(8);
          else if (e >= '0' && e <= '7') {
            let v = Number(e);
            for (let k = 0; k < 2 && i < text.length && text[i]! >= '0' && text[i]! <= '7'; k++) {
              v = v * 8 + Number(text[i]);
              i++;
            }
            if (v > 255) throw new DhcpdSyntaxError(pos, `octal escape \\${v.toString(8)} is above \\377`);
            bytes.push(v);
          } else if (e === 'x' && i < text.length && /[0-9a-fA-F]/.test(text[i]!)) {
            let digits = text[i]!;
            i++;
            if (i < text.length && /[0-9a-fA-F]/.test(text[i]!)) {
              digits += text[i]!;
              i++;
            }
            bytes.push(Number.parseInt(digits, 16));
          } else {
            if (e === '\n') {
              line++;
              lineStart = i;
            }
            for (const b of utf8.encode(e)) bytes.push(b);
          }
          continue;
        }
        // Keep surrogate pairs together so the UTF-8 encoding is right.
        const cp = text.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        for (const b of utf8.encode(ch)) bytes.push(b);
        i += ch.length;
      }
      if (!isClosed) throw new DhcpdSyntaxError(pos, 'unterminated string (no closing ")');
      const data = Uint8Array.from(bytes);
      tokens.push({ kind: 'string', text: utf8Lenient.decode(data), bytes: data, pos });
      continue;
    }
    const start = i;
    while (i < text.length && isWordChar(text[i]!)) i++;
    tokens.push({ kind: 'word', text: text.slice(start, i), pos: here(start) });
  }
  return tokens;
}
