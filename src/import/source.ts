// Positions and findings shared by the dhcpd.conf and dhcpd.leases readers. Every problem the
// import reports names the file, line and column it comes from; nothing is dropped silently.

/** A place in an input file: 1-based line and column (columns count UTF-16 code units). */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * How serious a finding is:
 * - `error`: the import stops (exit 2) and writes nothing: syntax, an unknown statement, a bad
 *   value, or a statement that would change who gets which address if it were dropped.
 * - `warning`: a statement was ignored or translated approximately; review it (`--strict` makes
 *   warnings errors).
 * - `note`: translated as documented, said so for the record (defaults applied, no-ops).
 */
export type Severity = 'error' | 'warning' | 'note';

export interface Finding {
  readonly severity: Severity;
  /** null for findings about the input as a whole (a missing failover peer reference, …). */
  readonly pos: SourcePos | null;
  /** The statement as written (first tokens, shortened), or '' when not about one statement. */
  readonly statement: string;
  readonly reason: string;
}

/** The one error type the readers throw: a syntax problem with its place. */
export class DhcpdSyntaxError extends Error {
  constructor(
    readonly pos: SourcePos,
    readonly reason: string,
  ) {
    super(`${formatPos(pos)}: ${reason}`);
    this.name = 'DhcpdSyntaxError';
  }
}

export function formatPos(pos: SourcePos | null): string {
  return pos === null ? '-' : `${pos.file}:${pos.line}:${pos.column}`;
}

export function formatFinding(f: Finding): string {
  const what = f.statement === '' ? '' : ` '${f.statement}'`;
  return `${formatPos(f.pos)}: ${f.severity}:${what} ${f.reason}`;
}
