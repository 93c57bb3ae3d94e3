// The server state machine's timers (D12 §9; spec §7): STARTUP's resumption, the safe period
// before automatic PARTNER-DOWN, RECOVER-WAIT, the PARTNER-DOWN wait for the partner's pool, and
// the heartbeat that bounds when a server went down. Pure deadline arithmetic on the timeline;
// the endpoint (src/failover/endpoint.ts) reads its state, asks for each deadline at every tick and
// applies the state machine's event when one has passed (src/failover/state-machine.ts).
//
// The safety rule they share (docs/safety.md, "The time base" and "Restarts"): every deadline is a
// difference of timeline times, so no wall-clock step moves it; after a restart no clock measured
// (a power loss), a wait that began before the restart resumes with the time it had left at the
// last checkpoint (`rearmedIfBefore`), and a server that cannot know how long it was down assumes
// it was down longer than MCLT.

import { rearmed, type UnmeasuredRestart } from './lease-time.js';

/** While serving, lastOperationalAt is made durable this often (it bounds when we went down). */
export const HEARTBEAT_SECONDS = 10;

/** `deadline` of a wait that began at `since`, re-armed if it began before an unmeasured restart. */
export function rearmedIfBefore(since: number, deadline: number, restart: UnmeasuredRestart | null): number {
  return restart !== null && since < restart.bootAt ? rearmed(deadline, restart) : deadline;
}

/**
 * STARTUP: whether this process was down longer than MCLT (then it waits for the partner instead
 * of resuming alone: the partner may have moved to PARTNER-DOWN meanwhile and be handing out our
 * free addresses; D12 §9.3, sim seed 162).
 */
export function wasDownLongerThanMclt(input: {
  /** The last time we served, from stable storage (0: never). */
  lastOperationalAt: number;
  isRestartUnmeasured: boolean;
  /** When this process started. */
  startedAt: number;
  mcltSeconds: number;
}): boolean {
  if (input.lastOperationalAt === 0) return false;
  // Without a clock that ran through the downtime (a power loss) its length is unknown: the wall
  // clock may have been stepped meanwhile, or set wrong at boot. Assume the worst (docs/safety.md,
  // "Restarts").
  if (input.isRestartUnmeasured) return true;
  return input.startedAt - input.lastOperationalAt > input.mcltSeconds;
}

/**
 * RECOVER-WAIT's end. D12 §9.6.2: wait MCLT past the time we went down, if known, else past the
 * time we started. Went down: the last time we answered clients (lastOperationalAt, read from
 * stable storage at start and not advanced since, RECOVER does not answer) plus the heartbeat that
 * never came, as §9.6.2's DISCUSSION suggests. Restarted after more than that, RECOVER-WAIT is over
 * at once, as ISC's is (its saved stos + MCLT). After a restart no clock measured, the wait resumes
 * with what it had left at the last checkpoint (docs/safety.md, "Restarts").
 */
export function recoverWaitEndsAt(
  lastOperationalAt: number,
  stateStartedAt: number,
  mcltSeconds: number,
  restart: UnmeasuredRestart | null,
): number {
  const since = lastOperationalAt > 0 ? lastOperationalAt + HEARTBEAT_SECONDS + 1 : stateStartedAt;
  return rearmedIfBefore(since, since + mcltSeconds, restart);
}

/**
 * COMMUNICATIONS-INTERRUPTED with automatic partner-down: when the safe period ends (D12 §10).
 * DECISION (docs/failover.md, "Automatic partner-down"): the safe period counts from the last
 * sign that the partner serves clients, not only from the loss of the link. A partner cut off
 * from us but answering clients is not down; both servers taking PARTNER-DOWN would each use
 * the other's free addresses after MCLT (chaos seed 33710019). Kea HA waits for unanswered
 * clients for the same reason (max-unacked-clients). A partner that answers us at all, even
 * to refuse the connection (clocks apart, reject reason 4), is not down either: the interval
 * also counts from the last message it sent.
 */
export function safePeriodEndsAt(input: {
  stateStartedAt: number;
  partnerSeenServingAt: number;
  lastContactAt: number;
  stateSwitchIntervalSeconds: number;
  restart: UnmeasuredRestart | null;
}): number {
  const since = Math.max(input.stateStartedAt, input.partnerSeenServingAt, input.lastContactAt);
  return rearmedIfBefore(since, since + input.stateSwitchIntervalSeconds, input.restart);
}

/**
 * PARTNER-DOWN: when the partner's free addresses become usable (stos + MCLT, D12 §9.4), re-armed
 * after an unmeasured restart if PARTNER-DOWN began before it.
 */
export function partnerPoolUsableAt(
  stateStartedAt: number,
  mcltSeconds: number,
  restart: UnmeasuredRestart | null,
): number {
  return rearmedIfBefore(stateStartedAt, stateStartedAt + mcltSeconds, restart);
}
