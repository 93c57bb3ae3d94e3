// Bearer-token authentication of the management API. Tokens come from the live config (a reload
// can add, remove or rotate them). Each route declares the access it needs: public (no token),
// read, or write. Comparison is constant-time: both sides are hashed to fixed-length digests and
// compared with timingSafeEqual, and every configured token is compared, match or not, so the
// time taken says nothing about which token (or which prefix) came close.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { ResolvedApiToken } from '../config/resolved.js';
import type { Ipv4 } from '../wire/ipv4.js';

export type Access = 'public' | 'read' | 'write';

export type AuthDecision =
  | { ok: true; tokenName: string | null; access: 'read' | 'write' }
  | { ok: false; status: 401 | 403; error: 'unauthorized' | 'forbidden'; message: string };

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The configured token equal to `presented`, found in constant time with respect to the tokens. */
export function matchToken(tokens: readonly ResolvedApiToken[], presented: string): ResolvedApiToken | null {
  const p = digest(presented);
  let found: ResolvedApiToken | null = null;
  for (const t of tokens) {
    // No early exit: every token costs the same whether or not an earlier one matched.
    const isEqual = timingSafeEqual(digest(t.token), p);
    if (isEqual && found === null) found = t;
  }
  return found;
}

export function isLoopback(address: Ipv4): boolean {
  return address >>> 24 === 127;
}

/**
 * Decides one request. Without configured tokens the API serves anonymous reads, and only when it
 * listens on loopback (startApiServer refuses to start otherwise; a reload that removes every
 * token from a non-loopback API locks it).
 */
export function authorize(
  required: Access,
  authorization: string | undefined,
  tokens: readonly ResolvedApiToken[],
  isListeningOnLoopback: boolean,
): AuthDecision {
  if (required === 'public') return { ok: true, tokenName: null, access: 'read' };
  if (tokens.length === 0) {
    if (!isListeningOnLoopback) {
      return {
        ok: false,
        status: 401,
        error: 'unauthorized',
        message: 'no API tokens are configured (api.tokens)',
      };
    }
    if (required === 'write') {
      return {
        ok: false,
        status: 403,
        error: 'forbidden',
        message: 'the API is read-only: no API tokens are configured (api.tokens)',
      };
    }
    return { ok: true, tokenName: null, access: 'read' };
  }
  if (authorization === undefined || authorization === '') {
    return {
      ok: false,
      status: 401,
      error: 'unauthorized',
      message: 'missing Authorization: Bearer <token>',
    };
  }
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!m) {
    return {
      ok: false,
      status: 401,
      error: 'unauthorized',
      message: 'Authorization must be "Bearer <token>"',
    };
  }
  const token = matchToken(tokens, m[1]!);
  if (token === null) return { ok: false, status: 401, error: 'unauthorized', message: 'unknown token' };
  if (required === 'write' && token.isReadOnly) {
    return { ok: false, status: 403, error: 'forbidden', message: `token "${token.name}" is read-only` };
  }
  return { ok: true, tokenName: token.name, access: token.isReadOnly ? 'read' : 'write' };
}
