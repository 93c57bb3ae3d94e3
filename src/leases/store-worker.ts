// Starting one of the lease store's worker threads (the writer, sqlite-writer.ts; the WAL
// checkpointer, sqlite-checkpointer.ts) from dist/ or, in tests and the simulator, from the
// TypeScript sources (tsx registered inside the thread first).

import { Worker } from 'node:worker_threads';

const isTypeScriptSource = import.meta.url.endsWith('.ts');

/** Starts `./<stem>.js` (or `.ts` from the sources) of this folder with `workerData`. */
export function startStoreWorker(stem: string, workerData: unknown): Worker {
  const url = new URL(`./${stem}${isTypeScriptSource ? '.ts' : '.js'}`, import.meta.url);
  if (!isTypeScriptSource) return new Worker(url, { workerData });
  return new Worker(
    `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`,
    { eval: true, workerData },
  );
}
