import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answeredWithin } from '../../bench/lib/answered-within.js';

/** A perfdhcp `-x t` report with these DISCOVER→OFFER exchanges [sent s, latency ms] of `sent`. */
function report(sent: number, exchanges: Array<[number, number]>): string {
  const hms = (s: number) => {
    const m = Math.floor(s / 60);
    return `0000${String(m).padStart(2, '0')}${(s - m * 60).toFixed(6).padStart(9, '0')}`;
  };
  return [
    '***Statistics for: DISCOVER-OFFER***',
    `sent packets: ${sent}`,
    `received packets: ${exchanges.length}`,
    '***Timestamps for packets: DISCOVER-OFFER***',
    ...exchanges.map(([s, ms]) => `sent / received: ${hms(s)} / ${hms(s + ms / 1000)}`),
    '***Timestamps for packets: REQUEST-ACK***',
  ].join('\n');
}

test('unanswered DISCOVERs count against the share answered in time and the p99', () => {
  const fast = Array.from({ length: 90 }, (_, i): [number, number] => [1 + i / 100, 1]);
  const r = answeredWithin(report(100, fast));
  assert.equal(r.sent, 100);
  assert.equal(r.answered, 90);
  assert.equal(r.within_20ms, 0.9); // 10 of 100 never answered: not "100 % within 20 ms"
  assert.equal(r.p99_of_sent_ms, null); // more than 1 % unanswered
});

test('a late first second shows in its own share; minutes are read as minutes', () => {
  const late: Array<[number, number]> = Array.from({ length: 50 }, (_, i) => [i / 50, 40]);
  const ok: Array<[number, number]> = Array.from({ length: 50 }, (_, i) => [59.5 + i / 50, 2]);
  const r = answeredWithin(report(100, [...late, ...ok]));
  assert.equal(r.within_20ms, 0.5);
  assert.equal(r.within_50ms, 1);
  assert.equal(r.p99_of_sent_ms, 40);
  assert.ok(r.first_s_within_20ms < 0.05, `first second ${r.first_s_within_20ms}`);
  assert.equal(r.rest_within_20ms, 1);
});
