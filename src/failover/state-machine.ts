// The D12 server state machine (shared/spec/failover.md §7) as one pure transition table.
//
// Every (state, event) pair is a row of TABLE below; `transition()` only looks rows up, resolves the
// two STARTUP targets that depend on stored data, and adds the effects of entering a state. Where
// D12 and ISC dhcpd 4.4.3 differ we follow ISC (spec §15, an ISC partner must behave as expected),
// with one exception applied everywhere: ISC sometimes moves *itself* to SHUTDOWN on a transition
// it considers impossible ("panic"); we never do — the row then follows D12 or stays.
//
// A partner STATE arriving while connected is modelled as D12 §7.2 says: "communications failed"
// then "communications OK with the partner in state X". For most states the first step is a no-op,
// so the partner rows below are simply the comm-OK rows; NORMAL's rows are the COMM-INTR rows
// reached through NORMAL → COMM-INTR (that is how they were derived).
//
// The ISC source consulted: server/failover.c, dhcp_failover_peer_state_changed(),
// dhcp_failover_state_transition() and dhcp_failover_set_state().

import { ServerState } from '../wire/failover-message.js';

export type FailoverRole = 'primary' | 'secondary';

export type StateEvent =
  /**
   * Communication became OK (first partner STATE on a new connection) or, while connected, the
   * partner's STATE changed. `partnerStartup`: the STATE had server-flags STARTUP (the partner is in
   * STARTUP and reports its previous state). `partnerStateStartedAt`: the partner's stos (s since 1970).
   */
  | {
      type: 'partnerState';
      partnerState: ServerState;
      partnerStartup: boolean;
      partnerStateStartedAt: number;
    }
  /** Connection lost / receive timer expired. */
  | { type: 'commFailed' }
  /** Auto-partner-down timer (stateSwitchInterval) fired in COMM-INTR. */
  | { type: 'safePeriodExpired' }
  | { type: 'operatorPartnerDown' }
  /** UPDDONE received for the UPDREQ/UPDREQALL we sent. */
  | { type: 'updDone' }
  /** RECOVER-WAIT timer done. */
  | { type: 'recoverWaitElapsed' }
  /** STARTUP period over without comm OK. */
  | { type: 'startupTimerExpired' };

export interface StateContext {
  role: FailoverRole;
  /** The state stored before this process started (what STARTUP resumes); RECOVER when nothing stored. */
  previousState: ServerState;
  /** Last time (s since 1970) we were known to be running as a failover server (for the STARTUP vs partner PARTNER-DOWN rule). 0 = never. */
  lastOperationalAt: number;
  /**
   * Whether our lease store was lost/never existed. Not consulted by the table: RECOVER always asks
   * for UPDREQALL (see entryEffects); kept so the caller can log it and for a finer rule later.
   */
  hasNoPartnerRecord: boolean;
  /** The partner's last reported state (null: never heard from it). RECOVER + UPDDONE needs it. */
  partnerState: ServerState | null;
}

/**
 * What the endpoint must do besides changing state. 'sendUpdReqIfNeeded' is reserved for D12's
 * "UPDREQ, or UPDREQALL if storage was lost" choice; this table never emits it (see entryEffects).
 */
export type StateEffect = 'sendUpdReq' | 'sendUpdReqAll' | 'sendUpdReqIfNeeded';

export interface Transition {
  next: ServerState;
  effects: StateEffect[];
  /** Short human id of the table row(s), e.g. 'comm-intr:partner-normal'; STARTUP chains read 'a>b'. */
  rule: string;
}

export type Responsiveness = 'none' | 'balanced' | 'all';

// -------------------------------------------------------------------------------------------------
// Table vocabulary

/**
 * Where a row leads. 'stay' = no state change. Only STARTUP uses the two computed targets:
 * 'resume' = the stored previous state mapped through its comm-failed transition;
 * 'partnerDownCheck' = D12 §9.3's PARTNER-DOWN start-time comparison (RECOVER or POTENTIAL-CONFLICT).
 */
type Target = ServerState | 'stay' | 'resume' | 'partnerDownCheck';

