/// <reference lib="dom" />
// Leases: search by IP, MAC or host name through the API (GET /api/v1/leases), and one lease with
// every DHCPV4_FAILOVER_CLIENT_INFO field (seed 001), the failover times absolute and relative.

import type { Lease } from '../../api/schemas.js';
import { errorText, request } from './api.js';
import { type Child, fill, h } from './dom.js';
import { timeEl } from './format.js';
import type { View } from './ui.js';

type By = 'auto' | 'ip' | 'mac' | 'hostname';

const IP = /^\d{1,3}(\.\d{1,3}){3}$/;
const MAC = /^([0-9a-f]{2}[:-]?){5}[0-9a-f]{2}$/i;

export function searchParams(by: By, text: string, scope: string | null): URLSearchParams {
  const q = new URLSearchParams();
  const t = text.trim();
  const kind: By = by !== 'auto' ? by : IP.test(t) ? 'ip' : MAC.test(t) ? 'mac' : 'hostname';
  if (t !== '') q.set(kind, t);
  if (scope !== null) q.set('scope', scope);
  q.set('limit', '200');
  return q;
}

export function leasesView(params: URLSearchParams): View {
  const by = (params.get('by') as By | null) ?? 'auto';
  const text = params.get('q') ?? '';
  const scope = params.get('scope');
  const results = h('div', { 'aria-live': 'polite' });
  const input = h('input', {
    id: 'lease-q',
    name: 'q',
    type: 'search',
    value: text,
    placeholder: '192.168.77.120, aa:bb:cc:dd:ee:ff or host',
    autocomplete: 'off',
  });
  const select = h(
    'select',
    { id: 'lease-by', name: 'by' },
    (['auto', 'ip', 'mac', 'hostname'] as const).map((x) =>
      h(
        'option',
        { value: x, selected: x === by },
        { auto: 'guess', ip: 'IP address', mac: 'MAC address', hostname: 'host name' }[x],
      ),
    ),
  );
  const form = h(
    'form',
    {
      class: 'toolbar',
      role: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const q = new URLSearchParams({ q: input.value, by: select.value });
        if (scope !== null) q.set('scope', scope);
        location.hash = `#/leases?${q}`;
      },
    },
    h('label', { for: 'lease-q' }, 'IP, MAC or host name', input),
    h('label', { for: 'lease-by' }, 'Search by', select),
    h('button', { class: 'btn', type: 'submit' }, 'Search'),
  );
  const el = h(
    'div',
    null,
    h('h1', null, 'Leases'),
    form,
    scope === null ? null : h('p', { class: 'muted' }, `In scope ${scope}.`),
    results,
  );
  const load = async () => {
    fill(results, h('p', { class: 'muted' }, 'Searching…'));
    const answer = await request<{ items: Lease[]; total: number }>(
      'GET',
      `/api/v1/leases?${searchParams(by, text, scope)}`,
    );
    if (!answer.ok) {
      fill(results, h('p', { class: 'error' }, errorText(answer)));
      return;
    }
    const { items, total } = answer.body as { items: Lease[]; total: number };
    fill(
      results,
      h(
        'p',
        { class: 'muted' },
        text.trim() === ''
          ? `${total} client leases${total > items.length ? `, first ${items.length}` : ''}.`
          : `${total} found.`,
      ),
      items.length === 0
        ? null
        : h(
            'div',
            { class: 'table-wrap card' },
            h(
              'table',
              null,
              h('caption', { class: 'muted' }, 'Leases'),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['IP address', 'MAC address', 'Host name', 'State', 'Expires', 'Owner'].map((x, i) =>
                    h('th', { scope: 'col', class: i >= 4 ? 'hide-narrow' : null }, x),
                  ),
                ),
              ),
              h(
                'tbody',
                null,
                items.map((l) =>
                  h(
                    'tr',
                    { 'data-lease': l.ipAddress },
                    h('th', { scope: 'row' }, h('a', { href: `#/leases/${l.ipAddress}` }, l.ipAddress)),
                    h('td', null, l.hardwareAddress.mac ?? '—'),
                    h('td', null, l.hostname ?? '—'),
                    h(
                      'td',
                      null,
                      `${l.bindingState}${l.addressState === null ? '' : ` (${l.addressState})`}`,
                    ),
                    h('td', { class: 'hide-narrow' }, l.leaseInfinite ? 'never' : timeEl(l.leaseExpiresAt)),
                    h('td', { class: 'hide-narrow' }, l.ownerServer.name ?? '—'),
                  ),
                ),
              ),
            ),
          ),
    );
  };
  void load();
  return { el, title: 'Leases', update: () => {} };
}

function yesNo(v: boolean): string {
  return v ? 'yes' : 'no';
}

