// Stage 2 of loading: the TypeBox checker, with its raw errors turned into one precise message
// per problem. Unions report the branch the value was evidently meant for (an integer that is too
// small, not "must match a schema in anyOf"); unknown properties are named with a suggestion.

import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { Format } from 'typebox/format';
import { Settings } from 'typebox/system';
import { isIpv4 } from '../wire/ipv4.js';
import { didYouMean, pointerSegments, showValue } from './errors.js';
import { CIDR_PATTERN } from './schema.js';
// Secrets never appear in messages: 'the value' stands for them.
import { isSecretPath } from './secrets.js';

// Our own definition of a dotted quad (no leading zeros), shared with the rest of the server.
Format.Set('ipv4', isIpv4);

export interface SchemaProblem {
  /** JSON pointer of the offending value (or of the unknown property). */
  pointer: string;
  message: string;
  /** Point at the property name rather than its value (unknown properties). */
  isAtKey: boolean;
}

interface RawError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

type JsonSchemaNode = Record<string, unknown>;

function schemaAt(root: TSchema, schemaPath: string): JsonSchemaNode | undefined {
  let node: unknown = root;
  for (const segment of pointerSegments(schemaPath.replace(/^#/, ''))) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node !== null && typeof node === 'object' ? (node as JsonSchemaNode) : undefined;
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const segment of pointerSegments(pointer)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Object.hasOwn(node, segment) ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return node;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

function typeMatches(schema: JsonSchemaNode, value: unknown): boolean {
  const actual = jsonType(value);
  if ('const' in schema)
    return jsonType(schema.const) === actual || (schema.const === null && value === null);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  return types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
}

function describeExpected(schema: JsonSchemaNode): string {
  if ('const' in schema) return typeof schema.const === 'string' ? `'${schema.const}'` : String(schema.const);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [String(schema.type)];
  return types.map((t) => ARTICLE[t] ?? t).join(' or ');
}

function joinAlternatives(items: string[]): string {
  const unique = [...new Set(items)];
  return unique.length <= 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} or ${unique.at(-1)}`;
}

function messageFor(error: RawError, schema: JsonSchemaNode | undefined, value: unknown): string {
  const shown = isSecretPath(error.instancePath) ? 'the value' : showValue(value);
  const limit = error.params.limit;
  switch (error.keyword) {
    case 'type': {
      const expected = schema ? describeExpected(schema) : String(error.params.type);
      return `must be ${expected}, not ${ARTICLE[jsonType(value)] ?? jsonType(value)}`;
    }
    case 'format':
      if (error.params.format === 'ipv4') return `${shown} is not an IPv4 address`;
      return `${shown} is not in ${String(error.params.format)} format`;
    case 'pattern':
      if (schema?.pattern === CIDR_PATTERN) return `${shown} is not a subnet in a.b.c.d/len form (len 0–32)`;
      return `${shown} does not match the pattern ${String(schema?.pattern)}`;
    case 'minimum':
      return `${shown} is too small; the minimum is ${String(limit)}`;
    case 'maximum':
      return `${shown} is too large; the maximum is ${String(limit)}`;
    case 'exclusiveMinimum':
      return `${shown} must be greater than ${String(limit)}`;
    case 'exclusiveMaximum':
      return `${shown} must be less than ${String(limit)}`;
    case 'minItems':
      return `must have at least ${String(limit)} ${limit === 1 ? 'entry' : 'entries'}`;
    case 'maxItems':
      return `must have at most ${String(limit)} entries`;
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${String(limit)} characters long`;
    case 'maxLength':
      return `must be at most ${String(limit)} characters long`;
    case 'const':
      return `must be ${schema ? describeExpected(schema) : String(error.params.allowedValue)}, not ${shown}`;
    default:
      return error.message;
  }
}

/** Compiled once per schema: ~40× faster than the dynamic checker on a large file. */
const validators = new WeakMap<TSchema, Validator>();

function validatorFor(schema: TSchema): Validator {
  let v = validators.get(schema);
  if (v === undefined) {
    v = Compile(schema);
    validators.set(schema, v);
  }
  return v;
}

/** Validates `value`; returns every problem (up to `maxErrors` raw errors are examined). */
export function schemaProblems(schema: TSchema, value: unknown, maxErrors: number): SchemaProblem[] {
  const validator = validatorFor(schema);
  if (validator.Check(value)) return [];
  // TypeBox keeps a global error cap (8 by default, a guard for API bodies); a config file
  // deserves every error, up to our own bound. Restored at once: the call is synchronous.
  const saved = Settings.Get().maxErrors;
  let raw: RawError[];
  try {
    Settings.Set({ maxErrors });
    raw = validator.Errors(value) as unknown as RawError[];
  } finally {
    Settings.Set({ maxErrors: saved });
  }

  // Resolve unions first: which raw errors a failed anyOf stands for, and what to say instead.
  // Each failed anyOf hides the errors of its branches, except those of the branch it keeps.
  // Matched by instance path too: schema paths repeat across array elements.
  const unions: { instancePath: string; prefix: string; keptPrefix: string | null }[] = [];
  const problems: SchemaProblem[] = [];
  for (const e of raw) {
    if (e.keyword !== 'anyOf') continue;
    const node = schemaAt(schema, e.schemaPath);
    const branches = Array.isArray(node?.anyOf) ? (node.anyOf as JsonSchemaNode[]) : [];
    const v = valueAt(value, e.instancePath);
    const matching = branches.map((b, i) => ({ b, i })).filter(({ b }) => typeMatches(b, v));
    if (matching.length === 1 && !('const' in (matching[0]?.b ?? {}))) {
      // The value's type says which branch was meant: report that branch's own errors.
      const keptPrefix = `${e.schemaPath}/anyOf/${matching[0]?.i}/`;
      unions.push({ instancePath: e.instancePath, prefix: `${e.schemaPath}/anyOf/`, keptPrefix });
      continue;
    }
    unions.push({ instancePath: e.instancePath, prefix: `${e.schemaPath}/anyOf/`, keptPrefix: null });
    const shown = isSecretPath(e.instancePath) ? 'the value' : showValue(v);
    const isAllConst = branches.length > 0 && branches.every((b) => 'const' in b);
    const message = isAllConst
      ? `must be one of ${joinAlternatives(branches.map(describeExpected))}, not ${shown}${
          typeof v === 'string'
            ? didYouMean(
                v,
                branches.map((b) => String(b.const)),
              )
            : ''
        }`
      : `must be ${joinAlternatives(branches.map(describeExpected))}, not ${ARTICLE[jsonType(v)] ?? jsonType(v)}`;
    problems.push({ pointer: e.instancePath, message, isAtKey: false });
  }
  const isSuppressed = (e: RawError) =>
    unions.some(
      (u) =>
        (e.instancePath === u.instancePath || e.instancePath.startsWith(`${u.instancePath}/`)) &&
        `${e.schemaPath}/`.startsWith(u.prefix) &&
        (u.keptPrefix === null || !`${e.schemaPath}/`.startsWith(u.keptPrefix)),
    );

  for (const e of raw) {
    if (e.keyword === 'anyOf' || isSuppressed(e)) continue;
    // additionalProperties: false yields a "schema is false" error per property as well.
    if (e.keyword === 'boolean' && e.schemaPath.endsWith('/additionalProperties')) continue;
    const node = schemaAt(schema, e.schemaPath);
    if (e.keyword === 'additionalProperties') {
      const known = Object.keys((node?.properties as Record<string, unknown> | undefined) ?? {});
      for (const name of (e.params.additionalProperties as string[] | undefined) ?? []) {
        problems.push({
          pointer: `${e.instancePath}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
          message: `unknown property '${name}'${didYouMean(name, known)}`,
          isAtKey: true,
        });
      }
      continue;
    }
    if (e.keyword === 'required') {
      const names = (e.params.requiredProperties as string[] | undefined) ?? [];
      for (const name of names) {
        problems.push({
          pointer: e.instancePath,
          message: `missing required property '${name}'`,
          isAtKey: false,
        });
      }
      continue;
    }
    problems.push({
      pointer: e.instancePath,
      message: messageFor(e, node, valueAt(value, e.instancePath)),
      isAtKey: false,
    });
  }

  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