interface Row {
  readonly to: Target | { readonly primary: Target; readonly secondary: Target };
  /** Effects of the row itself, added to those of entering `to` (entryEffects). */
  readonly effects?: Readonly<Partial<Record<FailoverRole, readonly StateEffect[]>>>;
}

type EventType = Exclude<StateEvent['type'], 'partnerState'>;

interface StateRows {
  /** Comm OK / partner STATE change, by the partner's reported state. */
  readonly partner: Readonly<Record<ServerState, Row>>;
  /** Replaces `partner` when the partner's STATE carries the STARTUP flag. */
  readonly partnerStartup?: Row;
  /** Other events; absent = nothing happens. */
  readonly on?: Readonly<Partial<Record<EventType, Row>>>;
  /** Replaces `on.updDone` when the last known partner state is RECOVER or RECOVER-DONE (new pair). */
  readonly updDoneWithRecoveringPartner?: Row;
}

const S = ServerState;
const stay: Row = { to: 'stay' };
const go = (to: ServerState): Row => ({ to });
const both = (...effects: StateEffect[]) => ({ primary: effects, secondary: effects });
/** RECOVER, partner state gives no reason to move: ask for everything (again). */
const recoverAsk: Row = { to: 'stay', effects: both('sendUpdReqAll') };
/** STARTUP, comm OK with a partner not in PARTNER-DOWN: resume, then that state's row. */
const resume: Row = { to: 'resume' };

function everyPartnerState(row: Row): Record<ServerState, Row> {
  return {
    [S.STARTUP]: row,
    [S.NORMAL]: row,
    [S.COMMUNICATIONS_INTERRUPTED]: row,
    [S.PARTNER_DOWN]: row,
    [S.POTENTIAL_CONFLICT]: row,
    [S.RECOVER]: row,
    [S.PAUSED]: row,
    [S.SHUTDOWN]: row,
    [S.RECOVER_DONE]: row,
    [S.RESOLUTION_INTERRUPTED]: row,
    [S.CONFLICT_DONE]: row,
    [S.RECOVER_WAIT]: row,
  };
}

// A partner state of STARTUP never arrives on the wire (the sender sets server-flags STARTUP and
// reports its previous state); should it, it carries no information: every row stays (ISC: no-op).

// -------------------------------------------------------------------------------------------------
// The table (spec §7.3)

