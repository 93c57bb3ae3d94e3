// The hub-and-spoke suite runs in its own namespaces ($PFX = tlh unless TL_E2E_PFX says otherwise),
// so it never shares a namespace or a port with the other suites. env.ts reads the prefix when it
// is first imported: import this module before anything that imports env.ts.

process.env.TL_E2E_PFX ??= 'tlh';

export const HUB_PFX = process.env.TL_E2E_PFX;
