/// <reference lib="dom" />
// Overview: operator alerts first, then every relationship with both servers (state, since when,
// why), the link, a state timeline, and the actions a write token may take. With more than one
// relationship (a hub), a filter: text, and "needs attention only".

import type { RelationshipView, ServerView } from '../view.js';
import { errorText, request } from './api.js';
import { stateTimeline } from './charts.js';
import { fill, h } from './dom.js';
import { absolute, span, stateBadge, stateLabel, timeEl } from './format.js';
import { relationshipMatches } from './relationship-filter.js';
import { segmentsOf, store } from './store.js';
import { confirmDialog, keepFocus, type View } from './ui.js';

/** Action results survive redraws (keyed by relationship). */
const results = new Map<string, { ok: boolean; text: string; at: number }>();
const timelineWindow = new Map<string, number>();
let filterText = '';
let onlyAttention = false;

/** `lastHeardAt`: set for the partner's card while it is unreachable (its state is the last known). */
function serverCard(server: ServerView, role: string, lastHeardAt: string | null | undefined): HTMLElement {
  const isStale = lastHeardAt !== undefined && server.state !== null;
  return h(
    'section',
    {
      class: 'server',
      'data-server': server.isThisServer ? 'local' : 'partner',
      'aria-label': `${server.name} (${server.isThisServer ? 'this server' : 'partner'})`,
    },
    h(
      'h3',
      null,
      server.name,
      h('span', { class: 'muted' }, `${role}${server.isThisServer ? ', this server' : ', partner'}`),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'State'),
      h(
        'dd',
        { 'data-field': 'state', 'data-state': server.state ?? 'unknown' },
        stateBadge(server.state),
        isStale
          ? h(
              'span',
              { class: 'stale' },
              'last known, reported before contact was lost; heard ',
              timeEl(lastHeardAt ?? null, 'never'),
            )
          : null,
      ),
      h('dt', null, 'Since'),
      h('dd', null, timeEl(server.since, 'unknown')),
      h('dt', null, 'Why'),
      h(
        'dd',
        { 'data-field': 'why' },
        server.why ?? h('span', { class: 'muted' }, 'unknown'),
        server.whySource === 'derived'
          ? h('span', { class: 'note' }, ' (from the state; the change was not observed)')
          : null,
      ),
      h('dt', null, 'Address'),
      h('dd', null, server.address),
    ),
  );
}