const TABLE: Readonly<Record<ServerState, StateRows>> = {
  [S.STARTUP]: {
    partner: {
      [S.STARTUP]: resume,
      [S.NORMAL]: resume,
      [S.COMMUNICATIONS_INTERRUPTED]: resume,
      // D12 §9.3: partner in PARTNER-DOWN since after we last ran → RECOVER, else POTENTIAL-CONFLICT.
      [S.PARTNER_DOWN]: { to: 'partnerDownCheck' },
      [S.POTENTIAL_CONFLICT]: resume,
      [S.RECOVER]: resume,
      [S.PAUSED]: resume,
      [S.SHUTDOWN]: resume,
      [S.RECOVER_DONE]: resume,
      [S.RESOLUTION_INTERRUPTED]: resume,
      [S.CONFLICT_DONE]: resume,
      [S.RECOVER_WAIT]: resume,
    },
    on: {
      // D12 §9.3 leaves it open (keep waiting or resume); we resume, like ISC's startup timeout.
      // (The endpoint keeps waiting instead when it was down longer than MCLT.)
      startupTimerExpired: resume,
      // Ours: a server waiting in STARTUP for an unreachable partner may be told it is dead.
      operatorPartnerDown: go(S.PARTNER_DOWN),
    },
  },

  [S.NORMAL]: {
    // The NORMAL rows are NORMAL → COMM-INTR (comm failed) → COMM-INTR's comm-OK row (D12 §7.2),
    // except where "stay" means COMM-INTR → NORMAL.
    partner: {
      [S.STARTUP]: stay,
      [S.NORMAL]: stay,
      [S.COMMUNICATIONS_INTERRUPTED]: stay, // partner lost us briefly; it comes back to NORMAL
      [S.PARTNER_DOWN]: go(S.POTENTIAL_CONFLICT), // D12 via COMM-INTR; ISC likewise
      // D12 via COMM-INTR. ISC calls these impossible and moves itself to SHUTDOWN; we do not.
      [S.POTENTIAL_CONFLICT]: go(S.POTENTIAL_CONFLICT),
      [S.RECOVER]: go(S.PARTNER_DOWN), // ISC: an amnesic partner is down (D12 would stay COMM-INTR)
      [S.PAUSED]: go(S.COMMUNICATIONS_INTERRUPTED), // D12 §7.3
      [S.SHUTDOWN]: go(S.PARTNER_DOWN), // D12 §7.3
      [S.RECOVER_DONE]: stay, // the partner goes NORMAL on seeing us NORMAL
      [S.RESOLUTION_INTERRUPTED]: go(S.POTENTIAL_CONFLICT), // as POTENTIAL-CONFLICT above
      [S.CONFLICT_DONE]: go(S.POTENTIAL_CONFLICT), // as POTENTIAL-CONFLICT above
      [S.RECOVER_WAIT]: stay, // ISC: COMM-INTR + RECOVER-WAIT → NORMAL, so NORMAL stays
    },
    on: {
      commFailed: go(S.COMMUNICATIONS_INTERRUPTED), // D12 §7.3
      operatorPartnerDown: go(S.PARTNER_DOWN), // D12 §7.3
    },
  },

  [S.COMMUNICATIONS_INTERRUPTED]: {
    partner: {
      [S.STARTUP]: stay,
      [S.NORMAL]: go(S.NORMAL), // D12 §7.3
      [S.COMMUNICATIONS_INTERRUPTED]: go(S.NORMAL), // D12 §7.3
      [S.PARTNER_DOWN]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.POTENTIAL_CONFLICT]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.RECOVER]: go(S.PARTNER_DOWN), // ISC ("amnesic peer"); D12 stays COMM-INTR
      [S.PAUSED]: stay, // D12 §7.3
      [S.SHUTDOWN]: go(S.PARTNER_DOWN), // D12 §7.3
      [S.RECOVER_DONE]: go(S.NORMAL), // D12 §7.3
      [S.RESOLUTION_INTERRUPTED]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.CONFLICT_DONE]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.RECOVER_WAIT]: go(S.NORMAL), // ISC (D12 has no RECOVER-WAIT code)
    },
    on: {
      safePeriodExpired: go(S.PARTNER_DOWN), // D12 §10 safe period; ISC auto-partner-down
      operatorPartnerDown: go(S.PARTNER_DOWN), // D12 §7.3
    },
  },

  [S.PARTNER_DOWN]: {
    partner: {
      [S.STARTUP]: stay,
      [S.NORMAL]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.COMMUNICATIONS_INTERRUPTED]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.PARTNER_DOWN]: go(S.POTENTIAL_CONFLICT), // D12 §7.3 (dual partner-down)
      [S.POTENTIAL_CONFLICT]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.RECOVER]: stay, // D12 §7.3: where the partner should be
      [S.PAUSED]: stay, // D12 §7.3
      [S.SHUTDOWN]: stay, // D12 §7.3
      [S.RECOVER_DONE]: go(S.NORMAL), // D12 §7.3
      [S.RESOLUTION_INTERRUPTED]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.CONFLICT_DONE]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.RECOVER_WAIT]: stay, // D12 §7.3 / ISC
    },
    // D12 §7.3 / ISC: a partner still in STARTUP reports its *previous* state; wait for the real one.
    partnerStartup: stay,
    // commFailed: stay (D12 §7.3, "keep trying to reconnect").
  },

  [S.POTENTIAL_CONFLICT]: {
    partner: {
      [S.STARTUP]: stay,
      // ISC panics and moves itself to SHUTDOWN; we keep resolving (the partner will come back).
      [S.NORMAL]: stay,
      [S.COMMUNICATIONS_INTERRUPTED]: stay, // ISC
      [S.PARTNER_DOWN]: stay, // ISC
      [S.POTENTIAL_CONFLICT]: stay, // ISC
      [S.RECOVER]: go(S.RECOVER), // ISC
      [S.PAUSED]: stay, // ISC
      [S.SHUTDOWN]: go(S.PARTNER_DOWN), // ISC
      [S.RECOVER_DONE]: stay, // ISC
      [S.RESOLUTION_INTERRUPTED]: stay, // ISC
      // D12 §7.3: the primary is done; the secondary now asks for the primary's updates.
      [S.CONFLICT_DONE]: { to: 'stay', effects: { secondary: ['sendUpdReq'] } },
      [S.RECOVER_WAIT]: stay, // ISC
    },
    on: {
      commFailed: go(S.RESOLUTION_INTERRUPTED), // D12 §7.3
      updDone: { to: { primary: S.CONFLICT_DONE, secondary: S.NORMAL } }, // D12 §7.3
    },
  },

  [S.RESOLUTION_INTERRUPTED]: {
    partner: {
      [S.STARTUP]: stay, // ISC
      [S.NORMAL]: go(S.POTENTIAL_CONFLICT), // D12 §7.3: comm OK → POTENTIAL-CONFLICT
      [S.COMMUNICATIONS_INTERRUPTED]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.PARTNER_DOWN]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.POTENTIAL_CONFLICT]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.RECOVER]: go(S.POTENTIAL_CONFLICT), // D12 §7.3 and ISC
      [S.PAUSED]: stay, // ISC (the partner is going away; like COMM-INTR + PAUSED)
      [S.SHUTDOWN]: go(S.PARTNER_DOWN), // ISC (as POTENTIAL-CONFLICT + SHUTDOWN)
      [S.RECOVER_DONE]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.RESOLUTION_INTERRUPTED]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.CONFLICT_DONE]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.RECOVER_WAIT]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
    },
    on: {
      operatorPartnerDown: go(S.PARTNER_DOWN), // D12 §7.3
    },
  },

  [S.CONFLICT_DONE]: {
    partner: {
      [S.STARTUP]: stay,
      [S.NORMAL]: go(S.NORMAL), // D12 §7.3
      // ISC calls every other partner state fatal (and follows a SHUTDOWN partner into SHUTDOWN);
      // we never move ourselves to SHUTDOWN, so we stay and keep serving.
      [S.COMMUNICATIONS_INTERRUPTED]: stay,
      [S.PARTNER_DOWN]: stay,
      [S.POTENTIAL_CONFLICT]: stay,
      [S.RECOVER]: stay,
      [S.PAUSED]: stay,
      [S.SHUTDOWN]: stay,
      [S.RECOVER_DONE]: stay,
      [S.RESOLUTION_INTERRUPTED]: stay,
      [S.CONFLICT_DONE]: stay,
      [S.RECOVER_WAIT]: stay,
    },
    // commFailed: stay (D12 §7.3; the endpoint re-queues un-ACKed updates).
  },

  [S.RECOVER]: {
    partner: {
      [S.STARTUP]: stay,
      // D12 §7.3: any other partner state → ask for updates. ISC sends UPDREQALL always; so do we.
      // ISC moves to POTENTIAL-CONFLICT on partner NORMAL; we do not: our store is incomplete, and
      // a NORMAL partner goes PARTNER-DOWN on seeing our RECOVER (its ISC rule), then we go on.
      [S.NORMAL]: recoverAsk,
      [S.COMMUNICATIONS_INTERRUPTED]: recoverAsk, // D12 / ISC
      [S.PARTNER_DOWN]: recoverAsk, // D12 / ISC: the usual case
      [S.POTENTIAL_CONFLICT]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.RECOVER]: recoverAsk, // D12; ISC (new pair: both recover)
      [S.PAUSED]: recoverAsk, // D12 "any other"
      [S.SHUTDOWN]: go(S.PARTNER_DOWN), // ISC
      [S.RECOVER_DONE]: recoverAsk, // D12 "any other"
      [S.RESOLUTION_INTERRUPTED]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.CONFLICT_DONE]: go(S.POTENTIAL_CONFLICT), // D12 §7.3
      [S.RECOVER_WAIT]: recoverAsk, // D12 "any other"
    },
    on: {
      updDone: go(S.RECOVER_WAIT), // D12 §7.3
      // commFailed: stay; UPDREQALL again on reconnect (D12 §7.3).
    },
    // ISC: a brand-new pair (partner recovering too) skips the MCLT wait.
    updDoneWithRecoveringPartner: go(S.RECOVER_DONE),
  },

  [S.RECOVER_WAIT]: {
    partner: {
      [S.STARTUP]: stay,
      [S.NORMAL]: stay, // ISC: no transitions in RECOVER-WAIT
      [S.COMMUNICATIONS_INTERRUPTED]: stay,
      [S.PARTNER_DOWN]: stay,
      [S.POTENTIAL_CONFLICT]: go(S.POTENTIAL_CONFLICT), // D12 (as RECOVER)
      [S.RECOVER]: stay,
      [S.PAUSED]: stay,
      [S.SHUTDOWN]: stay, // ISC: stay (our wait is not over; PARTNER-DOWN would skip it)
      [S.RECOVER_DONE]: stay,
      [S.RESOLUTION_INTERRUPTED]: go(S.POTENTIAL_CONFLICT), // D12 (as RECOVER)
      [S.CONFLICT_DONE]: go(S.POTENTIAL_CONFLICT), // D12 (as RECOVER)
      [S.RECOVER_WAIT]: stay,
    },
    on: {
      recoverWaitElapsed: go(S.RECOVER_DONE), // D12 §7.3; the timer runs while disconnected
      // commFailed: stay.
    },
  },

  [S.RECOVER_DONE]: {
    partner: {
      [S.STARTUP]: stay,
      [S.NORMAL]: go(S.NORMAL), // D12 §7.3
      [S.COMMUNICATIONS_INTERRUPTED]: stay, // ISC
      [S.PARTNER_DOWN]: stay, // ISC: the partner goes NORMAL on seeing RECOVER-DONE
      [S.POTENTIAL_CONFLICT]: stay, // ISC
      [S.RECOVER]: stay, // ISC
      [S.PAUSED]: stay, // ISC
      [S.SHUTDOWN]: go(S.PARTNER_DOWN), // ISC (our store is complete)
      [S.RECOVER_DONE]: go(S.NORMAL), // D12 §7.3
      [S.RESOLUTION_INTERRUPTED]: stay, // ISC
      // ISC stays; so did we, and the primary in CONFLICT-DONE waited for our NORMAL while we
      // waited for its: stuck for good (sim seeds 38224, 39325). As RECOVER and RECOVER-WAIT:
      // resolve (we then ask for the primary's updates at once, and go NORMAL on UPDDONE).
      [S.CONFLICT_DONE]: go(S.POTENTIAL_CONFLICT),
      [S.RECOVER_WAIT]: stay, // ISC
    },
    // commFailed: stay (D12 §7.3).
  },

  // Orderly stops: the endpoint feeds nothing here; a restart goes through STARTUP.
  [S.PAUSED]: { partner: everyPartnerState(stay) },
  [S.SHUTDOWN]: { partner: everyPartnerState(stay) },
};

