// What the dashboard's own routes answer (GET /ui/api/snapshot, the /ui/api/events stream): one
// view of this server, its failover relationships with both partners, operator alerts, scope
// statistics and the bounded histories the plugin keeps in memory. Types only, shared by the
// server side (src/dashboard/*.ts) and the browser code (src/dashboard/client/*.ts).
// Timestamps are ISO-8601 UTC like the rest of the API; chart samples carry `atSeconds`.

import type { FailoverStateName, ScopeStatistics } from '../api/schemas.js';

export type { FailoverStateName, ScopeStatistics };

/** One server of a relationship as this server sees it. */
export interface ServerView {
  name: string;
  address: string;
  isThisServer: boolean;
  /** null: unknown (the partner has not told us yet). */
  state: FailoverStateName | null;
  since: string | null;
  /** Why it is in this state, in operator words (see `whySource`). */
  why: string | null;
  /**
   * observed: the dashboard saw the change happen and what came with it (operator action,
   * connection loss, partner's state); derived: explained from the current state only.
   */
  whySource: 'observed' | 'derived' | null;
}

export interface RelationshipView {
  name: string;
  role: 'primary' | 'secondary';
  mode: 'loadBalance' | 'hotStandby';
  scopeIds: string[];
  mcltSeconds: number;
  autoStateTransition: boolean;
  stateSwitchIntervalSeconds: number | null;
  maxClockSkewSeconds: number;
  /** The failover endpoint runs this relationship (it starts one as soon as a config names it). */
  isRunning: boolean;
  local: ServerView;
  partner: ServerView;
  /** Connected and the partner's STATE received. */
  isPartnerReachable: boolean;
  lastContactAt: string | null;
  clockSkewSeconds: number | null;
  unackedUpdates: number;
  queuedUpdates: number;
  partnerDownAt: string | null;
  partnerPoolUsableAt: string | null;
  hasPartnerApi: boolean;
  /** null: partner.api not configured or the partner could not be asked. */
  configurationDiffers: boolean | null;
}

export type AlertSeverity = 'critical' | 'warning' | 'info';

export interface Alert {
  /** Stable id (kind:relationship) so the page can keep focus and expanded state. */
  id: string;
  severity: AlertSeverity;
  relationship: string | null;
  title: string;
  detail: string;
  /** What the operator should do next. */
  action: string;
}

/** One state of a relationship during a stretch of time; the newest has no end. */
export interface StateSegment {
  relationship: string;
  fromSeconds: number;
  localState: FailoverStateName;
  partnerState: FailoverStateName | null;
  isPartnerReachable: boolean;
  /** Why the local state is what it is, when the dashboard saw it change. */
  why: string | null;
}

/** Scope statistics at one time, for the charts (seed 000 numbers). */
export interface ScopeSample {
  atSeconds: number;
  numAddr: number;
  thisAddrInUse: number;
  partnerAddrInUse: number;
  thisAddrFree: number;
  partnerAddrFree: number;
}

export interface ScopeView extends ScopeStatistics {
  name: string | null;
  description: string | null;
  subnet: string;
  relationship: string | null;
}

/** Which operator actions the API offers (routes that exist in this build). */
export interface ActionFeatures {
  partnerDown: boolean;
  replicate: boolean;
  resync: boolean;
}

export interface DashboardState {
  now: string;
  nowSeconds: number;
  serverName: string;
  version: string;
  startedAt: string;
  /** What the caller's token allows. */
  access: 'read' | 'write';
  features: ActionFeatures;
  relationships: RelationshipView[];
  alerts: Alert[];
  scopes: ScopeView[];
}

export interface DashboardHistory {
  windowSeconds: number;
  stateSampleSeconds: number;
  scopeSampleSeconds: number;
  /** Oldest first; per relationship, the segment in force at the window's start comes first. */
  states: StateSegment[];
  /** scopeId → samples, oldest first. */
  scopes: Record<string, ScopeSample[]>;
}

/** GET /ui/api/snapshot, and the stream's first event. */
export interface DashboardSnapshot extends DashboardState {
  history: DashboardHistory;
}

/** Every later event of the stream: the current state and what the histories gained since. */
export interface DashboardUpdate extends DashboardState {
  newStates: StateSegment[];
  newScopeSamples: Record<string, ScopeSample[]>;
}
