// The ISC interop suite runs in its own namespaces ($PFX = tli unless TL_E2E_PFX says otherwise),
// so it never shares a namespace or port 67 with the other suites (tle, tlf). env.ts reads the
// prefix when it is first imported: import this module before anything that imports env.ts.

process.env.TL_E2E_PFX ??= 'tli';

export const ISC_PFX = process.env.TL_E2E_PFX;
