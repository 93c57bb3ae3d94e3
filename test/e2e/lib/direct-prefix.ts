// The direct-mode suite runs in its own namespaces ($PFX = tld unless TL_E2E_PFX says otherwise).
// env.ts reads the prefix when it is first imported: import this module before anything else.

process.env.TL_E2E_PFX ??= 'tld';

export const DIRECT_PFX = process.env.TL_E2E_PFX;
