/// <reference lib="dom" />
// SVG charts drawn by hand: the state timeline of a relationship and a scope's address use over
// time. Each comes with a text alternative (aria-label and a list or table under a <details>).

import type { ScopeSample, StateSegment } from '../view.js';
import { h, s } from './dom.js';
import { absolute, stateColour, stateLabel } from './format.js';

const RIGHT = 8;
let W = 800;
let LEFT = 92;

/** Narrow screens get a narrower drawing, so its text stays readable when scaled down. */
function setWidth(): void {
  const isNarrow = window.innerWidth < 700;
  W = isNarrow ? 440 : 800;
  LEFT = isNarrow ? 70 : 92;
}

/**
 * The time span drawn: the window, or less when the data kept so far is shorter (a fresh server
 * would draw its whole history as a sliver at the right edge).
 */
export function drawnSpan(firstSeconds: number | undefined, start: number, end: number): number {
  if (firstSeconds === undefined) return start;
  const margin = Math.max(10, (end - firstSeconds) * 0.1);
  return Math.min(end - 120, Math.max(start, firstSeconds - margin));
}

function timeTicks(start: number, end: number, y: number, height: number): SVGElement[] {
  const span = end - start;
  const steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800];
  const step = steps.find((x) => span / x <= 6) ?? 21600;
  const out: SVGElement[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
    const x = LEFT + ((t - start) / span) * (W - LEFT - RIGHT);
    out.push(s('line', { x1: x, x2: x, y1: 0, y2: y, stroke: '#c9ced4', 'stroke-width': 1 }));
    const d = new Date(t * 1000);
    const label = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    const anchor = x > W - RIGHT - 20 ? 'end' : x < LEFT + 20 ? 'start' : 'middle';
    out.push(s('text', { x, y: y + height, 'text-anchor': anchor, 'font-size': 12, fill: '#4f5862' }, label));
  }
  return out;
}

/** Rows: this server's state, the partner's state, the link. */
export function stateTimeline(
  segments: readonly StateSegment[],
  start: number,
  end: number,
  names: { local: string; partner: string },
): HTMLElement {
  setWidth();
  const windowStart = start;
  start = drawnSpan(segments[0]?.fromSeconds, start, end);
  const rowH = 22;
  const gap = 6;
  const rows = [
    {
      label: names.local,
      value: (x: StateSegment) => ({ colour: stateColour(x.localState), text: stateLabel(x.localState) }),
    },
    {
      label: names.partner,
      value: (x: StateSegment) => ({ colour: stateColour(x.partnerState), text: stateLabel(x.partnerState) }),
    },
    {
      label: 'link',
      value: (x: StateSegment) => ({
        colour: x.isPartnerReachable ? '#18743a' : '#b1241b',
        text: x.isPartnerReachable ? 'reachable' : 'unreachable',
      }),
    },
  ];
  const axisY = rows.length * (rowH + gap);
  const xOf = (t: number) => LEFT + ((Math.max(t, start) - start) / (end - start)) * (W - LEFT - RIGHT);
  const parts: SVGElement[] = [];
  rows.forEach((row, i) => {
    const y = i * (rowH + gap);
    parts.push(s('text', { x: 0, y: y + 15, 'font-size': 12, fill: '#1b1e22' }, row.label.slice(0, 12)));
    parts.push(s('rect', { x: LEFT, y, width: W - LEFT - RIGHT, height: rowH, fill: '#eceef1' }));
    segments.forEach((seg, k) => {
      const until = segments[k + 1]?.fromSeconds ?? end;
      if (until <= start) return;
      const v = row.value(seg);
      const x0 = xOf(seg.fromSeconds);
      const x1 = xOf(until);
      parts.push(
        s(
          'rect',
          { x: x0, y, width: Math.max(1, x1 - x0), height: rowH, fill: v.colour },
          s('title', null, `${row.label}: ${v.text} from ${absolute(seg.fromSeconds)}`),
        ),
      );
    });
  });
  parts.push(...timeTicks(start, end, axisY, 14));
  const changes = segments.filter((x) => x.fromSeconds >= windowStart);
  const last = segments.at(-1);
  const summary =
    last === undefined
      ? 'No state samples yet.'
      : `${changes.length} change${changes.length === 1 ? '' : 's'} in the window; now ${names.local} ${stateLabel(last.localState)}, ${names.partner} ${stateLabel(last.partnerState)}.`;
  return h(
    'figure',
    { class: 'timeline' },
    s(
      'svg',
      { viewBox: `0 0 ${W} ${axisY + 18}`, role: 'img', 'aria-label': `State timeline. ${summary}` },
      parts,
    ),
    h(
      'details',
      null,
      h('summary', null, 'State changes as text'),
      changes.length === 0
        ? h('p', { class: 'muted' }, 'No change in this window.')
        : h(
            'ol',
            null,
            [...changes]
              .reverse()
              .map((c) =>
                h(
                  'li',
                  null,
                  `${absolute(c.fromSeconds)}: ${names.local} ${stateLabel(c.localState)}, ${names.partner} ${stateLabel(c.partnerState)}, link ${c.isPartnerReachable ? 'up' : 'down'}`,
                  c.why === null ? null : ` — ${c.why}`,
                ),
              ),
          ),
    ),
  );
}

