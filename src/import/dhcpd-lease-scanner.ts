// The fast path of the dhcpd.leases reader (issue 15: a million leases at ≥ 100k/s): one
// `lease ADDRESS { … }` declaration read straight from the text, without making a token per word
// and a statement per line (~35 objects per lease). It accepts only the plain form dhcpd writes
// for a lease (lower-case keywords, the times, binding states, `hardware ethernet` with two-digit
// octets, `uid` and `client-hostname` as quoted strings with at most octal escapes) wholly inside
// the text it is given; for anything else (a comment, another statement or escape, a cut, an
// error) it gives up and the general tokenizer and statement reader read the same declaration, so
// what is read, and every finding with its place, is what the general path gives (the test
// test/import/streaming.test.ts compares the two).

import type { DhcpdBindingState, DhcpdLease } from './dhcpd-lease-table.js';
import { calendarSeconds, digitsValue, dottedQuadValue, NEVER } from './dhcpd-lease-values.js';
import { HEX_OCTETS } from './dhcpd-options.js';
import { isSpaceCode, isWordCode } from './tokenizer.js';

const SEMICOLON = 0x3b;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const isHexCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const hexValue = (c: number) => (c <= 57 ? c - 48 : (c | 0x20) - 87);

export class LeaseBlockScanner {
  /** The declaration read by the last successful scan(). */
  lease: DhcpdLease | null = null;
  /** Its address as a number. */
  address = 0;
  /** Newlines in it, and the index just after the last of them. */
  newlines = 0;
  lastLineStart = 0;
  private text = '';

  constructor(private readonly file: string) {}

  /**
   * Reads the declaration that starts at text[start] (a word at the top level, at `line` and
   * `column`). Returns the index just after its `}`, with the lease in `lease`, or -1 when it is not
   * a plain lease declaration wholly inside `text` (nothing is read then).
   */
  scan(text: string, start: number, line: number, column: number): number {
    this.text = text;
    this.newlines = 0;
    let i = start;
    let e = this.wordEnd(i);
    if (!this.isWord(i, e, 'lease')) return -1;
    i = this.skipSpace(e);
    e = this.wordEnd(i);
    if (e === i) return -1;
    const addressText = text.slice(i, e);
    const address = dottedQuadValue(addressText);
    if (address < 0) return -1;
    i = this.skipSpace(e);
    if (text.charCodeAt(i) !== 0x7b) return -1;
    i++;
    const lease: DhcpdLease = {
      address: addressText,
      pos: { file: this.file, line, column },
      isReserved: false,
      isBootp: false,
    };
    const n = text.length;
    for (;;) {
      i = this.skipSpace(i);
      if (i >= n) return -1;
      if (text.charCodeAt(i) === 0x7d) {
        this.lease = lease;
        this.address = address;
        return i + 1;
      }
      e = this.wordEnd(i);
      i = this.statement(i, e, lease);
      if (i < 0) return -1;
    }
  }

