// The dashboard's view of the server, built from the same ApiDeps and RouteContext as the API
// routes: relationships (config + live RelationshipStatus), why each state holds, operator
// alerts, scope statistics, and the bounded histories the sampler fills.

import { iso, isoOrNull, wallTimeOf } from '../api/format.js';
import { failoverStateName } from '../api/relationship-resource.js';
import { currentScopeStatistics } from '../api/scope-statistics.js';
import type { RouteContext } from '../api/server.js';
import type { ResolvedRelationship } from '../config/resolved.js';
import type { RelationshipStatus } from '../failover/types.js';
import { formatIpv4, formatSubnet } from '../wire/ipv4.js';
import { operatorAlerts } from './alerts.js';
import { type ExplainContext, explainChange, explainState, type Observation } from './explain.js';
import { DEFAULT_LIMITS, type HistoryLimits, ScopeHistory, StateHistory } from './history.js';
import type {
  ActionFeatures,
  DashboardHistory,
  DashboardState,
  RelationshipView,
  ScopeSample,
  ScopeView,
} from './view.js';

export interface SamplingOptions {
  stateSampleSeconds: number;
  scopeSampleSeconds: number;
  limits: HistoryLimits;
}

export const DEFAULT_SAMPLING: SamplingOptions = {
  stateSampleSeconds: 2,
  scopeSampleSeconds: 15,
  limits: DEFAULT_LIMITS,
};

/** Where the stream stands in the histories. */
export interface Cursor {
  stateSeq: number;
  scopeSeq: number;
}

export class DashboardModel {
  readonly states: StateHistory;
  readonly scopes: ScopeHistory;
  /** relationship → last observation and the why of the local state as observed. */
  private readonly observed = new Map<
    string,
    { obs: Observation; why: string | null; isObserved: boolean }
  >();
  /** configurationDiffers, refreshed in the background (asking the partner may take seconds). */
  private readonly differs = new Map<string, boolean | null>();
  private readonly differsPending = new Set<string>();

  constructor(
    private readonly ctx: RouteContext,
    readonly sampling: SamplingOptions = DEFAULT_SAMPLING,
  ) {
    this.states = new StateHistory(sampling.limits);
    this.scopes = new ScopeHistory(sampling.limits);
  }

  private statuses(): readonly RelationshipStatus[] {
    return this.ctx.deps.failover?.statuses() ?? [];
  }

  /** The names the page shows: the configured ones, else our server name / the partner's address. */
  private names(r: ResolvedRelationship): { local: string; partner: string } {
    return {
      local: r.local.name ?? this.ctx.deps.config().server.name,
      partner: r.partner.name ?? formatIpv4(r.partner.address),
    };
  }

  private explainContext(r: ResolvedRelationship, forPartner: boolean): ExplainContext {
    const n = this.names(r);
    const op = this.ctx.operations.list(r.name).find((o) => o.operation === 'partnerDown');
    return {
      serverName: forPartner ? n.partner : n.local,
      partnerName: forPartner ? n.local : n.partner,
      mode: r.mode,
      mcltSeconds: r.mcltSeconds,
      autoStateTransition: r.autoStateTransition,
      stateSwitchIntervalSeconds: r.stateSwitchIntervalSeconds,
      operatorPartnerDown:
        op === undefined || forPartner ? null : { atSeconds: op.at, tokenName: op.tokenName },
    };
  }

  /** Takes a state sample: records changes in the history with what explains them. */
  sampleStates(): void {
    const now = this.ctx.now();
    const config = this.ctx.deps.config();
    const running = new Set<string>();
    for (const s of this.statuses()) {
      running.add(s.name);
      const r = config.failover.find((x) => x.name === s.name);
      const obs: Observation = {
        atSeconds: now,
        localState: failoverStateName(s.localState),
        partnerState: s.partnerState === null ? null : failoverStateName(s.partnerState),
        isPartnerReachable: s.isCommunicating,
      };
      const before = this.observed.get(s.name);
      let why = before?.why ?? null;
      let isObserved = before?.isObserved ?? false;
      if (before === undefined || before.obs.localState !== obs.localState) {
        why = r === undefined ? null : explainChange(before?.obs ?? null, obs, this.explainContext(r, false));
        isObserved = before !== undefined;
      }
      this.observed.set(s.name, { obs, why, isObserved });
      this.states.observe(
        {
          relationship: s.name,
          fromSeconds: before === undefined ? Math.min(now, s.localStateStartedAt || now) : now,
          localState: obs.localState,
          partnerState: obs.partnerState,
          isPartnerReachable: obs.isPartnerReachable,
          why,
        },
        now,
      );
    }
    this.states.retain(running);
    for (const name of [...this.observed.keys()]) if (!running.has(name)) this.observed.delete(name);
  }

  /** Takes a scope statistics sample of every scope. */
  sampleScopes(): void {
    const now = this.ctx.now();
    const round = new Map<string, ScopeSample>();
    for (const [id, s] of currentScopeStatistics(this.ctx.deps, now)) {
      round.set(id, {
        atSeconds: now,
        numAddr: s.numAddr,
        thisAddrInUse: s.thisAddrInUse,
        partnerAddrInUse: s.partnerAddrInUse,
        thisAddrFree: s.thisAddrFree,
        partnerAddrFree: s.partnerAddrFree,
      });
    }
    this.scopes.record(round, now);
  }

