// This server as a client of its failover partner's management API (partner.api in the
// relationship's config): read and replace scope configs for replication and the partner check,
// read the relationship's settings for configurationDifferences. Every request gives up after
// 2 s; failures are values.

import type { ResolvedPartnerApi } from '../config/resolved.js';
import type { JsonObject } from './config-file.js';
import type { RelationshipSettings } from './schemas.js';

export const PARTNER_API_TIMEOUT_MS = 2000;

export type PartnerGet =
  | { ok: true; config: JsonObject | null } // null: the partner has no such scope (404)
  | { ok: false; message: string };

export type PartnerSettingsGet =
  | { ok: true; settings: RelationshipSettings | null } // null: the partner has no such relationship
  | { ok: false; message: string };

export type PartnerPut =
  | { ok: true; status: number; body: unknown }
  /** status null: no answer; else the partner's refusal (body: its error object). */
  | { ok: false; message: string; status: number | null; body: unknown };

/** Query parameters of a PUT …/config on the partner (docs/api.md §Checks before a write). */
export interface PartnerPutQuery {
  dryRun?: boolean;
  force?: boolean;
}

export class PartnerApiClient {
  constructor(
    private readonly api: ResolvedPartnerApi,
    private readonly timeoutMs = PARTNER_API_TIMEOUT_MS,
  ) {}

  get url(): string {
    return this.api.url;
  }

  async getRelationshipSettings(name: string): Promise<PartnerSettingsGet> {
    const r = await this.request(
      'GET',
      `/api/v1/failover/relationships/${encodeURIComponent(name)}/settings`,
    );
    if (!r.ok) return r;
    if (r.status === 404 && r.body?.error === 'not-found') return { ok: true, settings: null };
    if (r.status !== 200 || typeof r.body !== 'object' || r.body === null) {
      return { ok: false, message: this.describe(r.status, r.body) };
    }
    return { ok: true, settings: r.body as unknown as RelationshipSettings };
  }

  async getScopeConfig(scopeId: string): Promise<PartnerGet> {
    const r = await this.request('GET', scopeConfigPath(scopeId));
    if (!r.ok) return r;
    if (r.status === 404 && r.body?.error === 'not-found') return { ok: true, config: null };
    if (r.status !== 200 || typeof r.body !== 'object' || r.body === null) {
      return { ok: false, message: this.describe(r.status, r.body) };
    }
    return { ok: true, config: r.body as JsonObject };
  }

  /** PATCH …/failover/relationships/{name} (a merge patch; Set-DhcpServerv4Failover on the partner). */
  async patchRelationship(name: string, patch: JsonObject, query: PartnerPutQuery = {}): Promise<PartnerPut> {
    const r = await this.request(
      'PATCH',
      `/api/v1/failover/relationships/${encodeURIComponent(name)}`,
      patch,
      query,
    );
    if (!r.ok) return { ...r, status: null, body: null };
    if (r.status === 200) return { ok: true, status: r.status, body: r.body };
    return { ok: false, message: this.describe(r.status, r.body), status: r.status, body: r.body };
  }

  async putScopeConfig(
    scopeId: string,
    config: JsonObject,
    query: PartnerPutQuery = {},
  ): Promise<PartnerPut> {
    const r = await this.request('PUT', scopeConfigPath(scopeId), config, query);
    if (!r.ok) return { ...r, status: null, body: null };
    if (r.status === 200 || r.status === 201) return { ok: true, status: r.status, body: r.body };
    return { ok: false, message: this.describe(r.status, r.body), status: r.status, body: r.body };
  }

  private describe(status: number, body: { message?: string } | null): string {
    return `the partner API answered ${status}${body?.message ? `: ${body.message}` : ''}`;
  }

  private async request(
    method: 'GET' | 'PUT' | 'PATCH',
    path: string,
    body: unknown = undefined,
    query: PartnerPutQuery = {},
  ): Promise<
    | { ok: true; status: number; body: { error?: string; message?: string } | null }
    | { ok: false; message: string }
  > {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.api.token !== null) headers.authorization = `Bearer ${this.api.token}`;
    // RFC 7396 §4: a merge patch travels as its own media type.
    if (body !== undefined)
      headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    const url = new URL(`${this.api.url}${path}`);
    for (const [k, v] of Object.entries(query)) if (v === true) url.searchParams.set(k, 'true');
    try {
      const res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        return {
          ok: false,
          message: `the partner API at ${this.api.url} answered ${res.status} with non-JSON`,
        };
      }
      return { ok: true, status: res.status, body: parsed as { error?: string; message?: string } | null };
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
      const why =
        e.name === 'TimeoutError' || e.name === 'AbortError'
          ? `no answer within ${this.timeoutMs} ms`
          : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
      return { ok: false, message: `cannot reach the partner API at ${this.api.url}: ${why}` };
    }
  }
}

function scopeConfigPath(scopeId: string): string {
  return `/api/v1/scopes/${encodeURIComponent(scopeId)}/config`;
}
