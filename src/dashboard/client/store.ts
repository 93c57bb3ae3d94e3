/// <reference lib="dom" />
// What the page knows: the latest state from the stream and the histories, trimmed to the window
// the server keeps. Views subscribe and redraw what changed.

import type {
  DashboardSnapshot,
  DashboardState,
  DashboardUpdate,
  ScopeSample,
  StateSegment,
} from '../view.js';
import { setServerNow } from './format.js';

export interface Store {
  state: DashboardState | null;
  windowSeconds: number;
  states: StateSegment[];
  scopes: Record<string, ScopeSample[]>;
  live: 'connecting' | 'live' | 'down';
}

export const store: Store = {
  state: null,
  windowSeconds: 6 * 3600,
  states: [],
  scopes: {},
  live: 'connecting',
};

const listeners = new Set<() => void>();

export function subscribe(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function notify(): void {
  for (const f of [...listeners]) f();
}

function setState(state: DashboardState): void {
  const { ...plain } = state as DashboardState & Partial<DashboardSnapshot & DashboardUpdate>;
  delete plain.history;
  delete plain.newStates;
  delete plain.newScopeSamples;
  store.state = plain;
  setServerNow(state.nowSeconds);
}

export function applySnapshot(s: DashboardSnapshot): void {
  store.windowSeconds = s.history.windowSeconds;
  store.states = s.history.states;
  store.scopes = s.history.scopes;
  setState(s);
  notify();
}

export function applyUpdate(u: DashboardUpdate): void {
  const start = u.nowSeconds - store.windowSeconds;
  store.states.push(...u.newStates);
  for (const [id, samples] of Object.entries(u.newScopeSamples)) {
    const list = store.scopes[id] ?? [];
    store.scopes[id] = list;
    list.push(...samples);
    while (list.length > 0 && list[0]!.atSeconds < start) list.shift();
  }
  setState(u);
  notify();
}

/** The segments of one relationship, oldest first. */
export function segmentsOf(relationship: string): StateSegment[] {
  return store.states.filter((x) => x.relationship === relationship);
}
