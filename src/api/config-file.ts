// The API's write path into the running config file (relationships, scope configs). One write:
// read the file text, change the JSON, check the result with the loader (parseConfigText: the same
// schema and rules as a start or SIGHUP), work out what it would do (the file diff, the active
// leases it would orphan, whether the failover partner would reject it), then — unless it is a dry
// run, or refused — write it atomically (temp file, fsync, rename; the previous text kept as
// <file>.bak) and reload the server as SIGHUP does. Writes run one at a time (serialized()): the
// partner check waits on the network, and no other write may slip in between check and write.

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
  describeChanges,
  parseConfigText,
} from '../config/loader.js';
import { type ConfigDiffEntry, configDiff } from './config-diff.js';
import type { ApiDeps } from './deps.js';
import { type OrphanedLeases, orphanedLeases } from './orphaned-leases.js';
import { checkPartners, type PartnerCheck } from './partner-check.js';

export type JsonObject = Record<string, unknown>;

/** An answer the route sends as is. */
export interface Refusal {
  status: 400 | 404 | 409 | 500 | 501 | 502;
  body: {
    error: string;
    message: string;
    path?: string;
    orphanedLeases?: OrphanedLeases;
    partnerChecks?: PartnerCheck[];
  };
}

/** Why a write is refused unless forced. */
export interface Blocker {
  error: 'orphans-active-leases' | 'partner-would-reject' | 'partner-unverified';
  message: string;
}

/** What a write would do: the dry run's answer, and the basis of a refusal. */
export interface WritePlan {
  changes: ConfigChanges;
  /** The file's JSON before → after (secrets redacted). */
  diff: ConfigDiffEntry[];
  orphanedLeases: OrphanedLeases;
  partnerChecks: PartnerCheck[];
  /** Empty: the write goes ahead without force. */
  blockers: Blocker[];
}

