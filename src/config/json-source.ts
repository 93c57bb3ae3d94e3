// A JSON parser that remembers where every value came from, so that every config error (syntax,
// schema or semantic) can name a line and column, not just a path. It accepts exactly RFC 8259
// JSON (plus a leading byte order mark) and never throws: problems come back as values.
// Duplicate property names are reported (JSON.parse would silently keep the last one).

export interface SourcePosition {
  /** 1-based */
  line: number;
  /** 1-based, in UTF-16 code units (what editors show for text without astral characters) */
  column: number;
}

export interface DuplicateProperty {
  /** JSON pointer of the repeated property */
  pointer: string;
  position: SourcePosition;
  firstPosition: SourcePosition;
}

export interface JsonSource {
  readonly value: unknown;
  readonly duplicates: readonly DuplicateProperty[];
  /**
   * Where the value at `pointer` starts; for a pointer that names nothing (a missing property),
   * the nearest enclosing value. With `isKeyPreferred`, the property name rather than its value.
   */
  positionOf(pointer: string, isKeyPreferred?: boolean): SourcePosition | undefined;
}

export type JsonParseResult =
  | { ok: true; source: JsonSource }
  | { ok: false; message: string; position: SourcePosition };

/** Offsets of a container's members: per property [name offset, value offset]; per element the value offset. */
type MemberOffsets = Map<string, readonly [number, number]> | number[];

class SyntaxProblem {
  constructor(
    readonly message: string,
    readonly offset: number,
  ) {}
}

/** JSON pointer segment escaping (RFC 6901 §3). */
export function escapePointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  private pos = 0;
  /** Kept per container rather than per pointer: building a pointer string for every value of a
   * large file would cost more than the parse itself. */
  readonly members = new WeakMap<object, MemberOffsets>();
  readonly duplicates: { pointer: string; offset: number; firstOffset: number }[] = [];
  /** Segments of the value being parsed; a pointer is built only for a duplicate. */
  private readonly path: (string | number)[] = [];

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    /** Values at these paths are secrets: a syntax error in or right after one never quotes it. */
    private readonly isSecretPath: (path: readonly (string | number)[]) => boolean,
  ) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  parseDocument(): unknown {
    this.skipSpace();
    if (this.pos >= this.text.length)
      throw new SyntaxProblem('the file is empty; expected a JSON object', this.pos);
    const value = this.parseValue(0);
    this.skipSpace();
    if (this.pos < this.text.length) {
      throw new SyntaxProblem(
        `unexpected ${this.describeHere()} after the end of the JSON document`,
        this.pos,
      );
    }
    return value;
  }

  private parseValue(depth: number): unknown {
    if (depth >= this.maxDepth)
      throw new SyntaxProblem(`values nested deeper than ${this.maxDepth} levels`, this.pos);
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.parseObject(depth);
      case '[':
        return this.parseArray(depth);
      case '"':
        return this.parseString();
      case 't':
        return this.parseWord('true', true);
      case 'f':
        return this.parseWord('false', false);
      case 'n':
        return this.parseWord('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
        throw this.unexpected('a value', this.isSecretPath(this.path));
    }
  }

  private parseObject(depth: number): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    const keyOffsets = new Map<string, readonly [number, number]>();
    this.members.set(object, keyOffsets);
    this.pos++; // {
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return object;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') {
        if (this.text[this.pos] === '}') throw new SyntaxProblem("trailing comma before '}'", this.pos);
        throw this.unexpected('a property name in double quotes');
      }
      const keyOffset = this.pos;
      const key = this.parseString();
      this.skipSpace();
      if (this.text[this.pos] !== ':') throw this.unexpected(`':' after property name "${key}"`);
      this.pos++;
      this.skipSpace();
      const first = keyOffsets.get(key);
      if (first !== undefined) {
        const pointer = [...this.path, key].map((s) => `/${escapePointerSegment(String(s))}`).join('');
        this.duplicates.push({ pointer, offset: keyOffset, firstOffset: first[0] });
      }
      // The last one wins, as in JSON.parse; positions follow the value that is kept.
      keyOffsets.set(key, [keyOffset, this.pos]);
      this.path.push(key);
      const value = this.parseValue(depth + 1);
      const isSecret = this.isSecretPath(this.path);
      this.path.pop();
      // A key named "__proto__" must become data, not the object's prototype; defineProperty
      // only there, as it is slow and turns objects into dictionaries.
      if (key === '__proto__') {
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      } else object[key] = value;
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return object;
      }
      // Text right after a secret's closing quote is most likely more of it (a stray quote).
      throw this.unexpected("',' or '}' after a property value", isSecret);
    }
  }

  private parseArray(depth: number): unknown[] {
    const array: unknown[] = [];
    const offsets: number[] = [];
    this.members.set(array, offsets);
    this.pos++; // [
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return array;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ']') throw new SyntaxProblem("trailing comma before ']'", this.pos);
      const index = array.length;
      offsets.push(this.pos);
      this.path.push(index);
      array.push(this.parseValue(depth + 1));
      this.path.pop();
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return array;
      }
      throw this.unexpected("',' or ']' after an array element");
    }
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++; // "
    let out = '';
    let chunkStart = this.pos;
    const text = this.text;
    for (;;) {
      if (this.pos >= text.length) throw new SyntaxProblem('unterminated string', start);
      const code = text.charCodeAt(this.pos);
      if (code === 0x22) {
        out += text.slice(chunkStart, this.pos);
        this.pos++;
        return out;
      }
      if (code < 0x20) {
        throw new SyntaxProblem(
          code === 0x0a
            ? 'line break inside a string (unterminated string?)'
            : 'control character inside a string; escape it',
          this.pos,
        );
      }
      if (code !== 0x5c) {
        this.pos++;
        continue;
      }
      out += text.slice(chunkStart, this.pos);
      const escaped = text[this.pos + 1];
      switch (escaped) {
        case '"':
        case '\\':
        case '/':
          out += escaped;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex))
            throw new SyntaxProblem('\\u must be followed by four hex digits', this.pos);
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          throw new SyntaxProblem(
            this.isSecretPath(this.path)
              ? 'invalid escape sequence in a secret (not shown)'
              : `invalid escape sequence '\\${escaped ?? ''}'`,
            this.pos,
          );
      }
      this.pos += 2;
      chunkStart = this.pos;
    }
  }

  private parseNumber(): number {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m === null) throw this.unexpected('a value');
    const next = this.text[this.pos + m[0].length];
    if ((m[0] === '0' || m[0] === '-0') && next !== undefined && next >= '0' && next <= '9') {
      throw new SyntaxProblem('numbers cannot have leading zeros', this.pos);
    }
    if (next === '.' || next === 'e' || next === 'E') throw new SyntaxProblem('malformed number', this.pos);
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private parseWord<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    throw this.unexpected('a value');
  }

  private skipSpace(): void {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else return;
    }
  }

  /** `isSecret`: the text here is (part of) a secret: say what is wrong, never what it says. */
  private unexpected(expected: string, isSecret = false): SyntaxProblem {
    const rest = this.text.slice(this.pos, this.pos + 2);
    if (rest === '//' || rest === '/*') {
      return new SyntaxProblem('comments are not allowed in JSON (use a "description" property)', this.pos);
    }
    if (rest.startsWith("'")) return new SyntaxProblem('strings must use double quotes', this.pos);
    const here = isSecret
      ? 'text of a secret (not shown; a secret is a string in double quotes)'
      : this.describeHere();
    return new SyntaxProblem(`expected ${expected}, found ${here}`, this.pos);
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'the end of the file';
    const word = /^[A-Za-z_$][\w$]*/.exec(this.text.slice(this.pos, this.pos + 40));
    if (word) return `'${word[0]}'`;
    const c = this.text.codePointAt(this.pos) ?? 0;
    if (c === 0x0a || c === 0x0d) return 'a line break';
    if (c < 0x20 || c === 0x7f) return `control character U+${c.toString(16).padStart(4, '0').toUpperCase()}`;
    return `'${String.fromCodePoint(c)}'`;
  }
}

