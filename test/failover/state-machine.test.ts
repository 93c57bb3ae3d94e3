// The server state machine against spec §7.3 (D12 with the ISC deviations we adopt) and §7.1.
// The expected table below is written from the spec, independently of src/failover/state-machine.ts:
// a changed row there must fail here.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type FailoverRole,
  isLoadBalanced,
  keepsStateStartTime,
  responsiveness,
  type StateContext,
  type StateEffect,
  type StateEvent,
  stateAfterCommFailed,
  type Transition,
  transition,
} from '../../src/failover/state-machine.js';
import { ServerState } from '../../src/wire/failover-message.js';

const S = ServerState;
const ROLES: readonly FailoverRole[] = ['primary', 'secondary'];
const ALL_STATES: readonly ServerState[] = [
  S.STARTUP,
  S.NORMAL,
  S.COMMUNICATIONS_INTERRUPTED,
  S.PARTNER_DOWN,
  S.POTENTIAL_CONFLICT,
  S.RECOVER,
  S.PAUSED,
  S.SHUTDOWN,
  S.RECOVER_DONE,
  S.RESOLUTION_INTERRUPTED,
  S.CONFLICT_DONE,
  S.RECOVER_WAIT,
];

/**
 * A cell: '-' nothing happens (null); a state code = go there (with the effects of entering it);
 * '=ALL' stay and send UPDREQALL; '=REQ2' stay, the secondary sends UPDREQ (primary: nothing);
 * 'A|B' = A for the primary, B for the secondary.
 */
type Cell = string;
const CODES: Readonly<Record<string, ServerState>> = {
  N: S.NORMAL,
  CI: S.COMMUNICATIONS_INTERRUPTED,
  PD: S.PARTNER_DOWN,
  PC: S.POTENTIAL_CONFLICT,
  REC: S.RECOVER,
  RW: S.RECOVER_WAIT,
  RD: S.RECOVER_DONE,
  RI: S.RESOLUTION_INTERRUPTED,
  CD: S.CONFLICT_DONE,
};

/** Spec §7.3: entering RECOVER sends UPDREQALL (our choice, as ISC); entering POTENTIAL-CONFLICT, the primary sends UPDREQ. */
function entryEffects(
  state: ServerState,
  role: FailoverRole,
  partnerState: ServerState | null = null,
): StateEffect[] {
  if (state === S.RECOVER) return ['sendUpdReqAll'];
  if (state === S.POTENTIAL_CONFLICT && role === 'primary') return ['sendUpdReq'];
  // The secondary asks on entering POTENTIAL-CONFLICT if the primary is already CONFLICT-DONE
  // (its row PC × CONFLICT-DONE is "=REQ2"; it would not see that partner state change again).
  if (state === S.POTENTIAL_CONFLICT && partnerState === S.CONFLICT_DONE) return ['sendUpdReq'];
  return [];
}

interface Expected {
  next: ServerState;
  effects: StateEffect[];
}

/** What a cell means for `role` in `state`. */
function expectCell(
  cell: Cell,
  state: ServerState,
  role: FailoverRole,
  partnerState: ServerState | null = null,
): Expected | null {
  const parts = cell.split('|');
  const mine = parts.length === 2 ? parts[role === 'primary' ? 0 : 1]! : cell;
  if (mine === '-') return null;
  if (mine === '=ALL') return { next: state, effects: ['sendUpdReqAll'] };
  if (mine === '=REQ2') return role === 'secondary' ? { next: state, effects: ['sendUpdReq'] } : null;
  const next = CODES[mine];
  assert.ok(next !== undefined, `bad cell ${mine}`);
  return { next, effects: entryEffects(next, role, partnerState) };
}

// Columns: the partner's reported state.
const PARTNER_COLUMNS: readonly ServerState[] = [
  S.STARTUP,
  S.NORMAL,
  S.COMMUNICATIONS_INTERRUPTED,
  S.PARTNER_DOWN,
  S.POTENTIAL_CONFLICT,
  S.RECOVER,
  S.PAUSED,
  S.SHUTDOWN,
  S.RECOVER_DONE,
  S.RESOLUTION_INTERRUPTED,
  S.CONFLICT_DONE,
  S.RECOVER_WAIT,
];

