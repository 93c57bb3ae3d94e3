// Phases of one end-to-end scenario: node:test tests that run in order and build on each other.
// After a failure the later phases are skipped (their premise is gone), and the scenario's own
// diagnostics (states seen, logs) are attached to the failing phase.

import { type TestContext, test } from 'node:test';

export class Phases {
  /** Name of the phase that failed, or '' while all passed. */
  broken = '';

  constructor(private readonly onFailure: (t: TestContext) => void) {}

  readonly phase = (name: string, timeoutMs: number, fn: (t: TestContext) => Promise<void>): void => {
    test(name, { timeout: timeoutMs }, async (t) => {
      if (this.broken !== '') {
        t.skip(`an earlier phase failed: ${this.broken}`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        this.broken = name;
        this.onFailure(t);
        throw err;
      }
    });
  };
}
