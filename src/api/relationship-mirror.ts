// A change to a failover relationship as the partner must make it (Set-DhcpServerv4Failover
// changes both servers): the settings each server holds for itself are mirrored — role and hot
// standby's serverRole are opposite, loadBalancePercent is each server's own share (the partner's
// is the complement), our local address is its partner address and the other way round — and
// every shared setting is the same (the rules configurationDifferences checks,
// src/api/relationship-settings.ts). partner.api is not mirrored: the partner's points at us. Pure.

import type { JsonObject } from './config-file.js';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const opposite = (v: unknown, a: string, b: string): unknown => (v === a ? b : v === b ? a : v);

/** Our JSON merge patch of a relationship → the partner's merge patch for the same change. */
export function mirroredPatch(patch: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(patch)) {
    switch (key) {
      case 'role':
        out.role = opposite(value, 'primary', 'secondary');
        break;
      case 'serverRole':
        out.serverRole = opposite(value, 'active', 'standby');
        break;
      case 'loadBalancePercent':
        out.loadBalancePercent = typeof value === 'number' ? 100 - value : value;
        break;
      case 'local':
        if (isObject(value)) out.partner = { ...(out.partner as JsonObject | undefined), ...value };
        break;
      case 'partner': {
        if (!isObject(value)) break;
        const { api: _ours, ...endpoint } = value;
        if (Object.keys(endpoint).length > 0)
          out.local = { ...(out.local as JsonObject | undefined), ...endpoint };
        break;
      }
      default:
        out[key] = value;
    }
  }
  return out;
}
