// Terminal output of the operator commands: plain tables (no colour codes, so pipes and tests
// see clean text) or JSON with --json.

import Table from 'cli-table3';

export interface OutputOptions {
  json: boolean;
}

/** The status a command killed by SIGPIPE shows in the shell (128 + 13), as coreutils' do. */
export const EXIT_BROKEN_PIPE = 141;

/**
 * A reader that stops early (`twinlease lease list | head`) closes the pipe, and the next write
 * fails with EPIPE (Node ignores SIGPIPE, so the write error is all there is). Exit quietly then,
 * with the status coreutils get from SIGPIPE, instead of an unhandled 'error' event and a stack
 * trace. Any other write error is still thrown.
 */
export function exitQuietlyOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
      throw err;
    });
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** No rule between rows: long lists stay compact. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export function table(head: string[], rows: (string | number | boolean | null)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] }, chars: COMPACT });
  for (const r of rows) t.push(r.map(cell));
  return t.toString();
}

/** Two-column "field | value" table for one object. */
export function fields(rows: [string, string | number | boolean | null][]): string {
  const t = new Table({ style: { head: [], border: [] }, chars: COMPACT });
  for (const [k, v] of rows) t.push({ [k]: cell(v) });
  return t.toString();
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function cell(v: string | number | boolean | null): string {
  if (v === null) return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/** "2026-11-23T23:50:05Z" → "2026-11-23 23:50:05Z"; null → null. */
export function time(iso: string | null): string | null {
  return iso === null ? null : iso.replace('T', ' ');
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/**
 * The partner's state as the API reports it: while the partner is unreachable only its last known
 * state, so say so, with when it was last heard ("normal (last known, heard 2026-11-24 00:00:56Z)").
 */
export function partnerStateText(r: {
  partnerState: string | null;
  isPartnerStateStale: boolean;
  partnerStateHeardAt: string | null;
}): string | null {
  if (r.partnerState === null) return null;
  if (!r.isPartnerStateStale) return r.partnerState;
  return `${r.partnerState} (last known, heard ${time(r.partnerStateHeardAt) ?? 'never'})`;
}
