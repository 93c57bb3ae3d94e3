// Policies (Windows DHCP policy-based assignment, Kea client classes): a condition on fields of
// the client's request selects a group of clients, and the group gets its own address ranges,
// options and lease time. Conditions are compiled once when the configuration is loaded; the
// engine evaluates them per request. Pure: no I/O, no clock. Operator guide: docs/policies.md.

import { OPTION, parseClientFqdn, RELAY_AGENT_SUBOPTION, relayAgentSubOption } from '../wire/dhcp-options.js';
import type { DhcpPacket } from '../wire/dhcp-packet.js';
import type { EngineRange } from './scope.js';

/** Request fields a condition can test (the DHCP option each comes from in the comment). */
export const POLICY_FIELDS = [
  'vendorClass', // 60
  'userClass', // 77
  'hardwareAddress', // chaddr
  'clientId', // 61
  'relayCircuitId', // 82 sub-option 1
  'relayRemoteId', // 82 sub-option 2
  'relaySubscriberId', // 82 sub-option 6
  'fqdn', // 81, the name
  'hostname', // 12
] as const;
export type PolicyField = (typeof POLICY_FIELDS)[number];

export const POLICY_OPERATORS = ['equals', 'notEquals', 'startsWith'] as const;
export type PolicyOperator = (typeof POLICY_OPERATORS)[number];

/** Fields whose value is written as hex (binary identifiers); the others are text or `hex:…`. */
const HEX_FIELDS: ReadonlySet<PolicyField> = new Set(['hardwareAddress', 'clientId']);
/** DNS names compare without regard to ASCII case (RFC 4343). */
const CASE_INSENSITIVE_FIELDS: ReadonlySet<PolicyField> = new Set(['hostname', 'fqdn']);

/** Levels of condition nesting, the top one included: `{and: [{or: [leaf]}]}` is 3. */
export const MAX_CONDITION_DEPTH = 5;
/** Entries of one `and` / `or` list. */
export const MAX_CONDITION_BRANCHES = 32;

/**
 * A condition as written in the configuration (schema.ts PolicyCondition): a leaf
 * `{ field, operator, value }`, or a node `{ and: [...] }` / `{ or: [...] }`.
 */
export interface PolicyConditionInput {
  field?: string;
  operator?: string;
  value?: string;
  and?: readonly unknown[];
  or?: readonly unknown[];
}

/** A compiled condition: values already turned into the bytes they are compared with. */
export type PolicyCondition =
  | {
      readonly kind: 'match';
      readonly field: PolicyField;
      /** Compared bytes; lower-case ASCII for case-insensitive fields. */
      readonly pattern: Uint8Array;
      /** startsWith, or a value ending in `*`. */
      readonly isPrefix: boolean;
      /** notEquals: true when no value of the field matches (an absent field included). */
      readonly isNegated: boolean;
    }
  | { readonly kind: 'all'; readonly conditions: readonly PolicyCondition[] }
  | { readonly kind: 'any'; readonly conditions: readonly PolicyCondition[] };

/** A problem found while compiling, at a path relative to the condition given. */
export interface PolicyProblem {
  path: (string | number)[];
  message: string;
}

export type CompileResult =
  | { ok: true; condition: PolicyCondition }
  | { ok: false; problems: PolicyProblem[] };

/** One policy as the engine uses it (resolved from the configuration by the config resolver). */
export interface EnginePolicy {
  readonly name: string;
  /** Scope policies are evaluated before server policies (Windows). */
  readonly level: 'scope' | 'server';
  readonly processingOrder: number;
  readonly condition: PolicyCondition;
  /**
   * Addresses for the policy's clients; nothing else is given to them. Empty: the scope's
   * addresses outside every policy's ranges, as for clients that match no policy.
   */
  readonly ranges: readonly EngineRange[];
  /** Every option sent to the policy's clients (scope, server and policy options merged). */
  readonly options: ReadonlyMap<number, Uint8Array>;
  readonly alwaysSend: ReadonlySet<number>;
  readonly leaseTimeSeconds: number;
  readonly renewTimeSeconds: number;
  readonly rebindTimeSeconds: number;
  /** Dynamic DNS settings of the policy (opaque here; the DDNS code reads them); null when unset. */
  readonly dns: Readonly<Record<string, unknown>> | null;
}

// ---------------------------------------------------------------------------------------------
// Compiling

const utf8 = new TextEncoder();

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isField(value: string): value is PolicyField {
  return (POLICY_FIELDS as readonly string[]).includes(value);
}