function actions(r: RelationshipView, redraw: () => void): HTMLElement | null {
  const st = store.state!;
  if (st.access !== 'write') return null;
  const f = st.features;
  const me = r.local.name;
  const p = r.partner.name;
  const run = async (label: string, method: string, path: string, describe: (body: unknown) => string) => {
    results.set(r.name, { ok: true, text: `${label}: sending…`, at: Date.now() });
    redraw();
    const answer = await request<unknown>(method, path, method === 'POST' ? {} : undefined);
    results.set(r.name, {
      ok: answer.ok,
      text: answer.ok
        ? `${label}: done. ${describe(answer.body)}`
        : `${label} refused — ${errorText(answer)}`,
      at: Date.now(),
    });
    redraw();
  };
  const buttons: HTMLElement[] = [];
  const notes: string[] = [];
  const base = `/api/v1/failover/relationships/${encodeURIComponent(r.name)}/actions`;
  if (f.partnerDown) {
    const allowed = ['normal', 'communicationsInterrupted', 'resolutionInterrupted'].includes(
      r.local.state ?? '',
    );
    buttons.push(
      h(
        'button',
        {
          class: 'btn danger',
          type: 'button',
          'data-key': `pd:${r.name}`,
          'data-action': 'partner-down',
          disabled: !allowed || !r.isRunning,
          title: allowed
            ? null
            : `Only in normal, communications interrupted or resolution interrupted (now ${stateLabel(r.local.state)})`,
          onclick: () =>
            confirmDialog({
              title: `Declare ${p} down?`,
              body: [
                r.isPartnerReachable
                  ? `${p} is reachable right now (${stateLabel(r.partner.state)}). Declaring it down while it runs is almost never right.`
                  : `${me} has had no contact with ${p} since ${r.lastContactAt === null ? 'it started' : absolute(Date.parse(r.lastContactAt) / 1000)}.`,
                `${me} will answer every client of ${r.name} and, after MCLT (${span(r.mcltSeconds)}), also hand out ${p}'s free addresses.`,
                `Risk: if ${p} is in fact still answering clients (for example only the link between the servers is broken), both servers may give the same address to two clients. Confirm only if ${p} is stopped or cut off from the clients.`,
              ],
              confirm: `Declare ${p} down`,
              danger: true,
            }).then((ok) => {
              if (ok)
                void run('Partner-down', 'POST', `${base}/partner-down`, (b) => {
                  const state = (b as { state?: string } | null)?.state;
                  return state === undefined ? '' : `${me} is now ${state}.`;
                });
            }),
        },
        'Declare partner down…',
      ),
    );
  } else notes.push('Partner-down: this server’s API has no such route.');
  if (f.replicate && r.hasPartnerApi) {
    buttons.push(
      h(
        'button',
        {
          class: 'btn secondary',
          type: 'button',
          'data-key': `rep:${r.name}`,
          'data-action': 'replicate',
          onclick: () =>
            confirmDialog({
              title: `Replicate scope configs to ${p}?`,
              body: [
                `${me} sends its config of scopes ${r.scopeIds.join(', ')} to ${p}'s API, replacing ${p}'s.`,
                `Do this from the server whose config is right.`,
              ],
              confirm: 'Replicate',
              danger: false,
            }).then((ok) => {
              if (ok)
                void run('Replicate config', 'POST', `${base}/replicate`, (b) => {
                  const items =
                    (b as { items?: { scopeId: string; result: string; message: string | null }[] } | null)
                      ?.items ?? [];
                  return items
                    .map((i) => `${i.scopeId}: ${i.result}${i.message === null ? '' : ` (${i.message})`}`)
                    .join('; ');
                });
            }),
        },
        'Replicate config…',
      ),
    );
  } else if (!f.replicate) notes.push('Replicate config: this server’s API has no such route.');
  else notes.push(`Replicate config needs partner.api { url, token } in ${r.name}'s config.`);
  if (f.resync) {
    buttons.push(
      h(
        'button',
        {
          class: 'btn secondary',
          type: 'button',
          'data-key': `rs:${r.name}`,
          'data-action': 'resync',
          onclick: () => void run('Resync', 'POST', `${base}/resync`, () => ''),
        },
        'Resync',
      ),
    );
  } else notes.push('Resync: not offered by the API in this version.');
  const res = results.get(r.name);
  return h(
    'div',
    null,
    h('h3', null, 'Actions'),
    h('div', { class: 'actions' }, buttons),
    notes.length === 0 ? null : h('p', { class: 'note' }, notes.join(' ')),
    res === undefined
      ? null
      : h('p', { class: 'result', role: 'status', 'data-ok': String(res.ok) }, res.text),
  );
}

function relationshipCard(r: RelationshipView, redraw: () => void): HTMLElement {
  const now = store.state!.nowSeconds;
  const win = timelineWindow.get(r.name) ?? 3600;
  const [primary, secondary] = r.role === 'primary' ? [r.local, r.partner] : [r.partner, r.local];
  const selectId = `win-${r.name}`;
  return h(
    'section',
    { class: 'card', 'data-relationship': r.name, 'aria-labelledby': `rel-${r.name}` },
    h('h2', { id: `rel-${r.name}` }, `Relationship ${r.name}`),
    h(
      'p',
      { class: 'muted' },
      `${r.mode === 'loadBalance' ? 'Load balance' : 'Hot standby'}, MCLT ${span(r.mcltSeconds)}, scopes ${r.scopeIds.join(', ')}, `,
      r.autoStateTransition
        ? `automatic partner-down after ${span(r.stateSwitchIntervalSeconds ?? 0)}`
        : 'no automatic partner-down',
      r.isRunning ? '' : ' — not running (see the server log)',
    ),
    h(
      'div',
      { class: 'servers' },
      serverCard(
        primary,
        'primary',
        !primary.isThisServer && !r.isPartnerReachable ? r.lastContactAt : undefined,
      ),
      serverCard(
        secondary,
        'secondary',
        !secondary.isThisServer && !r.isPartnerReachable ? r.lastContactAt : undefined,
      ),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Partner'),
      h(
        'dd',
        { 'data-field': 'reachable' },
        r.isPartnerReachable ? 'reachable (connected)' : h('strong', null, 'unreachable'),
      ),
      h('dt', null, 'Last contact'),
      h('dd', null, timeEl(r.lastContactAt, 'never')),
      h('dt', null, 'Unacked updates'),
      h('dd', { 'data-field': 'unacked' }, `${r.unackedUpdates} (queued ${r.queuedUpdates})`),
      h('dt', null, 'Clock skew'),
      h(
        'dd',
        null,
        r.clockSkewSeconds === null
          ? 'unknown'
          : `${r.clockSkewSeconds} s (limit ${r.maxClockSkewSeconds} s)`,
      ),
      r.partnerDownAt === null
        ? null
        : [h('dt', null, 'Automatic partner-down'), h('dd', null, timeEl(r.partnerDownAt))],
      r.partnerPoolUsableAt === null
        ? null
        : [h('dt', null, "Partner's pool usable"), h('dd', null, timeEl(r.partnerPoolUsableAt))],
      h('dt', null, 'Config same as partner'),
      h(
        'dd',
        null,
        r.configurationDiffers === null
          ? 'unknown (no partner.api or no answer)'
          : r.configurationDiffers
            ? h('strong', null, 'no, it differs')
            : 'yes',
      ),
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('h3', null, 'State timeline'),
      h(
        'label',
        { for: selectId },
        'Window',
        h(
          'select',
          {
            id: selectId,
            'data-key': `win:${r.name}`,
            onchange: (e: Event) => {
              timelineWindow.set(r.name, Number((e.target as HTMLSelectElement).value));
              redraw();
            },
          },
          [900, 3600, 3 * 3600, 6 * 3600].map((x) =>
            h('option', { value: x, selected: x === win }, `last ${span(x)}`),
          ),
        ),
      ),
    ),
    stateTimeline(segmentsOf(r.name), now - win, now, { local: r.local.name, partner: r.partner.name }),
    actions(r, redraw),
  );
}

