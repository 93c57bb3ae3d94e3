// Loading a configuration: one JSON file → a ResolvedConfig, or every error with its location.
//   stage 1: JSON syntax (line and column of the first error)
//   stage 2: the schema (schema.ts), every error, unknown properties named with a suggestion
//   stage 3: semantic rules and resolution (resolver.ts), run only on a schema-valid document
// Nothing here throws on any input; reloadConfig never touches the config it is given.

import { readFileSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LOADER_LIMITS } from './defaults.js';
import { type ConfigError, readablePath } from './errors.js';
import { parseJsonWithPositions, type SourcePosition } from './json-source.js';
import type { ResolvedConfig } from './resolved.js';
import { resolveConfig } from './resolver.js';
import { Config } from './schema.js';
import { schemaProblems } from './schema-errors.js';
import { isSecretPath } from './secrets.js';

export type { ConfigError } from './errors.js';
export { formatConfigError, formatConfigErrors } from './errors.js';
export type * from './resolved.js';

export type LoadResult = { ok: true; config: ResolvedConfig } | { ok: false; errors: ConfigError[] };

export interface LoadOptions {
  /** Default for server.name; os.hostname() unless given (tests pass a fixed one). */
  hostname?: string;
}

function errorAt(
  file: string,
  pointer: string,
  message: string,
  position: SourcePosition | undefined,
): ConfigError {
  const error: ConfigError = { file, path: pointer, readablePath: readablePath(pointer), message };
  if (position !== undefined) {
    error.line = position.line;
    error.column = position.column;
  }
  return error;
}

/** Document order (errors without a position last), then a bounded list. */
function finish(errors: ConfigError[], file: string): ConfigError[] {
  const sorted = errors
    .map((e, i) => ({ e, i }))
    .sort(
      (a, b) =>
        (a.e.line ?? Number.MAX_SAFE_INTEGER) - (b.e.line ?? Number.MAX_SAFE_INTEGER) ||
        (a.e.column ?? 0) - (b.e.column ?? 0) ||
        a.i - b.i,
    )
    .map(({ e }) => e);
  const max = LOADER_LIMITS.maxReportedErrors;
  if (sorted.length <= max) return sorted;
  return [...sorted.slice(0, max), errorAt(file, '', `… and ${sorted.length - max} more errors`, undefined)];
}

function parseUnsafe(text: string, file: string, options: LoadOptions): LoadResult {
  const parsed = parseJsonWithPositions(text, LOADER_LIMITS.maxJsonDepth, isSecretPath);
  if (!parsed.ok)
    return {
      ok: false,
      errors: [errorAt(file, '', `JSON syntax error: ${parsed.message}`, parsed.position)],
    };
  const source = parsed.source;

  const errors: ConfigError[] = source.duplicates.map((d) =>
    errorAt(
      file,
      d.pointer,
      `duplicate property (first defined at line ${d.firstPosition.line}, column ${d.firstPosition.column})`,
      d.position,
    ),
  );
  for (const p of schemaProblems(Config, source.value, LOADER_LIMITS.maxSchemaErrors)) {
    errors.push(errorAt(file, p.pointer, p.message, source.positionOf(p.pointer, p.isAtKey)));
  }
  if (errors.length > 0) return { ok: false, errors: finish(errors, file) };

  const resolved = resolveConfig(source.value as Config, {
    file,
    hostname: options.hostname ?? osHostname(),
  });
  if (!resolved.ok) {
    const semantic = resolved.problems.map((p) =>
      errorAt(file, p.pointer, p.message, source.positionOf(p.pointer)),
    );
    return { ok: false, errors: finish(semantic, file) };
  }
  return resolved;
}

/** Parses and resolves config text; `fileName` labels the errors ("<default>" for built-ins). */
export function parseConfigText(text: string, fileName: string, options: LoadOptions = {}): LoadResult {
  try {
    return parseUnsafe(text, fileName, options);
  } catch (e) {
    // A bug of ours, not of the file; still a value, so a reload keeps the running config.
    const detail = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      errors: [errorAt(fileName, '', `internal error while loading (please report): ${detail}`, undefined)],
    };
  }
}

/** Reads `path` (UTF-8 JSON, at most LOADER_LIMITS.maxFileBytes) and loads it. */
export function loadConfigFile(path: string, options: LoadOptions = {}): LoadResult {
  let bytes: Buffer;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return { ok: false, errors: [errorAt(path, '', 'is not a regular file', undefined)] };
    if (stat.size > LOADER_LIMITS.maxFileBytes) {
      return {
        ok: false,
        errors: [
          errorAt(
            path,
            '',
            `is ${stat.size} bytes; a config file may have at most ${LOADER_LIMITS.maxFileBytes}`,
            undefined,
          ),
        ],
      };
    }
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : e instanceof Error
            ? e.message
            : String(e);
    return { ok: false, errors: [errorAt(path, '', `cannot read the file: ${reason}`, undefined)] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, errors: [errorAt(path, '', 'is not valid UTF-8 text', undefined)] };
  }
  return parseConfigText(text, path, options);
}

