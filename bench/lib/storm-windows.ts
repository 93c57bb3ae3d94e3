// Latency by window for bench/scale.sh's expiry-storm row: reads perfdhcp's per-packet
// timestamps (`-x t`, time since perfdhcp started, as HHMMSS.micro) and the wall-clock time perfdhcp was started
// at, and prints DISCOVER→OFFER and REQUEST→ACK p50/p99/max for the exchanges sent in the storm
// window [storm-at, storm-at + window-s) and in a control window of the same length that ends
// gap-s before the storm, plus the reclaim counter series the row polled.
//
//   node --import tsx bench/lib/storm-windows.ts --perfdhcp FILE --started-at EPOCH_S
//        --storm-at EPOCH_S [--window-s 3] [--gap-s 4] [--rate PER_S] [--reclaimed FILE]
//
// --rate: the offered rate; each window then says how many of the rate × window-s DISCOVERs got no
// OFFER (perfdhcp lists the answered ones only; a REQUEST is sent only after an OFFER).
//
// --reclaimed FILE: lines "EPOCH_S COUNT" (the server's count of leases reclaimed by its timer).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Exchange {
  sentAtS: number;
  latencyMs: number;
}

type Section = 'DISCOVER-OFFER' | 'REQUEST-ACK';

/**
 * perfdhcp writes these times as hours, minutes and seconds run together ("000144.999415" is
 * 1 min 44.999415 s), not as seconds.
 */
export function perfdhcpSeconds(text: string | undefined): number {
  const m = /^(\d+)(\d\d)(\d\d)(\.\d+)?$/.exec(text ?? '');
  if (m === null) return Number.NaN;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(`${m[3]}${m[4] ?? ''}`);
}

/** Exchanges of one section of perfdhcp's `-x t` report, at wall-clock times. */
export function perfdhcpExchanges(text: string, section: Section, startedAtS: number): Exchange[] {
  const out: Exchange[] = [];
  let inSection = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('***')) inSection = line.includes(`Timestamps for packets: ${section}`);
    else if (inSection && line.startsWith('sent / received:')) {
      const parts = line.split(/\s+/);
      const sent = perfdhcpSeconds(parts[3]);
      const received = perfdhcpSeconds(parts[5]);
      if (Number.isFinite(sent) && Number.isFinite(received))
        out.push({ sentAtS: startedAtS + sent, latencyMs: (received - sent) * 1000 });
    }
  }
  return out;
}

const quantile = (sorted: number[], q: number): number | null =>
  sorted.length === 0 ? null : sorted[Math.floor((sorted.length - 1) * q)]!;
const ms = (x: number | null) => (x === null ? null : Number(x.toFixed(3)));

/** p50/p99/max and count of the exchanges sent in [fromS, toS). */
export function windowSummary(xs: Exchange[], fromS: number, toS: number) {
  const lat = xs
    .filter((x) => x.sentAtS >= fromS && x.sentAtS < toS)
    .map((x) => x.latencyMs)
    .sort((a, b) => a - b);
  return {
    n: lat.length,
    p50_ms: ms(quantile(lat, 0.5)),
    p99_ms: ms(quantile(lat, 0.99)),
    max_ms: ms(quantile(lat, 1)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      perfdhcp: { type: 'string' },
      'started-at': { type: 'string' },
      'storm-at': { type: 'string' },
      'window-s': { type: 'string', default: '3' },
      'gap-s': { type: 'string', default: '4' },
      rate: { type: 'string' },
      reclaimed: { type: 'string' },
    },
  });
  if (values.perfdhcp === undefined || values['started-at'] === undefined || values['storm-at'] === undefined)
    throw new Error('--perfdhcp, --started-at and --storm-at are required');
  const text = readFileSync(values.perfdhcp, 'utf8');
  const startedAtS = Number(values['started-at']);
  const at = Number(values['storm-at']);
  const windowS = Number(values['window-s']);
  const controlFromS = at - Number(values['gap-s']) - windowS;
  const result: Record<string, unknown> = {
    storm_at: at,
    load_started_s_before_storm: Number((at - startedAtS).toFixed(3)),
    window_s: windowS,
    control_from_s_before_storm: at - controlFromS,
  };
  for (const [key, section] of [
    ['do', 'DISCOVER-OFFER'],
    ['ra', 'REQUEST-ACK'],
  ] as const) {
    const xs = perfdhcpExchanges(text, section, startedAtS);
    for (const [name, fromS] of [
      ['storm', at],
      ['control', controlFromS],
    ] as const) {
      const w = windowSummary(xs, fromS, fromS + windowS);
      result[`${key}_${name}`] =
        values.rate === undefined || key === 'ra'
          ? w
          : { ...w, unanswered: Math.max(0, Number(values.rate) * windowS - w.n) };
    }
  }
  if (values.reclaimed !== undefined) {
    const series = readFileSync(values.reclaimed, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ').map(Number) as [number, number])
      .filter(([t, c]) => Number.isFinite(t) && Number.isFinite(c));
    const before = series.filter(([t]) => t < at).at(-1);
    const after = series.filter(([t]) => t >= at + windowS).at(0);
    result.reclaimed = {
      before_storm: before?.[1] ?? null,
      after_window: after?.[1] ?? null,
      in_window: before !== undefined && after !== undefined ? after[1] - before[1] : null,
      series: series.map(([t, c]) => [Number((t - at).toFixed(2)), c]),
    };
  }
  console.log(JSON.stringify(result));
}
