// The failover pair suite runs in its own namespaces ($PFX = tlf unless TL_E2E_PFX says otherwise),
// so it never shares a namespace or port 67 with the single-server suites (tle). env.ts reads the
// prefix when it is first imported: import this module before anything that imports env.ts.

process.env.TL_E2E_PFX ??= 'tlf';

export const PAIR_PFX = process.env.TL_E2E_PFX;