export const SCOPE_SERIES = [
  { key: 'thisAddrInUse', label: 'in use, this server', cls: 'this-use', colour: '#0a4fbf' },
  { key: 'partnerAddrInUse', label: 'in use, partner', cls: 'partner-use', colour: '#6d3fc6' },
  { key: 'thisAddrFree', label: 'free, this server', cls: 'this-free', colour: '#9cc3f5' },
  { key: 'partnerAddrFree', label: 'free, partner', cls: 'partner-free', colour: '#cdb8f3' },
] as const;

/** Stacked areas of the four counts over time; what is left of numAddr is abandoned or awaiting ack. */
export function scopeChart(samples: readonly ScopeSample[], start: number, end: number): HTMLElement {
  setWidth();
  start = drawnSpan(samples.find((x) => x.atSeconds >= start)?.atSeconds, start, end);
  const H = 180;
  const top = 8;
  const points = samples.filter((x) => x.atSeconds >= start);
  const max = Math.max(1, ...points.map((p) => p.numAddr));
  const xOf = (t: number) => LEFT + ((t - start) / (end - start)) * (W - LEFT - RIGHT);
  const yOf = (v: number) => top + H - (v / max) * H;
  const parts: SVGElement[] = [...timeTicks(start, end, top + H, 16)];
  for (const v of [0, Math.round(max / 2), max]) {
    parts.push(s('line', { x1: LEFT, x2: W - RIGHT, y1: yOf(v), y2: yOf(v), stroke: '#d5d9de' }));
    parts.push(
      s('text', { x: LEFT - 6, y: yOf(v) + 4, 'text-anchor': 'end', 'font-size': 12, fill: '#4f5862' }, v),
    );
  }
  if (points.length > 0) {
    // One sample still draws: extend it to the window's end.
    const series = points.length === 1 ? [points[0]!, { ...points[0]!, atSeconds: end }] : points;
    let below = series.map(() => 0);
    for (const def of SCOPE_SERIES) {
      const above = series.map((p, i) => below[i]! + p[def.key]);
      const upper = series.map((p, i) => `${xOf(p.atSeconds).toFixed(1)},${yOf(above[i]!).toFixed(1)}`);
      const lower = series
        .map((p, i) => `${xOf(p.atSeconds).toFixed(1)},${yOf(below[i]!).toFixed(1)}`)
        .reverse();
      parts.push(
        s(
          'polygon',
          { points: [...upper, ...lower].join(' '), fill: def.colour },
          s('title', null, def.label),
        ),
      );
      below = above;
    }
  }
  const last = points.at(-1);
  const label =
    last === undefined
      ? 'Address use over time: no samples yet.'
      : `Address use over time, ${points.length} samples. Latest: ${last.thisAddrInUse} in use here, ${last.partnerAddrInUse} in use by the partner, ${last.thisAddrFree} free here, ${last.partnerAddrFree} free for the partner, of ${last.numAddr}.`;
  return h(
    'figure',
    { class: 'chart' },
    s('svg', { viewBox: `0 0 ${W} ${top + H + 22}`, role: 'img', 'aria-label': label }, parts),
    h(
      'ul',
      { class: 'legend' },
      SCOPE_SERIES.map((d) =>
        h('li', null, h('span', { class: `sw ${d.cls}`, 'aria-hidden': 'true' }), d.label),
      ),
      h(
        'li',
        null,
        h('span', { class: 'sw other', 'aria-hidden': 'true' }),
        'abandoned or awaiting ack (rest)',
      ),
    ),
  );
}