  /** One statement whose keyword is text[from, to); returns the index after its `;`, or -1. Fields
   * are set by name (a store by a variable key is several times slower). */
  private statement(from: number, to: number, lease: DhcpdLease): number {
    const text = this.text;
    // By length and first letter: one comparison of the whole word for the usual statements.
    switch ((to - from) * 128 + text.charCodeAt(from)) {
      case 3 * 128 + 0x75: // u
        if (this.isWord(from, to, 'uid')) {
          const uid = this.uidHex(to);
          if (uid === null) return -1;
          lease.uid = uid;
          return this.semicolonAfter(this.afterString);
        }
        break;
      case 4 * 128 + 0x65: // e
        if (text.startsWith('ends', from) && this.time(to) >= 0) {
          lease.ends = this.value;
          return this.next;
        }
        break;
      case 4 * 128 + 0x63: // c
        if (text.startsWith('cltt', from) && this.time(to) >= 0) {
          lease.cltt = this.value;
          return this.next;
        }
        break;
      case 4 * 128 + 0x74: // t
        if (text.startsWith('tstp', from) && this.time(to) >= 0) {
          lease.tstp = this.value;
          return this.next;
        }
        if (text.startsWith('tsfp', from) && this.time(to) >= 0) {
          lease.tsfp = this.value;
          return this.next;
        }
        break;
      case 4 * 128 + 0x6e: // n
        if (text.startsWith('next', from)) {
          const name = this.state(this.expectWord(to, 'binding'));
          if (name === undefined) return -1;
          lease.nextBindingState = name;
          return this.next;
        }
        break;
      case 5 * 128 + 0x61: // a
        if (text.startsWith('atsfp', from) && this.time(to) >= 0) {
          lease.atsfp = this.value;
          return this.next;
        }
        break;
      case 6 * 128 + 0x73: // s
        if (text.startsWith('starts', from) && this.time(to) >= 0) {
          lease.starts = this.value;
          return this.next;
        }
        break;
      case 6 * 128 + 0x72: // r
        if (text.startsWith('rewind', from)) {
          const name = this.state(this.expectWord(to, 'binding'));
          if (name === undefined) return -1;
          lease.rewindBindingState = name;
          return this.next;
        }
        break;
      case 7 * 128 + 0x62: // b
        if (text.startsWith('binding', from)) {
          const name = this.state(to);
          if (name === undefined) return -1;
          lease.bindingState = name;
          return this.next;
        }
        break;
      case 8 * 128 + 0x68: // h
        if (text.startsWith('hardware', from)) return this.hardware(to, lease);
        break;
      case 15 * 128 + 0x63: // c
        if (text.startsWith('client-hostname', from)) {
          const name = this.plainString(to);
          if (name === null) return -1;
          lease.clientHostname = name;
          return this.semicolonAfter(this.afterString);
        }
        break;
    }
    return -1;
  }

  /** What time() and state() read, and the index after its `;`. */
  private value = 0;
  private next = 0;

  /** `W YYYY/MM/DD HH:MM:SS;`, `epoch N;` or `never;` after a time keyword ending at `i`: the
   * seconds in `value` (and returned), or -1. */
  private time(i: number): number {
    const w0 = this.skipSpace(i);
    const e0 = this.wordEnd(w0);
    let value: number;
    let end: number;
    if (this.isWord(w0, e0, 'never')) {
      value = NEVER;
      end = e0;
    } else if (this.isWord(w0, e0, 'epoch')) {
      const w1 = this.skipSpace(e0);
      end = this.wordEnd(w1);
      value = digitsValue(this.text, w1, end, 1, 10);
      if (value > NEVER) return -1;
    } else {
      const c = this.text.charCodeAt(w0);
      if (e0 !== w0 + 1 || c < 48 || c > 54) return -1;
      const w1 = this.skipSpace(e0);
      const e1 = this.wordEnd(w1);
      const w2 = this.skipSpace(e1);
      end = this.wordEnd(w2);
      value = calendarSeconds(this.text, w1, e1, this.text, w2, end);
    }
    if (value < 0) return -1;
    this.next = this.semicolonAfter(end);
    if (this.next < 0) return -1;
    this.value = value;
    return value;
  }

  /** `state NAME;` (a binding state) after `i` (-1: no match before it): the name, or undefined. */
  private state(i: number): DhcpdBindingState | undefined {
    const keyword = this.expectWord(i, 'state');
    if (keyword < 0) return undefined;
    const w = this.skipSpace(keyword);
    const e = this.wordEnd(w);
    const name = this.stateName(w, e);
    if (name === undefined) return undefined;
    this.next = this.semicolonAfter(e);
    return this.next < 0 ? undefined : name;
  }

  /** The binding state named by text[w, e), or undefined: picked by length and first letter (by
   * the third for released / reserved), then one comparison; a search of the list with a closure
   * took ~6 % of the import (three per lease). */
  private stateName(w: number, e: number): DhcpdBindingState | undefined {
    const text = this.text;
    let name: DhcpdBindingState;
    switch ((e - w) * 128 + text.charCodeAt(w)) {
      case 4 * 128 + 0x66:
        name = 'free';
        break;
      case 6 * 128 + 0x61:
        name = 'active';
        break;
      case 7 * 128 + 0x65:
        name = 'expired';
        break;
      case 8 * 128 + 0x72:
        name = text.charCodeAt(w + 2) === 0x6c ? 'released' : 'reserved';
        break;
      case 9 * 128 + 0x61:
        name = 'abandoned';
        break;
      case 5 * 128 + 0x72:
        name = 'reset';
        break;
      case 6 * 128 + 0x62:
        name = 'backup';
        break;
      case 5 * 128 + 0x62:
        name = 'bootp';
        break;
      default:
        return undefined;
    }
    return text.startsWith(name, w) ? name : undefined;
  }

