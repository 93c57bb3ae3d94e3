// The dhcpd.conf / dhcpd.leases tokenizer (the same lexical rules as ISC's conflex.c, simplified
// to what a translator needs): `#` comments to the end of the line, quoted strings with ISC's
// escapes (\t \r \n \b, \NNN octal, \xHH hex, \c = c), the punctuation `{ } ; , = ( )`, and
// words: maximal runs of anything else, so 10.0.0.1, 00:11:22:aa:bb:cc, 2026/11/23 and
// 10:00:00 each stay one token. Every token carries its line and column.
//
// The tokenizer is fed in chunks (a dhcpd.leases of a million leases is ~250 MB and is never held
// whole): a token that touches the end of a chunk is kept back and finished with the next one, so
// tokens, lines and columns are the same however the text is cut.

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

/** A token as the tokenizer makes it: its place is kept as two numbers and made into a SourcePos
 * only when asked (most tokens of a leases file are never asked). */
class ReadToken implements Token {
  constructor(
    readonly kind: TokenKind,
    readonly text: string,
    /** Strings with escapes or non-ASCII text; plain ASCII strings make theirs when asked. */
    private readonly decoded: Uint8Array | undefined,
    readonly file: string,
    readonly line: number,
    readonly column: number,
  ) {}

  get bytes(): Uint8Array | undefined {
    if (this.kind !== 'string' || this.decoded !== undefined) return this.decoded;
    const bytes = new Uint8Array(this.text.length);
    for (let k = 0; k < bytes.length; k++) bytes[k] = this.text.charCodeAt(k);
    return bytes;
  }

  get pos(): SourcePos {
    return { file: this.file, line: this.line, column: this.column };
  }
}

/** Bound on one text given to tokenize() (dhcpd.conf and its includes), so a hostile file cannot
 * exhaust memory. Streamed input (dhcpd.leases) has no bound on its length, only on one token. */
export const MAX_SOURCE_CHARS = 16 * 1024 * 1024;
/** Bound on one token of streamed input: the part of it kept back between chunks. */
export const MAX_TOKEN_CHARS = 1024 * 1024;

const utf8 = new TextEncoder();
const utf8Lenient = new TextDecoder('utf-8', { fatal: false });

// Character classes of the code units below 128; everything else is a word character.
const WORD = 0;
const SPACE = 1;
const NEWLINE = 2;
const PUNCT = 3;
const QUOTE = 4;
const HASH = 5;
const CLASS = new Uint8Array(128);
for (const c of ' \t\r\f\v') CLASS[c.charCodeAt(0)] = SPACE;
CLASS[10] = NEWLINE;
for (const c of '{};,=()') CLASS[c.charCodeAt(0)] = PUNCT;
CLASS[0x22] = QUOTE;
CLASS[0x23] = HASH;

/**
 * Words a dhcpd.leases repeats in every lease, by length and first character: the tokenizer
 * returns these shared strings instead of a new one for each of millions of occurrences.
 */
const COMMON_WORDS = new Array<string[] | undefined>(16 * 128);
for (const w of [
  'lease',
  'starts',
  'ends',
  'cltt',
  'tstp',
  'tsfp',
  'atsfp',
  'binding',
  'state',
  'next',
  'rewind',
  'free',
  'active',
  'backup',
  'expired',
  'released',
  'abandoned',
  'hardware',
  'ethernet',
  'uid',
  'client-hostname',
  'set',
  'never',
  'epoch',
]) {
  const key = w.length * 128 + w.charCodeAt(0);
  COMMON_WORDS[key] = [...(COMMON_WORDS[key] ?? []), w];
}

/** text[start, end), as a shared string when it is a common word. */
function wordAt(text: string, start: number, end: number): string {
  const length = end - start;
  const c = text.charCodeAt(start);
  if (length < 16 && c < 128) {
    const candidates = COMMON_WORDS[length * 128 + c];
    if (candidates !== undefined) for (const w of candidates) if (text.startsWith(w, start)) return w;
  }
  return text.slice(start, end);
}

const classOf = (code: number): number => (code < 128 ? CLASS[code]! : WORD);
/** Is this UTF-16 code unit part of a word (anything but space, newline, punctuation, `"`, `#`)? */
export const isWordCode = (code: number): boolean => classOf(code) === WORD;
/** Is it space or a newline between tokens? */
export const isSpaceCode = (code: number): boolean => {
  const cls = classOf(code);
  return cls === SPACE || cls === NEWLINE;
};
const isHexDigit = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isOctalDigit = (c: number) => c >= 48 && c <= 55;

/** A growable byte buffer with the push() of an array. */
class ByteBuffer {
  private bytes = new Uint8Array(64);
  length = 0;

  push(b: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = b;
  }

