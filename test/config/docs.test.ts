// docs/configuration.md documents every field of the configuration schema (policies: docs/
// policies.md): each property name of the published schema, at every depth, appears in the page as
// `name` or as a key of an example. A field added to src/config/schema.ts without a word in the
// docs fails here. (A name check, not a meaning check: it catches a missing field, such as the
// scope's `dns` object was.)

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Field {
  /** JSON path, e.g. scopes[].dns.tsigKey.secret */
  path: string;
  name: string;
}

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

function fields(schema: JsonSchema, path: string, out: Field[]): Field[] {
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const p = path === '' ? name : `${path}.${name}`;
    out.push({ path: p, name });
    fields(sub, p, out);
  }
  if (schema.items) fields(schema.items, `${path}[]`, out);
  for (const s of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
    fields(s, path, out);
  return out;
}

/** The names a page shows as `name` or as a JSON key "name": in its text and its examples. */
function documented(file: string): Set<string> {
  const text = readFileSync(`${ROOT}${file}`, 'utf8');
  const names = new Set<string>();
  for (const m of text.matchAll(/`([A-Za-z$][A-Za-z0-9]*)`|"([A-Za-z$][A-Za-z0-9]*)"\s*:/g))
    names.add(m[1] ?? m[2]!);
  return names;
}

test('every schema field is documented (configuration.md; policies in policies.md)', () => {
  const schema = JSON.parse(readFileSync(`${ROOT}schema/twinlease.schema.json`, 'utf8')) as JsonSchema;
  const configuration = documented('docs/configuration.md');
  const policies = documented('docs/policies.md');
  const missing: string[] = [];
  for (const f of fields(schema, '', [])) {
    // A policy's fields live in policies.md; its `dns` object is the scope's (configuration.md).
    const isPolicy = /(^|\.)policies\[\]\./.test(f.path) && !/\.dns(\.|$)/.test(f.path);
    // Ranges and options of a policy are the scope's types, documented once in configuration.md.
    const isFound = configuration.has(f.name) || (isPolicy && policies.has(f.name));
    if (!isFound) missing.push(`${f.path} (${isPolicy ? 'policies.md' : 'configuration.md'})`);
  }
  assert.deepEqual(missing, []);
});
