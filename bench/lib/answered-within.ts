// DISCOVER→OFFER latency of one perfdhcp run counted against what was sent, not only against what
// was answered: perfdhcp's own p99 (and the harness's) is taken over the answered exchanges, so a
// build that drops a burst can show a lower p99 than one that answers it late. This prints the
// share of the DISCOVERs sent that got an OFFER within 10, 20 and 50 ms, the p99 over all sent
// (an unanswered one counts as later than any answer: null when more than 1 % went unanswered),
// and the same split for the first second of the run (start-up warm-up) and the rest.
//
//   node --import tsx bench/lib/answered-within.ts RUN_DIR/perfdhcp.out      # one JSON object

import { readFileSync } from 'node:fs';
import { perfdhcpExchanges } from './storm-windows.js';

export interface AnsweredWithin {
  sent: number;
  answered: number;
  within_10ms: number;
  within_20ms: number;
  within_50ms: number;
  p99_of_sent_ms: number | null;
  first_s_within_20ms: number;
  rest_within_20ms: number;
}

/** perfdhcp's count of DISCOVERs sent (its DISCOVER-OFFER statistics). */
function discoversSent(text: string): number {
  const at = text.indexOf('Statistics for: DISCOVER-OFFER');
  const m = /sent packets: (\d+)/.exec(text.slice(at));
  if (at < 0 || m === null) throw new Error('no DISCOVER-OFFER statistics in the perfdhcp output');
  return Number(m[1]);
}

export function answeredWithin(text: string): AnsweredWithin {
  const sent = discoversSent(text);
  const xs = perfdhcpExchanges(text, 'DISCOVER-OFFER', 0);
  const share = (list: typeof xs, ms: number, of: number) =>
    of === 0 ? 0 : Number((list.filter((x) => x.latencyMs <= ms).length / of).toFixed(4));
  const sorted = xs.map((x) => x.latencyMs).sort((a, b) => a - b);
  const k = Math.floor((sent - 1) * 0.99);
  const first = xs.filter((x) => x.sentAtS < 1);
  const rest = xs.filter((x) => x.sentAtS >= 1);
  // perfdhcp lists answered exchanges only; the unanswered ones are spread over the run, so the
  // first second's denominator is its share of the sent ones by the run's offered rate.
  const duration = Math.max(1, xs.length > 0 ? Math.ceil(xs[xs.length - 1]!.sentAtS) : 1);
  const firstSent = Math.max(first.length, Math.round(sent / duration));
  return {
    sent,
    answered: xs.length,
    within_10ms: share(xs, 10, sent),
    within_20ms: share(xs, 20, sent),
    within_50ms: share(xs, 50, sent),
    p99_of_sent_ms: k < sorted.length ? Number(sorted[k]!.toFixed(3)) : null,
    first_s_within_20ms: share(first, 20, firstSent),
    rest_within_20ms: share(rest, 20, Math.max(rest.length, sent - firstSent)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: answered-within.ts PERFDHCP_OUT');
    process.exit(2);
  }
  console.log(JSON.stringify(answeredWithin(readFileSync(file, 'utf8'))));
}