function group(title: string, rows: [string, string, Child][]): HTMLElement {
  return h(
    'section',
    { class: 'card', 'aria-label': title },
    h('h2', null, title),
    h(
      'dl',
      { class: 'facts' },
      rows.map(([field, label, value]) => [
        h('dt', null, label, ' ', h('span', { class: 'note' }, `(${field})`)),
        h(
          'dd',
          { 'data-field': field },
          value === null || value === '' ? h('span', { class: 'muted' }, '—') : value,
        ),
      ]),
    ),
  );
}

export function leaseDetail(l: Lease): HTMLElement[] {
  const t = (iso: string | null, empty = '—') => timeEl(iso, empty);
  return [
    group('Client', [
      ['ipAddress', 'IP address', l.ipAddress],
      ['scopeId', 'Scope', h('a', { href: `#/scopes/${encodeURIComponent(l.scopeId)}` }, l.scopeId)],
      ['subnetMask', 'Subnet mask', l.subnetMask],
      [
        'hardwareAddress',
        'Hardware address',
        `${l.hardwareAddress.mac ?? 'none'} (htype ${l.hardwareAddress.htype})`,
      ],
      ['clientId', 'Client id', l.clientId],
      ['hostname', 'Host name', l.hostname],
      ['description', 'Description', l.description],
      ['fqdn', 'FQDN', l.fqdn],
      ['clientType', 'Client type', l.clientType],
      ['reserved', 'Reservation', yesNo(l.reserved)],
      ['policyName', 'Policy', l.policyName],
    ]),
    group('Lease', [
      ['bindingState', 'Binding state (D12)', l.bindingState],
      ['addressState', 'Address state', l.addressState],
      ['leaseExpiresAt', 'Expires', l.leaseInfinite ? 'never (infinite lease)' : t(l.leaseExpiresAt)],
      ['leaseInfinite', 'Infinite', yesNo(l.leaseInfinite)],
      [
        'ownerServer',
        'Granted by',
        l.ownerServer.name === null
          ? null
          : `${l.ownerServer.name}${l.ownerServer.address === null ? '' : ` (${l.ownerServer.address})`}`,
      ],
      ['stateStartedAt', 'In this state since', t(l.stateStartedAt)],
      ['clientLastTransactionAt', 'Client last heard', t(l.clientLastTransactionAt)],
      ['offerExpiresAt', 'Offer lapses', t(l.offerExpiresAt)],
    ]),
    group('Failover', [
      ['sentPotentialExpiresAt', 'Potential expiry sent to partner', t(l.sentPotentialExpiresAt)],
      ['ackedPotentialExpiresAt', 'Potential expiry acked by partner', t(l.ackedPotentialExpiresAt)],
      [
        'receivedPotentialExpiresAt',
        'Potential expiry received from partner',
        t(l.receivedPotentialExpiresAt),
      ],
      ['lastBindingUpdateAt', 'Last binding update', t(l.lastBindingUpdateAt)],
      ['partnerUpToDate', 'Partner up to date', yesNo(l.partnerUpToDate)],
    ]),
    group('Name protection, DNS and NAP', [
      ['dhcidMode', 'DHCID', l.dhcidMode],
      [
        'dns',
        'DNS',
        `cleanup on delete ${yesNo(l.dns.cleanupOnDelete)}, both records ${yesNo(l.dns.updateBothRecords)}, registration pending ${yesNo(l.dns.registrationPending)}, removal pending ${yesNo(l.dns.removalPending)}`,
      ],
      ['napStatus', 'NAP status', l.napStatus],
      ['napCapable', 'NAP capable', yesNo(l.napCapable)],
      ['probationEndsAt', 'Probation ends', t(l.probationEndsAt)],
    ]),
  ];
}

export function leaseDetailView(ip: string): View {
  const body = h('div', { 'aria-live': 'polite' });
  const refresh = h(
    'button',
    { class: 'btn secondary small', type: 'button', onclick: () => void load() },
    'Refresh',
  );
  const el = h(
    'div',
    null,
    h('p', null, h('a', { href: '#/leases' }, '← Lease search')),
    h('h1', null, `Lease ${ip}`),
    refresh,
    body,
  );
  const load = async () => {
    const answer = await request<Lease>('GET', `/api/v1/leases/${encodeURIComponent(ip)}`);
    if (!answer.ok) {
      fill(
        body,
        h(
          'p',
          { class: 'error' },
          answer.status === 404 ? `No lease record for ${ip} on this server.` : errorText(answer),
        ),
      );
      return;
    }
    const l = answer.body as Lease;
    fill(
      body,
      h('p', null, `${l.hostname ?? l.hardwareAddress.mac ?? 'no client'} — ${l.bindingState}`),
      leaseDetail(l),
    );
  };
  void load();
  return { el, title: `Lease ${ip}`, update: () => {} };
}
