// The statement structure shared by dhcpd.conf and dhcpd.leases: a statement is a run of tokens
// ended by `;`, or a run of tokens followed by a `{ … }` block of statements (ISC allows an
// optional `;` after the block). Braces must balance; `include "file";` is replaced by the
// statements of that file, resolved relative to the including file, with a bound on depth and
// on the number of files, and a cycle check. Only DhcpdSyntaxError is thrown. A text can also be
// parsed as it is read (parseChunks): each top-level statement is handed out when it is complete,
// which is how a dhcpd.leases of any size is read in bounded memory.

import { Buffer, isAscii } from 'node:buffer';
import { closeSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DhcpdSyntaxError, type SourcePos } from './source.js';
import { type StatementReader, type Token, Tokenizer, tokenizeWithEnd } from './tokenizer.js';

export interface Statement {
  /** The tokens before `;` or `{` (at least one). */
  readonly head: readonly Token[];
  /** The statements inside `{ … }`, or null for a `;` statement. */
  readonly block: readonly Statement[] | null;
  readonly pos: SourcePos;
}

export const SYNTAX_LIMITS = {
  /** Nesting of `{ … }`. dhcpd configs rarely go past 5 (shared-network, group, subnet, pool). */
  maxBlockDepth: 64,
  /** Nesting of include files. */
  maxIncludeDepth: 16,
  /** Files read for one import. */
  maxFiles: 256,
  /** Tokens in one statement head. */
  maxHeadTokens: 10_000,
} as const;

/**
 * Builds statements from tokens fed one at a time; each top-level statement goes to `emit` as soon
 * as it is complete (its closing `;` or `}`), so a leases file is never held whole.
 */
export class StatementParser {
  /** Open blocks, outermost first; frames are reused by depth (a leases file opens a million). */
  private readonly frames: Frame[] = [newFrame()];
  private depth = 0;

  constructor(private readonly emit: (statement: Statement) => void) {}

  push(t: Token): void {
    const top = this.frames[this.depth]!;
    if (t.kind === 'punct') {
      if (t.text === ';') {
        this.semicolon();
        return;
      }
      if (t.text === '{') {
        if (top.headLength === 0) {
          throw new DhcpdSyntaxError(t.pos, "'{' without a statement before it");
        }
        if (this.depth + 1 > SYNTAX_LIMITS.maxBlockDepth) {
          throw new DhcpdSyntaxError(t.pos, `blocks nested deeper than ${SYNTAX_LIMITS.maxBlockDepth}`);
        }
        const ownerHead = top.head.slice(0, top.headLength);
        top.headLength = 0;
        this.depth++;
        if (this.frames.length === this.depth) this.frames.push(newFrame());
        const inner = this.frames[this.depth]!;
        inner.statements = [];
        inner.headLength = 0;
        inner.open = t;
        inner.ownerHead = ownerHead;
        return;
      }
      if (t.text === '}') {
        if (this.depth === 0) throw new DhcpdSyntaxError(t.pos, "'}' without a matching '{'");
        if (top.headLength > 0) {
          const head = top.head.slice(0, top.headLength);
          throw new DhcpdSyntaxError(
            head[head.length - 1]!.pos,
            `missing ';' after '${describeHead(head)}' (before the '}' at line ${t.pos.line})`,
          );
        }
        this.depth--;
        const parent = this.frames[this.depth]!;
        this.add(parent, new ParsedStatement(top.ownerHead, top.statements));
        top.statements = [];
        top.ownerHead = [];
        top.open = null;
        return;
      }
    }
    if (top.headLength >= SYNTAX_LIMITS.maxHeadTokens) {
      throw new DhcpdSyntaxError(
        top.head[0]!.pos,
        `statement longer than ${SYNTAX_LIMITS.maxHeadTokens} tokens`,
      );
    }
    // The head is gathered in the frame's scratch array and copied at its end: a statement's own
    // array then has exactly its tokens (a few), not the room an array grows by.
    top.head[top.headLength++] = t;
  }

  /** A `;` (the tokenizer can report one without making a token). */
  semicolon(): void {
    const top = this.frames[this.depth]!;
    if (top.headLength > 0) {
      const head = top.head.slice(0, top.headLength);
      top.headLength = 0;
      this.add(top, new ParsedStatement(head, null));
    }
    // An empty statement, or the optional `;` after a block: nothing to keep.
  }

