/// <reference lib="dom" />
// Times and names as operators read them: absolute in local time (UTC in the tooltip) and relative
// ("in 12 min", "3 min ago"), state names spelled out.

import type { FailoverStateName } from '../view.js';
import { h } from './dom.js';

/** Server clock − browser clock, seconds (set from every update, so relative times use server time). */
let clockOffsetSeconds = 0;

export function setServerNow(serverNowSeconds: number): void {
  clockOffsetSeconds = serverNowSeconds - Date.now() / 1000;
}

export function nowSeconds(): number {
  return Date.now() / 1000 + clockOffsetSeconds;
}

export function span(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return m % 60 === 0 ? `${hours} h` : `${hours} h ${m % 60} min`;
  return `${Math.round(hours / 24)} d`;
}

export function relative(atSeconds: number): string {
  const d = atSeconds - nowSeconds();
  if (Math.abs(d) < 2) return 'now';
  return d > 0 ? `in ${span(d)}` : `${span(d)} ago`;
}

export function absolute(atSeconds: number): string {
  const d = new Date(atSeconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const today = new Date(nowSeconds() * 1000);
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** A <time> whose relative part the page's ticker keeps current. */
export function timeEl(iso: string | null, empty = '—'): HTMLElement {
  if (iso === null) return h('span', { class: 'muted' }, empty);
  const at = Date.parse(iso) / 1000;
  return h(
    'span',
    { class: 'kv-time' },
    h('time', { datetime: iso, title: iso }, absolute(at)),
    ' ',
    h('span', { class: 'rel', 'data-rel': String(at) }, `(${relative(at)})`),
  );
}

/** Updates every relative time on the page. */
export function tickRelativeTimes(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-rel]')) {
    const text = `(${relative(Number(el.dataset.rel))})`;
    if (el.textContent !== text) el.textContent = text;
  }
  for (const el of root.querySelectorAll<HTMLElement>('[data-rel-bare]')) {
    const text = relative(Number(el.dataset.relBare));
    if (el.textContent !== text) el.textContent = text;
  }
}

const STATE_LABELS: Record<FailoverStateName, string> = {
  noState: 'no state',
  init: 'init',
  startup: 'startup',
  normal: 'normal',
  communicationsInterrupted: 'communications interrupted',
  partnerDown: 'partner down',
  potentialConflict: 'potential conflict',
  conflictDone: 'conflict done',
  resolutionInterrupted: 'resolution interrupted',
  recover: 'recover',
  recoverWait: 'recover wait',
  recoverDone: 'recover done',
  paused: 'paused',
  shutdown: 'shutdown',
};

export function stateLabel(state: FailoverStateName | null): string {
  return state === null ? 'unknown' : STATE_LABELS[state];
}

export function stateBadge(state: FailoverStateName | null): HTMLElement {
  return h('span', { class: 'state', 'data-state': state ?? 'unknown' }, stateLabel(state));
}

export const STATE_COLOURS: Record<string, string> = {
  normal: '#18743a',
  communicationsInterrupted: '#8f4a00',
  resolutionInterrupted: '#8f4a00',
  partnerDown: '#b1241b',
  recover: '#5a34b8',
  recoverWait: '#5a34b8',
  recoverDone: '#5a34b8',
  potentialConflict: '#5a34b8',
  conflictDone: '#5a34b8',
};

export function stateColour(state: FailoverStateName | null): string {
  return (state !== null && STATE_COLOURS[state]) || '#8a9098';
}
