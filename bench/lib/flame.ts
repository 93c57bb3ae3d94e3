// A V8 .cpuprofile (node --cpu-prof) as a flame graph: one self-contained SVG (no script, no
// external font or style), each frame named with its share of the window, a tooltip per frame
// (<title>), colours by category, and a legend with each category's share. Also prints the top
// self-time and total-time functions and the categories as text (for bench/profiles/README.md).
//
//   node --import tsx bench/lib/flame.ts FILE.cpuprofile --out FILE.svg [--title "…"]
//        [--window-fn onDatagram] [--from-s 2 --until-s 20] [--top 25] [--commit-fn flush]
//
// The window: by default from the first to the last sample whose stack holds --window-fn (the DHCP
// service's entry point), i.e. the load, without start-up and stop. Samples of "(idle)" are the
// event loop waiting for input; they are left out of the graph and its percentages, which are of
// the main thread's busy time (running JavaScript, native code, GC, or blocked in a system call
// such as fsync: V8 samples wall time on the main thread). The share of the window spent idle,
// and the time under --commit-fn (the lease store's group commit, SQLite and its fsync: the time
// the event loop is blocked by a commit), are in the title line and the text summary.

import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** What a frame's time is spent on, for the colours, the legend and the summary. */
export type Category =
  | 'gc'
  | 'sqlite'
  | 'codec'
  | 'engine'
  | 'lease-table'
  | 'logging'
  | 'timers'
  | 'json'
  | 'buffer'
  | 'socket'
  | 'counters'
  | 'service'
  | 'app'
  | 'node'
  | 'program'
  | 'other';

const COLOURS: Record<Category, string> = {
  gc: '#d62728',
  sqlite: '#1f77b4',
  codec: '#2ca02c',
  engine: '#ff7f0e',
  'lease-table': '#e6b422',
  logging: '#9467bd',
  timers: '#8c564b',
  json: '#e377c2',
  buffer: '#17becf',
  socket: '#7f7f7f',
  counters: '#bcbd22',
  service: '#f4a582',
  app: '#fdd0a2',
  node: '#c7c7c7',
  program: '#a0a0a0',
  other: '#dddddd',
};

const SQLITE_FUNCTIONS = new Set(['run', 'get', 'all', 'iterate', 'exec', 'pragma', 'transaction']);

/** The category of one frame, or null when the frame says nothing (then its caller's counts). */
export function categoryOf(f: CallFrame): Category | null {
  const name = f.functionName;
  const url = f.url;
  if (name === '(garbage collector)') return 'gc';
  if (name === '(program)') return 'program';
  if (url.includes('better-sqlite3') || url.includes('/leases/sqlite-store')) return 'sqlite';
  if (url === '' && SQLITE_FUNCTIONS.has(name)) return 'sqlite';
  if (url.includes('/wire/')) return 'codec';
  if (url.includes('/dhcp/lease-table')) return 'lease-table';
  if (url.includes('/dhcp/')) return 'engine';
  if (url.includes('pino') || url.includes('sonic-boom') || url.includes('/server/logger')) return 'logging';
  if (url.includes('/server/counters') || url.includes('prom-client')) return 'counters';
  if (url.includes('/server/dhcp-service') || url.includes('/server/dhcp-transport')) return 'service';
  if (url.includes('/server/dhcp-sockets') || url.includes('dgram') || name === 'onMessage') return 'socket';
  if (url.includes('internal/timers') || name === 'processImmediate' || name === 'listOnTimeout')
    return 'timers';
  if (name === 'stringify' || name === 'parse' || name.startsWith('JSON')) return 'json';
  if (url.includes('buffer') || name === 'allocUnsafe' || name === 'Buffer') return 'buffer';
  if (url.startsWith('node:')) return 'node';
  if (url.includes('/dist/') || url.includes('/src/')) return 'app';
  return null;
}

interface Options {
  title: string;
  windowFn: string;
  fromS?: number;
  untilS?: number;
  commitFn: string;
  top: number;
}

interface Tree {
  name: string;
  category: Category;
  total: number;
  self: number;
  children: Map<string, Tree>;
}

export interface FlameResult {
  svg: string;
  text: string;
}

