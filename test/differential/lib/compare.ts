// Field-by-field comparison of two transcripts of one scenario, and the readable report of what
// differed. A difference is one field of one reply (or a reply against silence); the rules in
// differences.ts then say which are intended, which are known Twinlease bugs, and the rest fail.

import type { Step, Transcript } from './conversation.js';
import type { OptionView, ReplyView } from './normalise.js';

export interface FieldDiff {
  scenario: string;
  stepIndex: number;
  /** The step's label (Kea's side; Twinlease's when they differ, see field 'step'). */
  step: string;
  /** 'step' (the scripts diverged), 'reply' (a reply against silence or a missing extra reply),
   * 'message', 'to', 'l2', 'from', 'header.<name>', 'option.<code>', 'size-limit', 'late'. */
  field: string;
  /** Option code for 'option.<code>'. */
  code?: number;
  kea: string;
  twinlease: string;
  keaReply?: ReplyView;
  twinleaseReply?: ReplyView;
  keaStep?: Step;
  twinleaseStep?: Step;
}

const SILENCE = '(silence)';
const ABSENT = '(absent)';

function optionText(o: OptionView | undefined): string {
  if (o === undefined) return ABSENT;
  return o.text === o.hex ? o.text : `${o.text} [${o.hex}]`;
}

export function compareTranscripts(scenario: string, kea: Transcript, tl: Transcript): FieldDiff[] {
  const out: FieldDiff[] = [];
  const n = Math.max(kea.steps.length, tl.steps.length);
  for (let i = 0; i < n; i++) {
    const k = kea.steps[i];
    const t = tl.steps[i];
    const base = { scenario, stepIndex: i, step: k?.label ?? t?.label ?? '', keaStep: k, twinleaseStep: t };
    if (k === undefined || t === undefined || k.label !== t.label) {
      // The script took another path in one world: later steps do not line up any more.
      out.push({ ...base, field: 'step', kea: k?.label ?? '(ended)', twinlease: t?.label ?? '(ended)' });
      break;
    }
    const m = Math.max(k.replies.length, t.replies.length);
    for (let j = 0; j < m; j++) {
      const kr = k.replies[j];
      const tr = t.replies[j];
      if (kr === undefined || tr === undefined) {
        out.push({
          ...base,
          field: 'reply',
          kea: kr ? summary(kr) : j === 0 ? SILENCE : '(no further reply)',
          twinlease: tr ? summary(tr) : j === 0 ? SILENCE : '(no further reply)',
          keaReply: kr,
          twinleaseReply: tr,
        });
        continue;
      }
      out.push(...compareReplies({ ...base, keaReply: kr, twinleaseReply: tr }, kr, tr));
    }
    for (const [side, step] of [
      ['kea', k],
      ['twinlease', t],
    ] as const) {
      for (const r of step.replies) {
        if (r.size > step.maxSize) {
          const over = `${r.size} bytes, over the client's ${step.maxSize}`;
          out.push({
            ...base,
            field: 'size-limit',
            kea: side === 'kea' ? over : 'within',
            twinlease: side === 'twinlease' ? over : 'within',
          });
        }
      }
    }
  }
  const lateK = kea.late.map((l) => `${l.step}: ${summary(l.reply)}`).join('; ');
  const lateT = tl.late.map((l) => `${l.step}: ${summary(l.reply)}`).join('; ');
  if (lateK !== lateT) {
    out.push({
      scenario,
      stepIndex: n,
      step: '(after the last step)',
      field: 'late',
      kea: lateK || '(none)',
      twinlease: lateT || '(none)',
    });
  }
  return out;
}

function compareReplies(
  base: Omit<FieldDiff, 'field' | 'kea' | 'twinlease'>,
  k: ReplyView,
  t: ReplyView,
): FieldDiff[] {
  const out: FieldDiff[] = [];
  const add = (field: string, kv: string, tv: string, code?: number) => {
    if (kv !== tv)
      out.push({ ...base, field, kea: kv, twinlease: tv, ...(code === undefined ? {} : { code }) });
  };
  add('message', k.message, t.message);
  add('to', k.to, t.to);
  add('l2', k.l2, t.l2);
  add('from', k.from, t.from);
  for (const name of new Set([...Object.keys(k.header), ...Object.keys(t.header)])) {
    add(`header.${name}`, k.header[name] ?? ABSENT, t.header[name] ?? ABSENT);
  }
  const labels = new Set([...Object.keys(k.options), ...Object.keys(t.options)]);
  for (const label of [...labels].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))) {
    const ko = k.options[label];
    const to = t.options[label];
    if (ko?.hex === to?.hex) continue;
    const code = Number.parseInt(label, 10);
    out.push({ ...base, field: `option.${code}`, code, kea: optionText(ko), twinlease: optionText(to) });
  }
  return out;
}

/** One line for a reply: message, destination, address. */
export function summary(r: ReplyView): string {
  const yiaddr = r.header.yiaddr && r.header.yiaddr !== '0.0.0.0' ? ` yiaddr ${r.header.yiaddr}` : '';
  return `${r.message} to ${r.to}${yiaddr}`;
}

/** The difference as a report line. */
export function describe(d: FieldDiff): string {
  const what = d.field.startsWith('option.') ? `option ${d.field.slice(7)}` : d.field;
  return `${what}: kea ${d.kea} | twinlease ${d.twinlease}`;
}

/** Both transcripts of a scenario side by side, for the report of a failing one. */
export function renderTranscripts(kea: Transcript, tl: Transcript): string {
  const lines: string[] = [];
  const n = Math.max(kea.steps.length, tl.steps.length);
  for (let i = 0; i < n; i++) {
    const k = kea.steps[i];
    const t = tl.steps[i];
    lines.push(`  ${i}. ${k?.label ?? '(ended)'}${t && t.label !== k?.label ? `  ≠  ${t.label}` : ''}`);
    lines.push(`       kea:       ${k ? k.replies.map(summary).join(' + ') || '(silence)' : '-'}`);
    lines.push(`       twinlease: ${t ? t.replies.map(summary).join(' + ') || '(silence)' : '-'}`);
  }
  return lines.join('\n');
}
