// HTTP requests from inside a network namespace (Node cannot enter one): a small fetch agent
// started with `ip netns exec`, one JSON line per request and per answer over stdio. The same
// agent as test/e2e/api-pair.test.ts's, shared for the newer tests.

import { createInterface } from 'node:readline';
import { LineProcess } from './proc.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies read field by field in assertions
export type Json = Record<string, any>;

const FETCH_AGENT = `
import { createInterface } from 'node:readline';
const rl = createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ t: 'ready' }) + '\\n');
rl.on('line', async (line) => {
  if (line.trim() === '') return;
  const q = JSON.parse(line);
  try {
    const res = await fetch(q.url, { method: q.method, headers: q.headers, body: q.body, signal: AbortSignal.timeout(20000) });
    const text = await res.text();
    process.stdout.write(JSON.stringify({ id: q.id, status: res.status, text }) + '\\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: q.id, status: 0, text: String(err?.cause?.code ?? err) }) + '\\n');
  }
});
rl.on('close', () => process.exit(0));
`;

export class NsHttp {
  private nextId = 1;
  private readonly waiting = new Map<number, (a: { status: number; text: string }) => void>();
  private constructor(readonly proc: LineProcess) {
    createInterface({ input: proc.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const a = JSON.parse(line) as { id?: number; status: number; text: string };
      if (a.id === undefined) return;
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
  }

  static async start(ns: string): Promise<NsHttp> {
    const proc = new LineProcess('ip', [
      'netns',
      'exec',
      ns,
      process.execPath,
      '--input-type=module',
      '-e',
      FETCH_AGENT,
    ]);
    await proc.waitForLine('fetch agent ready', (l) => l.includes('"t":"ready"'), 10_000);
    return new NsHttp(proc);
  }

  request(
    method: string,
    url: string,
    token: string | null,
    body?: unknown,
  ): Promise<{ status: number; json: Json; text: string }> {
    const id = this.nextId++;
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return new Promise((resolve) => {
      this.waiting.set(id, (a) => {
        let json: Json = {};
        try {
          if (a.text !== '') json = JSON.parse(a.text);
        } catch {}
        resolve({ status: a.status, json, text: a.text });
      });
      this.proc.child.stdin!.write(
        `${JSON.stringify({ id, method, url, headers, body: body === undefined ? undefined : JSON.stringify(body) })}\n`,
      );
    });
  }

  async close(): Promise<void> {
    this.proc.child.stdin?.end();
    await this.proc.stop('SIGTERM', 2000);
  }
}