/**
 * The configuration `twinlease serve` uses without --config (config/default.json; the same
 * relative location from src/config and dist/config).
 */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../config/default.json', import.meta.url));

export function loadDefaultConfig(options: LoadOptions = {}): LoadResult {
  return loadConfigFile(DEFAULT_CONFIG_PATH, options);
}

// ---------------------------------------------------------------------------------------------
// Reload (SIGHUP)

export interface ConfigChanges {
  readonly isUnchanged: boolean;
  readonly scopesAdded: readonly string[];
  readonly scopesRemoved: readonly string[];
  readonly scopesChanged: readonly string[];
  readonly relationshipsAdded: readonly string[];
  readonly relationshipsRemoved: readonly string[];
  readonly relationshipsChanged: readonly string[];
  /** Settings (readable paths) that changed but take effect only after a restart: bound sockets
   * and the open lease store. The new values are in the returned config all the same. */
  readonly restartRequired: readonly string[];
}

export type ReloadResult =
  | { ok: true; config: ResolvedConfig; changes: ConfigChanges }
  | { ok: false; errors: ConfigError[] };

/** Structural equality for resolved data (plain objects, arrays, Maps, Sets, byte arrays). */
export function isSameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    return a.every((x, i) => x === b[i]);
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !isSameValue(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    for (const k of a) if (!b.has(k)) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every(
    (k) =>
      Object.hasOwn(b, k) &&
      isSameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

function diffByKey<T>(before: readonly T[], after: readonly T[], key: (t: T) => string) {
  const old = new Map(before.map((t) => [key(t), t]));
  const now = new Map(after.map((t) => [key(t), t]));
  return {
    added: [...now.keys()].filter((k) => !old.has(k)),
    removed: [...old.keys()].filter((k) => !now.has(k)),
    changed: [...now.keys()].filter((k) => old.has(k) && !isSameValue(old.get(k), now.get(k))),
  };
}

export function describeChanges(current: ResolvedConfig, next: ResolvedConfig): ConfigChanges {
  const scopes = diffByKey(current.scopes, next.scopes, (s) => s.id);
  const relationships = diffByKey(current.failover, next.failover, (r) => r.name);
  const restartRequired: string[] = [];
  const watch: [string, unknown, unknown][] = [
    ['dhcp.listenAddress', current.dhcp.listenAddress, next.dhcp.listenAddress],
    ['dhcp.port', current.dhcp.port, next.dhcp.port],
    ['dhcp.interface', current.dhcp.interface, next.dhcp.interface],
    ['leaseStore.type', current.leaseStore.type, next.leaseStore.type],
    ['leaseStore.path', current.leaseStore.path, next.leaseStore.path],
    ['leaseStore.commitIntervalMs', current.leaseStore.commitIntervalMs, next.leaseStore.commitIntervalMs],
    ['leaseStore.commitBatchSize', current.leaseStore.commitBatchSize, next.leaseStore.commitBatchSize],
    ['leaseStore.commitMaxDelayMs', current.leaseStore.commitMaxDelayMs, next.leaseStore.commitMaxDelayMs],
    ['leaseStore.writerThread', current.leaseStore.writerThread, next.leaseStore.writerThread],
    ['leaseStore.url', current.leaseStore.url, next.leaseStore.url],
    ['leaseStore.poolSize', current.leaseStore.poolSize, next.leaseStore.poolSize],
    ['leaseStore.connectTimeoutMs', current.leaseStore.connectTimeoutMs, next.leaseStore.connectTimeoutMs],
    [
      'leaseStore.statementTimeoutMs',
      current.leaseStore.statementTimeoutMs,
      next.leaseStore.statementTimeoutMs,
    ],
    ['api.listenAddress', current.api.listenAddress, next.api.listenAddress],
    ['api.port', current.api.port, next.api.port],
    ['api.tls', JSON.stringify(current.api.tls), JSON.stringify(next.api.tls)],
  ];
  for (const [name, before, after] of watch) if (before !== after) restartRequired.push(name);
  const { file: _a, ...restCurrent } = current;
  const { file: _b, ...restNext } = next;
  return {
    isUnchanged: isSameValue(restCurrent, restNext),
    scopesAdded: scopes.added,
    scopesRemoved: scopes.removed,
    scopesChanged: scopes.changed,
    relationshipsAdded: relationships.added,
    relationshipsRemoved: relationships.removed,
    relationshipsChanged: relationships.changed,
    restartRequired,
  };
}

/**
 * SIGHUP semantics: load `path` again. On success the new config and what changed; on error the
 * errors, and the caller keeps running `current` (which this function never modifies).
 */
export function reloadConfig(path: string, current: ResolvedConfig, options: LoadOptions = {}): ReloadResult {
  const loaded = loadConfigFile(path, options);
  if (!loaded.ok) return loaded;
  return { ok: true, config: loaded.config, changes: describeChanges(current, loaded.config) };
}
