// What dominates a V8 heap snapshot: self size summed by node type and constructor name, largest
// first. Reads the file as bytes and walks the `nodes` and `strings` arrays itself (a snapshot of a
// million leases is larger than the longest string JSON.parse accepts).
//
//   node --import tsx bench/lib/heap-snapshot-summary.ts FILE.heapsnapshot [--top 25]

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

function numbersAfter(buf: Buffer, key: string): number[] {
  let i = buf.indexOf(`"${key}":[`);
  if (i < 0) throw new Error(`no ${key} in snapshot`);
  i += key.length + 4;
  const out: number[] = [];
  let n = 0;
  let inNumber = false;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      inNumber = true;
    } else {
      if (inNumber) out.push(n);
      n = 0;
      inNumber = false;
      if (c === 93) break; // ]
    }
  }
  return out;
}

function stringsOf(buf: Buffer): string[] {
  let i = buf.indexOf('"strings":[');
  if (i < 0) throw new Error('no strings in snapshot');
  i += 11;
  const out: string[] = [];
  while (i < buf.length) {
    while (buf[i] !== 34 && buf[i] !== 93) i++;
    if (buf[i] === 93) break;
    let j = i + 1;
    while (buf[j] !== 34) j += buf[j] === 92 ? 2 : 1;
    // Only the first bytes matter for names; long strings are cut to keep this cheap.
    const end = Math.min(j, i + 200);
    try {
      out.push(JSON.parse(buf.toString('utf8', i, end) + (end < j ? '"' : '')) as string);
    } catch {
      out.push(buf.toString('latin1', i + 1, end));
    }
    i = j + 1;
  }
  return out;
}

export function summariseHeapSnapshot(file: string, top: number): string {
  const buf = readFileSync(file);
  const metaStart = buf.indexOf('"meta":');
  const fieldsText = /"node_fields":\[([^\]]*)\]/.exec(buf.toString('utf8', metaStart, metaStart + 4000))!;
  const typesText = /"node_types":\[\[([^\]]*)\]/.exec(buf.toString('utf8', metaStart, metaStart + 4000))!;
  const fields = JSON.parse(`[${fieldsText[1]}]`) as string[];
  const types = JSON.parse(`[${typesText[1]}]`) as string[];
  const nodes = numbersAfter(buf, 'nodes');
  const strings = stringsOf(buf);
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!]!;
    const size = nodes[i + sizeAt]!;
    total += size;
    const key =
      type === 'object' || type === 'closure' || type === 'native'
        ? `${type} ${strings[nodes[i + nameAt]!]}`
        : type === 'hidden' || type === 'code' || type === 'array'
          ? `${type} ${strings[nodes[i + nameAt]!]?.slice(0, 40)}`
          : type;
    const g = groups.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += size;
    g.count++;
    groups.set(key, g);
  }
  const lines = [
    `heap snapshot ${file}: ${(total / 1048576).toFixed(1)} MiB in ${nodes.length / width} nodes`,
  ];
  for (const [k, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
    lines.push(
      `${(g.bytes / 1048576).toFixed(1).padStart(8)} MiB ${((100 * g.bytes) / total).toFixed(1).padStart(5)} % ${String(g.count).padStart(9)} × ${k}`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  console.log(summariseHeapSnapshot(positionals[0]!, Number(values.top)));
}
