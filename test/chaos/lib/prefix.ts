// The chaos suite runs in its own namespaces ($PFX = tlc unless TL_E2E_PFX says otherwise). env.ts
// reads the prefix when it is first imported: import this module before anything that imports it.

process.env.TL_E2E_PFX ??= 'tlc';
