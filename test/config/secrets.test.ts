// No secret of the config file ever appears in a config error: not in a schema error, a semantic
// one, or a JSON syntax error at or right after it (an unquoted secret, text after its closing
// quote). Every secret field is marked in the schema (writeOnly), and the list below is checked
// against those marks, so a new secret field cannot be forgotten here.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatConfigErrors, parseConfigText } from '../../src/config/loader.js';
import { Config } from '../../src/config/schema.js';
import { SECRET_PROPERTY_NAMES, secretPointerPatterns } from '../../src/config/secrets.js';

type Json = Record<string, unknown>;

/** Valid base64, at least 16 characters: a value every secret field accepts. */
const MARK = 'SeCrEtMaRk0123456789abcdefXYZ+/=';
const TAIL = 'TaIlMaRkQwErTy';

const scope = (extra: Json = {}): Json => ({
  subnet: '10.0.0.0/24',
  ranges: [{ start: '10.0.0.10', end: '10.0.0.200' }],
  ...extra,
});
const dns = (secret: string): Json => ({
  forwardZone: 'example.test',
  server: { address: '10.0.0.53' },
  tsigKey: { name: 'tl-key', secret },
});

/** Each secret field of the schema, in a config that is valid with `secret` there. */
const CASES: { pattern: string; config: (secret: string) => Json }[] = [
  { pattern: '/scopes/*/dns/tsigKey/secret', config: (s) => ({ scopes: [scope({ dns: dns(s) })] }) },
  {
    pattern: '/scopes/*/policies/*/dns/tsigKey/secret',
    config: (s) => ({
      scopes: [
        scope({
          policies: [
            {
              name: 'p',
              processingOrder: 1,
              conditions: { field: 'vendorClass', operator: 'equals', value: 'x' },
              dns: dns(s),
            },
          ],
        }),
      ],
    }),
  },
  {
    pattern: '/policies/*/dns/tsigKey/secret',
    config: (s) => ({
      policies: [
        {
          name: 'p',
          processingOrder: 1,
          conditions: { field: 'vendorClass', operator: 'equals', value: 'x' },
          dns: dns(s),
        },
      ],
      scopes: [scope()],
    }),
  },
  {
    pattern: '/failover/*/sharedSecret',
    config: (s) => ({
      scopes: [scope()],
      failover: [
        {
          name: 'ab',
          role: 'primary',
          auth: 'hmacSha256',
          sharedSecret: s,
          local: { address: '10.0.0.2' },
          partner: { address: '10.0.0.3' },
          scopeIds: ['10.0.0.0'],
        },
      ],
    }),
  },
  {
    pattern: '/failover/*/partner/api/token',
    config: (s) => ({
      scopes: [scope()],
      failover: [
        {
          name: 'ab',
          role: 'primary',
          local: { address: '10.0.0.2' },
          partner: { address: '10.0.0.3', api: { url: 'http://10.0.0.3:8067', token: s } },
          scopeIds: ['10.0.0.0'],
        },
      ],
    }),
  },
  {
    pattern: '/api/tokens/*/token',
    config: (s) => ({ scopes: [scope()], api: { tokens: [{ name: 'ops', token: s }] } }),
  },
];

/** Every error as an operator sees it (formatted) and as the API returns it (JSON); '' when valid. */
function errorsOf(text: string): string {
  const r = parseConfigText(text, 'config.json', { hostname: 'test-host' });
  return r.ok ? '' : `${formatConfigErrors(r.errors)}\n${JSON.stringify(r.errors)}`;
}

describe('secrets in config errors', () => {
  test('the schema marks exactly these fields as secrets (writeOnly), and redaction knows their names', () => {
    assert.deepEqual(secretPointerPatterns(Config).sort(), CASES.map((c) => c.pattern).sort());
    assert.deepEqual([...SECRET_PROPERTY_NAMES].sort(), ['secret', 'sharedSecret', 'token']);
  });

  for (const c of CASES) {
    describe(c.pattern, () => {
      const valid = JSON.stringify(c.config(MARK), null, 2);

      test('is valid as written (the cases below break only the secret)', () => {
        const r = parseConfigText(valid, 'config.json', { hostname: 'test-host' });
        assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
      });

      const broken: [string, string][] = [
        ['unquoted', valid.replace(`"${MARK}"`, MARK.replace(/[+/=]/g, ''))],
        ['text after the closing quote', valid.replace(`"${MARK}"`, `"${MARK}"${TAIL}`)],
        ['a second secret glued on', valid.replace(`"${MARK}"`, `"${MARK}" "${TAIL}"`)],
        ['an invalid escape', valid.replace(`"${MARK}"`, `"${TAIL}\\q${MARK}"`)],
        ['too short', valid.replace(`"${MARK}"`, `"${TAIL.slice(0, 10)}"`)],
        ['not base64 / odd characters', valid.replace(`"${MARK}"`, `"${TAIL} ${MARK} !"`)],
        ['a number', valid.replace(`"${MARK}"`, '12345678901234567890')],
        ['given twice', valid.replace(`"${MARK}"`, `"${MARK}", "${c.pattern.split('/').at(-1)}": "${TAIL}"`)],
        ['an object', valid.replace(`"${MARK}"`, `{ "value": "${MARK}" }`)],
      ];
      for (const [what, text] of broken) {
        test(`${what}: no part of it in any error`, () => {
          if (text === valid) return; // the case does not apply to this field
          const shown = errorsOf(text);
          for (const secret of [MARK, TAIL]) {
            for (let i = 0; i + 6 <= secret.length; i++) {
              const piece = secret.slice(i, i + 6);
              assert.ok(!shown.includes(piece), `'${piece}' of a secret shown:\n${shown}`);
            }
          }
        });
      }
    });
  }
});