  /** A copy of the bytes pushed. */
  take(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** Decoded string bytes as text: UTF-8 with invalid sequences replaced (U+FFFD). */
function decodeText(bytes: Uint8Array): string {
  if (bytes.length <= 64) {
    // Short and ASCII (a uid with octal escapes, a host name): no call into the decoder.
    let text = '';
    for (let k = 0; k < bytes.length; k++) {
      const b = bytes[k]!;
      if (b >= 0x80) return utf8Lenient.decode(bytes);
      text += String.fromCharCode(b);
    }
    return text;
  }
  return utf8Lenient.decode(bytes);
}

/** Reads a whole statement by itself, from its first word (see Tokenizer). */
export interface StatementReader {
  /** The statement at text[start] (at `line` and `column`): the index after it, or -1 to leave it
   * to the tokenizer. */
  read(text: string, start: number, line: number, column: number): number;
  /** After a read that returned an index: the newlines in what it read, and the index just after
   * the last of them. */
  readonly newlines: number;
  readonly lastLineStart: number;
}

/**
 * A tokenizer fed in chunks: write() each piece of the text in order, then end(). Tokens go to
 * `emit` as soon as they are complete. Throws only DhcpdSyntaxError.
 */
export class Tokenizer {
  /** Text of the unfinished token at the end of the last chunk. */
  private carry = '';
  /** Offset in the whole text of carry[0] (of the next chunk when carry is empty). */
  private base = 0;
  private line = 1;
  /** Offset in the whole text where the current line starts. */
  private lineStart = 0;
  /** The last chunk ended inside a comment. */
  private isInComment = false;
  private isEnded = false;
  /** The bytes of the string being decoded (reused: every uid of a leases file has escapes). */
  private readonly stringBytes = new ByteBuffer();

  constructor(
    readonly file: string,
    private readonly emit: (token: Token) => void,
    /** When given, a `;` calls this instead of making a token (a leases file has a dozen per
     * lease, and a statement parser needs no more than the fact). */
    private readonly semicolon: (() => void) | null = null,
    /** When given, offered every word first (at text[start], its line and column): it may read a
     * whole statement from there itself and return the index after it, or -1 to leave the word to
     * the tokenizer. Whatever it reads makes no token; its newlines are counted. */
    private readonly statementAt: StatementReader | null = null,
  ) {}

  write(chunk: string): void {
    if (this.isEnded) throw new Error('Tokenizer.write after end');
    if (chunk.length === 0) return;
    this.scan(this.carry.length === 0 ? chunk : this.carry + chunk, false);
  }

  /** Finishes the text; returns where it ends (for "the file ends at line N" messages). */
  end(): SourcePos {
    if (!this.isEnded) {
      this.scan(this.carry, true);
      this.isEnded = true;
    }
    return { file: this.file, line: this.line, column: this.base - this.lineStart + 1 };
  }

  private scan(text: string, isLast: boolean): void {
    const n = text.length;
    const file = this.file;
    const base = this.base;
    let line = this.line;
    let lineStart = this.lineStart;
    let i = 0;
    if (this.isInComment) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      this.isInComment = nl < 0 && !isLast;
    }
    while (i < n) {
      const c = text.charCodeAt(i);
      const cls = classOf(c);
      if (cls === NEWLINE) {
        i++;
        line++;
        lineStart = base + i;
        continue;
      }
      if (cls === SPACE) {
        i++;
        continue;
      }
      if (cls === HASH) {
        const nl = text.indexOf('\n', i);
        if (nl < 0) {
          this.isInComment = !isLast;
          i = n;
          break;
        }
        i = nl;
        continue;
      }
      if (cls === PUNCT) {
        if (c === 0x3b && this.semicolon !== null) {
          this.semicolon();
          i++;
          continue;
        }
        this.emit(new ReadToken('punct', text[i]!, undefined, file, line, base + i - lineStart + 1));
        i++;
        continue;
      }
      if (cls === QUOTE) {
        const start = i;
        const column = base + i - lineStart + 1;
        const at: SourcePos = { file, line, column };
        const startLine = line;
        const startLineStart = lineStart;
        // Fast path: no escape and no newline before the closing quote (uids with escapes and
        // strings over lines take the full path).
        let j = i + 1;
        let isPlain = true;
        for (; j < n; j++) {
          const d = text.charCodeAt(j);
          if (d === 0x22) break;
          if (d === 0x5c || d === 10 || d >= 0x80) {
            isPlain = false;
            break;
          }
        }
        if (isPlain && j < n) {
          this.emit(new ReadToken('string', text.slice(i + 1, j), undefined, file, line, column));
          i = j + 1;
          continue;
        }
        const r = this.readString(text, i + 1, at, line, lineStart, isLast);
        if (r === null) {
          // Unfinished at the end of this chunk: keep it for the next one.
          this.keep(text, start, startLine, startLineStart);
          return;
        }
        line = r.line;
        lineStart = r.lineStart;
        this.emit(new ReadToken('string', decodeText(r.bytes), r.bytes, file, startLine, column));
        i = r.end;
        continue;
      }
      const start = i;
      if (this.statementAt !== null) {
        const reader = this.statementAt;
        const end = reader.read(text, start, line, base + start - lineStart + 1);
        if (end >= 0) {
          if (reader.newlines > 0) {
            line += reader.newlines;
            lineStart = base + reader.lastLineStart;
          }
          i = end;
          continue;
        }
      }
      i++;
      while (i < n && classOf(text.charCodeAt(i)) === WORD) i++;
      if (i === n && !isLast) {
        this.keep(text, start, line, lineStart);
        return;
      }
      this.emit(
        new ReadToken('word', wordAt(text, start, i), undefined, file, line, base + start - lineStart + 1),
      );
    }
    this.carry = '';
    this.base = base + n;
    this.line = line;
    this.lineStart = lineStart;
  }

  /** Keeps text[from…] for the next chunk, with the line state at `from`. */
  private keep(text: string, from: number, line: number, lineStart: number): void {
    const kept = text.length - from;
    if (kept > MAX_TOKEN_CHARS) {
      const pos = { file: this.file, line, column: this.base + from - lineStart + 1 };
      throw new DhcpdSyntaxError(
        pos,
        text.charCodeAt(from) === 0x22
          ? `unterminated string (no closing " within ${MAX_TOKEN_CHARS} characters)`
          : `a word longer than ${MAX_TOKEN_CHARS} characters`,
      );
    }
    this.carry = text.slice(from);
    this.base += from;
    this.line = line;
    this.lineStart = lineStart;
  }

  /**
   * Decodes a quoted string whose body starts at `i`. Returns null when the text ends before the
   * closing quote and more text may follow; throws when the whole text ends there.
   */
  private readString(
    text: string,
    i: number,
    at: SourcePos,
    line: number,
    lineStart: number,
    isLast: boolean,
  ): { bytes: Uint8Array; end: number; line: number; lineStart: number } | null {
    const n = text.length;
    const base = this.base;
    const bytes = this.stringBytes;
    bytes.length = 0;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === 0x22) {
        return { bytes: bytes.take(), end: i + 1, line, lineStart };
      }
      if (d === 10) {
        line++;
        lineStart = base + i + 1;
      }
      if (d === 0x5c && i + 1 < n) {
        const e = text.charCodeAt(i + 1);
        i += 2;
        if (e === 0x74) bytes.push(9);
        else if (e === 0x72) bytes.push(13);
        else if (e === 0x6e) bytes.push(10);
        else if (e === 0x62) bytes.push(8);
        else if (isOctalDigit(e)) {
          let v = e - 48;
          for (let k = 0; k < 2 && i < n && isOctalDigit(text.charCodeAt(i)); k++) {
            v = v * 8 + text.charCodeAt(i) - 48;
            i++;
          }
          if (v > 255) throw new DhcpdSyntaxError(at, `octal escape \\${v.toString(8)} is above \\377`);
          bytes.push(v);
        } else if (e === 0x78 && i < n && isHexDigit(text.charCodeAt(i))) {
          let digits = text[i]!;
          i++;
          if (i < n && isHexDigit(text.charCodeAt(i))) {
            digits += text[i]!;
            i++;
          }
          bytes.push(Number.parseInt(digits, 16));
        } else {
          if (e === 10) {
            line++;
            lineStart = base + i;
          }
          if (e < 0x80) bytes.push(e);
          else {
            // Keep surrogate pairs together so the UTF-8 encoding is right.
            const ch = String.fromCodePoint(text.codePointAt(i - 1)!);
            for (const b of utf8.encode(ch)) bytes.push(b);
            i += ch.length - 1;
          }
        }
        continue;
      }
      if (d < 0x80) {
        bytes.push(d);
        i++;
        continue;
      }
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      for (const b of utf8.encode(ch)) bytes.push(b);
      i += ch.length;
    }
    if (!isLast) return null;
    throw new DhcpdSyntaxError(at, 'unterminated string (no closing ")');
  }
}

/** Splits `text` (the contents of `file`) into tokens; throws only DhcpdSyntaxError. */
export function tokenize(text: string, file: string): Token[] {
  return tokenizeWithEnd(text, file).tokens;
}

/** tokenize(), and where the text ends. */
export function tokenizeWithEnd(text: string, file: string): { tokens: Token[]; end: SourcePos } {
  if (text.length > MAX_SOURCE_CHARS) {
    throw new DhcpdSyntaxError(
      { file, line: 1, column: 1 },
      `the file has ${text.length} characters; at most ${MAX_SOURCE_CHARS} are read`,
    );
  }
  const tokens: Token[] = [];
  const tokenizer = new Tokenizer(file, (t) => tokens.push(t));
  tokenizer.write(text);
  return { tokens, end: tokenizer.end() };
}