function isOperator(value: string): value is PolicyOperator {
  return (POLICY_OPERATORS as readonly string[]).includes(value);
}

const HEX_TEXT = /^(?:[0-9a-f]{2})(?:[:.-]?[0-9a-f]{2})*$/i;

function hexBytes(text: string): Uint8Array | null {
  if (!HEX_TEXT.test(text)) return null;
  return new Uint8Array(Buffer.from(text.replace(/[:.-]/g, ''), 'hex'));
}

function lowerAscii(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out[i] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
  }
  return out;
}

/**
 * A condition value → the bytes compared and whether it is a prefix. Syntax (docs/policies.md):
 * hardwareAddress and clientId take hex ("00:15:5d:0a:1b:2c", "00-15-5d", "0015.5d0a", "00155d");
 * the other fields take text, or hex after "hex:". A trailing "*" makes it a prefix
 * ("00:15:5d:*", "MSFT*"); "*" alone matches any value the client sends.
 */
export function compileValue(
  field: PolicyField,
  operator: PolicyOperator,
  value: string,
): { pattern: Uint8Array; isPrefix: boolean } | { error: string } {
  let text = value;
  let isPrefix = operator === 'startsWith';
  if (text.endsWith('*')) {
    isPrefix = true;
    text = text.slice(0, -1);
  }
  if (text.includes('*')) {
    return { error: `${JSON.stringify(value)}: '*' is a wildcard only at the end of a value` };
  }
  const isHex = HEX_FIELDS.has(field) || text.toLowerCase().startsWith('hex:');
  let pattern: Uint8Array;
  if (isHex) {
    // A separator before the wildcard belongs to it: "00:15:5d:*".
    const digits = text.replace(/^hex:/i, '').replace(/[:.-]$/, isPrefix ? '' : '$&');
    if (digits === '') {
      pattern = new Uint8Array(0);
    } else {
      const bytes = hexBytes(digits);
      if (bytes === null) {
        return {
          error: `${JSON.stringify(value)} is not hex bytes (e.g. ${field === 'hardwareAddress' ? '00:15:5d:0a:1b:2c or 00:15:5d:*' : 'hex:01:00:15:5d'})`,
        };
      }
      pattern = bytes;
    }
  } else {
    if ((field === 'fqdn' || field === 'hostname') && !isPrefix) text = text.replace(/\.$/, '');
    pattern = utf8.encode(text);
  }
  if (pattern.length === 0 && !isPrefix) {
    return { error: "an empty value matches nothing; '*' matches any value the client sends" };
  }
  if (pattern.length > 255) {
    return { error: `${pattern.length} bytes; a DHCP option holds at most 255` };
  }
  if (CASE_INSENSITIVE_FIELDS.has(field)) pattern = lowerAscii(pattern);
  return { pattern, isPrefix };
}

/**
 * Compiles a condition tree. Checks what the schema cannot: a leaf has exactly field, operator
 * and value; a node has exactly one of and / or; nesting is bounded; values parse.
 */
export function compileCondition(input: PolicyConditionInput): CompileResult {
  const problems: PolicyProblem[] = [];
  const condition = compileNode(input, [], 1, problems);
  return condition === null || problems.length > 0 ? { ok: false, problems } : { ok: true, condition };
}

