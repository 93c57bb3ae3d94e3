// Writes schema/twinlease.schema.json from src/config/schema.ts.
//   node --import tsx scripts/gen-schema.ts          write the file
//   node --import tsx scripts/gen-schema.ts --check  exit 1 if the committed file is stale

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PUBLISHED_SCHEMA_PATH, publishedConfigSchemaText } from '../src/config/published-schema.js';

const target = fileURLToPath(new URL(`../${PUBLISHED_SCHEMA_PATH}`, import.meta.url));
const text = publishedConfigSchemaText();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    console.error(`${PUBLISHED_SCHEMA_PATH} is stale; run: node --import tsx scripts/gen-schema.ts`);
    process.exit(1);
  }
  console.log(`${PUBLISHED_SCHEMA_PATH} is up to date`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${PUBLISHED_SCHEMA_PATH} (${text.length} bytes)`);
}
