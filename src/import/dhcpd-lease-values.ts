// Values of a dhcpd.leases written as words: dates ("YYYY/MM/DD HH:MM:SS", UTC) and dotted quads,
// parsed by hand from a range of a string (a million leases have millions of them), shared by the
// statement reader (dhcpd-leases.ts) and the lease block scanner (dhcpd-lease-scanner.ts).

/** `never` is the largest uint32, as Twinlease stores infinite expiry. */
export const NEVER = 0xffffffff;

/**
 * date[dateFrom, dateTo) "YYYY/MM/DD" and time[timeFrom, timeTo) "HH:MM:SS" (UTC) → seconds since
 * 1970, or -1 when malformed or outside 0…NEVER.
 */
export function calendarSeconds(
  date: string,
  dateFrom: number,
  dateTo: number,
  time: string,
  timeFrom: number,
  timeTo: number,
): number {
  const d1 = date.indexOf('/', dateFrom);
  const d2 = d1 < 0 || d1 >= dateTo ? -1 : date.indexOf('/', d1 + 1);
  const t1 = time.indexOf(':', timeFrom);
  const t2 = t1 < 0 || t1 >= timeTo ? -1 : time.indexOf(':', t1 + 1);
  if (d2 < 0 || d2 >= dateTo || t2 < 0 || t2 >= timeTo) return -1;
  const year = digitsValue(date, dateFrom, d1, 4, 5);
  const month = digitsValue(date, d1 + 1, d2, 1, 2);
  const day = digitsValue(date, d2 + 1, dateTo, 1, 2);
  const h = digitsValue(time, timeFrom, t1, 1, 2);
  const m = digitsValue(time, t1 + 1, t2, 1, 2);
  const s = digitsValue(time, t2 + 1, timeTo, 1, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return -1;
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60) return -1;
  // A leap second that rolls over into the next day is refused, as it always was.
  if (s === 60 && h === 23 && m === 59) return -1;
  const seconds = daysSinceEpoch(year, month, day) * 86_400 + h * 3600 + m * 60 + s;
  return seconds >= 0 && seconds <= NEVER ? seconds : -1;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Date.UTC's calendar, without a Date). */
function daysSinceEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The value of text[from, to) when it is `min`–`max` ASCII digits, else -1. */
export function digitsValue(text: string, from: number, to: number, min: number, max: number): number {
  if (to - from < min || to - from > max) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** A dotted quad as isIpv4() accepts it (no leading zeros) → its value; -1 for anything else. */
export function dottedQuadValue(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 255 || ++parts > 4) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9 || (digits === 1 && part === 0) || digits === 3) return -1;
    part = part * 10 + d;
    digits++;
  }
  return parts === 4 ? value : -1;
}
