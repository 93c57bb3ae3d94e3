// The operator commands' HTTP client for the management API (docs/api.md): one GET or POST with
// the bearer token, JSON back, and failures turned into one clear sentence for the terminal.

export interface ApiClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8067 */
  api: string;
  token: string | undefined;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

export class CliError extends Error {}

interface ErrorBody {
  error?: string;
  message?: string;
  path?: string;
  /** A refused config write (docs/api.md §Checks before a write). */
  orphanedLeases?: {
    count: number;
    items: {
      ipAddress: string;
      hardwareAddress: string | null;
      hostname: string | null;
      leaseExpiresAt: string | null;
    }[];
  };
  partnerChecks?: { scopeId: string; result: string; addresses: string[] }[];
}

/** The lists a refused config write carries, one line each, for the terminal. */
function refusalDetails(e: ErrorBody): string {
  const lines: string[] = [];
  const orphans = e.orphanedLeases;
  if (orphans !== undefined && orphans.count > 0) {
    lines.push(`active leases it would orphan (${orphans.count}):`);
    for (const l of orphans.items) {
      lines.push(
        `  ${l.ipAddress}  ${l.hardwareAddress ?? '-'}  ${l.hostname ?? '-'}  expires ${l.leaseExpiresAt ?? 'never'}`,
      );
    }
  }
  for (const c of e.partnerChecks ?? []) {
    if (c.result !== 'accepted')
      lines.push(`partner check of scope ${c.scopeId}: ${c.result} ${c.addresses.join(', ')}`);
  }
  return lines.length === 0 ? '' : `\n${lines.join('\n')}`;
}

export class ApiClient {
  private readonly base: URL;

  constructor(private readonly options: ApiClientOptions) {
    try {
      this.base = new URL(options.api);
    } catch {
      throw new CliError(
        `--api ${JSON.stringify(options.api)} is not a URL (example: http://127.0.0.1:8067)`,
      );
    }
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return this.request<T>('GET', url, undefined);
  }

  /** `timeoutMs`: for this request (an import of many leases takes longer than the default). */
  post<T>(path: string, body: unknown, timeoutMs?: number): Promise<T> {
    return this.request<T>('POST', new URL(path, this.base), body, timeoutMs);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', new URL(path, this.base), body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', new URL(path, this.base), body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', new URL(path, this.base), undefined);
  }

  /**
   * A GET whose answer is streamed (export): the Response when it is a success; failures as for
   * every request. No timeout once the answer has begun (a large export takes a while).
   */
  async getStream(path: string, query: Record<string, string | number | undefined> = {}): Promise<Response> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let response: Response;
    try {
      response = await fetch(url, { headers });
    } catch (err) {
      throw new CliError(this.describeNetworkError(err));
    }
    if (response.ok) return response;
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // described below from the status
    }
    throw this.failure('GET', response, (parsed ?? {}) as ErrorBody);
  }

  private async request<T>(method: string, url: URL, body: unknown, timeoutMs?: number): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    // A PATCH body is a JSON merge patch (RFC 7396), sent as its own media type.
    if (body !== undefined)
      headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs ?? this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new CliError(this.describeNetworkError(err));
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      throw new CliError(
        `${this.options.api} answered ${response.status} with something that is not JSON (is --api the Twinlease API?)`,
      );
    }
    if (response.ok) return parsed as T;
    throw this.failure(method, response, (parsed ?? {}) as ErrorBody);
  }

  /** A refused request in one sentence for the terminal. */
  private failure(method: string, response: Response, e: ErrorBody): CliError {
    const why = e.message ?? e.error ?? response.statusText;
    switch (response.status) {
      case 401:
        return new CliError(
          `the API refused the request: ${why}. ${this.options.token ? 'Check the token' : 'Pass a token'} with --token or TWINLEASE_TOKEN (api.tokens in the server config).`,
        );
      case 403:
        return new CliError(
          `not allowed: ${why}${method === 'GET' ? '' : '. Changes need a token without readOnly (api.tokens)'}`,
        );
      case 409:
        return new CliError(`refused: ${why}${refusalDetails(e)}`);
      case 404:
        return new CliError(`not found: ${why}`);
      case 400:
        return new CliError(`invalid request: ${why}`);
      case 422:
        return new CliError(`the server rejected its config: ${why}`);
      default:
        return new CliError(`the API failed (${response.status}): ${why}`);
    }
  }

  private describeNetworkError(err: unknown): string {
    const where = `the Twinlease API at ${this.options.api}`;
    const e = err as { name?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return `${where} did not answer in time`;
    switch (e.cause?.code) {
      case 'ECONNREFUSED':
        return `cannot reach ${where}: connection refused. Is the server running, and is --api (or TWINLEASE_API) its api.listenAddress and api.port?`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `cannot reach ${where}: unknown host`;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `cannot reach ${where}: no route to host`;
      case 'ECONNRESET':
        return `${where} closed the connection (is it an HTTP server?)`;
      default:
        return `cannot reach ${where}: ${e.cause?.message ?? (err as Error).message}`;
    }
  }
}
