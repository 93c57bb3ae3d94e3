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

export function iso(seconds: number): string {
  return new Date(wallTimeOf(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Lower-case hex without separators ("001ba9") → "00:1b:a9"; '' → null. */
export function colonHex(hex: string | null): string | null {
  if (hex === null || hex === '') return null;
  return hex.toLowerCase().replace(/(..)(?!$)/g, '$1:');
}

/** Any of aa:bb…, aa-bb…, aa.bb…, aabb… → canonical lower-case hex without separators. */
export function canonicalHex(text: string): string {
  return text.replace(/[:\-.]/g, '').toLowerCase();
}
