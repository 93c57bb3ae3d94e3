// What a configuration write changes in the file, as a list of JSON pointers with the value before
// and after (absent on one side for an added or removed property or element). Secrets are never
// shown: a shared secret, a TSIG key secret or a token is reported as changed, not by value.

import { SECRET_PROPERTY_NAMES } from '../config/secrets.js';

export interface ConfigDiffEntry {
  /** JSON pointer into the config file (RFC 6901). */
  path: string;
  /** Absent: the property or element is new. */
  before?: unknown;
  /** Absent: the property or element is removed. */
  after?: unknown;
}

// The names of the config's secret fields, from the schema's writeOnly marks.
const SECRET_KEYS = SECRET_PROPERTY_NAMES;
export const REDACTED = '[redacted]';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A copy of `value` with every secret replaced by REDACTED. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.has(k) ? REDACTED : redactSecrets(v)]),
  );
}

/**
 * The differences between two JSON documents, depth first in document order. Objects are compared
 * key by key, arrays element by element (an element added at the end is one `after`-only entry);
 * scalars and changes of type are one entry.
 */
export function configDiff(before: unknown, after: unknown, path = ''): ConfigDiffEntry[] {
  const key = path.split('/').pop() ?? '';
  if (SECRET_KEYS.has(key)) {
    if (JSON.stringify(before) === JSON.stringify(after)) return [];
    return [
      {
        path,
        ...(before === undefined ? {} : { before: REDACTED }),
        ...(after === undefined ? {} : { after: REDACTED }),
      },
    ];
  }
  if (isObject(before) && isObject(after)) {
    const out: ConfigDiffEntry[] = [];
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !(k in before))];
    for (const k of keys) out.push(...configDiff(before[k], after[k], `${path}/${escapePointer(k)}`));
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: ConfigDiffEntry[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      out.push(...configDiff(before[i], after[i], `${path}/${i}`));
    }
    return out;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [
    {
      path,
      ...(before === undefined ? {} : { before: redactSecrets(before) }),
      ...(after === undefined ? {} : { after: redactSecrets(after) }),
    },
  ];
}
