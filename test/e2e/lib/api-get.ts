// GET on a Twinlease management API from the e2e client namespace.

import { NS } from './env.js';
import { run } from './proc.js';

/** A relative or transport failure of the management API (connection refused, timeout). */
export class ApiUnreachable extends Error {}

/**
 * GET `baseUrl + path` on a management API with a bearer token, over curl run in $PFX-cli (the
 * test process lives in the root namespace, which has no route to the bridge). Returns the body
 * of a 200; throws ApiUnreachable when curl fails, an Error for any other status.
 */
export async function apiGetText(baseUrl: string, token: string, path: string): Promise<string> {
  const r = await run(
    'ip',
    [
      'netns',
      'exec',
      NS.cli,
      'curl',
      '-sS',
      '--max-time',
      '3',
      '-H',
      `Authorization: Bearer ${token}`,
      '-w',
      '\n%{http_code}',
      `${baseUrl}${path}`,
    ],
    { timeoutMs: 6000, check: false },
  );
  if (r.code !== 0)
    throw new ApiUnreachable(`GET ${baseUrl}${path}: curl exit ${r.code}: ${r.stderr.trim()}`);
  const cut = r.stdout.lastIndexOf('\n');
  const status = Number(r.stdout.slice(cut + 1));
  const body = r.stdout.slice(0, cut);
  if (status !== 200) throw new Error(`GET ${baseUrl}${path}: HTTP ${status}: ${body}`);
  return body;
}
