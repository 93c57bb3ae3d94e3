// Why a relationship is in its state, in operator words. The failover endpoint logs the rule of
// every transition (failover.state-changed) but RelationshipStatus does not carry it, so the
// dashboard explains what it can see: the change it observed between two samples (from what,
// with the partner reachable or not, in which partner state, after an operator action recorded by
// the API) or, for a state entered before it started watching, the state itself (D12 §9).

import { wallTimeOf } from '../api/format.js';
import type { FailoverStateName } from '../api/schemas.js';

export interface Observation {
  atSeconds: number;
  localState: FailoverStateName;
  partnerState: FailoverStateName | null;
  isPartnerReachable: boolean;
}

export interface ExplainContext {
  /** The server whose state is explained, and its partner. */
  serverName: string;
  partnerName: string;
  mode: 'loadBalance' | 'hotStandby';
  mcltSeconds: number;
  autoStateTransition: boolean;
  stateSwitchIntervalSeconds: number | null;
  /** The newest operator partner-down recorded by this server's API, if any. */
  operatorPartnerDown: { atSeconds: number; tokenName: string | null } | null;
}

/** How far apart an operator action and the state change it caused may be seen (two samples). */
const OPERATOR_MATCH_SECONDS = 10;

/** A time as a wall clock shows it (alerts pass wall-clock seconds, the history timeline ones). */
export function clockTime(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(11, 19)} UTC`;
}

/** Describes a state with no knowledge of how it was entered. */
export function explainState(
  state: FailoverStateName | null,
  partnerState: FailoverStateName | null,
  isPartnerReachable: boolean,
  c: ExplainContext,
): string | null {
  const p = c.partnerName;
  switch (state) {
    case null:
    case 'noState':
    case 'init':
      return null;
    case 'startup':
      return `Starting: waiting to learn ${p}'s state before serving (D12 §9.1).`;
    case 'normal':
      return c.mode === 'loadBalance'
        ? `In contact with ${p}; each server answers its share of the clients.`
        : `In contact with ${p}; the active server answers the clients.`;
    case 'communicationsInterrupted':
      return isPartnerReachable
        ? `Reconnecting to ${p}.`
        : `No contact with ${p}: each server renews its own clients and gives new ones only its own free addresses, leases capped at MCLT.`;
    case 'partnerDown':
      return `${p} is taken to be down: this server answers every client and may use ${p}'s free addresses once MCLT has passed.`;
    case 'potentialConflict':
      return `Both servers may have served clients without contact; their bindings are being compared (D12 §9.10).`;
    case 'resolutionInterrupted':
      return `Contact with ${p} was lost while conflicts were being resolved.`;
    case 'conflictDone':
      return `Conflicts resolved on this side; waiting for ${p} to finish.`;
    case 'recover':
      return `Getting back every binding from ${p} (update request), because this server lost its state or ${p} ran in partner-down meanwhile.`;
    case 'recoverWait':
      return `Bindings received; waiting MCLT (${c.mcltSeconds} s) after it went down before using its own pool again (D12 §9.5).`;
    case 'recoverDone':
      return `Recovery done; waiting for ${p} to go to normal.`;
    case 'paused':
      return `${partnerState === null ? 'This server' : 'The server'} is paused (an orderly stop that expects to return).`;
    case 'shutdown':
      return 'The server is shutting down.';
  }
}

/** Explains `next` given the sample before it (null: the first one the dashboard took). */
export function explainChange(prev: Observation | null, next: Observation, c: ExplainContext): string | null {
  if (prev === null || prev.localState === next.localState) {
    return explainState(next.localState, next.partnerState, next.isPartnerReachable, c);
  }
  const p = c.partnerName;
  const from = prev.localState;
  switch (next.localState) {
    case 'communicationsInterrupted':
      if (from === 'startup' || from === 'noState') return `Started without reaching ${p}.`;
      return `Lost contact with ${p} at about ${clockTime(wallTimeOf(next.atSeconds))} (was ${from}; connection closed or silent for the receive timer).`;
    case 'partnerDown': {
      const op = c.operatorPartnerDown;
      if (
        op !== null &&
        Math.abs(op.atSeconds - next.atSeconds) <= OPERATOR_MATCH_SECONDS + (next.atSeconds - prev.atSeconds)
      ) {
        return `Declared by an operator${op.tokenName === null ? '' : ` (token "${op.tokenName}")`} at ${clockTime(wallTimeOf(op.atSeconds))}.`;
      }
      if (prev.partnerState === 'shutdown' || next.partnerState === 'shutdown')
        return `${p} announced that it shut down.`;
      if (from === 'communicationsInterrupted' && c.autoStateTransition) {
        return `No contact with ${p} for the state switch interval (${c.stateSwitchIntervalSeconds} s): automatic partner-down.`;
      }
      return `Entered partner-down (was ${from}).`;
    }
    case 'normal':
      if (from === 'communicationsInterrupted')
        return `Contact with ${p} restored at about ${clockTime(wallTimeOf(next.atSeconds))}.`;
      if (from === 'startup') return `Started and found ${p} in ${next.partnerState ?? 'an unknown state'}.`;
      return `Back to normal after ${from} with ${p}.`;
    case 'recover':
      return `Reached ${p}${next.partnerState === null ? '' : ` (in ${next.partnerState})`} after an absence: getting every binding back from it.`;
    case 'recoverWait':
      return `All bindings received from ${p}; waiting MCLT (${c.mcltSeconds} s) before using its own pool.`;
    case 'recoverDone':
      return `Recovery wait over; waiting for ${p}.`;
    case 'potentialConflict':
      return `Reached ${p} (in ${next.partnerState ?? 'an unknown state'}) after both may have served without contact: comparing bindings.`;
    case 'resolutionInterrupted':
      return `Lost contact with ${p} during conflict resolution.`;
    case 'conflictDone':
      return `Conflict resolution done on this side (was ${from}).`;
    default:
      return explainState(next.localState, next.partnerState, next.isPartnerReachable, c);
  }
}
