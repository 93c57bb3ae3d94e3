/// <reference lib="dom" />
// The dashboard's entry module: login with an API token, the page frame, hash routing
// (#/overview, #/scopes[/id], #/leases[/ip]), the live stream and the once-a-second clock.

import type { DashboardSnapshot, DashboardUpdate } from '../view.js';
import { openStream, request, setToken, token, whenUnauthorized } from './api.js';
import { fill, h } from './dom.js';
import { tickRelativeTimes } from './format.js';
import { leaseDetailView, leasesView } from './leases.js';
import { overviewView } from './overview.js';
import { scopeDetailView, scopesView } from './scopes.js';
import { applySnapshot, applyUpdate, store, subscribe } from './store.js';
import type { View } from './ui.js';

const app = document.getElementById('app')!;
let stream: { stop(): void } | null = null;
let view: View | null = null;
let unsubscribe: (() => void) | null = null;

function loginPage(message: string | null): void {
  stream?.stop();
  stream = null;
  unsubscribe?.();
  document.title = 'Sign in — Twinlease';
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const submit = h('button', { class: 'btn', type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      onsubmit: async (e: Event) => {
        e.preventDefault();
        submit.setAttribute('disabled', '');
        const answer = await request<{ access: string }>(
          'GET',
          '/api/v1/status',
          undefined,
          input.value.trim(),
        );
        submit.removeAttribute('disabled');
        if (!answer.ok) {
          error.textContent =
            answer.status === 401
              ? 'The server does not know this token.'
              : `The server answered ${answer.status}.`;
          input.focus();
          return;
        }
        setToken(input.value.trim());
        start();
      },
    },
    h('label', { for: 'token' }, 'API token'),
    input,
    submit,
    error,
  );
  fill(
    app,
    h(
      'main',
      { class: 'login' },
      h(
        'div',
        { class: 'card' },
        h('h1', null, 'Twinlease dashboard'),
        h(
          'p',
          null,
          'Sign in with a management API token (api.tokens in the server config). It is kept in this tab only.',
        ),
        form,
      ),
    ),
  );
  input.focus();
}

function route(): View {
  const hash = location.hash.replace(/^#/, '') || '/overview';
  const [path, query] = hash.split('?') as [string, string | undefined];
  const parts = path
    .split('/')
    .filter((x) => x !== '')
    .map(decodeURIComponent);
  if (parts[0] === 'scopes' && parts[1] !== undefined) return scopeDetailView(parts[1]);
  if (parts[0] === 'scopes') return scopesView();
  if (parts[0] === 'leases' && parts[1] !== undefined) return leaseDetailView(parts[1]);
  if (parts[0] === 'leases') return leasesView(new URLSearchParams(query ?? ''));
  return overviewView();
}

function frame(): {
  main: HTMLElement;
  nav: HTMLElement;
  live: HTMLElement;
  server: HTMLElement;
  access: HTMLElement;
} {
  const link = (href: string, label: string) => h('li', null, h('a', { href }, label));
  const nav = h(
    'nav',
    { 'aria-label': 'Sections' },
    h('ul', null, link('#/overview', 'Overview'), link('#/scopes', 'Scopes'), link('#/leases', 'Leases')),
  );
  const live = h('span', { class: 'live', role: 'status', 'data-live': 'connecting' }, 'connecting');
  const server = h('span', { class: 'server-name' });
  const access = h('span', { class: 'access' });
  const main = h('main', { id: 'main', tabindex: '-1' });
  fill(
    app,
    h(
      'a',
      {
        class: 'skip',
        href: '#main',
        onclick: (e: Event) => {
          e.preventDefault();
          main.focus();
        },
      },
      'Skip to content',
    ),
    h(
      'header',
      { class: 'top' },
      h('p', { class: 'brand' }, 'Twinlease'),
      server,
      nav,
      h(
        'div',
        { class: 'right' },
        access,
        live,
        h(
          'button',
          {
            class: 'btn secondary small',
            type: 'button',
            onclick: () => {
              setToken(null);
              loginPage(null);
            },
          },
          'Sign out',
        ),
      ),
    ),
    main,
  );
  return { main, nav, live, server, access };
}

function start(): void {
  const f = frame();
  const show = () => {
    view?.destroy?.();
    view = route();
    fill(f.main, view.el);
    document.title = `${view.title} — ${store.state?.serverName ?? 'Twinlease'}`;
    const section = `#/${location.hash.replace(/^#\/?/, '').split(/[/?]/)[0] || 'overview'}`;
    for (const a of f.nav.querySelectorAll('a')) {
      if (a.getAttribute('href') === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    view.update();
    tickRelativeTimes(f.main);
  };
  window.onhashchange = () => {
    show();
    f.main.focus();
  };
  unsubscribe?.();
  unsubscribe = subscribe(() => {
    const st = store.state;
    if (st !== null) {
      f.server.textContent = `${st.serverName} · v${st.version}`;
      f.access.textContent = st.access === 'write' ? 'operator' : 'read-only';
      f.access.dataset.access = st.access;
      document.title = `${view?.title ?? 'Twinlease'} — ${st.serverName}`;
    }
    view?.update();
    tickRelativeTimes(f.main);
  });
  show();
  stream?.stop();
  stream = openStream('/ui/api/events', {
    onEvent(event, data) {
      if (event === 'snapshot') applySnapshot(data as DashboardSnapshot);
      else if (event === 'update') applyUpdate(data as DashboardUpdate);
    },
    onState(state) {
      store.live = state;
      f.live.dataset.live = state;
      f.live.textContent = state === 'live' ? 'live' : 'reconnecting…';
    },
  });
}

whenUnauthorized(() => {
  setToken(null);
  loginPage('The server refused the token (unknown, removed or rotated). Sign in again.');
});
setInterval(() => {
  tickRelativeTimes(document);
  // Views that draw time axes refresh on their own schedule inside update().
  if (store.state !== null) view?.update();
}, 1000);

if (token() === null) loginPage(null);
else start();
