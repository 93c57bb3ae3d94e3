#!/usr/bin/env node
// The `twinlease` command. Runs the compiled code in dist/ (npm run build).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error('twinlease: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const { run } = await import(main);
await run(process.argv);