  cursor(): Cursor {
    return { stateSeq: this.states.lastSeq, scopeSeq: this.scopes.lastSeq };
  }

  history(): DashboardHistory {
    return {
      windowSeconds: this.sampling.limits.windowSeconds,
      stateSampleSeconds: this.sampling.stateSampleSeconds,
      scopeSampleSeconds: this.sampling.scopeSampleSeconds,
      states: this.states.all(this.ctx.now()),
      scopes: this.scopes.all(),
    };
  }

  private refreshDiffers(r: ResolvedRelationship): void {
    if (this.differsPending.has(r.name)) return;
    this.differsPending.add(r.name);
    this.ctx.drift
      .differences(r)
      .then(
        (v) => this.differs.set(r.name, v === null ? null : v.length > 0),
        () => this.differs.set(r.name, null),
      )
      .finally(() => this.differsPending.delete(r.name));
  }

  relationships(): RelationshipView[] {
    const config = this.ctx.deps.config();
    const statuses = this.statuses();
    return config.failover.map((r) => {
      this.refreshDiffers(r);
      const s = statuses.find((x) => x.name === r.name) ?? null;
      const seen = this.observed.get(r.name);
      const localState = s === null ? 'noState' : failoverStateName(s.localState);
      const partnerState = s?.partnerState == null ? null : failoverStateName(s.partnerState);
      const isReachable = s?.isCommunicating === true;
      const localWhy =
        seen !== undefined && seen.obs.localState === localState
          ? seen.why
          : explainState(localState, partnerState, isReachable, this.explainContext(r, false));
      return {
        name: r.name,
        role: r.role,
        mode: r.mode,
        scopeIds: [...r.scopeIds],
        mcltSeconds: s?.mcltSeconds ?? r.mcltSeconds,
        autoStateTransition: r.autoStateTransition,
        stateSwitchIntervalSeconds: r.stateSwitchIntervalSeconds,
        maxClockSkewSeconds: r.maxClockSkewSeconds,
        isRunning: s !== null,
        local: {
          name: this.names(r).local,
          address: formatIpv4(r.local.address),
          isThisServer: true,
          state: localState,
          since: s === null ? null : isoOrNull(s.localStateStartedAt),
          why: localWhy,
          whySource:
            localWhy === null
              ? null
              : seen?.isObserved === true && seen.obs.localState === localState
                ? 'observed'
                : 'derived',
        },
        partner: (() => {
          const why =
            s === null
              ? null
              : explainState(partnerState, localState, isReachable, this.explainContext(r, true));
          return {
            name: this.names(r).partner,
            address: formatIpv4(r.partner.address),
            isThisServer: false,
            state: partnerState,
            since: s?.partnerStateStartedAt == null ? null : isoOrNull(s.partnerStateStartedAt),
            why,
            whySource: why === null ? null : ('derived' as const),
          };
        })(),
        isPartnerReachable: isReachable,
        lastContactAt: s === null ? null : isoOrNull(s.lastContactAt),
        clockSkewSeconds: s?.clockSkewSeconds ?? null,
        unackedUpdates: s?.unackedUpdates ?? 0,
        queuedUpdates: s?.queuedUpdates ?? 0,
        partnerDownAt: s?.partnerDownAt == null ? null : isoOrNull(s.partnerDownAt),
        partnerPoolUsableAt: s?.partnerPoolUsableAt == null ? null : isoOrNull(s.partnerPoolUsableAt),
        hasPartnerApi: r.partnerApi !== undefined,
        configurationDiffers: this.differs.get(r.name) ?? null,
      };
    });
  }

  scopeViews(): ScopeView[] {
    const config = this.ctx.deps.config();
    const stats = currentScopeStatistics(this.ctx.deps, this.ctx.now());
    return [...stats.values()].map((s) => {
      const scope = config.scopes.find((x) => x.id === s.scopeId);
      return {
        ...s,
        name: scope?.name ?? null,
        description: scope?.description ?? null,
        subnet: scope === undefined ? '' : formatSubnet(scope.subnet),
        relationship: config.failover.find((r) => r.scopeIds.includes(s.scopeId))?.name ?? null,
      };
    });
  }

  state(access: 'read' | 'write', features: ActionFeatures): DashboardState {
    this.sampleStates();
    const now = this.ctx.now();
    const deps = this.ctx.deps;
    const relationships = this.relationships();
    return {
      now: iso(now),
      // Wall-clock seconds, as the ISO times beside it (the history runs on the timeline).
      nowSeconds: wallTimeOf(now),
      serverName: deps.config().server.name,
      version: deps.version,
      startedAt: iso(deps.startedAt),
      access,
      features,
      relationships,
      alerts: operatorAlerts(relationships, wallTimeOf(now)),
      scopes: this.scopeViews(),
    };
  }
}
