/// <reference lib="dom" />
// Scopes: the seven DHCP_FAILOVER_STATISTICS numbers (seed 000) per scope, a bar split this server /
// partner / free, sortable and filtered; one scope with its chart of the last hours.

import type { ScopeView } from '../view.js';
import { SCOPE_SERIES, scopeChart } from './charts.js';
import { fill, h } from './dom.js';
import { span } from './format.js';
import { store } from './store.js';
import { keepFocus, type View } from './ui.js';

type Key =
  | 'scopeId'
  | 'subnet'
  | 'relationship'
  | 'numAddr'
  | 'addrInUse'
  | 'addrFree'
  | 'thisAddrInUse'
  | 'partnerAddrInUse'
  | 'thisAddrFree'
  | 'partnerAddrFree'
  | 'percentageInUse';

const COLUMNS: { key: Key; label: string; num: boolean; narrow?: boolean }[] = [
  { key: 'scopeId', label: 'Scope', num: false },
  { key: 'subnet', label: 'Subnet', num: false, narrow: true },
  { key: 'relationship', label: 'Relationship', num: false, narrow: true },
  { key: 'numAddr', label: 'Addresses', num: true },
  { key: 'addrInUse', label: 'In use', num: true },
  { key: 'addrFree', label: 'Free', num: true },
  { key: 'thisAddrInUse', label: 'In use here', num: true, narrow: true },
  { key: 'partnerAddrInUse', label: 'In use partner', num: true, narrow: true },
  { key: 'thisAddrFree', label: 'Free here', num: true, narrow: true },
  { key: 'partnerAddrFree', label: 'Free partner', num: true, narrow: true },
  { key: 'percentageInUse', label: '% in use', num: true },
];

/** The use bar: this server's and the partner's leases, their free addresses, and the rest. */
export function useBar(s: ScopeView): HTMLElement {
  const total = Math.max(1, s.numAddr);
  const other = s.numAddr - s.thisAddrInUse - s.partnerAddrInUse - s.thisAddrFree - s.partnerAddrFree;
  const parts = [
    ...SCOPE_SERIES.map((d) => ({ cls: d.cls, value: s[d.key], label: d.label })),
    { cls: 'other', value: other, label: 'abandoned or awaiting ack' },
  ];
  const text =
    parts
      .filter((p) => p.value > 0)
      .map((p) => `${p.value} ${p.label}`)
      .join(', ') || 'no addresses';
  const bar = h('div', {
    class: 'bar',
    role: 'img',
    'aria-label': `${s.scopeId}: ${text} (of ${s.numAddr})`,
    title: text,
  });
  for (const p of parts) {
    if (p.value <= 0) continue;
    const seg = h('span', { class: p.cls });
    seg.style.width = `${(100 * p.value) / total}%`;
    bar.appendChild(seg);
  }
  return bar;
}

let sortKey: Key = 'scopeId';
let sortDescending = false;
let filterText = '';

export function scopesView(): View {
  const tbody = h('tbody');
  const headRow = h('tr');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const filter = h('input', {
    id: 'scope-filter',
    type: 'search',
    value: filterText,
    placeholder: 'id, name, subnet, relationship',
    oninput: (e: Event) => {
      filterText = (e.target as HTMLInputElement).value;
      draw(true);
    },
  });
  const el = h(
    'div',
    null,
    h('h1', null, 'Scopes'),
    h('div', { class: 'toolbar' }, h('label', { for: 'scope-filter' }, 'Filter', filter)),
    h(
      'ul',
      { class: 'legend', 'aria-label': 'Bar colours' },
      SCOPE_SERIES.map((d) =>
        h('li', null, h('span', { class: `sw ${d.cls}`, 'aria-hidden': 'true' }), d.label),
      ),
      h('li', null, h('span', { class: 'sw other', 'aria-hidden': 'true' }), 'abandoned or awaiting ack'),
    ),
    count,
    h(
      'div',
      { class: 'table-wrap card' },
      h(
        'table',
        null,
        h('caption', { class: 'muted' }, 'Scope statistics (DHCP_FAILOVER_STATISTICS)'),
        h('thead', null, headRow),
        tbody,
      ),
    ),
  );
  let last = '';
  const draw = (force: boolean) => {
    const st = store.state;
    if (st === null) return;
    const key = JSON.stringify([st.scopes, sortKey, sortDescending, filterText]);
    if (!force && key === last) return;
    last = key;
    keepFocus(headRow, () =>
      fill(
        headRow,
        COLUMNS.map((c) =>
          h(
            'th',
            {
              scope: 'col',
              class: `${c.num ? 'num' : ''}${c.narrow ? ' hide-narrow' : ''}`,
              'aria-sort': c.key === sortKey ? (sortDescending ? 'descending' : 'ascending') : null,
            },
            h(
              'button',
              {
                class: 'sort',
                type: 'button',
                'data-key': `sort:${c.key}`,
                onclick: () => {
                  if (sortKey === c.key) sortDescending = !sortDescending;
                  else {
                    sortKey = c.key;
                    sortDescending = c.num;
                  }
                  draw(true);
                },
              },
              c.label,
              c.key === sortKey ? (sortDescending ? ' ▼' : ' ▲') : '',
            ),
          ),
        ).concat(h('th', { scope: 'col' }, 'Use')),
      ),
    );
    const needle = filterText.trim().toLowerCase();
    const rows = st.scopes
      .filter(
        (s) =>
          needle === '' ||
          [s.scopeId, s.name ?? '', s.subnet, s.relationship ?? ''].some((x) =>
            x.toLowerCase().includes(needle),
          ),
      )
      .sort((a, b) => {
        const x = a[sortKey] ?? '';
        const y = b[sortKey] ?? '';
        const c =
          typeof x === 'number' && typeof y === 'number'
            ? x - y
            : String(x).localeCompare(String(y), undefined, { numeric: true });
        return sortDescending ? -c : c;
      });
    count.textContent = `${rows.length} of ${st.scopes.length} scopes`;
    fill(
      tbody,
      rows.map((s) =>
        h(
          'tr',
          { 'data-scope': s.scopeId },
          COLUMNS.map((c) => {
            const v = s[c.key];
            const cls = `${c.num ? 'num' : ''}${c.narrow ? ' hide-narrow' : ''}`;
            if (c.key === 'scopeId')
              return h(
                'th',
                { scope: 'row' },
                h('a', { href: `#/scopes/${encodeURIComponent(s.scopeId)}` }, s.name ?? s.scopeId),
              );
            return h(
              'td',
              { class: cls },
              v === null ? '—' : c.key === 'percentageInUse' ? `${v} %` : String(v),
            );
          }),
          h('td', null, useBar(s)),
        ),
      ),
    );
  };
  return { el, title: 'Scopes', update: () => draw(false) };
}

