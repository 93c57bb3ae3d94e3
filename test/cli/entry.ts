// Runs the `twinlease` command from source (what bin/twinlease.js does with dist/), for the CLI
// tests: node --import tsx test/cli/entry.ts <args>.
import { run } from '../../src/cli/main.js';

await run(process.argv);