function compileNode(
  input: unknown,
  path: (string | number)[],
  depth: number,
  problems: PolicyProblem[],
): PolicyCondition | null {
  if (!isObject(input)) {
    problems.push({
      path,
      message: 'a condition is an object: { field, operator, value }, { and } or { or }',
    });
    return null;
  }
  const has = (key: string) => input[key] !== undefined;
  const isLeaf = has('field') || has('operator') || has('value');
  const nodeKeys = ['and', 'or'].filter(has);
  if (isLeaf && nodeKeys.length > 0) {
    problems.push({
      path,
      message: `a condition is either a test (field, operator, value) or '${nodeKeys[0]}', not both; put the test inside the '${nodeKeys[0]}' list`,
    });
    return null;
  }
  if (nodeKeys.length > 1) {
    problems.push({ path, message: "a condition has 'and' or 'or', not both; nest one inside the other" });
    return null;
  }
  if (nodeKeys.length === 1) {
    const key = nodeKeys[0] as 'and' | 'or';
    const list = input[key];
    if (!Array.isArray(list) || list.length === 0) {
      problems.push({ path: [...path, key], message: 'must be a list of at least one condition' });
      return null;
    }
    if (list.length > MAX_CONDITION_BRANCHES) {
      problems.push({
        path: [...path, key],
        message: `has ${list.length} entries; at most ${MAX_CONDITION_BRANCHES}`,
      });
      return null;
    }
    if (depth >= MAX_CONDITION_DEPTH) {
      problems.push({
        path: [...path, key],
        message: `conditions nest at most ${MAX_CONDITION_DEPTH} levels deep`,
      });
      return null;
    }
    const conditions: PolicyCondition[] = [];
    list.forEach((child, i) => {
      const c = compileNode(child, [...path, key, i], depth + 1, problems);
      if (c !== null) conditions.push(c);
    });
    if (conditions.length !== list.length) return null;
    return { kind: key === 'and' ? 'all' : 'any', conditions };
  }
  if (!isLeaf) {
    problems.push({
      path,
      message: "a condition needs 'field', 'operator' and 'value', or 'and', or 'or'",
    });
    return null;
  }
  const missing = ['field', 'operator', 'value'].filter((k) => !has(k));
  if (missing.length > 0) {
    problems.push({ path, message: `missing ${missing.map((k) => `'${k}'`).join(' and ')}` });
    return null;
  }
  const { field, operator, value } = input;
  if (typeof field !== 'string' || !isField(field)) {
    problems.push({ path: [...path, 'field'], message: `must be one of ${POLICY_FIELDS.join(', ')}` });
    return null;
  }
  if (typeof operator !== 'string' || !isOperator(operator)) {
    problems.push({ path: [...path, 'operator'], message: `must be one of ${POLICY_OPERATORS.join(', ')}` });
    return null;
  }
  if (typeof value !== 'string') {
    problems.push({ path: [...path, 'value'], message: 'must be a string' });
    return null;
  }
  const compiled = compileValue(field, operator, value);
  if ('error' in compiled) {
    problems.push({ path: [...path, 'value'], message: compiled.error });
    return null;
  }
  return {
    kind: 'match',
    field,
    pattern: compiled.pattern,
    isPrefix: compiled.isPrefix,
    isNegated: operator === 'notEquals',
  };
}

// ---------------------------------------------------------------------------------------------
// Evaluating

const NONE: readonly Uint8Array[] = [];
const FIELD_COUNT = POLICY_FIELDS.length;
const FIELD_INDEX = new Map<PolicyField, number>(POLICY_FIELDS.map((f, i) => [f, i]));

function withoutTrailingNuls(d: Uint8Array): Uint8Array {
  let end = d.length;
  while (end > 0 && d[end - 1] === 0) end--;
  return end === d.length ? d : d.subarray(0, end);
}

/** RFC 3004 §4: instances of (length, data); null unless the data is exactly such a list. */
function userClassInstances(d: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < d.length) {
    const length = d[i]!;
    if (length === 0 || i + 1 + length > d.length) return null;
    out.push(d.subarray(i + 1, i + 1 + length));
    i += 1 + length;
  }
  return out;
}

/**
 * The values a request has for each field, read lazily (a policy list usually tests one or two
 * fields). A field the client did not send has no values.
 */
export class RequestFields {
  private readonly cache: (readonly Uint8Array[] | undefined)[] = new Array(FIELD_COUNT);

  constructor(private readonly packet: DhcpPacket) {}

  values(field: PolicyField): readonly Uint8Array[] {
    const i = FIELD_INDEX.get(field)!;
    let v = this.cache[i];
    if (v === undefined) {
      v = this.read(field);
      this.cache[i] = v;
    }
    return v;
  }

  private read(field: PolicyField): readonly Uint8Array[] {
    const options = this.packet.options;
    switch (field) {
      case 'vendorClass':
        return present(options.get(OPTION.vendorClassId), true);
      case 'userClass': {
        const d = options.get(OPTION.userClass);
        if (d === undefined || d.length === 0) return NONE;
        // Windows and dhclient's `send user-class "x"` send the class as is; RFC 3004 clients
        // send length-prefixed instances. Either form matches.
        const instances = userClassInstances(d);
        return instances === null ? [withoutTrailingNuls(d)] : [withoutTrailingNuls(d), ...instances];
      }
      case 'hardwareAddress': {
        const hlen = Math.min(this.packet.hlen, 16);
        return hlen === 0 ? NONE : [this.packet.chaddr.subarray(0, hlen)];
      }
      case 'clientId':
        return present(options.get(OPTION.clientId), false);
      case 'relayCircuitId':
        return relaySub(options.get(OPTION.relayAgentInfo), RELAY_AGENT_SUBOPTION.circuitId);
      case 'relayRemoteId':
        return relaySub(options.get(OPTION.relayAgentInfo), RELAY_AGENT_SUBOPTION.remoteId);
      case 'relaySubscriberId':
        return relaySub(options.get(OPTION.relayAgentInfo), RELAY_AGENT_SUBOPTION.subscriberId);
      case 'fqdn': {
        const d = options.get(OPTION.clientFqdn);
        const parsed = d === undefined ? null : parseClientFqdn(d);
        return parsed === null || parsed.name === '' ? NONE : [utf8.encode(parsed.name)];
      }
      case 'hostname': {
        const d = options.get(OPTION.hostName);
        if (d === undefined) return NONE;
        const name = withoutTrailingNuls(d);
        // A trailing dot ("pc1.") names the same host as "pc1".
        const bare = name.length > 0 && name[name.length - 1] === 0x2e ? name.subarray(0, -1) : name;
        return bare.length === 0 ? NONE : [bare];
      }
    }
  }
}

