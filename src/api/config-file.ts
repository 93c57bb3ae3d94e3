// The API's write path into the running config file (relationships, scope configs). One write:
// read the file text, change the JSON, check the result with the loader (parseConfigText: the same
// schema and rules as a start or SIGHUP), write it atomically (temp file, fsync, rename; the
// previous text kept as <file>.bak), then reload the server as SIGHUP does. Every step is
// synchronous on a small file, so two writes never interleave.

import {
  closeSync,
  copyFileSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { resolve } from 'node:path';
import {
  type ConfigChanges,
  type ConfigError,
  DEFAULT_CONFIG_PATH,
  parseConfigText,
} from '../config/loader.js';
import type { ApiDeps } from './deps.js';

export type JsonObject = Record<string, unknown>;

/** An answer the route sends as is. */
export interface Refusal {
  status: 400 | 404 | 409 | 500 | 501;
  body: { error: string; message: string; path?: string };
}

export type ReadResult =
  | { ok: true; text: string; doc: JsonObject; path: string }
  | { ok: false; refusal: Refusal };

export interface Edit {
  /** Changes `doc` in place; a Refusal stops the write (404: no such relationship, …). */
  apply(doc: JsonObject): Refusal | null;
  /**
   * A loader error's JSON pointer (into the file) → the request's pointer (/body/…), or null
   * when the error is not about the request's input.
   */
  requestPath(pointer: string): string | null;
}

export type WriteResult = { ok: true; changes: ConfigChanges } | { ok: false; refusal: Refusal };

/** Maps `/<prefix>/rest` to `/body/rest` (the edit put the request body at `prefix`). */
export function bodyAt(prefix: string): (pointer: string) => string | null {
  return (pointer) =>
    pointer === prefix
      ? '/body'
      : pointer.startsWith(`${prefix}/`)
        ? `/body${pointer.slice(prefix.length)}`
        : null;
}

/** The id a scope of the file resolves to: `id`, else the subnet's network address. */
export function scopeIdOf(scope: unknown): string | null {
  if (typeof scope !== 'object' || scope === null) return null;
  const s = scope as JsonObject;
  if (typeof s.id === 'string') return s.id;
  if (typeof s.subnet === 'string') return s.subnet.split('/')[0] ?? null;
  return null;
}

/** JSON with object keys sorted: two configs are the same exactly when these strings are. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as JsonObject).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export class ConfigFile {
  constructor(private readonly deps: ApiDeps) {}

  /** The file the server runs, or why the API may not change it. */
  writablePath(): { ok: true; path: string } | { ok: false; refusal: Refusal } {
    const file = this.deps.configPath ?? this.deps.config().file;
    if (file === '<default>' || resolve(file) === resolve(DEFAULT_CONFIG_PATH)) {
      return {
        ok: false,
        refusal: {
          status: 409,
          body: {
            error: 'config-read-only',
            message:
              'the server runs the embedded default configuration; start it with --config <file> to change the configuration over the API',
          },
        },
      };
    }
    return { ok: true, path: file };
  }

  /** The file as JSON (reads may use the embedded default). */
  read(): ReadResult {
    const file = this.deps.configPath ?? this.deps.config().file;
    const path = file === '<default>' ? DEFAULT_CONFIG_PATH : file;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      return {
        ok: false,
        refusal: {
          status: 500,
          body: { error: 'config-unreadable', message: `cannot read ${path}: ${(err as Error).message}` },
        },
      };
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return {
        ok: false,
        refusal: {
          status: 409,
          body: {
            error: 'config-unreadable',
            message: `${path} is not valid JSON now (edited by hand?): ${(err as Error).message}; fix it first`,
          },
        },
      };
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      return {
        ok: false,
        refusal: {
          status: 409,
          body: { error: 'config-unreadable', message: `${path} is not a JSON object` },
        },
      };
    }
    return { ok: true, text, doc: doc as JsonObject, path };
  }

  /** One scope's object as written in the file, with its id made explicit; null when absent. */
  scopeConfig(scopeId: string): { ok: true; config: JsonObject | null } | { ok: false; refusal: Refusal } {
    const read = this.read();
    if (!read.ok) return read;
    const scopes = Array.isArray(read.doc.scopes) ? read.doc.scopes : [];
    const found = scopes.find((s) => scopeIdOf(s) === scopeId);
    return { ok: true, config: found === undefined ? null : { id: scopeId, ...(found as JsonObject) } };
  }

  /** Applies `edit` to the file and reloads the server (SIGHUP semantics). */
  write(edit: Edit): WriteResult {
    const writable = this.writablePath();
    if (!writable.ok) return writable;
    const reload = this.deps.reload;
    if (!reload) {
      return {
        ok: false,
        refusal: {
          status: 501,
          body: { error: 'not-implemented', message: 'this server cannot reload its config' },
        },
      };
    }
    const read = this.read();
    if (!read.ok) return read;
    const refused = edit.apply(read.doc);
    if (refused) return { ok: false, refusal: refused };
    const indent = /^\{\r?\n(\t| +)"/.exec(read.text)?.[1] ?? '  ';
    const next = `${JSON.stringify(read.doc, null, indent)}\n`;
    const checked = parseConfigText(next, read.path);
    if (!checked.ok) return { ok: false, refusal: invalid(checked.errors, edit) };
    const conflicts = this.deps.checkConfig?.(checked.config) ?? [];
    if (conflicts.length > 0) return { ok: false, refusal: conflicting(conflicts, edit) };

    try {
      atomicWrite(read.path, next, read.text);
    } catch (err) {
      return {
        ok: false,
        refusal: {
          status: 500,
          body: {
            error: 'config-write-failed',
            message: `cannot write ${read.path}: ${(err as Error).message}`,
          },
        },
      };
    }
    const outcome = reload(false);
    if (!outcome.ok) {
      // The server kept its running config: put the file back so the two agree.
      try {
        atomicWrite(read.path, read.text, null);
      } catch {
        // the .bak copy still holds it
      }
      const first = outcome.errors[0];
      return {
        ok: false,
        refusal: {
          status: 500,
          body: {
            error: 'reload-failed',
            message: `the server did not apply the changed config (${first ? `${first.readablePath || first.file}: ${first.message}` : 'see its log'}); the file was restored`,
          },
        },
      };
    }
    this.deps.log?.info({ event: 'api.config-written', file: read.path, changes: outcome.changes });
    return { ok: true, changes: outcome.changes };
  }
}

