// The secrets of the config file: the fields the schema marks `writeOnly` (JSON Schema: given, never
// shown back). Config errors, the API's config diff and the log name them but never show their
// values (docs/configuration.md#secrets).

import type { TSchema } from 'typebox';
import { Config } from './schema.js';

type SchemaNode = Record<string, unknown>;

/**
 * JSON pointer patterns of every secret field of `schema` ('*' for an array index), found by
 * walking its properties, array items and unions.
 */
export function secretPointerPatterns(schema: TSchema): string[] {
  const out = new Set<string>();
  const walk = (node: unknown, pointer: string) => {
    if (node === null || typeof node !== 'object') return;
    const n = node as SchemaNode;
    if (n.writeOnly === true) out.add(pointer);
    const properties = n.properties as Record<string, unknown> | undefined;
    for (const [name, child] of Object.entries(properties ?? {})) walk(child, `${pointer}/${name}`);
    if (n.items !== undefined) walk(n.items, `${pointer}/*`);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const branches = n[key];
      if (Array.isArray(branches)) for (const b of branches) walk(b, pointer);
    }
  };
  walk(schema, '');
  return [...out];
}

/**
 * The names of the secret fields. Anything under one of these names is treated as a secret,
 * wherever it is (a misplaced secret too): the API's config diff, the log's redaction and the
 * JSON parser's error messages look at the name only.
 */
export const SECRET_PROPERTY_NAMES: ReadonlySet<string> = new Set(
  secretPointerPatterns(Config).map((p) => p.slice(p.lastIndexOf('/') + 1)),
);

/** Whether the value at a JSON pointer (or a path of segments) is, or is inside, a secret. */
export function isSecretPath(path: string | readonly (string | number)[]): boolean {
  const segments = typeof path === 'string' ? path.split('/') : path;
  return segments.some((s) => typeof s === 'string' && SECRET_PROPERTY_NAMES.has(s));
}