  /** The text ended at `endPos`: a statement still open is an error. */
  end(endPos: SourcePos): void {
    const top = this.frames[this.depth]!;
    if (top.headLength > 0) {
      const head = top.head.slice(0, top.headLength);
      throw new DhcpdSyntaxError(
        head[head.length - 1]!.pos,
        `missing ';' after '${describeHead(head)}' (the file ends at line ${endPos.line})`,
      );
    }
    if (this.depth > 0) {
      throw new DhcpdSyntaxError(
        top.open!.pos,
        `'{' of '${describeHead(top.ownerHead)}' is never closed (the file ends at line ${endPos.line})`,
      );
    }
  }

  /** Between two top-level statements (nothing of one read yet)? */
  get isAtTopLevel(): boolean {
    return this.depth === 0 && this.frames[0]!.headLength === 0;
  }

  private add(frame: Frame, statement: Statement): void {
    if (frame === this.frames[0]) this.emit(statement);
    else frame.statements.push(statement);
  }
}

/**
 * A statement as the parser makes it: its place is its first token's, made into a SourcePos only
 * when asked. A dhcpd.leases has ten statements per lease and its reader asks the place of one
 * (the lease's), so a million leases make 10M fewer objects (issue 15). Code that copies a
 * statement must copy `pos` by name: a spread does not see a getter.
 */
class ParsedStatement implements Statement {
  constructor(
    readonly head: readonly Token[],
    readonly block: readonly Statement[] | null,
  ) {}

  get pos(): SourcePos {
    return this.head[0]!.pos;
  }
}

interface Frame {
  statements: Statement[];
  /** Scratch: the tokens of the statement being read are head[0, headLength). */
  head: Token[];
  headLength: number;
  open: Token | null;
  /** The head of the statement that owns this block. */
  ownerHead: Token[];
}

function newFrame(): Frame {
  return { statements: [], head: [], headLength: 0, open: null, ownerHead: [] };
}

/** Parses tokens into statements; `endPos` is where the file ends (for "missing ;" errors). */
export function parseStatements(tokens: readonly Token[], endPos: SourcePos): Statement[] {
  const statements: Statement[] = [];
  const parser = new StatementParser((s) => statements.push(s));
  for (const t of tokens) parser.push(t);
  parser.end(endPos);
  return statements;
}

/**
 * Reads a text given in chunks (in order) and hands each top-level statement to `onStatement` as
 * soon as it is complete. Memory is bounded by the largest statement, not by the text.
 * `topLevelReader`, when given, is offered the first word of every top-level statement and may
 * read that statement itself (a fast path for the usual form of a statement; -1 leaves it to the
 * parser).
 */
export function parseChunks(
  chunks: Iterable<string>,
  file: string,
  onStatement: (statement: Statement) => void,
  topLevelReader: StatementReader | null = null,
): SourcePos {
  const parser = new StatementParser(onStatement);
  const tokenizer = new Tokenizer(
    file,
    (t) => parser.push(t),
    () => parser.semicolon(),
    topLevelReader === null
      ? null
      : {
          read: (text, start, line, column) =>
            parser.isAtTopLevel ? topLevelReader.read(text, start, line, column) : -1,
          get newlines() {
            return topLevelReader.newlines;
          },
          get lastLineStart() {
            return topLevelReader.lastLineStart;
          },
        },
  );
  for (const chunk of chunks) tokenizer.write(chunk);
  const endPos = tokenizer.end();
  parser.end(endPos);
  return endPos;
}

/** The first few tokens of a statement, for messages. */
export function describeHead(head: readonly Token[], max = 8): string {
  const words = head.slice(0, max).map((t) => {
    if (t.kind !== 'string') return t.text;
    // Binary strings (uids, DUIDs) as ISC prints hex lists; readable text quoted.
    const bytes = t.bytes ?? new Uint8Array();
    const isPrintable = bytes.every((b) => b >= 0x20 && b < 0x7f);
    return isPrintable
      ? JSON.stringify(t.text)
      : Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
  });
  return words.join(' ') + (head.length > max ? ' …' : '');
}

/** Tokenizes and parses one text; no includes are followed. */
export function parseText(text: string, file: string): Statement[] {
  const { tokens, end } = tokenizeWithEnd(text, file);
  return parseStatements(tokens, end);
}