/** Short state ids for rule names. */
const STATE_IDS: Readonly<Record<ServerState, string>> = {
  [S.STARTUP]: 'startup',
  [S.NORMAL]: 'normal',
  [S.COMMUNICATIONS_INTERRUPTED]: 'comm-intr',
  [S.PARTNER_DOWN]: 'partner-down',
  [S.POTENTIAL_CONFLICT]: 'potential-conflict',
  [S.RECOVER]: 'recover',
  [S.PAUSED]: 'paused',
  [S.SHUTDOWN]: 'shutdown',
  [S.RECOVER_DONE]: 'recover-done',
  [S.RESOLUTION_INTERRUPTED]: 'resolution-intr',
  [S.CONFLICT_DONE]: 'conflict-done',
  [S.RECOVER_WAIT]: 'recover-wait',
};

const EVENT_IDS: Readonly<Record<EventType, string>> = {
  commFailed: 'comm-failed',
  safePeriodExpired: 'safe-period-expired',
  operatorPartnerDown: 'operator-partner-down',
  updDone: 'upd-done',
  recoverWaitElapsed: 'recover-wait-elapsed',
  startupTimerExpired: 'startup-timer-expired',
};

// -------------------------------------------------------------------------------------------------
// Lookup

interface Found {
  row: Row;
  id: string;
}

