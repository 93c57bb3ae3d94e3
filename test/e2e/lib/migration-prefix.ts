// The rolling-migration suite runs in its own namespaces ($PFX = tlr unless TL_E2E_PFX says
// otherwise). env.ts reads the prefix when it is first imported: import this module before anything
// that imports env.ts (isc-prefix.js's `??=` then keeps tlr).

process.env.TL_E2E_PFX ??= 'tlr';

export const MIGRATION_PFX = process.env.TL_E2E_PFX;
