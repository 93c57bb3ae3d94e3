// The mixed-version pair suite runs in its own namespaces ($PFX = tlu unless TL_E2E_PFX says
// otherwise). env.ts reads the prefix when it is first imported: import this module before anything
// that imports env.ts (the other prefix modules' `??=` then keep tlu).

process.env.TL_E2E_PFX ??= 'tlu';

export const UPGRADE_PFX = process.env.TL_E2E_PFX;