export function overviewView(): View {
  const alerts = h('ul', { class: 'alerts', 'aria-live': 'polite' });
  const rels = h('div');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const toolbar = h(
    'div',
    { class: 'toolbar', hidden: true },
    h(
      'label',
      { for: 'relationship-filter' },
      'Filter',
      h('input', {
        id: 'relationship-filter',
        type: 'search',
        value: filterText,
        placeholder: 'name, server, address, scope, state',
        oninput: (e: Event) => {
          filterText = (e.target as HTMLInputElement).value;
          draw(true);
        },
      }),
    ),
    h(
      'label',
      { for: 'relationship-attention' },
      h('input', {
        id: 'relationship-attention',
        type: 'checkbox',
        checked: onlyAttention,
        onchange: (e: Event) => {
          onlyAttention = (e.target as HTMLInputElement).checked;
          draw(true);
        },
      }),
      'Needs attention only',
    ),
  );
  const el = h(
    'div',
    null,
    h('h1', null, 'Overview'),
    h('section', { 'aria-label': 'Alerts' }, alerts),
    toolbar,
    count,
    rels,
  );
  let lastAlerts = '';
  let lastRels = '';
  let lastDrawAt = 0;
  const draw = (force: boolean) => {
    const st = store.state;
    if (st === null) return;
    const a = JSON.stringify(st.alerts);
    if (a !== lastAlerts) {
      lastAlerts = a;
      keepFocus(alerts, () =>
        fill(
          alerts,
          st.alerts.length === 0
            ? h('li', { class: 'noalerts' }, 'No alerts: nothing needs an operator now.')
            : st.alerts.map((x) =>
                h(
                  'li',
                  { class: 'alert', 'data-severity': x.severity, 'data-alert': x.id },
                  h(
                    'div',
                    { class: 'title' },
                    `${x.severity === 'critical' ? 'Critical' : x.severity === 'warning' ? 'Warning' : 'Note'}: ${x.title}`,
                  ),
                  h('div', null, x.detail),
                  h('div', { class: 'next' }, h('strong', null, 'Next: '), x.action),
                ),
              ),
        ),
      );
    }
    // The timeline moves with time: redraw at least every 30 s even when nothing changed.
    const r = JSON.stringify([
      st.relationships,
      st.access,
      st.features,
      store.states.length,
      [...results.values()],
    ]);
    if (force || r !== lastRels || Date.now() - lastDrawAt > 30000) {
      lastRels = r;
      lastDrawAt = Date.now();
      const isHub = st.relationships.length > 1;
      toolbar.hidden = !isHub;
      const shown = isHub
        ? st.relationships.filter((x) => relationshipMatches(x, filterText, onlyAttention))
        : st.relationships;
      count.textContent = isHub ? `${shown.length} of ${st.relationships.length} relationships` : '';
      keepFocus(rels, () =>
        fill(
          rels,
          st.relationships.length === 0
            ? h(
                'section',
                { class: 'card' },
                h('h2', null, 'No failover relationship'),
                h('p', null, `${st.serverName} runs standalone.`),
              )
            : shown.map((x) => relationshipCard(x, () => draw(true))),
        ),
      );
    }
  };
  return { el, title: 'Overview', update: () => draw(false) };
}