function invalid(errors: readonly ConfigError[], edit: Edit): Refusal {
  const mapped = errors.map((e) => ({ e, path: edit.requestPath(e.path) }));
  const mine = mapped.find((m) => m.path !== null);
  if (mine?.path != null) {
    return {
      status: 400,
      body: { error: 'invalid-request', message: `${mine.path} ${mine.e.message}`, path: mine.path },
    };
  }
  const first = errors[0];
  const where = first?.readablePath ? `${first.readablePath}: ` : '';
  return {
    status: 400,
    body: {
      error: 'invalid-request',
      message: `the change would make the config invalid: ${where}${first?.message ?? 'unknown error'}`,
      path: '/body',
    },
  };
}

/** A valid config that contradicts the live state: 409 at the first error, in the request's terms. */
function conflicting(errors: readonly ConfigError[], edit: Edit): Refusal {
  const first = errors[0]!;
  const path = edit.requestPath(first.path) ?? '/body';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return {
    status: 409,
    body: { error: 'reservation-conflict', message: `${path}: ${first.message}${more}`, path },
  };
}

/** temp file + fsync + rename; the replaced text (when given) is kept as <path>.bak. */
function atomicWrite(path: string, text: string, previous: string | null): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let mode = 0o600;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    // new file
  }
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (previous !== null) copyFileSync(path, `${path}.bak`);
  renameSync(tmp, path);
}