const frameName = (f: CallFrame) => {
  const file = f.url.replace(/^.*\/(src|dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
  const fn = f.functionName || '(anonymous)';
  return file === '' ? fn : `${fn} ${file}:${f.lineNumber + 1}`;
};

export function flame(profile: Profile, opts: Options): FlameResult {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (leafId: number): ProfileNode[] => {
    const s: ProfileNode[] = [];
    for (let id: number | undefined = leafId; id !== undefined; id = parent.get(id)) s.push(byId.get(id)!);
    return s.reverse().slice(1); // root first, without V8's "(root)"
  };
  // Sample times: V8 gives the delta before each sample; a sample's weight is the time to the next.
  const times: number[] = [];
  let t = 0;
  for (const d of profile.timeDeltas) {
    t += d;
    times.push(t);
  }
  const weight = (i: number) =>
    i + 1 < times.length ? times[i + 1]! - times[i]! : profile.endTime - profile.startTime - times[i]!;
  let from = 0;
  let until = Number.POSITIVE_INFINITY;
  if (opts.fromS !== undefined || opts.untilS !== undefined) {
    from = (opts.fromS ?? 0) * 1e6;
    until = opts.untilS === undefined ? until : opts.untilS * 1e6;
  } else if (opts.windowFn !== '') {
    let first = -1;
    let last = -1;
    const hasFn = new Map<number, boolean>();
    const holds = (id: number): boolean => {
      let h = hasFn.get(id);
      if (h === undefined) {
        const n = byId.get(id)!;
        const p = parent.get(id);
        h = n.callFrame.functionName === opts.windowFn || (p !== undefined && holds(p));
        hasFn.set(id, h);
      }
      return h;
    };
    for (let i = 0; i < profile.samples.length; i++) {
      if (holds(profile.samples[i]!)) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first >= 0) {
      from = times[first]!;
      until = times[last]!;
    }
  }
  const root: Tree = { name: 'all', category: 'other', total: 0, self: 0, children: new Map() };
  // The same without the samples under the commit: the rest at a readable width.
  const rest: Tree = {
    name: 'all but the lease commit',
    category: 'other',
    total: 0,
    self: 0,
    children: new Map(),
  };
  const selfByFn = new Map<string, number>();
  const totalByFn = new Map<string, number>();
  const byCategory = new Map<Category, number>();
  let idle = 0;
  let busy = 0;
  let commit = 0;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    if (times[i]! < from || times[i]! > until) continue;
    const w = weight(i);
    windowUs += w;
    const stack = stackOf(profile.samples[i]!);
    const leaf = stack[stack.length - 1];
    if (leaf === undefined || leaf.callFrame.functionName === '(idle)') {
      idle += w;
      continue;
    }
    busy += w;
    let category: Category = 'other';
    const seen = new Set<string>();
    let isCommit = false;
    for (const n of stack) {
      const name = frameName(n.callFrame);
      if (n.callFrame.functionName === opts.commitFn && n.callFrame.url.includes('sqlite-store'))
        isCommit = true;
      if (!seen.has(name)) {
        seen.add(name);
        totalByFn.set(name, (totalByFn.get(name) ?? 0) + w);
      }
    }
    for (const tree of isCommit ? [root] : [root, rest]) {
      let node = tree;
      node.total += w;
      category = 'other';
      for (const n of stack) {
        const name = frameName(n.callFrame);
        category = categoryOf(n.callFrame) ?? category;
        let child = node.children.get(name);
        if (child === undefined) {
          child = { name, category, total: 0, self: 0, children: new Map() };
          node.children.set(name, child);
        }
        child.total += w;
        node = child;
      }
      node.self += w;
    }
    const leafName = frameName(leaf.callFrame);
    selfByFn.set(leafName, (selfByFn.get(leafName) ?? 0) + w);
    // A commit's samples are SQLite's whatever the leaf (better-sqlite3's native calls have no URL).
    const leafCategory = isCommit && (category === 'other' || category === 'node') ? 'sqlite' : category;
    byCategory.set(leafCategory, (byCategory.get(leafCategory) ?? 0) + w);
    if (isCommit) commit += w;
  }
  const pct = (v: number) => (busy > 0 ? (100 * v) / busy : 0);
  const windowS = windowUs / 1e6;
  const summary =
    `window ${windowS.toFixed(2)} s: main thread busy ${((100 * busy) / windowUs).toFixed(1)} % ` +
    `(idle ${((100 * idle) / windowUs).toFixed(1)} %), in the lease commit ${((100 * commit) / windowUs).toFixed(1)} % ` +
    `of the window (${pct(commit).toFixed(1)} % of busy)`;

  const lines: string[] = [opts.title, summary, '', 'categories (self time, % of busy):'];
  for (const [c, v] of [...byCategory].sort((a, b) => b[1] - a[1])) {
    lines.push(`${pct(v).toFixed(1).padStart(6)} %  ${c}`);
  }
  const top = (title: string, m: Map<string, number>) => {
    lines.push('', `${title} (% of busy):`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, opts.top)) {
      lines.push(`${pct(v).toFixed(1).padStart(6)} %  ${(v / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
    }
  };
  top('self time', selfByFn);
  top('total time', totalByFn);

  return {
    svg: renderSvg([root, rest], opts.title, summary, byCategory, busy),
    text: `${lines.join('\n')}\n`,
  };
}

const WIDTH = 1400;
const FRAME_H = 17;
const CHAR_W = 6.6;
const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function renderSvg(
  trees: readonly Tree[],
  title: string,
  summary: string,
  byCategory: Map<Category, number>,
  busy: number,
): string {
  const depthOf = (n: Tree): number => 1 + Math.max(0, ...[...n.children.values()].map(depthOf));
  const titleLines = wrap(title, Math.floor((WIDTH - 20) / 8.5));
  const summaryLines = wrap(
    `${summary}. Frames: % of the main thread's busy time; hover for the full name and self time.`,
    Math.floor((WIDTH - 20) / CHAR_W),
  );
  const legendRows = 2;
  let y0 = 10 + titleLines.length * 18 + summaryLines.length * 15 + legendRows * 18 + 10;
  const panels = trees.map((t) => {
    const h = depthOf(t) * FRAME_H + 30;
    const p = { tree: t, top: y0, height: h };
    y0 += h;
    return p;
  });
  const height = y0 + 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans Mono, monospace" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  );
  let y = 10;
  for (const l of titleLines) {
    y += 18;
    out.push(`<text x="10" y="${y - 4}" font-size="14" font-weight="bold">${escapeXml(l)}</text>`);
  }
  for (const l of summaryLines) {
    y += 15;
    out.push(`<text x="10" y="${y - 3}">${escapeXml(l)}</text>`);
  }
  const cats = [...byCategory].sort((a, b) => b[1] - a[1]);
  const perRow = Math.ceil(cats.length / legendRows);
  cats.forEach(([c, v], i) => {
    const x = 10 + (i % perRow) * 170;
    const ly = y + 6 + Math.floor(i / perRow) * 18;
    out.push(
      `<rect x="${x}" y="${ly}" width="12" height="12" fill="${COLOURS[c]}"/>`,
      `<text x="${x + 16}" y="${ly + 10}">${escapeXml(c)} ${((100 * v) / busy).toFixed(1)} %</text>`,
    );
  });
  for (const { tree, top, height: h } of panels) {
    out.push(
      `<text x="10" y="${top + 16}" font-weight="bold">${escapeXml(tree.name)}: ${((100 * tree.total) / busy).toFixed(1)} % of busy time, drawn full width</text>`,
    );
    // Flame: root at the bottom, callees above their callers, wider = more time.
    const bottom = top + h;
    const scale = (WIDTH - 20) / Math.max(tree.total, 1);
    const draw = (n: Tree, x: number, d: number) => {
      const w = n.total * scale;
      if (w < 0.3) return;
      const fy = bottom - (d + 1) * FRAME_H;
      const share = (100 * n.total) / busy;
      const label = `${n.name} (${share.toFixed(1)} %, self ${((100 * n.self) / busy).toFixed(1)} %)`;
      out.push(
        `<g><title>${escapeXml(label)}</title><rect x="${x.toFixed(2)}" y="${fy}" width="${Math.max(w - 0.5, 0.3).toFixed(2)}" height="${FRAME_H - 1}" fill="${COLOURS[n.category]}" rx="1"/>`,
      );
      const text = `${n.name.replace(/ (src|dist|node_modules)\/.*$/, '').replace(/ node:.*$/, '')} ${share.toFixed(1)}%`;
      const fits = Math.floor((w - 4) / CHAR_W);
      if (fits >= 4) {
        const shown = text.length <= fits ? text : `${text.slice(0, fits - 1)}…`;
        out.push(`<text x="${(x + 2).toFixed(2)}" y="${fy + FRAME_H - 5}">${escapeXml(shown)}</text>`);
      }
      out.push('</g>');
      let cx = x;
      for (const c of [...n.children.values()].sort((a, b) => b.total - a.total)) {
        draw(c, cx, d + 1);
        cx += c.total * scale;
      }
    };
    draw(tree, 10, 0);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Breaks `text` at spaces into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      title: { type: 'string' },
      'window-fn': { type: 'string', default: 'onDatagram' },
      'from-s': { type: 'string' },
      'until-s': { type: 'string' },
      'commit-fn': { type: 'string', default: 'flush' },
      top: { type: 'string', default: '25' },
      text: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: flame.ts FILE.cpuprofile --out FILE.svg [--title T] [--text FILE.txt]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const r = flame(profile, {
    title: values.title ?? file,
    windowFn: values['window-fn']!,
    ...(values['from-s'] === undefined ? {} : { fromS: Number(values['from-s']) }),
    ...(values['until-s'] === undefined ? {} : { untilS: Number(values['until-s']) }),
    commitFn: values['commit-fn']!,
    top: Number(values.top),
  });
  if (values.out !== undefined) writeFileSync(values.out, r.svg);
  if (values.text !== undefined) writeFileSync(values.text, r.text);
  process.stdout.write(r.text);
}