const chartWindow = { seconds: 3 * 3600 };

export function scopeDetailView(scopeId: string): View {
  const body = h('div');
  const el = h('div', null, h('p', null, h('a', { href: '#/scopes' }, '← All scopes')), body);
  let last = '';
  let lastAt = 0;
  const draw = (force: boolean) => {
    const st = store.state;
    if (st === null) return;
    const s = st.scopes.find((x) => x.scopeId === scopeId);
    const samples = store.scopes[scopeId] ?? [];
    const key = JSON.stringify([s, samples.length, chartWindow.seconds]);
    if (!force && key === last && Date.now() - lastAt < 30000) return;
    last = key;
    lastAt = Date.now();
    if (s === undefined) {
      fill(
        body,
        h('h1', null, `Scope ${scopeId}`),
        h('p', { class: 'error' }, 'This server has no such scope.'),
      );
      return;
    }
    const stat = (k: string, v: number, label: string) =>
      h('div', { 'data-stat': k }, h('div', { class: 'v' }, v), h('div', { class: 'k' }, label));
    keepFocus(body, () =>
      fill(
        body,
        h('h1', null, `Scope ${s.name ?? s.scopeId}`),
        h(
          'p',
          { class: 'muted' },
          `${s.subnet}${s.relationship === null ? ', standalone' : `, relationship ${s.relationship} (this server is ${s.role})`}${s.description ? ` — ${s.description}` : ''}`,
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'stats-h' },
          h('h2', { id: 'stats-h' }, 'Failover statistics'),
          h(
            'div',
            { class: 'stats7' },
            stat('numAddr', s.numAddr, 'addresses (numAddr)'),
            stat('addrInUse', s.addrInUse, 'in use (addrInUse)'),
            stat('addrFree', s.addrFree, 'free (addrFree)'),
            stat('thisAddrInUse', s.thisAddrInUse, 'in use, this server'),
            stat('partnerAddrInUse', s.partnerAddrInUse, 'in use, partner'),
            stat('thisAddrFree', s.thisAddrFree, 'free, this server'),
            stat('partnerAddrFree', s.partnerAddrFree, 'free, partner'),
          ),
          useBar(s),
          h(
            'p',
            { class: 'note' },
            `Also: ${s.pendingOffers} pending offers, ${s.reservedAddresses} reserved, ${s.addrAbandoned} abandoned, ${s.addrAwaitingAck} awaiting the partner's ack; ${s.percentageInUse} % in use.`,
          ),
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'hist-h' },
          h(
            'div',
            { class: 'toolbar' },
            h('h2', { id: 'hist-h' }, 'History'),
            h(
              'label',
              { for: 'scope-win' },
              'Window',
              h(
                'select',
                {
                  id: 'scope-win',
                  'data-key': 'scope-win',
                  onchange: (e: Event) => {
                    chartWindow.seconds = Number((e.target as HTMLSelectElement).value);
                    draw(true);
                  },
                },
                [900, 3600, 3 * 3600, 6 * 3600].map((x) =>
                  h('option', { value: x, selected: x === chartWindow.seconds }, `last ${span(x)}`),
                ),
              ),
            ),
          ),
          // The chart ends with the numbers of now, not those of the last 15 s sample.
          scopeChart(
            [
              ...samples.filter((x) => x.atSeconds < st.nowSeconds),
              {
                atSeconds: st.nowSeconds,
                numAddr: s.numAddr,
                thisAddrInUse: s.thisAddrInUse,
                partnerAddrInUse: s.partnerAddrInUse,
                thisAddrFree: s.thisAddrFree,
                partnerAddrFree: s.partnerAddrFree,
              },
            ],
            st.nowSeconds - chartWindow.seconds,
            st.nowSeconds,
          ),
        ),
        h(
          'p',
          null,
          h(
            'a',
            { href: `#/leases?scope=${encodeURIComponent(s.scopeId)}` },
            `Leases in ${s.name ?? s.scopeId}`,
          ),
        ),
      ),
    );
  };
  return { el, title: `Scope ${scopeId}`, update: () => draw(false) };
}
