// What one seed simulates: the pair's configuration, the client population and which faults may
// happen. Everything is drawn from the seed (stream 0), so `--seed S` rebuilds the same scenario.

import { Prng } from './prng.js';

export const FAULT_KINDS = [
  /** Both directions of the failover link blackholed for a while (TCP retransmits after heal). */
  'partition',
  /** One direction blackholed: the other side keeps hearing us, we hear nothing. */
  'oneWay',
  /** One direction stalled for a few seconds (a long delay, not a loss). */
  'stall',
  /** The TCP connection breaks: what was in flight after a cut point is lost, each side notices when it does. */
  'linkReset',
  /** kill -9 of one server: the OS closes its sockets; what is not durable is lost. */
  'crash',
  /** Power loss of one server: no FIN, what is not durable is lost. */
  'hostCrash',
  /** A crash between "persist requested" and "durable": the next write of that server is lost. */
  'crashMidPersist',
  /** One server's clock steps (within the allowed 60 s skew between the pair). */
  'clockJump',
  /** One server's clock is off by more than the allowed skew for a while (must be refused). */
  'bigSkew',
  /** The operator declares the partner down, at a moment when it really is down. */
  'operatorPartnerDown',
  /** The lease store of one server becomes slow (fsync stalls) for a while. */
  'slowDisk',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Scenario {
  poolSize: number;
  clients: number;
  leaseSeconds: number;
  mcltSeconds: number;
  receiveTimerSeconds: number;
  mode: 'loadBalance' | 'hotStandby';
  /** Auto partner-down after this long in COMMUNICATIONS-INTERRUPTED; null = off. */
  autoPartnerDownSeconds: number | null;
  loadBalanceMaxSeconds: number;
  declineHoldSeconds: number;
  offerHoldSeconds: number;
  /** Virtual seconds of chaos (faults and clients), then the faults heal. */
  chaosSeconds: number;
  /** Virtual seconds the healed pair keeps serving clients before they go quiet. */
  settleSeconds: number;
  meanFaultGapSeconds: number;
  /** Initial clock offsets of the two servers from simulation time, ms (|difference| ≤ 60 s). */
  skewMs: [number, number];
  storeLatencyMs: [number, number];
  /** Fault kinds this seed draws from (each seed gets a random mix, so kinds also occur alone). */
  faultKinds: FaultKind[];
}

export interface ScenarioLimits {
  /** Cap on clients (shrinking). */
  maxClients?: number;
  /** Override of the chaos phase length (shrinking, short CI runs). */
  chaosSeconds?: number;
  /**
   * A large scope (issue 15): this many addresses instead of 8–30, and `clients` clients (the
   * seed still draws everything else). Pool balancing then moves the secondary's share in batches
   * (POOL_BALANCE_BATCH) while the faults run.
   */
  large?: { poolSize: number; clients: number };
}

export function makeScenario(seed: number, limits: ScenarioLimits = {}): Scenario {
  const r = new Prng(seed, 0);
  const poolSize = r.int(8, 30);
  const clients = Math.max(2, Math.round(poolSize * (0.5 + r.float() * 1.2)));
  const leaseSeconds = r.pick([60, 90, 120, 180, 300, 600]);
  const mcltSeconds = r.int(30, 120);
  const receiveTimerSeconds = r.int(6, 20);
  const mode = r.chance(0.2) ? 'hotStandby' : 'loadBalance';
  const autoPartnerDownSeconds = r.chance(0.35) ? r.int(60, 240) : null;
  const loadBalanceMaxSeconds = r.chance(0.5) ? 0 : r.int(2, 8);
  const declineHoldSeconds = r.int(30, 300);
  const offerHoldSeconds = r.int(5, 60);
  const chaosSeconds = r.int(300, 1200);
  const settleSeconds = r.int(60, 240);
  const meanFaultGapSeconds = r.int(20, 120);
  const skewA = r.int(-30_000, 30_000);
  const skewB = r.int(-30_000, 30_000);
  const slow = r.chance(0.3);
  const storeLatencyMs: [number, number] = slow ? [5, 400] : [1, 30];
  const faultKinds = FAULT_KINDS.filter(() => r.chance(0.6));
  if (faultKinds.length === 0) faultKinds.push(r.pick(FAULT_KINDS));
  const drawnClients = limits.large?.clients ?? clients;
  return {
    poolSize: limits.large?.poolSize ?? poolSize,
    clients: limits.maxClients !== undefined ? Math.min(drawnClients, limits.maxClients) : drawnClients,
    leaseSeconds,
    mcltSeconds,
    receiveTimerSeconds,
    mode,
    autoPartnerDownSeconds,
    loadBalanceMaxSeconds,
    declineHoldSeconds,
    offerHoldSeconds,
    chaosSeconds: limits.chaosSeconds ?? chaosSeconds,
    settleSeconds,
    meanFaultGapSeconds,
    skewMs: [skewA, skewB],
    storeLatencyMs,
    faultKinds,
  };
}
