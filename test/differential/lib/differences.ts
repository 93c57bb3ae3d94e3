// Every difference between Kea 2.2 and Twinlease that is not a failure: the intended ones (each
// with the RFC sentence or the documented Kea behaviour behind it, in docs/differential.md under
// the same id) and the Twinlease bugs that are known and not yet fixed (docs/differential.md,
// "Found"). A difference no rule explains fails the test. Keep this list short and exact: a rule
// that matches more than its own case hides the next bug.

import type { FieldDiff } from './compare.js';
import type { Sent, Step, Transcript } from './conversation.js';
import { DNS, LEASE, NET, RESERVED } from './spec.js';

export type RuleKind = 'intended' | 'bug';

export interface Rule {
  /** Anchor in docs/differential.md. */
  id: string;
  kind: RuleKind;
  title: string;
  /** The scenario may take another path from here on (different address, silence against a reply). */
  diverges?: boolean;
  explains(d: FieldDiff, ctx: RuleContext): boolean;
}

export interface RuleContext {
  kea: Transcript;
  twinlease: Transcript;
}

const DHCP = { DISCOVER: 1, REQUEST: 3, DECLINE: 4, RELEASE: 7, INFORM: 8 } as const;
/** A BOOTREQUEST has no message type. */
const BOOTP = 0;
const BROADCAST_DESTINATIONS = new Set(['255.255.255.255:68', '10.77.255.255:68']);
const FLAG_BROADCAST = 0x8000;

function sent(d: FieldDiff): Sent | null {
  return d.twinleaseStep?.sent ?? d.keaStep?.sent ?? null;
}

const isDirect = (s: Sent) => s.giaddr === '0.0.0.0';
const hasOption = (s: Sent, code: number) => s.options[code] !== undefined;
const prlOf = (s: Sent): number[] | null => {
  const hex = s.options[55];
  return hex === undefined ? null : (hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16));
};
const message = (d: FieldDiff) => d.twinleaseReply?.message ?? d.keaReply?.message ?? '';
const isInitReboot = (s: Sent) =>
  s.type === DHCP.REQUEST && s.ciaddr === '0.0.0.0' && hasOption(s, 50) && !hasOption(s, 54);
/** The client that sent a step: the label starts with its name. */
const clientOf = (step: Step | undefined) => step?.label.split(' ')[0] ?? '';
/** The address a step's label names after `word` (`requested pool#1`, `ciaddr pool#2`). */
function labelAddress(step: Step | undefined, word: string): string | null {
  const m = new RegExp(`${word} ([^,)]+)`).exec(step?.label ?? '');
  return m ? m[1]! : null;
}

/** Earlier steps of the same client in Twinlease's transcript (labels are equal up to `d`). */
function earlierSteps(d: FieldDiff, ctx: RuleContext): Step[] {
  const who = clientOf(d.twinleaseStep);
  return ctx.twinlease.steps.slice(0, d.stepIndex).filter((s) => clientOf(s) === who);
}

/** The address the client holds at Twinlease before step `d` (its last ACK, unless given up since). */
function heldAddress(d: FieldDiff, ctx: RuleContext): string | null {
  let held: string | null = null;
  for (const st of earlierSteps(d, ctx)) {
    const r = st.replies[0];
    if (st.sent?.type === DHCP.RELEASE || st.sent?.type === DHCP.DECLINE) held = null;
    else if (r?.message === 'NAK') held = null;
    else if (r?.message === 'ACK' && st.sent?.type !== DHCP.INFORM) held = r.header.yiaddr ?? null;
  }
  return held;
}

function fqdnParts(text: string): { flags: string; rcodes: string; name: string } | null {
  const m = /\[([0-9a-f]{2})([0-9a-f]{4})([0-9a-f]*)\]$/.exec(text);
  return m ? { flags: m[1]!, rcodes: m[2]!, name: m[3]! } : null;
}

function fqdnName(text: string): string {
  try {
    const v = JSON.parse(text.replace(/ \[[0-9a-f]*\]$/, '')) as { name?: string };
    return v.name ?? '';
  } catch {
    return '';
  }
}