/** Offsets → line/column through a table of line starts (built once per document). */
class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  position(offset: number): SourcePosition {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] ?? 0) + 1 };
  }
}

function skipSpaceFrom(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && ' \t\r\n'.includes(text[i] ?? '')) i++;
  return i;
}

/** `isSecretPath`: values there are never quoted in a syntax error (the config's secrets). */
export function parseJsonWithPositions(
  text: string,
  maxDepth: number,
  isSecretPath: (path: readonly (string | number)[]) => boolean = () => false,
): JsonParseResult {
  const parser = new Parser(text, maxDepth, isSecretPath);
  let value: unknown;
  try {
    value = parser.parseDocument();
  } catch (e) {
    const lines = new LineIndex(text);
    if (e instanceof SyntaxProblem)
      return { ok: false, message: e.message, position: lines.position(e.offset) };
    // A RangeError (stack) cannot happen below maxDepth; anything else is our bug, reported, not thrown.
    return { ok: false, message: `cannot parse: ${String(e)}`, position: { line: 1, column: 1 } };
  }
  const lines = new LineIndex(text);
  const members = parser.members;
  const rootOffset = text.charCodeAt(0) === 0xfeff ? skipSpaceFrom(text, 1) : skipSpaceFrom(text, 0);
  const duplicates = parser.duplicates.map((d) => ({
    pointer: d.pointer,
    position: lines.position(d.offset),
    firstPosition: lines.position(d.firstOffset),
  }));
  return {
    ok: true,
    source: {
      value,
      duplicates,
      positionOf(pointer: string, isKeyPreferred = false): SourcePosition | undefined {
        // Walk down as far as the pointer leads; a missing member leaves us at its container.
        let node: unknown = value;
        let offset = rootOffset;
        const segments = pointer === '' ? [] : pointer.slice(1).split('/');
        for (let i = 0; i < segments.length; i++) {
          const segment = (segments[i] ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
          const offsets = node !== null && typeof node === 'object' ? members.get(node) : undefined;
          if (offsets === undefined) break;
          const isLast = i === segments.length - 1;
          if (Array.isArray(offsets)) {
            const at = /^(0|[1-9]\d*)$/.test(segment) ? offsets[Number(segment)] : undefined;
            if (at === undefined) break;
            offset = at;
            node = (node as unknown[])[Number(segment)];
          } else {
            const at = offsets.get(segment);
            if (at === undefined) break;
            offset = isLast && isKeyPreferred ? at[0] : at[1];
            node = (node as Record<string, unknown>)[segment];
          }
        }
        return lines.position(offset);
      },
    },
  };
}
