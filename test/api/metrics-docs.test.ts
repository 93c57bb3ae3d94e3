// Every metric docs/metrics.md documents is in a fresh server's /metrics, before any event, with
// its series where the labels are known: the documented label values at 0 (issue 14: metrics
// were absent until a first event, so dashboards and rate() had nothing to start from).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  freeUdpPort,
  http,
  type MetricFamily,
  parsePrometheusText,
  startTestServer,
  type TestServer,
} from './helpers.js';

const DOC = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');

/** Every metric name the document mentions in backticks (brace lists expanded, labels dropped). */
function documentedNames(): string[] {
  const names = new Set<string>();
  const prose = DOC.replace(/```[\s\S]*?```/g, ''); // code blocks hold expressions, not names
  for (const [, raw] of prose.matchAll(/`([^`]+)`/g)) {
    const text = raw!.replace(/\{[a-z]+\}$/, ''); // `name{space}` → name
    const m = /^([a-z0-9_]*)\{([a-z,]+)\}([a-z0-9_]*)$/.exec(text); // `a_{x,y}_b` → a_x_b, a_y_b
    const expanded = m ? m[2]!.split(',').map((x) => `${m[1]}${x}${m[3]}`) : [text];
    for (const n of expanded) if (/^(twinlease|process|nodejs)_[a-z0-9_]+$/.test(n)) names.add(n);
  }
  return [...names];
}

/** The table row of `metric` (first cell), split into cells. */
function rowOf(metric: string): string[] {
  const line = DOC.split('\n').find((l) => l.startsWith(`| \`${metric}\``));
  assert.ok(line, `docs/metrics.md has a row for ${metric}`);
  return line.split(' | ');
}

/** Backticked plain words of a cell: the label values it lists. */
function wordsIn(cell: string): string[] {
  return [...cell.matchAll(/`([a-zA-Z][a-zA-Z0-9-]*)`/g)].map((m) => m[1]!);
}

function labelValues(f: MetricFamily | undefined, label: string): Set<string> {
  return new Set((f?.samples ?? []).map((s) => s.labels[label]).filter((v): v is string => v !== undefined));
}

describe('a fresh server exports every documented metric', () => {
  let t: TestServer;
  let families: Map<string, MetricFamily>;

  before(async () => {
    const port = await freeUdpPort();
    t = await startTestServer({
      failover: [
        {
          name: 'dc-pair',
          role: 'primary',
          local: { address: '127.0.0.1', port },
          partner: { address: '127.0.0.1', port: port + 1 },
          scopeIds: ['office'],
        },
      ],
    });
    const res = await http<string>(t.baseUrl, '/metrics', { token: null });
    assert.equal(res.status, 200);
    families = parsePrometheusText(res.text);
  });
  after(async () => {
    await t.dispose();
  });

  test('every name, with a sample for every twinlease_ metric', () => {
    const names = documentedNames();
    assert.ok(names.length > 40, `found ${names.length} names in docs/metrics.md`);
    const missing: string[] = [];
    for (const name of names) {
      const family =
        families.get(name) ?? [...families.values()].find((f) => f.samples.some((s) => s.name === name));
      // prom-client's own families may have no sample before their first event (GC durations).
      // A family with an open-ended label (docs: "open-ended label") has no series before its first
      // event; it must still be declared (HELP/TYPE).
      const isOpenEnded = DOC.split('\n').some(
        (l) => l.startsWith(`| \`${name}\``) && l.includes('open-ended label'),
      );
      const isPresent = !name.startsWith('twinlease_')
        ? family !== undefined
        : isOpenEnded
          ? family !== undefined
          : (family?.samples.some((s) => s.name === name || s.name.startsWith(`${name}_`)) ?? false);
      if (!isPresent) missing.push(name);
    }
    assert.deepEqual(missing, [], 'documented but absent from /metrics');
  });

  test('the documented label values are there at 0', () => {
    const check = (metric: string, label: string, cell: number, exclude: string[] = [], row = metric) => {
      const have = labelValues(families.get(metric), label);
      const want = wordsIn(rowOf(row)[cell]!).filter((w) => !exclude.includes(w));
      assert.ok(want.length > 0, `${metric}: values listed`);
      assert.deepEqual(
        want.filter((w) => !have.has(w)),
        [],
        `${metric}{${label}} lacks documented values`,
      );
    };
    check('twinlease_dhcp4_packets_received_total', 'operation', 3);
    check('twinlease_dhcp4_packets_sent_total', 'operation', 3);
    check('twinlease_dhcp4_packets_dropped_total', 'reason', 3, ['stage', 'reason']);
    check('twinlease_dhcp4_replies_failed_total', 'reason', 3);
    check('twinlease_failover_state', 'state', 3, ['state']);
    // "same encoding": the states listed for this server's state.
    check('twinlease_failover_partner_state', 'state', 3, ['state'], 'twinlease_failover_state');
    check('twinlease_failover_events_total', 'counter', 3);
    check('twinlease_failover_listener_connections_total', 'outcome', 3, ['listener', 'address:port']);
    // Dynamic DNS: the counter names of the table, and one series per documented error reason.
    const events = labelValues(families.get('twinlease_events_total'), 'name');
    const ddnsRows = DOC.slice(DOC.indexOf('## Dynamic DNS'))
      .split('\n')
      .filter((l) => l.startsWith('| `ddns-'));
    const want: string[] = [];
    for (const row of ddnsRows) {
      const cells = row.split('|').map((c) => c.trim());
      const name = /`([^`]+)`/.exec(cells[1] ?? '')?.[1] ?? '';
      const meaning = cells[2] ?? '';
      if (name.endsWith(':<reason>')) {
        for (const r of wordsIn(meaning)) want.push(`ddns-update-errors:${r}`);
      } else want.push(name);
    }
    assert.ok(want.length > 10);
    assert.deepEqual(
      want.filter((n) => !events.has(n)),
      [],
      'twinlease_events_total lacks DDNS counters',
    );
  });

  test('nothing has happened: the counters are 0; unknown values are NaN, not 0', () => {
    const received = families.get('twinlease_dhcp4_packets_received_total')!;
    assert.ok(received.samples.every((s) => s.value === 0));
    const skew = families.get('twinlease_failover_clock_skew_seconds')!;
    assert.equal(skew.samples.length, 1);
    assert.ok(Number.isNaN(skew.samples[0]!.value), 'the partner was never heard: skew unknown');
    const partner = families.get('twinlease_failover_partner_state')!;
    assert.ok(
      partner.samples.every((s) => s.value === 0),
      'no partner state reported: none is 1',
    );
  });
});