function findRow(state: ServerState, event: StateEvent, ctx: StateContext): Found | null {
  const rows = TABLE[state];
  const at = STATE_IDS[state];
  if (event.type === 'partnerState') {
    if (event.partnerStartup && rows.partnerStartup !== undefined) {
      return { row: rows.partnerStartup, id: `${at}:partner-startup-flag` };
    }
    return { row: rows.partner[event.partnerState], id: `${at}:partner-${STATE_IDS[event.partnerState]}` };
  }
  if (
    event.type === 'updDone' &&
    rows.updDoneWithRecoveringPartner !== undefined &&
    (ctx.partnerState === S.RECOVER || ctx.partnerState === S.RECOVER_DONE)
  ) {
    return { row: rows.updDoneWithRecoveringPartner, id: `${at}:upd-done-partner-recovering` };
  }
  const row = rows.on?.[event.type];
  return row === undefined ? null : { row, id: `${at}:${EVENT_IDS[event.type]}` };
}

/** The row's target for our role, with STARTUP's computed targets resolved ('stay' kept). */
function resolveTarget(row: Row, event: StateEvent, ctx: StateContext): ServerState | 'stay' {
  const to = typeof row.to === 'object' ? row.to[ctx.role] : row.to;
  switch (to) {
    case 'resume':
      return stateAfterCommFailed(ctx.previousState);
    case 'partnerDownCheck': {
      const since = event.type === 'partnerState' ? event.partnerStateStartedAt : 0;
      // D12 §9.3: the partner went PARTNER-DOWN after we were last running → it may have used our
      // addresses and we have missed that: RECOVER. Otherwise both may have served: resolve.
      return since > ctx.lastOperationalAt ? S.RECOVER : S.POTENTIAL_CONFLICT;
    }
    default:
      return to;
  }
}