// Spec §7.3 + brief: our state × partner state (comm OK / partner STATE change, no STARTUP flag).
// biome-ignore format: aligned table
const PARTNER_TABLE: ReadonlyArray<readonly [ServerState, readonly Cell[]]> = [
  //                                  STARTUP NORMAL  CI      PD      PC      RECOVER PAUSED  SHUTDN  RD      RI      CD      RW
  [S.NORMAL,                        [ '-',    '-',    '-',    'PC',   'PC',   'PD',   'CI',   'PD',   '-',    'PC',   'PC',   '-'    ]],
  [S.COMMUNICATIONS_INTERRUPTED,    [ '-',    'N',    'N',    'PC',   'PC',   'PD',   '-',    'PD',   'N',    'PC',   'PC',   'N'    ]],
  [S.PARTNER_DOWN,                  [ '-',    'PC',   'PC',   'PC',   'PC',   '-',    '-',    '-',    'N',    'PC',   'PC',   '-'    ]],
  [S.POTENTIAL_CONFLICT,            [ '-',    '-',    '-',    '-',    '-',    'REC',  '-',    'PD',   '-',    '-',    '=REQ2','-'    ]],
  [S.RESOLUTION_INTERRUPTED,        [ '-',    'PC',   'PC',   'PC',   'PC',   'PC',   '-',    'PD',   'PC',   'PC',   'PC',   'PC'   ]],
  [S.CONFLICT_DONE,                 [ '-',    'N',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-'    ]],
  [S.RECOVER,                       [ '-',    '=ALL', '=ALL', '=ALL', 'PC',   '=ALL', '=ALL', 'PD',   '=ALL', 'PC',   'PC',   '=ALL' ]],
  [S.RECOVER_WAIT,                  [ '-',    '-',    '-',    '-',    'PC',   '-',    '-',    '-',    '-',    'PC',   'PC',   '-'    ]],
  [S.RECOVER_DONE,                  [ '-',    'N',    '-',    '-',    '-',    '-',    '-',    'PD',   'N',    '-',    'PC',   '-'    ]],
  [S.PAUSED,                        [ '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-'    ]],
  [S.SHUTDOWN,                      [ '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-',    '-'    ]],
];

type OtherEvent = Exclude<StateEvent['type'], 'partnerState'>;
const EVENT_COLUMNS: readonly OtherEvent[] = [
  'commFailed',
  'safePeriodExpired',
  'operatorPartnerDown',
  'updDone',
  'recoverWaitElapsed',
  'startupTimerExpired',
];

// Spec §7.3: our state × the other events (RECOVER + UPDDONE with a recovering partner: below).
// biome-ignore format: aligned table
const EVENT_TABLE: ReadonlyArray<readonly [ServerState, readonly Cell[]]> = [
  //                                  commFailed safePeriod opPD  updDone  rwElapsed startupTimer
  [S.NORMAL,                        [ 'CI',      '-',       'PD', '-',     '-',      '-' ]],
  [S.COMMUNICATIONS_INTERRUPTED,    [ '-',       'PD',      'PD', '-',     '-',      '-' ]],
  [S.PARTNER_DOWN,                  [ '-',       '-',       '-',  '-',     '-',      '-' ]],
  [S.POTENTIAL_CONFLICT,            [ 'RI',      '-',       '-',  'CD|N',  '-',      '-' ]],
  [S.RESOLUTION_INTERRUPTED,        [ '-',       '-',       'PD', '-',     '-',      '-' ]],
  [S.CONFLICT_DONE,                 [ '-',       '-',       '-',  '-',     '-',      '-' ]],
  [S.RECOVER,                       [ '-',       '-',       '-',  'RW',    '-',      '-' ]],
  [S.RECOVER_WAIT,                  [ '-',       '-',       '-',  '-',     'RD',     '-' ]],
  [S.RECOVER_DONE,                  [ '-',       '-',       '-',  '-',     '-',      '-' ]],
  [S.PAUSED,                        [ '-',       '-',       '-',  '-',     '-',      '-' ]],
  [S.SHUTDOWN,                      [ '-',       '-',       '-',  '-',     '-',      '-' ]],
];

// STARTUP resumes the stored state mapped through its comm-failed transition (spec §7.3).
const RESUMES: Readonly<Record<ServerState, ServerState>> = {
  [S.STARTUP]: S.COMMUNICATIONS_INTERRUPTED,
  [S.NORMAL]: S.COMMUNICATIONS_INTERRUPTED,
  [S.COMMUNICATIONS_INTERRUPTED]: S.COMMUNICATIONS_INTERRUPTED,
  [S.PARTNER_DOWN]: S.PARTNER_DOWN,
  [S.POTENTIAL_CONFLICT]: S.RESOLUTION_INTERRUPTED,
  [S.RECOVER]: S.RECOVER,
  [S.PAUSED]: S.COMMUNICATIONS_INTERRUPTED,
  [S.SHUTDOWN]: S.COMMUNICATIONS_INTERRUPTED,
  [S.RECOVER_DONE]: S.RECOVER_DONE,
  [S.RESOLUTION_INTERRUPTED]: S.RESOLUTION_INTERRUPTED,
  [S.CONFLICT_DONE]: S.CONFLICT_DONE,
  [S.RECOVER_WAIT]: S.RECOVER_WAIT,
};

const NAMES: Readonly<Record<ServerState, string>> = {
  [S.STARTUP]: 'STARTUP',
  [S.NORMAL]: 'NORMAL',
  [S.COMMUNICATIONS_INTERRUPTED]: 'COMM-INTR',
  [S.PARTNER_DOWN]: 'PARTNER-DOWN',
  [S.POTENTIAL_CONFLICT]: 'POTENTIAL-CONFLICT',
  [S.RECOVER]: 'RECOVER',
  [S.PAUSED]: 'PAUSED',
  [S.SHUTDOWN]: 'SHUTDOWN',
  [S.RECOVER_DONE]: 'RECOVER-DONE',
  [S.RESOLUTION_INTERRUPTED]: 'RESOLUTION-INTR',
  [S.CONFLICT_DONE]: 'CONFLICT-DONE',
  [S.RECOVER_WAIT]: 'RECOVER-WAIT',
};

function ctx(role: FailoverRole, over: Partial<StateContext> = {}): StateContext {
  return {
    role,
    previousState: S.NORMAL,
    lastOperationalAt: 1_700_000_000,
    hasNoPartnerRecord: false,
    partnerState: null,
    ...over,
  };
}

function partner(partnerState: ServerState, over: { startup?: boolean; since?: number } = {}): StateEvent {
  return {
    type: 'partnerState',
    partnerState,
    partnerStartup: over.startup ?? false,
    partnerStateStartedAt: over.since ?? 1_600_000_000,
  };
}

/** The transition without its rule id (asserted separately), effects order-free. */
function strip(t: Transition | null): Expected | null {
  return t === null ? null : { next: t.next, effects: [...t.effects].sort() };
}

function sorted(e: Expected | null): Expected | null {
  return e === null ? null : { next: e.next, effects: [...e.effects].sort() };
}

function show(e: Expected | null): string {
  return e === null ? 'nothing' : `${NAMES[e.next]}${e.effects.length > 0 ? ` +${e.effects.join(',')}` : ''}`;
}

describe('spec §7.3 — our state × partner state (comm OK / partner STATE)', () => {
  for (const [state, cells] of PARTNER_TABLE) {
    assert.equal(cells.length, PARTNER_COLUMNS.length);
    PARTNER_COLUMNS.forEach((p, i) => {
      const cell = cells[i]!;
      it(`${NAMES[state]} + partner ${NAMES[p]} → ${cell}`, () => {
        for (const role of ROLES) {
          const want = expectCell(cell, state, role, p);
          assert.deepEqual(
            strip(transition(state, partner(p), ctx(role))),
            sorted(want),
            `${role}: want ${show(want)}`,
          );
        }
      });
    });
  }

  it('covers every state but STARTUP (STARTUP is below)', () => {
    assert.deepEqual(
      PARTNER_TABLE.map(([s]) => s).sort((a, b) => a - b),
      ALL_STATES.filter((s) => s !== S.STARTUP).sort((a, b) => a - b),
    );
  });

  it('PARTNER-DOWN ignores a partner STATE with the STARTUP flag, whatever state it reports', () => {
    for (const role of ROLES) {
      for (const p of PARTNER_COLUMNS) {
        assert.equal(
          transition(S.PARTNER_DOWN, partner(p, { startup: true }), ctx(role)),
          null,
          `${role}, ${NAMES[p]}`,
        );
      }
    }
  });

  it('the STARTUP flag changes nothing outside PARTNER-DOWN (COMM-INTR + partner NORMAL → NORMAL)', () => {
    const t = transition(S.COMMUNICATIONS_INTERRUPTED, partner(S.NORMAL, { startup: true }), ctx('primary'));
    assert.equal(t?.next, S.NORMAL);
  });

  it('names the row it used', () => {
    const t = transition(S.COMMUNICATIONS_INTERRUPTED, partner(S.NORMAL), ctx('primary'));
    assert.equal(t?.rule, 'comm-intr:partner-normal');
    for (const [state] of PARTNER_TABLE) {
      for (const p of PARTNER_COLUMNS) {
        const r = transition(state, partner(p), ctx('secondary'));
        if (r !== null) assert.match(r.rule, /^[a-z-]+:[a-z-]+$/);
      }
    }
  });
});

describe('spec §7.3 — our state × other events', () => {
  for (const [state, cells] of EVENT_TABLE) {
    assert.equal(cells.length, EVENT_COLUMNS.length);
    EVENT_COLUMNS.forEach((type, i) => {
      const cell = cells[i]!;
      it(`${NAMES[state]} + ${type} → ${cell}`, () => {
        for (const role of ROLES) {
          const want = expectCell(cell, state, role, S.PARTNER_DOWN);
          const got = transition(state, { type } as StateEvent, ctx(role, { partnerState: S.PARTNER_DOWN }));
          assert.deepEqual(strip(got), sorted(want), `${role}: want ${show(want)}`);
        }
      });
    });
  }

  it('RECOVER + UPDDONE: RECOVER-WAIT when the partner is unknown or not recovering', () => {
    for (const role of ROLES) {
      for (const p of [null, S.NORMAL, S.COMMUNICATIONS_INTERRUPTED, S.PARTNER_DOWN, S.RECOVER_WAIT]) {
        const t = transition(S.RECOVER, { type: 'updDone' }, ctx(role, { partnerState: p }));
        assert.deepEqual(strip(t), { next: S.RECOVER_WAIT, effects: [] }, `${role}, partner ${p}`);
      }
    }
  });

  it('RECOVER + UPDDONE: straight to RECOVER-DONE with a recovering partner (ISC, new pair)', () => {
    for (const role of ROLES) {
      for (const p of [S.RECOVER, S.RECOVER_DONE]) {
        const t = transition(S.RECOVER, { type: 'updDone' }, ctx(role, { partnerState: p }));
        assert.deepEqual(strip(t), { next: S.RECOVER_DONE, effects: [] }, `${role}, partner ${NAMES[p]}`);
      }
    }
  });
});

describe('spec §7.3/§7.4 — STARTUP', () => {
  const LAST_RAN = 1_700_000_000;

  it('partner in PARTNER-DOWN since after we last ran → RECOVER, UPDREQALL', () => {
    for (const role of ROLES) {
      for (const stored of [S.NORMAL, S.PARTNER_DOWN, S.RECOVER, S.COMMUNICATIONS_INTERRUPTED]) {
        const t = transition(
          S.STARTUP,
          partner(S.PARTNER_DOWN, { since: LAST_RAN + 1 }),
          ctx(role, { previousState: stored, lastOperationalAt: LAST_RAN }),
        );
        assert.deepEqual(
          strip(t),
          { next: S.RECOVER, effects: ['sendUpdReqAll'] },
          `${role}, stored ${NAMES[stored]}`,
        );
      }
    }
  });

  it('partner in PARTNER-DOWN since before (or when) we last ran → POTENTIAL-CONFLICT, primary UPDREQ', () => {
    for (const role of ROLES) {
      for (const since of [LAST_RAN - 3600, LAST_RAN]) {
        const t = transition(
          S.STARTUP,
          partner(S.PARTNER_DOWN, { since }),
          ctx(role, { previousState: S.NORMAL, lastOperationalAt: LAST_RAN }),
        );
        assert.deepEqual(strip(t), {
          next: S.POTENTIAL_CONFLICT,
          effects: role === 'primary' ? ['sendUpdReq'] : [],
        });
      }
    }
  });

  it('never ran (lastOperationalAt 0) and partner in PARTNER-DOWN → RECOVER', () => {
    const t = transition(
      S.STARTUP,
      partner(S.PARTNER_DOWN, { since: 1 }),
      ctx('secondary', { previousState: S.RECOVER, lastOperationalAt: 0, hasNoPartnerRecord: true }),
    );
    assert.deepEqual(strip(t), { next: S.RECOVER, effects: ['sendUpdReqAll'] });
  });

  it('stored NORMAL, partner COMM-INTR → NORMAL (via COMM-INTR)', () => {
    for (const role of ROLES) {
      const t = transition(
        S.STARTUP,
        partner(S.COMMUNICATIONS_INTERRUPTED),
        ctx(role, { previousState: S.NORMAL }),
      );
      assert.deepEqual(strip(t), { next: S.NORMAL, effects: [] });
      assert.equal(t?.rule, 'startup:partner-comm-intr>comm-intr:partner-comm-intr');
    }
  });

  it('stored PARTNER-DOWN, partner RECOVER → stays PARTNER-DOWN', () => {
    for (const role of ROLES) {
      const t = transition(S.STARTUP, partner(S.RECOVER), ctx(role, { previousState: S.PARTNER_DOWN }));
      assert.deepEqual(strip(t), { next: S.PARTNER_DOWN, effects: [] });
    }
  });

  it('stored PARTNER-DOWN, partner reports NORMAL with the STARTUP flag → PARTNER-DOWN (ignored)', () => {
    const t = transition(
      S.STARTUP,
      partner(S.NORMAL, { startup: true }),
      ctx('primary', { previousState: S.PARTNER_DOWN }),
    );
    assert.deepEqual(strip(t), { next: S.PARTNER_DOWN, effects: [] });
  });

  it('stored RECOVER → RECOVER with UPDREQALL (partner NORMAL, RECOVER)', () => {
    for (const role of ROLES) {
      for (const p of [S.NORMAL, S.RECOVER]) {
        const t = transition(
          S.STARTUP,
          partner(p),
          ctx(role, { previousState: S.RECOVER, hasNoPartnerRecord: true }),
        );
        assert.deepEqual(strip(t), { next: S.RECOVER, effects: ['sendUpdReqAll'] }, `${role}, ${NAMES[p]}`);
      }
    }
  });

  it('stored POTENTIAL-CONFLICT → RESOLUTION-INTR → POTENTIAL-CONFLICT (chains once)', () => {
    const t = transition(
      S.STARTUP,
      partner(S.POTENTIAL_CONFLICT),
      ctx('primary', { previousState: S.POTENTIAL_CONFLICT }),
    );
    assert.deepEqual(strip(t), { next: S.POTENTIAL_CONFLICT, effects: ['sendUpdReq'] });
  });

  // Every stored state × every partner state but PARTNER-DOWN, derived from the tables above.
  for (const stored of ALL_STATES) {
    it(`stored ${NAMES[stored]}: resume ${NAMES[RESUMES[stored]]}, then its partner row`, () => {
      const resumed = RESUMES[stored];
      const row = PARTNER_TABLE.find(([s]) => s === resumed)![1];
      for (const role of ROLES) {
        PARTNER_COLUMNS.forEach((p, i) => {
          if (p === S.PARTNER_DOWN) return;
          const cell = expectCell(row[i]!, resumed, role, p);
          const next = cell?.next ?? resumed;
          const want = {
            next,
            effects: [...new Set([...entryEffects(next, role, p), ...(cell?.effects ?? [])])],
          };
          const t = transition(S.STARTUP, partner(p), ctx(role, { previousState: stored }));
          assert.deepEqual(strip(t), sorted(want), `${role}, partner ${NAMES[p]}: want ${show(want)}`);
        });
      }
    });
  }

  it('startup timer expires → stored state mapped through comm-failed', () => {
    for (const role of ROLES) {
      for (const stored of ALL_STATES) {
        const next = RESUMES[stored];
        const t = transition(
          S.STARTUP,
          { type: 'startupTimerExpired' },
          ctx(role, { previousState: stored }),
        );
        assert.deepEqual(
          strip(t),
          { next, effects: entryEffects(next, role) },
          `${role}, stored ${NAMES[stored]}`,
        );
      }
    }
    const pd = transition(
      S.STARTUP,
      { type: 'startupTimerExpired' },
      ctx('primary', { previousState: S.PARTNER_DOWN }),
    );
    assert.equal(pd?.next, S.PARTNER_DOWN);
  });

  it('other events do nothing in STARTUP', () => {
    for (const type of EVENT_COLUMNS.filter(
      (t) => t !== 'startupTimerExpired' && t !== 'operatorPartnerDown',
    )) {
      assert.equal(transition(S.STARTUP, { type } as StateEvent, ctx('primary')), null, type);
    }
  });

  it('operator partner-down in STARTUP (waiting for an unreachable partner) → PARTNER-DOWN', () => {
    for (const role of ['primary', 'secondary'] as const) {
      assert.equal(
        transition(S.STARTUP, { type: 'operatorPartnerDown' }, ctx(role))?.next,
        S.PARTNER_DOWN,
        role,
      );
    }
  });
});

describe('stateAfterCommFailed (D12 §7.2)', () => {
  it('maps comm-OK states and keeps the others', () => {
    for (const s of ALL_STATES) assert.equal(stateAfterCommFailed(s), RESUMES[s], NAMES[s]);
  });
});

describe('responsiveness (spec §7.1)', () => {
  // [state, primary, secondary]
  const TABLE: ReadonlyArray<readonly [ServerState, string, string]> = [
    [S.STARTUP, 'none', 'none'],
    [S.NORMAL, 'balanced', 'balanced'],
    [S.COMMUNICATIONS_INTERRUPTED, 'all', 'all'],
    [S.PARTNER_DOWN, 'all', 'all'],
    [S.POTENTIAL_CONFLICT, 'none', 'none'],
    [S.RESOLUTION_INTERRUPTED, 'all', 'all'],
    [S.CONFLICT_DONE, 'all', 'none'],
    [S.RECOVER, 'none', 'none'],
    [S.RECOVER_WAIT, 'none', 'none'],
    [S.RECOVER_DONE, 'none', 'none'],
    [S.PAUSED, 'none', 'none'],
    [S.SHUTDOWN, 'none', 'none'],
  ];
  for (const [state, primary, secondary] of TABLE) {
    it(`${NAMES[state]}: primary ${primary}, secondary ${secondary}`, () => {
      assert.equal(responsiveness(state, 'primary'), primary);
      assert.equal(responsiveness(state, 'secondary'), secondary);
      assert.equal(isLoadBalanced(state), state === S.NORMAL);
    });
  }
});

describe('keepsStateStartTime (spec §7.2, ISC)', () => {
  it('keeps stos entering RECOVER-WAIT and STARTUP, and resuming the stored state', () => {
    for (const s of ALL_STATES) {
      assert.equal(keepsStateStartTime(s), s === S.RECOVER_WAIT || s === S.STARTUP, NAMES[s]);
    }
    assert.equal(keepsStateStartTime(S.PARTNER_DOWN, S.STARTUP, S.PARTNER_DOWN), true);
    assert.equal(keepsStateStartTime(S.RECOVER, S.STARTUP, S.PARTNER_DOWN), false);
    assert.equal(keepsStateStartTime(S.COMMUNICATIONS_INTERRUPTED, S.STARTUP, S.NORMAL), false);
    assert.equal(keepsStateStartTime(S.NORMAL, S.COMMUNICATIONS_INTERRUPTED, S.NORMAL), false);
  });
});

describe('transition — properties', () => {
  const state = fc.constantFrom(...ALL_STATES);
  const role = fc.constantFrom<FailoverRole>('primary', 'secondary');
  const time = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  const event: fc.Arbitrary<StateEvent> = fc.oneof(
    fc.record({
      type: fc.constant('partnerState' as const),
      partnerState: state,
      partnerStartup: fc.boolean(),
      partnerStateStartedAt: time,
    }),
    fc.constantFrom<OtherEvent>(...EVENT_COLUMNS).map((type) => ({ type }) as StateEvent),
  );
  const context: fc.Arbitrary<StateContext> = fc.record({
    role,
    previousState: state,
    lastOperationalAt: time,
    hasNoPartnerRecord: fc.boolean(),
    partnerState: fc.option(state, { nil: null }),
  });
  const EFFECTS: readonly StateEffect[] = ['sendUpdReq', 'sendUpdReqAll', 'sendUpdReqIfNeeded'];

  /** When PARTNER-DOWN may be the result (spec §7.3 + the ISC rows we adopt). */
  function mayEnterPartnerDown(from: ServerState, e: StateEvent, c: StateContext): boolean {
    if (e.type === 'operatorPartnerDown' || e.type === 'safePeriodExpired') return true;
    if (e.type === 'startupTimerExpired') return c.previousState === S.PARTNER_DOWN;
    if (e.type !== 'partnerState') return false;
    if (e.partnerState === S.SHUTDOWN || e.partnerState === S.RECOVER) return true;
    return from === S.STARTUP && c.previousState === S.PARTNER_DOWN && e.partnerState !== S.PARTNER_DOWN;
  }

  it('never throws; next is a real state, never STARTUP; PARTNER-DOWN only where allowed; pure', () => {
    fc.assert(
      fc.property(state, event, context, (from, e, c) => {
        const t = transition(from, e, c);
        assert.deepEqual(transition(from, e, c), t);
        if (t === null) return;
        assert.ok(ALL_STATES.includes(t.next));
        assert.notEqual(t.next, S.STARTUP);
        assert.ok(t.effects.every((x) => EFFECTS.includes(x)));
        assert.equal(new Set(t.effects).size, t.effects.length);
        assert.ok(t.rule.length > 0);
        // null, not an empty stay, when nothing happens.
        if (t.next === from) assert.ok(t.effects.length > 0);
        if (t.next === S.PARTNER_DOWN) assert.ok(mayEnterPartnerDown(from, e, c), `${NAMES[from]} ${t.rule}`);
        // Entering RECOVER always asks for everything; entering POTENTIAL-CONFLICT, the primary asks.
        if (t.next !== from && t.next === S.RECOVER) assert.ok(t.effects.includes('sendUpdReqAll'));
        if (t.next !== from && t.next === S.POTENTIAL_CONFLICT) {
          const p = e.type === 'partnerState' ? e.partnerState : c.partnerState;
          assert.equal(t.effects.includes('sendUpdReq'), c.role === 'primary' || p === S.CONFLICT_DONE);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('STARTUP always leaves on comm OK', () => {
    fc.assert(
      fc.property(event, context, (e, c) => {
        if (e.type !== 'partnerState') return;
        assert.notEqual(transition(S.STARTUP, e, c), null);
      }),
    );
  });
});