export interface WriteOptions {
  /** Check and report; change nothing. */
  dryRun?: boolean;
  /** Write even though it orphans active leases or the partner would reject it. */
  force?: boolean;
  /** The caller makes the same change on the partner itself (replicate): no partner check. */
  isPartnerCheckSkipped?: boolean;
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

export type WriteResult =
  | { ok: true; isWritten: true; plan: WritePlan; changes: ConfigChanges; previousText: string }
  | { ok: true; isWritten: false; plan: WritePlan }
  | { ok: false; refusal: Refusal };

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
  /** The last write in turn; the next one starts when it settles. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: ApiDeps,
    private readonly now: () => number,
  ) {}

  /** Runs `task` alone: no other write of the file starts until it has settled. */
  serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.turn.then(task, task);
    this.turn = run.catch(() => undefined);
    return run;
  }

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

  /** Applies `edit` to the file and reloads the server (SIGHUP semantics), in turn. */
  write(edit: Edit, options: WriteOptions = {}): Promise<WriteResult> {
    return this.serialized(() => this.writeNow(edit, options));
  }

  /**
   * The write itself; only inside serialized(). Refuses (409 with the list) a change that orphans
   * active leases or that the partner would reject, unless `force`; a dry run reports the same
   * and changes nothing.
   */
  async writeNow(edit: Edit, options: WriteOptions = {}): Promise<WriteResult> {
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
    const before = JSON.parse(read.text) as JsonObject;
    const refused = edit.apply(read.doc);
    if (refused) return { ok: false, refusal: refused };
    const indent = /^\{\r?\n(\t| +)"/.exec(read.text)?.[1] ?? '  ';
    const next = `${JSON.stringify(read.doc, null, indent)}\n`;
    const checked = parseConfigText(next, read.path);
    if (!checked.ok) return { ok: false, refusal: invalid(checked.errors, edit) };
    const conflicts = this.deps.checkConfig?.(checked.config) ?? [];
    if (conflicts.length > 0) return { ok: false, refusal: conflicting(conflicts, edit) };

    const current = this.deps.config();
    const orphaned = orphanedLeases(this.deps.engine(), checked.config, this.now());
    const partnerChecks = options.isPartnerCheckSkipped ? [] : await checkPartners(current, checked.config);
    const plan: WritePlan = {
      changes: describeChanges(current, checked.config),
      diff: configDiff(before, read.doc),
      orphanedLeases: orphaned,
      partnerChecks,
      blockers: blockersOf(orphaned, partnerChecks),
    };
    if (options.dryRun) return { ok: true, isWritten: false, plan };
    const first = plan.blockers[0];
    if (first !== undefined && !options.force) {
      return {
        ok: false,
        refusal: {
          status: 409,
          body: {
            error: first.error,
            message: `${plan.blockers.map((b) => b.message).join('; ')}; nothing was changed (force=true writes it anyway, dryRun=true shows the whole change)`,
            orphanedLeases: orphaned,
            partnerChecks,
          },
        },
      };
    }
    const written = this.replaceText(read.path, next, read.text);
    if (!written.ok) return written;
    this.deps.log?.info({
      event: 'api.config-written',
      file: read.path,
      changes: written.changes,
      ...(first !== undefined ? { forced: plan.blockers.map((b) => b.error) } : {}),
    });
    return { ok: true, isWritten: true, plan, changes: written.changes, previousText: read.text };
  }

  /** Puts back the text a write replaced (a failed replication); only inside serialized(). */
  restoreNow(previousText: string): { ok: true } | { ok: false; refusal: Refusal } {
    const writable = this.writablePath();
    if (!writable.ok) return writable;
    const read = this.read();
    if (!read.ok) return read;
    const restored = this.replaceText(read.path, previousText, read.text);
    if (!restored.ok) return restored;
    this.deps.log?.info({ event: 'api.config-restored', file: read.path });
    return { ok: true };
  }

  /** Writes `text` over the file and reloads; on a refused reload the file is put back. */
  private replaceText(
    path: string,
    text: string,
    previous: string,
  ): { ok: true; changes: ConfigChanges } | { ok: false; refusal: Refusal } {
    try {
      atomicWrite(path, text, previous);
    } catch (err) {
      return {
        ok: false,
        refusal: {
          status: 500,
          body: {
            error: 'config-write-failed',
            message: `cannot write ${path}: ${(err as Error).message}`,
          },
        },
      };
    }
    const outcome = this.deps.reload!(false);
    if (!outcome.ok) {
      // The server kept its running config: put the file back so the two agree.
      try {
        atomicWrite(path, previous, null);
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
    return { ok: true, changes: outcome.changes };
  }
}

function blockersOf(orphaned: OrphanedLeases, checks: readonly PartnerCheck[]): Blocker[] {
  const out: Blocker[] = [];
  if (orphaned.count > 0) {
    const first = orphaned.items.slice(0, 3).map((l) => l.ipAddress);
    out.push({
      error: 'orphans-active-leases',
      message: `the change leaves ${orphaned.count} active lease${orphaned.count === 1 ? '' : 's'} outside every scope (${first.join(', ')}${orphaned.count > first.length ? ', …' : ''}); their clients lose the address at renewal`,
    });
  }
  for (const c of checks) {
    if (c.result === 'wouldReject') {
      out.push({
        error: 'partner-would-reject',
        message: `the partner of relationship "${c.relationship}" would reject binding updates for ${c.addresses.join(', ')} of scope "${c.scopeId}": ${c.message}; change it there first, or send it to both with replicate=true`,
      });
    } else if (c.result === 'unverified') {
      out.push({
        error: 'partner-unverified',
        message: `scope "${c.scopeId}" of relationship "${c.relationship}" gains ${c.addresses.join(', ')}, which the partner may not have: ${c.message}`,
      });
    }
  }
  return out;
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

/** The dry run's answer (WritePreview in src/api/schemas.ts). */
export function previewOf(plan: WritePlan, options: WriteOptions) {
  return {
    dryRun: true as const,
    wouldApply: plan.blockers.length === 0 || options.force === true,
    changes: {
      ...plan.changes,
      scopesAdded: [...plan.changes.scopesAdded],
      scopesRemoved: [...plan.changes.scopesRemoved],
      scopesChanged: [...plan.changes.scopesChanged],
      relationshipsAdded: [...plan.changes.relationshipsAdded],
      relationshipsRemoved: [...plan.changes.relationshipsRemoved],
      relationshipsChanged: [...plan.changes.relationshipsChanged],
      restartRequired: [...plan.changes.restartRequired],
    },
    diff: plan.diff,
    orphanedLeases: plan.orphanedLeases,
    partnerChecks: plan.partnerChecks,
    blockers: plan.blockers,
  };
}
