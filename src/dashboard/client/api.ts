/// <reference lib="dom" />
// The operator's token (sessionStorage: gone with the tab) and requests made with it: JSON
// requests to the API, and the dashboard's event stream read through fetch, because EventSource
// cannot send an Authorization header.

const TOKEN_KEY = 'twinlease.token';

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value);
}

export interface ApiAnswer<T> {
  ok: boolean;
  status: number;
  body: T | { error?: string; message?: string } | null;
}

/** Called when the API refuses the token (401): back to the login page. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  withToken = token(),
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (withToken !== null) headers.authorization = `Bearer ${withToken}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (err) {
    return {
      ok: false,
      status: 0,
      body: { error: 'network', message: `the server did not answer (${(err as Error).message})` },
    };
  }
  let parsed: unknown = null;
  const text = await res.text();
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: 'bad-answer', message: text.slice(0, 200) };
    }
  }
  if (res.status === 401 && withToken === token()) onUnauthorized();
  return { ok: res.ok, status: res.status, body: parsed as ApiAnswer<T>['body'] };
}

export function errorText(answer: ApiAnswer<unknown>): string {
  const b = answer.body as { error?: string; message?: string } | null;
  return `${answer.status === 0 ? 'no answer' : `HTTP ${answer.status}`}: ${b?.message ?? b?.error ?? 'no details'}`;
}

export interface StreamHandlers {
  onEvent(event: string, data: unknown): void;
  onState(state: 'live' | 'down'): void;
}

/** Reads /ui/api/events and reconnects (1, 2, 4 … 15 s) until stop() is called. */
export function openStream(path: string, handlers: StreamHandlers): { stop(): void } {
  let stopped = false;
  let controller: AbortController | null = null;
  let delayMs = 1000;
  const loop = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const t = token();
        const res = await fetch(path, {
          headers: { accept: 'text/event-stream', ...(t === null ? {} : { authorization: `Bearer ${t}` }) },
          signal: controller.signal,
          cache: 'no-store',
        });
        if (res.status === 401) {
          onUnauthorized();
          return;
        }
        if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
        handlers.onState('live');
        delayMs = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut = buffer.indexOf('\n\n');
          while (cut >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (event === 'unauthorized') {
              onUnauthorized();
              return;
            }
            if (data !== '') handlers.onEvent(event, JSON.parse(data));
            cut = buffer.indexOf('\n\n');
          }
        }
      } catch {
        // reconnect below
      }
      if (stopped) return;
      handlers.onState('down');
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(delayMs * 2, 15000);
    }
  };
  void loop();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