export interface SourceReader {
  /** Reads a file as text; throws with a message when it cannot. */
  read(path: string): string;
  /** Reads a file as text in pieces, in order (for files too large to hold: dhcpd.leases). When
   * absent, read() gives the whole text as one piece. */
  chunks?(path: string): Iterable<string>;
  /** The size of a file in bytes, when known (to size tables ahead of reading). */
  byteLength?(path: string): number;
  /** A canonical name for cycle detection (realpath). */
  canonical(path: string): string;
}

/** Size of one read of a streamed file. */
export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The UTF-8 text of `path` in pieces of about `chunkBytes`; invalid bytes become U+FFFD, exactly
 * as readFileSync(path, 'utf8') decodes them. A character cut by a read is completed by the next
 * one. Pieces that are pure ASCII (all of a usual dhcpd.leases) skip UTF-8 decoding: 15× faster.
 */
export function* readFileChunks(path: string, chunkBytes = READ_CHUNK_BYTES): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    // Room for the up to 3 bytes of an unfinished character kept from the previous read.
    const buffer = Buffer.allocUnsafe(chunkBytes + 3);
    let kept = 0;
    for (;;) {
      const n = readSync(fd, buffer, kept, chunkBytes, null);
      const end = kept + n;
      if (n === 0) {
        if (kept > 0) yield buffer.toString('utf8', 0, kept);
        return;
      }
      const cut = end - unfinishedCharacterBytes(buffer, end);
      const piece = buffer.subarray(0, cut);
      if (cut > 0) yield isAscii(piece) ? piece.toString('latin1') : piece.toString('utf8');
      buffer.copyWithin(0, cut, end);
      kept = end - cut;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * How many bytes at the end of bytes[0, end) begin a UTF-8 character that is not complete yet: a
 * lead byte followed by fewer continuation bytes than it announces. Cutting there is safe: a
 * decoder is between characters before any lead byte, valid or not.
 */
function unfinishedCharacterBytes(bytes: Uint8Array, end: number): number {
  for (let k = 1; k <= 3 && end - k >= 0; k++) {
    const b = bytes[end - k]!;
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return length > k ? k : 0;
    }
  }
  return 0;
}

export const fileSystemReader: SourceReader = {
  read: (path) => readFileSync(path, 'utf8'),
  chunks: (path) => readFileChunks(path),
  byteLength: (path) => statSync(path).size,
  canonical: (path) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  },
};

/**
 * Reads `path` and everything it includes. An `include` statement is replaced by the included
 * file's statements, in place, at any depth (ISC allows include inside blocks).
 */
export function parseFileWithIncludes(path: string, reader: SourceReader = fileSystemReader): Statement[] {
  let filesRead = 0;
  const visit = (file: string, chain: readonly string[], at: SourcePos | null): Statement[] => {
    const canonical = reader.canonical(file);
    if (chain.includes(canonical)) {
      throw new DhcpdSyntaxError(at!, `include cycle: ${[...chain, canonical].join(' → ')}`);
    }
    if (chain.length >= SYNTAX_LIMITS.maxIncludeDepth) {
      throw new DhcpdSyntaxError(at!, `includes nested deeper than ${SYNTAX_LIMITS.maxIncludeDepth}`);
    }
    if (++filesRead > SYNTAX_LIMITS.maxFiles) {
      throw new DhcpdSyntaxError(at!, `more than ${SYNTAX_LIMITS.maxFiles} files included`);
    }
    let text: string;
    try {
      text = reader.read(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(e);
      throw new DhcpdSyntaxError(at ?? { file, line: 1, column: 1 }, `cannot read ${file}: ${why}`);
    }
    const statements = parseText(text, file);
    const expand = (list: readonly Statement[]): Statement[] => {
      const out: Statement[] = [];
      for (const s of list) {
        const first = s.head[0]!;
        if (first.kind === 'word' && first.text === 'include') {
          const arg = s.head[1];
          if (s.block !== null || s.head.length !== 2 || arg === undefined || arg.kind !== 'string') {
            throw new DhcpdSyntaxError(first.pos, 'include takes one quoted file name: include "file";');
          }
          const target = isAbsolute(arg.text) ? arg.text : resolve(dirname(file), arg.text);
          out.push(...visit(target, [...chain, canonical], first.pos));
          continue;
        }
        out.push(s.block === null ? s : { head: s.head, block: expand(s.block), pos: s.pos });
      }
      return out;
    };
    return expand(statements);
  };
  return visit(path, [], null);
}