function present(d: Uint8Array | undefined, isText: boolean): readonly Uint8Array[] {
  if (d === undefined) return NONE;
  const v = isText ? withoutTrailingNuls(d) : d;
  return v.length === 0 ? NONE : [v];
}

function relaySub(rai: Uint8Array | undefined, code: number): readonly Uint8Array[] {
  if (rai === undefined) return NONE;
  const d = relayAgentSubOption(rai, code);
  return d === null || d.length === 0 ? NONE : [d];
}

function fold(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
}

function matchesValue(value: Uint8Array, c: Extract<PolicyCondition, { kind: 'match' }>): boolean {
  const p = c.pattern;
  if (c.isPrefix ? value.length < p.length : value.length !== p.length) return false;
  if (CASE_INSENSITIVE_FIELDS.has(c.field)) {
    for (let i = 0; i < p.length; i++) if (fold(value[i]!) !== p[i]) return false;
  } else {
    for (let i = 0; i < p.length; i++) if (value[i] !== p[i]) return false;
  }
  return true;
}

/** Whether the request whose fields are `fields` satisfies `condition`. */
export function evaluateCondition(condition: PolicyCondition, fields: RequestFields): boolean {
  switch (condition.kind) {
    case 'match': {
      let isMatch = false;
      for (const v of fields.values(condition.field)) {
        if (matchesValue(v, condition)) {
          isMatch = true;
          break;
        }
      }
      return isMatch !== condition.isNegated;
    }
    case 'all':
      for (const c of condition.conditions) if (!evaluateCondition(c, fields)) return false;
      return true;
    case 'any':
      for (const c of condition.conditions) if (evaluateCondition(c, fields)) return true;
      return false;
  }
}

/**
 * The policy a request falls under: the first in `policies` (already in evaluation order: the
 * scope's by processing order, then the server's) whose condition holds; null for none.
 */
export function matchPolicy(policies: readonly EnginePolicy[], packet: DhcpPacket): EnginePolicy | null {
  if (policies.length === 0) return null;
  const fields = new RequestFields(packet);
  for (const p of policies) if (evaluateCondition(p.condition, fields)) return p;
  return null;
}

/**
 * A scope's ranges split by who may be given the addresses: one group per policy with ranges (in
 * evaluation order), and last the rest, for every other client. Allocation and failover pool
 * balancing work group by group, so each policy's clients find addresses on both partners.
 */
export function addressGroups(scope: {
  readonly ranges: readonly EngineRange[];
  readonly policies?: readonly EnginePolicy[];
}): { policy: EnginePolicy | null; ranges: readonly EngineRange[] }[] {
  const withRanges = (scope.policies ?? []).filter((p) => p.ranges.length > 0);
  if (withRanges.length === 0) return [{ policy: null, ranges: scope.ranges }];
  const holes = withRanges.flatMap((p) => p.ranges).sort((a, b) => a.start - b.start);
  const rest: EngineRange[] = [];
  for (const r of scope.ranges) {
    let start = r.start;
    for (const h of holes) {
      if (h.end < start || h.start > r.end) continue;
      if (h.start > start) rest.push({ start, end: h.start - 1 });
      start = Math.max(start, h.end + 1);
      if (start > r.end) break;
    }
    if (start <= r.end) rest.push({ start, end: r.end });
  }
  return [...withRanges.map((p) => ({ policy: p, ranges: p.ranges })), { policy: null, ranges: rest }];
}

/** Sorts policies into evaluation order: processing order, then as configured (stable sort). */
export function inProcessingOrder<T extends { processingOrder: number }>(policies: readonly T[]): T[] {
  return [...policies].sort((a, b) => a.processingOrder - b.processingOrder);
}
