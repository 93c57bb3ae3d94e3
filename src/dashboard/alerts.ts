// Operator alerts shown at the top of the overview: states that need a person, each with what to
// do next. Pure: built from the relationship views and the time.

import { clockTime } from './explain.js';
import type { Alert, RelationshipView } from './view.js';

/** Without automatic partner-down, COMMUNICATIONS-INTERRUPTED is worth an alert after this long. */
export const COMM_INTR_ALERT_SECONDS_WITHOUT_AUTO = 60;
/** RECOVER-WAIT lasts MCLT at most; beyond MCLT and this margin it is stuck. */
export const RECOVER_WAIT_MARGIN_SECONDS = 60;
/** RECOVER and POTENTIAL-CONFLICT normally end within seconds of the partner's answers. */
export const RESOLUTION_STUCK_SECONDS = 300;

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

const isoSeconds = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso) / 1000);

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

export function operatorAlerts(relationships: readonly RelationshipView[], nowSeconds: number): Alert[] {
  const out: Alert[] = [];
  for (const r of relationships) {
    const me = r.local.name;
    const p = r.partner.name;
    const add = (kind: string, a: Omit<Alert, 'id' | 'relationship'>) =>
      out.push({ id: `${kind}:${r.name}`, relationship: r.name, ...a });
    if (!r.isRunning) {
      add('not-running', {
        severity: 'info',
        title: `${r.name}: configured but not running`,
        detail: `The failover endpoint of ${me} does not run this relationship.`,
        action: `A relationship starts as soon as a config naming it is loaded (start, reload, API change): see the log of ${me} (failover.start-failed) for why it did not.`,
      });
      continue;
    }
    const since = isoSeconds(r.local.since);
    const inState = since === null ? 0 : nowSeconds - since;
    const lastContact = isoSeconds(r.lastContactAt);
    const contact = lastContact === null ? 'never' : `since ${clockTime(lastContact)}`;
    switch (r.local.state) {
      case 'communicationsInterrupted': {
        const interval = r.autoStateTransition ? r.stateSwitchIntervalSeconds : null;
        const threshold = interval === null ? COMM_INTR_ALERT_SECONDS_WITHOUT_AUTO : interval / 2;
        if (inState < threshold) break;
        const downAt = isoSeconds(r.partnerDownAt);
        add('comm-intr', {
          severity: 'warning',
          title: `${r.name}: no contact with ${p} for ${duration(inState)}`,
          detail:
            `${me} is in communications-interrupted (last contact ${contact}). Each server serves only its own ` +
            `clients from its own free addresses; if ${p} is really down, its clients get no new leases.`,
          action:
            downAt !== null
              ? `Check ${p} and the failover link. Automatic partner-down at ${clockTime(downAt)} (in ${duration(downAt - nowSeconds)}). If only the link is broken and ${p} still serves clients, restore the link before then.`
              : `Check ${p} (is the process running?) and the failover link to ${r.partner.address}. If ${p} is down and will stay down, declare partner-down on ${me}; never while ${p} may still answer clients.`,
        });
        break;
      }
      case 'partnerDown': {
        const usable = isoSeconds(r.partnerPoolUsableAt);
        add('partner-down', {
          severity: 'critical',
          title: `${r.name}: ${me} runs in partner-down`,
          detail:
            `${me} answers every client of the relationship` +
            (usable === null
              ? '.'
              : usable > nowSeconds
                ? `; ${p}'s free addresses become usable at ${clockTime(usable)} (in ${duration(usable - nowSeconds)}).`
                : `, including ${p}'s free addresses.`),
          action: `Repair ${p} and start it connected to ${me}: it recovers the bindings (recover, recover-wait) and both return to normal. Do not let ${p} serve clients without reaching ${me}.`,
        });
        break;
      }
      case 'recoverWait':
        if (inState > r.mcltSeconds + RECOVER_WAIT_MARGIN_SECONDS) {
          add('recover-wait', {
            severity: 'warning',
            title: `${r.name}: ${me} stuck in recover-wait for ${duration(inState)}`,
            detail: `Recover-wait should end MCLT (${duration(r.mcltSeconds)}) after ${me} went down, then move on with ${p}.`,
            action: `Check that ${p} is reachable and in a state that lets ${me} finish (${p} is ${r.partner.state ?? 'unknown'}); check both clocks. Restarting ${me} starts the recovery over.`,
          });
        }
        break;
      case 'recover':
      case 'potentialConflict':
      case 'resolutionInterrupted':
        if (inState > RESOLUTION_STUCK_SECONDS) {
          add('resolution', {
            severity: 'warning',
            title: `${r.name}: ${me} in ${r.local.state} for ${duration(inState)}`,
            detail: `Binding exchange with ${p} has not finished (unacked updates ${r.unackedUpdates}, queued ${r.queuedUpdates}).`,
            action: `Check the failover link to ${p} and both servers' logs (failover.* events).`,
          });
        }
        break;
      default:
        break;
    }
    if (r.clockSkewSeconds !== null && Math.abs(r.clockSkewSeconds) > r.maxClockSkewSeconds / 2) {
      const isOver = Math.abs(r.clockSkewSeconds) >= r.maxClockSkewSeconds;
      add('clock-skew', {
        severity: isOver ? 'critical' : 'warning',
        title: `${r.name}: clocks ${Math.abs(r.clockSkewSeconds)} s apart`,
        detail: `${p}'s clock is ${r.clockSkewSeconds > 0 ? 'ahead of' : 'behind'} ${me}'s by ${Math.abs(r.clockSkewSeconds)} s; the limit is ${r.maxClockSkewSeconds} s${isOver ? ', so the failover link is refused' : ''}.`,
        action:
          'Synchronise both servers with NTP (chronyc tracking, timedatectl): lease times are exchanged as absolute times.',
      });
    }
    if (r.configurationDiffers === true) {
      add('config-differs', {
        severity: 'warning',
        title: `${r.name}: scope configuration differs from ${p}'s`,
        detail: `The configs of scopes ${r.scopeIds.join(', ')} are not the same on ${me} and ${p}; the servers may hand out different options or ranges.`,
        action: `Decide which server has the right config and replicate it from that server (Replicate config).`,
      });
    }
  }
  return out.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
