// The stalls of an expiry-storm run (bench/scale.sh, issue 15) as perfdhcp saw them: the
// DISCOVER→OFFER exchanges of 15 ms or more, sent from 7 s before the storm's second to 6 s after
// it, grouped into stalls (exchanges sent less than 20 ms apart), with when each began relative to
// that second. A stall that recurs at a fixed period, or that lines up with the server's
// `--trace-gc` lines (TL_NODE_ARGS), says where it comes from.
//
//   node --import tsx bench/lib/storm-stalls.ts PERFDHCP_OUT STARTED_AT_EPOCH_S STORM_AT_EPOCH_S
//
// (bench/scale.sh leaves perfdhcp.out in the logs directory its storm-twinlease.err names, the
// start time in $DATA/run/storm-perfdhcp-started, the storm's second as storm_at in its result.)
import { readFileSync } from 'node:fs';
import { perfdhcpExchanges } from './storm-windows.js';

const SLOW_MS = 15;
const SAME_STALL_S = 0.02;
const [file, startedAt, at] = process.argv.slice(2);
if (file === undefined || startedAt === undefined || at === undefined) {
  console.error('usage: storm-stalls.ts PERFDHCP_OUT STARTED_AT_EPOCH_S STORM_AT_EPOCH_S');
  process.exit(2);
}
const stormAtS = Number(at);
const slow = perfdhcpExchanges(readFileSync(file, 'utf8'), 'DISCOVER-OFFER', Number(startedAt))
  .filter((x) => x.sentAtS >= stormAtS - 7 && x.sentAtS < stormAtS + 6 && x.latencyMs >= SLOW_MS)
  .sort((x, y) => x.sentAtS - y.sentAtS);
interface Stall {
  fromS: number;
  toS: number;
  maxMs: number;
  exchanges: number;
}
const stalls: Stall[] = [];
for (const x of slow) {
  const last = stalls.at(-1);
  if (last !== undefined && x.sentAtS - last.toS < SAME_STALL_S) {
    last.toS = x.sentAtS;
    last.maxMs = Math.max(last.maxMs, x.latencyMs);
    last.exchanges++;
  } else stalls.push({ fromS: x.sentAtS, toS: x.sentAtS, maxMs: x.latencyMs, exchanges: 1 });
}
for (const s of stalls)
  console.log(
    `${(s.fromS - stormAtS).toFixed(3)} s: ${s.exchanges} exchanges of ${SLOW_MS} ms or more, max ${s.maxMs.toFixed(1)} ms`,
  );