const RESERVED_IDENTITIES = new Set<string>(
  Object.values(RESERVED).flatMap((r) => [
    ...('hardwareAddress' in r ? [`hw:${r.hardwareAddress}`] : []),
    ...('clientId' in r ? [`id:${r.clientId}`] : []),
  ]),
);
const isReservedClient = (s: Sent) =>
  RESERVED_IDENTITIES.has(`hw:${s.chaddr}`) ||
  (s.options[61] !== undefined && RESERVED_IDENTITIES.has(`id:${s.options[61]}`));

export const RULES: readonly Rule[] = [
  // ------------------------------------------------------------------ where the reply goes
  {
    id: 'unicast-to-yiaddr',
    kind: 'intended',
    title: 'A direct client without the broadcast bit: Kea unicasts to yiaddr/chaddr, Twinlease broadcasts',
    explains: (d) => {
      const s = sent(d);
      if (!s || !isDirect(s) || s.ciaddr !== '0.0.0.0' || (s.flags & FLAG_BROADCAST) !== 0) return false;
      if (d.field === 'to') return d.kea === 'yiaddr:68' && BROADCAST_DESTINATIONS.has(d.twinlease);
      if (d.field === 'l2') return (d.kea === 'chaddr' || d.kea === 'client') && d.twinlease === 'broadcast';
      return false;
    },
  },
  {
    id: 'subnet-broadcast',
    kind: 'intended',
    title: 'Broadcast replies go to the subnet broadcast address (10.77.255.255), not 255.255.255.255',
    explains: (d) => d.field === 'to' && d.kea === '255.255.255.255:68' && d.twinlease === '10.77.255.255:68',
  },
  {
    id: 'broadcast-frame',
    kind: 'intended',
    title:
      'An IP broadcast reply goes out in an Ethernet broadcast frame (Kea addresses the frame to chaddr)',
    explains: (d) =>
      d.field === 'l2' &&
      d.twinlease === 'broadcast' &&
      (d.kea === 'chaddr' || d.kea === 'client') &&
      BROADCAST_DESTINATIONS.has(d.keaReply?.to ?? '') &&
      BROADCAST_DESTINATIONS.has(d.twinleaseReply?.to ?? ''),
  },
  {
    id: 'nak-broadcast',
    kind: 'intended',
    title: 'A NAK to a client without a relay is broadcast (Kea unicasts it to ciaddr)',
    explains: (d) => {
      const s = sent(d);
      if (!s || !isDirect(s) || message(d) !== 'NAK') return false;
      if (d.field === 'to') return d.kea === 'ciaddr:68' && BROADCAST_DESTINATIONS.has(d.twinlease);
      if (d.field === 'l2') return (d.kea === 'chaddr' || d.kea === 'client') && d.twinlease === 'broadcast';
      return false;
    },
  },
  {
    id: 'nak-broadcast-bit',
    kind: 'intended',
    title: 'A NAK through a relay has the broadcast bit set',
    explains: (d) => {
      const s = sent(d);
      if (!s || isDirect(s) || message(d) !== 'NAK' || d.field !== 'header.flags') return false;
      const k = Number.parseInt(d.kea, 16);
      const t = Number.parseInt(d.twinlease, 16);
      return (t & FLAG_BROADCAST) !== 0 && (k & FLAG_BROADCAST) === 0 && (t & ~FLAG_BROADCAST) === k;
    },
  },
  {
    id: 'hops-zero',
    kind: 'intended',
    title: "'hops' is 0 in replies (Kea copies the request's)",
    explains: (d) => d.field === 'header.hops' && d.twinlease === '0' && d.kea === String(sent(d)?.hops),
  },
  {
    id: 'relayed-inform',
    kind: 'intended',
    title: 'The ACK to a relayed INFORM goes back through the relay (Kea sends it to ciaddr)',
    explains: (d) => {
      const s = sent(d);
      if (!s || s.type !== DHCP.INFORM || isDirect(s)) return false;
      if (d.field === 'to') return d.kea === 'ciaddr:68' && d.twinlease === 'giaddr:67';
      if (d.field === 'header.giaddr') return d.kea === '0.0.0.0' && d.twinlease === s.giaddr;
      return false;
    },
  },

  // ------------------------------------------------------------------ options
  {
    id: 'kea-basic-options',
    kind: 'intended',
    title:
      'Kea always adds subnet mask, routers, name servers and domain name; Twinlease sends what was asked',
    explains: (d) => {
      const s = sent(d);
      if (!s || !d.field.startsWith('option.') || d.twinlease !== '(absent)') return false;
      if (![1, 3, 6, 15].includes(d.code!)) return false;
      const prl = prlOf(s);
      return prl !== null && !prl.includes(d.code!);
    },
  },
  {
    id: 'no-prl-all-options',
    kind: 'intended',
    title: 'Without a parameter request list Twinlease sends every option configured for the client',
    explains: (d) => {
      const s = sent(d);
      return !!s && d.field.startsWith('option.') && d.kea === '(absent)' && prlOf(s) === null;
    },
  },
  {
    id: 'max-message-size',
    kind: 'intended',
    title: "Replies fit the client's maximum message size, leaving out what does not fit (Kea's may not)",
    explains: (d) => {
      if (d.field === 'size-limit') return d.kea.includes('over') && d.twinlease === 'within';
      // An option Kea sent in a reply over the client's limit, which Twinlease left out to fit it.
      const limit = d.twinleaseStep?.maxSize ?? 0;
      return (
        d.field.startsWith('option.') &&
        d.twinlease === '(absent)' &&
        (d.keaReply?.size ?? 0) > limit &&
        (d.twinleaseReply?.size ?? Number.POSITIVE_INFINITY) <= limit
      );
    },
  },
  {
    id: 'nak-message',
    kind: 'intended',
    title: 'A NAK says why (option 56)',
    explains: (d) => d.field === 'option.56' && message(d) === 'NAK' && d.kea === '(absent)',
  },
  {
    id: 'host-name-echo',
    kind: 'intended',
    title: "Kea returns the client's own host name (option 12); Twinlease does not",
    explains: (d) => {
      const s = sent(d);
      if (!s || d.field !== 'option.12' || d.twinlease !== '(absent)' || s.options[12] === undefined)
        return false;
      const name = Buffer.from(s.options[12], 'hex').toString('latin1').split('.')[0]!.toLowerCase();
      return d.kea.toLowerCase().startsWith(name);
    },
  },
  {
    id: 'fqdn-without-dns',
    kind: 'intended',
    title: 'Where no DNS updates are configured, option 81 is not answered (Kea answers N=1)',
    explains: (d) => {
      const s = sent(d);
      return (
        !!s &&
        d.field === 'option.81' &&
        d.twinlease === '(absent)' &&
        s.options[81] !== undefined &&
        s.giaddr !== NET.remote.giaddr &&
        (fqdnParts(d.kea)?.flags === undefined || (Number.parseInt(fqdnParts(d.kea)!.flags, 16) & 0x08) !== 0)
      );
    },
  },
  {
    id: 'bootp-no-fqdn',
    kind: 'intended',
    title: 'A BOOTREPLY carries no option 81 (Kea answers it as for a DHCPREQUEST)',
    explains: (d) => {
      const s = sent(d);
      return !!s && s.type === 0 && d.field === 'option.81' && d.twinlease === '(absent)';
    },
  },
  {
    id: 'fqdn-rcodes',
    kind: 'intended',
    title: 'Option 81 in replies carries RCODE1/RCODE2 255 (Kea 0)',
    explains: (d) => {
      if (d.field !== 'option.81') return false;
      const k = fqdnParts(d.kea);
      const t = fqdnParts(d.twinlease);
      return (
        !!k && !!t && k.flags === t.flags && k.name === t.name && k.rcodes === '0000' && t.rcodes === 'ffff'
      );
    },
  },
  {
    id: 'fqdn-other-zone',
    kind: 'intended',
    title: "A name outside the scope's zone is registered as its first label in the zone",
    explains: (d) => {
      if (d.field !== 'option.81') return false;
      const k = fqdnName(d.kea);
      const t = fqdnName(d.twinlease);
      const zone = `.${DNS.zone}.`;
      return k !== '' && !k.endsWith(zone) && t === `${k.split('.')[0]}${zone}`;
    },
  },
  {
    id: 'fqdn-ascii-no-root-dot',
    kind: 'intended',
    title: 'An ASCII-encoded name in option 81 is returned without a trailing dot (Kea adds one)',
    explains: (d) => {
      if (d.field !== 'option.81') return false;
      const k = fqdnParts(d.kea);
      const t = fqdnParts(d.twinlease);
      if (!k || !t || k.flags !== t.flags || (Number.parseInt(t.flags, 16) & 0x04) !== 0) return false;
      return k.name === `${t.name}2e` && t.rcodes === 'ffff';
    },
  },
  {
    id: 'fqdn-sanitising',
    kind: 'intended',
    title: "Characters a host name cannot have become '-' (Kea drops them)",
    explains: (d) => {
      if (d.field !== 'option.81') return false;
      const k = fqdnName(d.kea);
      const t = fqdnName(d.twinlease);
      return k !== '' && t !== k && t.includes('-') && t.replaceAll('-', '') === k.replaceAll('-', '');
    },
  },
  {
    id: 'tee-times-scaled',
    kind: 'intended',
    title: 'T1 and T2 are scaled with a lease shorter than configured (Kea keeps them, or leaves them out)',
    explains: (d) => {
      if (d.field !== 'option.58' && d.field !== 'option.59') return false;
      const lease = d.twinleaseReply?.options['51 leaseTime'];
      const seconds = lease === undefined ? LEASE.validSeconds : Number.parseInt(lease.hex, 16);
      if (seconds >= LEASE.validSeconds) return false;
      const configured = d.field === 'option.58' ? LEASE.renewSeconds : LEASE.rebindSeconds;
      const scaled = Math.floor((configured * seconds) / LEASE.validSeconds);
      return (
        (d.kea === '(absent)' || d.kea.startsWith(`${configured} `)) && d.twinlease.startsWith(`${scaled} `)
      );
    },
  },
  {
    id: 'inform-subnet-mask',
    kind: 'intended',
    title: 'The ACK to an INFORM carries the subnet mask it asked for (Kea leaves it out)',
    explains: (d) => sent(d)?.type === DHCP.INFORM && d.field === 'option.1' && d.kea === '(absent)',
  },

  // ------------------------------------------------------------------ which reply, which address
  {
    id: 'init-reboot-unknown-client',
    kind: 'intended',
    title: 'INIT-REBOOT from a client the server holds no binding for: silence (Kea, authoritative, NAKs)',
    diverges: true,
    explains: (d, ctx) => {
      const s = sent(d);
      if (!s || !isInitReboot(s) || d.field !== 'reply') return false;
      if (!d.kea.startsWith('NAK') || d.twinlease !== '(silence)') return false;
      // No record: nothing bound to this client now (never ACKed, or released or declined since).
      return heldAddress(d, ctx) === null;
    },
  },
  {
    id: 'released-binding-kept',
    kind: 'intended',
    title: 'A released binding keeps its client: the same address comes back on DISCOVER and INIT-REBOOT',
    diverges: true,
    explains: (d, ctx) => {
      const released = earlierSteps(d, ctx)
        .filter((st) => st.sent?.type === DHCP.RELEASE)
        .map((st) => labelAddress(st, 'ciaddr'));
      if (released.length === 0) return false;
      const s = sent(d);
      if (!s) return false;
      if ((s.type === DHCP.DISCOVER || s.type === 0) && d.field === 'header.yiaddr') {
        return released.includes(d.twinlease);
      }
      return (
        isInitReboot(s) &&
        d.field === 'message' &&
        d.kea === 'NAK' &&
        d.twinlease === 'ACK' &&
        released.includes(labelAddress(d.twinleaseStep, 'requested') ?? '')
      );
    },
  },
  {
    id: 'offer-held',
    kind: 'intended',
    title:
      'An offer is held for its client: a repeated DISCOVER (or a BOOTP request) gets the same address (Kea 2.2 moves on)',
    diverges: true,
    explains: (d, ctx) => {
      const type = sent(d)?.type;
      if ((type !== DHCP.DISCOVER && type !== BOOTP) || d.field !== 'header.yiaddr') return false;
      return earlierSteps(d, ctx).some((st) =>
        st.replies.some((r) => r.message === 'OFFER' && r.header.yiaddr === d.twinlease),
      );
    },
  },
  {
    id: 'client-id-new-identity',
    kind: 'intended',
    title: 'A client that starts sending a client identifier is a new client (Kea finds its lease by chaddr)',
    diverges: true,
    explains: (d, ctx) => {
      const s = sent(d);
      if (!s || s.options[61] === undefined || s.type !== DHCP.DISCOVER || d.field !== 'header.yiaddr')
        return false;
      return ctx.twinlease.steps
        .slice(0, d.stepIndex)
        .some((st) => st.sent?.chaddr === s.chaddr && st.sent.options[61] === undefined);
    },
  },
  {
    id: 'client-id-length',
    kind: 'intended',
    title: 'Client identifiers of 1 byte and of more than 128 bytes are accepted (Kea drops the packet)',
    diverges: true,
    explains: (d) => {
      const cid = sent(d)?.options[61];
      return (
        d.field === 'reply' &&
        d.kea === '(silence)' &&
        cid !== undefined &&
        (cid.length === 2 || cid.length > 256)
      );
    },
  },
  {
    id: 'bootp-without-cookie',
    kind: 'intended',
    title: 'Plain RFC 951 BOOTP (no magic cookie) is answered (Kea needs the RFC 1497 cookie)',
    explains: (d) => {
      const s = sent(d);
      return (
        !!s &&
        s.type === 0 &&
        Object.keys(s.options).length === 0 &&
        d.field === 'reply' &&
        d.kea === '(silence)' &&
        d.twinlease.startsWith('BOOTREPLY')
      );
    },
  },
  {
    id: 'reserved-client-other-address',
    kind: 'intended',
    title: 'A reserved client asking for another address is NAKed (Kea grants it)',
    explains: (d) => {
      const s = sent(d);
      if (!s || s.type !== DHCP.REQUEST || !isReservedClient(s)) return false;
      return d.keaReply?.message === 'ACK' && d.twinleaseReply?.message === 'NAK';
    },
  },
  {
    id: 'one-binding-per-client',
    kind: 'intended',
    title: 'A client renewing an address other than the one it holds is NAKed (Kea moves it)',
    diverges: true,
    explains: (d) => {
      const s = sent(d);
      if (!s || s.type !== DHCP.REQUEST || s.ciaddr === '0.0.0.0' || d.field !== 'message') return false;
      const why = d.twinleaseReply?.options['56 message']?.text ?? '';
      return d.kea === 'ACK' && d.twinlease === 'NAK' && why.startsWith('client holds');
    },
  },
  {
    id: 'inform-without-ciaddr',
    kind: 'intended',
    title: 'An INFORM without ciaddr is answered by broadcast (Kea drops it)',
    explains: (d) => {
      const s = sent(d);
      return (
        !!s &&
        s.type === DHCP.INFORM &&
        s.ciaddr === '0.0.0.0' &&
        d.field === 'reply' &&
        d.kea === '(silence)' &&
        d.twinlease.startsWith('ACK')
      );
    },
  },

  {
    id: 'rebind-foreign-address',
    kind: 'intended',
    title: "A broadcast REBINDING for an address outside the link's subnets is NAKed (Kea stays silent)",
    diverges: true,
    explains: (d) => {
      const s = sent(d);
      const why = d.twinleaseReply?.options['56 message']?.text ?? '';
      return (
        !!s &&
        s.type === DHCP.REQUEST &&
        isDirect(s) &&
        s.ciaddr !== '0.0.0.0' &&
        !hasOption(s, 50) &&
        !s.ciaddr.startsWith('10.77.') &&
        d.field === 'reply' &&
        d.kea === '(silence)' &&
        d.twinlease.startsWith('NAK') &&
        why.endsWith('is on the wrong network')
      );
    },
  },

  // ------------------------------------------------------------------ known Twinlease bugs
  // (none today: each fixed one is listed in docs/differential.md under "Found")
];

export interface Verdict {
  rule: Rule | null;
  /** Explained only as a consequence: the scenario took another path at an earlier difference
   * (or at another field of the same reply) that `after` explains. */
  after?: Rule;
}

/**
 * Classifies the differences of one scenario. From the first difference a diverging rule
 * explains, the two servers are in different states (another address, a reply against silence):
 * what follows in that scenario cannot be compared and is reported as its consequence.
 */
export function classify(diffs: readonly FieldDiff[], ctx: RuleContext): Verdict[] {
  const first = diffs.map((d) => RULES.find((r) => r.explains(d, ctx)) ?? null);
  const k = diffs.findIndex((_, i) => first[i]?.diverges === true);
  const divergence = k < 0 ? null : { step: diffs[k]!.stepIndex, rule: first[k]! };
  return diffs.map((d, i) => {
    const rule = first[i] ?? null;
    if (divergence === null || d.stepIndex < divergence.step) return { rule };
    if (d.stepIndex === divergence.step && rule !== null) return { rule };
    return i === k ? { rule } : { rule: null, after: divergence.rule };
  });
}
