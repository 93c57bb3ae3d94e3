// The operation tracker of failover relationships (IPAM DhcpFailover OperationTracker and
// ServerOwner): which server an operation on a relationship was started from, when, by which token,
// and what it did to the running relationship (started, restarted, nothing). Kept beside the config file as
// <config>.operations.json (docs/api.md), written atomically; in memory only without a file.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { TrackedOperation } from './relationship-resource.js';

/** Operations kept per relationship (newest first). */
export const MAX_OPERATIONS_PER_RELATIONSHIP = 20;

interface StoredFile {
  version: 1;
  relationships: Record<string, TrackedOperation[]>;
}

/**
 * An entry written before `effect` existed had `isRestartRequired`: true meant the change reached
 * the relationship, which the reload had in fact started or restarted at once.
 */
function upgrade(op: TrackedOperation & { isRestartRequired?: boolean }): TrackedOperation {
  if (op.effect !== undefined) return op;
  const { isRestartRequired, ...rest } = op;
  return {
    ...rest,
    effect: isRestartRequired ? (op.operation === 'create' ? 'started' : 'restarted') : 'none',
  };
}

/** `/etc/twinlease/config.json` → `/etc/twinlease/config.operations.json`. */
export function operationLogPath(configPath: string): string {
  return `${configPath.replace(/\.json$/i, '')}.operations.json`;
}

export class OperationLog {
  private readonly byRelationship = new Map<string, TrackedOperation[]>();

  constructor(
    private readonly path: string | null,
    private readonly log?: Logger,
  ) {
    if (path === null) return;
    try {
      const stored = JSON.parse(readFileSync(path, 'utf8')) as Partial<StoredFile>;
      for (const [name, ops] of Object.entries(stored.relationships ?? {})) {
        if (Array.isArray(ops)) {
          this.byRelationship.set(name, ops.slice(0, MAX_OPERATIONS_PER_RELATIONSHIP).map(upgrade));
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        log?.warn(
          { event: 'api.operation-log-unreadable', file: path, err: (err as Error).message },
          'operation log unreadable; starting a new one',
        );
      }
    }
  }

  list(name: string): readonly TrackedOperation[] {
    return this.byRelationship.get(name) ?? [];
  }

  record(name: string, op: TrackedOperation): void {
    const ops = [op, ...this.list(name)].slice(0, MAX_OPERATIONS_PER_RELATIONSHIP);
    this.byRelationship.set(name, ops);
    this.save();
  }

  /** A deleted relationship's history goes with it. */
  forget(name: string): void {
    if (this.byRelationship.delete(name)) this.save();
  }

  private save(): void {
    if (this.path === null) return;
    const file: StoredFile = { version: 1, relationships: Object.fromEntries(this.byRelationship) };
    const tmp = `${this.path}.tmp-${process.pid}`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (err) {
      // The config change itself succeeded; losing the audit trail is not a reason to fail it.
      this.log?.warn(
        { event: 'api.operation-log-write-failed', file: this.path, err: (err as Error).message },
        'cannot write the operation log',
      );
    }
  }
}
