// The last state changes of a failover relationship, for operators asking "why is it in this
// state?" (Windows shows only the state; Kea's ha status-get the state and the partner's). Fed by
// the endpoint's failover-state-changed log action, which names the state-table row that fired
// (src/failover/state-machine.ts: `<state>:<event>`); bounded, newest first. Pure.

/** Changes kept per relationship. */
export const MAX_STATE_CHANGES = 20;

export interface StateChange {
  /** State names as the endpoint logs them (SERVER_STATE_NAMES: `communications-interrupted`, …). */
  from: string;
  to: string;
  /** Seconds since epoch. */
  at: number;
  /** The state-table row: `<state>:<event>`, e.g. `normal:comm-failed`. */
  rule: string;
  /** The partner's state as last known when it changed (null: never heard). */
  partnerState: string | null;
}

/** What made the change, in words, from the event part of its rule. */
export function stateChangeReason(rule: string): string {
  const event = rule.slice(rule.indexOf(':') + 1);
  if (event.startsWith('partner-')) {
    const partner = event.slice('partner-'.length);
    if (partner === 'startup-flag') return 'the partner is starting up (STARTUP flag in its STATE)';
    return `the partner reported state ${partner}`;
  }
  switch (event) {
    case 'comm-failed':
      return 'communication with the partner was lost';
    case 'safe-period-expired':
      return 'automatic partner-down: the state switch interval passed without the partner';
    case 'operator-partner-down':
      return 'an operator declared the partner down';
    case 'upd-done':
      return 'the partner had sent every binding asked for (UPDDONE)';
    case 'upd-done-partner-recovering':
      return 'the partner had sent every binding asked for (UPDDONE) while it recovers too';
    case 'recover-wait-elapsed':
      return 'MCLT passed in RECOVER-WAIT';
    case 'startup-timer-expired':
      return 'the startup period ended without reaching the partner';
    default:
      return event;
  }
}

export class StateHistory {
  private readonly changes: StateChange[] = [];

  constructor(private readonly limit = MAX_STATE_CHANGES) {}

  record(change: StateChange): void {
    this.changes.unshift(change);
    if (this.changes.length > this.limit) this.changes.length = this.limit;
  }

  /** Newest first. */
  list(): readonly StateChange[] {
    return this.changes;
  }
}
