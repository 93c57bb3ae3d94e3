// Summary of a V8 .cpuprofile (node --cpu-prof): self time and total (inclusive) time per function,
// largest first, optionally only for samples up to a time offset (e.g. start-up until serving).
//
//   node --import tsx bench/lib/profile-summary.ts FILE.cpuprofile [--top 30] [--from-s 1] [--until-s 5.2]

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    'from-s': { type: 'string' },
    'until-s': { type: 'string' },
  },
});
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n: ProfileNode) => {
  const f = n.callFrame;
  const file = f.url.replace(/^.*\/(src|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
};
const until = values['until-s'] === undefined ? Number.POSITIVE_INFINITY : Number(values['until-s']) * 1e6;
const from = values['from-s'] === undefined ? 0 : Number(values['from-s']) * 1e6;
const self = new Map<string, number>();
const total = new Map<string, number>();
let t = 0;
let sum = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  if (t > until) break;
  if (t < from) continue;
  const leaf = byId.get(profile.samples[i]!)!;
  sum += dt;
  self.set(name(leaf), (self.get(name(leaf)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
    const k = name(byId.get(id)!);
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + dt);
  }
}
const top = Number(values.top);
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (of ${(sum / 1e6).toFixed(2)} s sampled)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(v / 1e6).toFixed(3).padStart(8)} s ${((100 * v) / sum).toFixed(1).padStart(5)} %  ${k}`);
  }
};
show('self time', self);
show('total time', total);
