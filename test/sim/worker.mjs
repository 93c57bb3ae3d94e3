// Worker-thread entry for `npm run sim -- --seeds N`: workers do not inherit the parent's
// `--import tsx` hooks, so this plain-JS entry registers them, then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
