// Small conversions from core values to the API's text forms (windows-model.md §4 conventions).

import { INFINITE_EXPIRY } from '../dhcp/lease.js';

/**
 * Wall clock − the server's timeline (src/server/clock.ts): what turns a time the cores keep into
 * the time an operator reads on a wall clock. 0 until the wall clock is stepped under a running
 * timeline; the server installs its clock's (setWallOffsetSource).
 */
let wallOffsetOf: () => number = () => 0;

export function setWallOffsetSource(source: () => number): void {
  wallOffsetOf = source;
}

/** Wall clock − timeline now, in seconds (what wallTimeOf adds). */
export function wallOffsetNow(): number {
  return wallOffsetOf();
}

/** A timeline time (seconds since 1970) as wall-clock seconds. */
export function wallTimeOf(seconds: number): number {
  return seconds + wallOffsetOf();
}

/** Wall-clock seconds as a time of this server's timeline (the inverse of wallTimeOf). */
export function timelineTimeOf(wallSeconds: number): number {
  return wallSeconds - wallOffsetOf();
}

/** Timeline seconds since epoch → ISO-8601 UTC (wall clock) without milliseconds; 0 ("never") → null. */
export function isoOrNull(seconds: number): string | null {
  if (seconds <= 0 || seconds === INFINITE_EXPIRY) return null;
  return iso(seconds);
}

const TWO_DIGITS: readonly string[] = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
/** "YYYY-MM-DDT" by day since 1970: a page of leases has a few days among thousands of times. */
const dayTexts = new Map<number, string>();
/** 9999-12-31T23:59:59Z: beyond it toISOString writes a six-digit year. */
const LAST_FOUR_DIGIT_YEAR_SECOND = 253_402_300_799;

export function iso(seconds: number): string {
  const wall = wallTimeOf(seconds);
  // Whole seconds (every stored time): the date once per day and the time from a table, not a
  // Date and a replace() per time (a page of 1000 leases formats 7000 of them; issue 15).
  if (Number.isInteger(wall) && wall >= 0 && wall <= LAST_FOUR_DIGIT_YEAR_SECOND) {
    const day = Math.floor(wall / 86_400);
    let date = dayTexts.get(day);
    if (date === undefined) {
      if (dayTexts.size >= 4096) dayTexts.clear();
      date = new Date(day * 86_400_000).toISOString().slice(0, 11);
      dayTexts.set(day, date);
    }
    const s = wall - day * 86_400;
    const h = Math.floor(s / 3600);
    const m = Math.floor((s - h * 3600) / 60);
    return `${date}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s - h * 3600 - m * 60]}Z`;
  }
  return new Date(wall * 1000).toISOString().replace('.000Z', 'Z');
}

/** Lower-case hex without separators ("001ba9") → "00:1b:a9"; '' → null. */
export function colonHex(hex: string | null): string | null {
  if (hex === null || hex === '') return null;
  // A loop, not a regular expression: a page of 1000 leases has 2000 of these (issue 15).
  const lower = hex.toLowerCase();
  let out = lower.slice(0, 2);
  for (let i = 2; i < lower.length; i += 2) out += `:${lower.slice(i, i + 2)}`;
  return out;
}

/** Any of aa:bb…, aa-bb…, aa.bb…, aabb… → canonical lower-case hex without separators. */
export function canonicalHex(text: string): string {
  return text.replace(/[:\-.]/g, '').toLowerCase();
}
