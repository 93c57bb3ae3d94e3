// The published form of the config schema (schema/twinlease.schema.json): JSON Schema draft
// 2020-12 with an $id, generated from schema.ts so the two cannot drift (a test compares them).

import { Config } from './schema.js';

export const CONFIG_SCHEMA_ID = 'urn:twinlease:schema:config:1';
export const PUBLISHED_SCHEMA_PATH = 'schema/twinlease.schema.json';

export function publishedConfigSchema(): Record<string, unknown> {
  // JSON round trip: TypeBox keeps its bookkeeping in non-enumerable keys, which this drops.
  const body = JSON.parse(JSON.stringify(Config)) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: CONFIG_SCHEMA_ID,
    title: 'Twinlease configuration',
    ...body,
  };
}

/** The exact file contents: two-space indentation and a final newline. */
export function publishedConfigSchemaText(): string {
  return `${JSON.stringify(publishedConfigSchema(), null, 2)}\n`;
}