/**
 * Effects of entering `state` (from another state). RECOVER always asks with UPDREQALL: ISC always
 * does (spec §15.2 item 13), and knowing when UPDREQ would suffice needs a reliable record of what
 * the partner last acknowledged; UPDREQALL is correct in every case, only slower. D12 §7.3: the
 * primary opens conflict resolution; the secondary waits for the primary's CONFLICT-DONE.
 */
function entryEffects(
  state: ServerState,
  role: FailoverRole,
  partnerState: ServerState | null,
): readonly StateEffect[] {
  if (state === S.RECOVER) return ['sendUpdReqAll'];
  if (state === S.POTENTIAL_CONFLICT && role === 'primary') return ['sendUpdReq'];
  // A secondary that enters POTENTIAL-CONFLICT when the primary is already CONFLICT-DONE will not
  // see that state change again: ask now (sim seed 756: stuck after a restart in RESOLUTION-
  // INTERRUPTED while the primary waited in CONFLICT-DONE).
  if (state === S.POTENTIAL_CONFLICT && partnerState === S.CONFLICT_DONE) return ['sendUpdReq'];
  return [];
}

function addEffects(into: StateEffect[], effects: readonly StateEffect[] | undefined): void {
  for (const e of effects ?? []) if (!into.includes(e)) into.push(e);
}

/** Returns the transition for `event` in `state`, or null when the event changes nothing (stay, no effect). */
export function transition(state: ServerState, event: StateEvent, ctx: StateContext): Transition | null {
  const found = findRow(state, event, ctx);
  if (found === null) return null;
  let next = resolveTarget(found.row, event, ctx);
  let rule = found.id;
  const rowEffects: StateEffect[] = [];
  addEffects(rowEffects, found.row.effects?.[ctx.role]);
  if (state === S.STARTUP && next !== 'stay' && event.type === 'partnerState') {
    // D12 §9.3: leaving STARTUP on comm OK, then apply the reached state's comm-OK row (once; e.g.
    // stored POTENTIAL-CONFLICT → RESOLUTION-INTERRUPTED → POTENTIAL-CONFLICT).
    const reached = next;
    const then = findRow(reached, event, ctx);
    if (then !== null) {
      const after = resolveTarget(then.row, event, ctx);
      if (after !== 'stay') next = after;
      rule = `${rule}>${then.id}`;
      addEffects(rowEffects, then.row.effects?.[ctx.role]);
    }
  }
  if (next === 'stay' || next === state) {
    return rowEffects.length === 0 ? null : { next: state, effects: rowEffects, rule };
  }
  const effects: StateEffect[] = [];
  const partnerState = event.type === 'partnerState' ? event.partnerState : ctx.partnerState;
  addEffects(effects, entryEffects(next, ctx.role, partnerState));
  addEffects(effects, rowEffects);
  return { next, effects, rule };
}