  /** `ethernet XX:XX:…;` (1–16 octets of two hex digits) after `hardware` ending at `i`. */
  private hardware(i: number, lease: DhcpdLease): number {
    const kind = this.expectWord(i, 'ethernet');
    if (kind < 0) return -1;
    const w = this.skipSpace(kind);
    const e = this.wordEnd(w);
    const text = this.text;
    const length = e - w;
    if ((length + 1) % 3 !== 0 || length > 16 * 3 - 1) return -1;
    let hex = '';
    for (let k = w; k < e; k += 3) {
      const hi = text.charCodeAt(k);
      const lo = text.charCodeAt(k + 1);
      if (!isHexCode(hi) || !isHexCode(lo) || (k + 2 < e && text.charCodeAt(k + 2) !== 0x3a)) return -1;
      hex += HEX_OCTETS[hexValue(hi) * 16 + hexValue(lo)]!;
    }
    lease.hardwareType = 1;
    lease.hardwareAddress = hex;
    return this.semicolonAfter(e);
  }

  /** Where the last quoted string read ends (after its closing quote). */
  private afterString = 0;

  /** A quoted string after `i` of printable ASCII and octal escapes, as lower-case hex of its bytes. */
  private uidHex(i: number): string | null {
    const text = this.text;
    const n = text.length;
    let k = this.skipSpace(i);
    if (text.charCodeAt(k) !== QUOTE) return null;
    k++;
    let hex = '';
    for (;;) {
      if (k >= n) return null;
      const c = text.charCodeAt(k);
      if (c === QUOTE) break;
      if (c === 10 || c >= 0x80) return null;
      if (c !== BACKSLASH) {
        hex += HEX_OCTETS[c]!;
        k++;
        continue;
      }
      // \N, \NN or \NNN octal (as the tokenizer reads it); any other escape takes the general path.
      let v = text.charCodeAt(k + 1) - 48; // NaN past the end of the text
      if (!(v >= 0 && v <= 7)) return null;
      k += 2;
      for (let d = 0; d < 2; d++) {
        const o = text.charCodeAt(k) - 48;
        if (!(o >= 0 && o <= 7)) break;
        v = v * 8 + o;
        k++;
      }
      if (v > 255) return null;
      hex += HEX_OCTETS[v]!;
    }
    this.afterString = k + 1;
    return hex;
  }

  /** A quoted string after `i` with no escape, newline or non-ASCII character: its text. */
  private plainString(i: number): string | null {
    const text = this.text;
    const k = this.skipSpace(i);
    if (text.charCodeAt(k) !== QUOTE) return null;
    let j = k + 1;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) break;
      if (c === BACKSLASH || c === 10 || c >= 0x80) return null;
    }
    if (j >= text.length) return null;
    this.afterString = j + 1;
    return text.slice(k + 1, j);
  }

  /** The index after `;` that follows `i` after space, or -1. */
  private semicolonAfter(i: number): number {
    const k = this.skipSpace(i);
    return this.text.charCodeAt(k) === SEMICOLON ? k + 1 : -1;
  }

  /** The end of the word `word` after `i` after space, or -1 (also for i = -1). */
  private expectWord(i: number, word: string): number {
    if (i < 0) return -1;
    const w = this.skipSpace(i);
    const e = this.wordEnd(w);
    return this.isWord(w, e, word) ? e : -1;
  }

  private isWord(from: number, to: number, word: string): boolean {
    return to - from === word.length && this.text.startsWith(word, from);
  }

  /** The index of the first character from `i` on that is not space; counts the newlines passed
   * (every newline of a declaration the scanner accepts is between tokens: it refuses strings with
   * one, and each place is passed once). */
  private skipSpace(i: number): number {
    const text = this.text;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        this.newlines++;
        this.lastLineStart = i + 1;
      } else if (!isSpaceCode(c)) break;
    }
    return i;
  }

  private wordEnd(i: number): number {
    const text = this.text;
    while (i < text.length && isWordCode(text.charCodeAt(i))) i++;
    return i;
  }
}
