// A config error is a value with a location: which file, where in it (JSON pointer for tools, a
// readable path for people, line and column when the text is known), and what is wrong.

export interface ConfigError {
  /** The file as the operator named it (or "<default>" for the embedded default). */
  file: string;
  /** RFC 6901 JSON pointer, e.g. "/scopes/0/ranges/1/end"; "" is the whole document. */
  path: string;
  /** The same place as people write it, e.g. "scopes[0].ranges[1].end"; "" is the whole document. */
  readablePath: string;
  message: string;
  /** 1-based; present for syntax errors and whenever the location could be traced in the text. */
  line?: number;
  column?: number;
}

export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function pointerOf(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** "/scopes/0/ranges/1/end" → "scopes[0].ranges[1].end". Digit-only segments read as indexes. */
export function readablePath(pointer: string): string {
  let out = '';
  for (const s of pointerSegments(pointer)) {
    if (/^(0|[1-9]\d*)$/.test(s)) out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/**
 * One line per error, compiler style so editors can jump to it:
 * `config.json:12:16: scopes[0].ranges[1].end: 10.0.2.300 is not an IPv4 address`.
 */
export function formatConfigError(error: ConfigError): string {
  const where = error.line === undefined ? error.file : `${error.file}:${error.line}:${error.column ?? 1}`;
  return error.readablePath === ''
    ? `${where}: ${error.message}`
    : `${where}: ${error.readablePath}: ${error.message}`;
}

export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map(formatConfigError).join('\n');
}

/** Shows a config value in a message: bare when it reads unambiguously, JSON otherwise. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:/+-]+$/.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

/**
 * Edit distances (optimal string alignment: a swap of two neighbours counts as one edit) of `a`
 * to `b` and to the closest prefix of `b` (a truncated or typo'd name).
 */
function distances(a: string, b: string): { full: number; prefix: number } {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const up = d[i - 1]!;
      let best = Math.min(up[j]! + 1, row[j - 1]! + 1, up[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    d.push(row);
  }
  const last = d[a.length]!;
  return { full: last[b.length]!, prefix: Math.min(...last.slice(Math.min(3, b.length))) };
}

const fold = (s: string) => s.toLowerCase().replace(/[_\s-]/g, '');

/** " (did you mean 'leaseTimeSeconds'?)" when one candidate is close enough, else "". */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const folded = fold(name);
  if (folded === '') return '';
  let best = '';
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distances(folded, fold(candidate));
    const isClose = d.full <= Math.max(1, Math.floor(folded.length / 3));
    const isPrefixClose = folded.length >= 4 && d.prefix <= Math.max(1, Math.floor(folded.length / 4));
    if (!isClose && !isPrefixClose) continue;
    const score = isClose ? d.full : d.prefix + 0.5;
    if (score < bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return best === '' ? '' : ` (did you mean '${best}'?)`;
}