/**
 * The state to enter when communication fails from `state` (D12 §7.2: partner-state changes are
 * modelled as comm-failed then comm-OK). Also how STARTUP maps the stored previous state: a stored
 * PAUSED, SHUTDOWN or STARTUP (whose pre-state is unknown here) resumes as COMM-INTR, the
 * conservative state that still serves its own pool. `transition()` itself does not move STARTUP,
 * PAUSED or SHUTDOWN on commFailed (STARTUP waits for its timer; the others are not fed events).
 */
export function stateAfterCommFailed(state: ServerState): ServerState {
  switch (state) {
    case S.NORMAL:
    case S.STARTUP:
    case S.PAUSED:
    case S.SHUTDOWN:
      return S.COMMUNICATIONS_INTERRUPTED;
    case S.POTENTIAL_CONFLICT:
      return S.RESOLUTION_INTERRUPTED;
    case S.COMMUNICATIONS_INTERRUPTED:
    case S.PARTNER_DOWN:
    case S.RECOVER:
    case S.RECOVER_WAIT:
    case S.RECOVER_DONE:
    case S.RESOLUTION_INTERRUPTED:
    case S.CONFLICT_DONE:
      return state;
  }
}

/**
 * Which clients a state answers (spec §7.1, D12 §9): 'balanced' = NORMAL, per RFC 3074 hash bucket
 * for DISCOVER / INIT-REBOOT (renewals and rebinds always); 'renewOnly' = RENEWING/REBINDING only.
 * RECOVER-DONE answers renewals per D12 (ISC answers nothing there). CONFLICT-DONE is a primary-only
 * state; a secondary never is in it and answers nothing if it were. The ISC extra rule (stop
 * answering while the *partner* is in PARTNER-DOWN/POTENTIAL-CONFLICT/…) depends on the partner and
 * is not part of this function.
 */
export function responsiveness(state: ServerState, role: FailoverRole): Responsiveness {
  switch (state) {
    case S.NORMAL:
      return 'balanced';
    case S.COMMUNICATIONS_INTERRUPTED:
    case S.PARTNER_DOWN:
    case S.RESOLUTION_INTERRUPTED:
      return 'all';
    case S.CONFLICT_DONE:
      return role === 'primary' ? 'all' : 'none';
    case S.RECOVER_DONE:
      // D12 lets RECOVER-DONE renew; ISC answers nothing, and so do we. The partner may still be
      // in PARTNER-DOWN (the link broke after our recovery) and reclaims addresses MCLT after
      // what it knows; a renewal here, which it never hears of, outlives that (sim seed 70924).
      // RECOVER-DONE lasts until the partner answers, normally a round trip.
      return 'none';
    case S.STARTUP:
    case S.POTENTIAL_CONFLICT:
    case S.RECOVER:
    case S.RECOVER_WAIT:
    case S.PAUSED:
    case S.SHUTDOWN:
      return 'none';
  }
}

/** Whether the RFC 3074 hash buckets decide who answers (spec §8.5: NORMAL only). */
export function isLoadBalanced(state: ServerState): boolean {
  return state === S.NORMAL;
}

/**
 * Whether entering `next` keeps the current start-of-state time (stos) instead of setting it to now.
 * ISC keeps it entering RECOVER-WAIT (the MCLT wait counts from the earlier stos) and entering or
 * leaving STARTUP. Given `from` and `previousState`, leaving STARTUP for the stored state itself
 * (a resume, no real change) also keeps it; leaving STARTUP for any other state starts a new stos,
 * since that state really begins now.
 */
export function keepsStateStartTime(
  next: ServerState,
  from?: ServerState,
  previousState?: ServerState,
): boolean {
  if (next === S.RECOVER_WAIT || next === S.STARTUP) return true;
  return from === S.STARTUP && next === previousState;
}
