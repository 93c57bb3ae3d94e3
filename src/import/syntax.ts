// The statement structure shared by dhcpd.conf and dhcpd.leases: a statement is a run of tokens
// ended by `;`, or a run of tokens followed by a `{ … }` block of statements (ISC allows an
// optional `;` after the block). Braces must balance; `include "file";` is replaced by the
// statements of that file, resolved relative to the including file, with a bound on depth and
// on the number of files, and a cycle check. Only DhcpdSyntaxError is thrown.

import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DhcpdSyntaxError, type SourcePos } from './source.js';
import { type Token, tokenize } from './tokenizer.js';

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

/** Parses tokens into statements; `endPos` is where the file ends (for "missing ;" errors). */
export function parseStatements(tokens: readonly Token[], endPos: SourcePos): Statement[] {
  interface Frame {
    statements: Statement[];
    head: Token[];
    open: Token | null;
    /** The head of the statement that owns this block. */
    ownerHead: Token[];
  }
  const root: Frame = { statements: [], head: [], open: null, ownerHead: [] };
  const stack: Frame[] = [root];
  for (const t of tokens) {
    const top = stack[stack.length - 1]!;
    if (t.kind === 'punct' && t.text === ';') {
      if (top.head.length > 0) {
        top.statements.push({ head: top.head, block: null, pos: top.head[0]!.pos });
        top.head = [];
      }
      // An empty statement, or the optional `;` after a block: nothing to keep.
      continue;
    }
    if (t.kind === 'punct' && t.text === '{') {
      if (top.head.length === 0) {
        throw new DhcpdSyntaxError(t.pos, "'{' without a statement before it");
      }
      if (stack.length > SYNTAX_LIMITS.maxBlockDepth) {
        throw new DhcpdSyntaxError(t.pos, `blocks nested deeper than ${SYNTAX_LIMITS.maxBlockDepth}`);
      }
      stack.push({ statements: [], head: [], open: t, ownerHead: top.head });
      top.head = [];
      continue;
    }
    if (t.kind === 'punct' && t.text === '}') {
      if (stack.length === 1) throw new DhcpdSyntaxError(t.pos, "'}' without a matching '{'");
      if (top.head.length > 0) {
        const last = top.head[top.head.length - 1]!;
        throw new DhcpdSyntaxError(
          last.pos,
          `missing ';' after '${describeHead(top.head)}' (before the '}' at line ${t.pos.line})`,
        );
      }
      stack.pop();
      const parent = stack[stack.length - 1]!;
      parent.statements.push({ head: top.ownerHead, block: top.statements, pos: top.ownerHead[0]!.pos });
      continue;
    }
    if (top.head.length >= SYNTAX_LIMITS.maxHeadTokens) {
      throw new DhcpdSyntaxError(
        top.head[0]!.pos,
        `statement longer than ${SYNTAX_LIMITS.maxHeadTokens} tokens`,
      );
    }
    top.head.push(t);
  }
  const top = stack[stack.length - 1]!;
  if (top.head.length > 0) {
    const last = top.head[top.head.length - 1]!;
    throw new DhcpdSyntaxError(
      last.pos,
      `missing ';' after '${describeHead(top.head)}' (the file ends at line ${endPos.line})`,
    );
  }
  if (stack.length > 1) {
    const open = top.open!;
    throw new DhcpdSyntaxError(
      open.pos,
      `'{' of '${describeHead(top.ownerHead)}' is never closed (the file ends at line ${endPos.line})`,
    );
  }
  return root.statements;
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

export function endOf(text: string, file: string): SourcePos {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { file, line, column: text.length - lineStart + 1 };
}

/** Tokenizes and parses one text; no includes are followed. */
export function parseText(text: string, file: string): Statement[] {
  return parseStatements(tokenize(text, file), endOf(text, file));
}

export interface SourceReader {
  /** Reads a file as text; throws with a message when it cannot. */
  read(path: string): string;
  /** A canonical name for cycle detection (realpath). */
  canonical(path: string): string;
}

export const fileSystemReader: SourceReader = {
  read: (path) => readFileSync(path, 'utf8'),
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
        out.push(s.block === null ? s : { ...s, block: expand(s.block) });
      }
      return out;
    };
    return expand(statements);
  };
  return visit(path, [], null);
}
