// The management API's HTTP server (Fastify): token authentication, schema validation with
// errors that name the JSON path, the OpenAPI document generated from the same schemas, and the
// route groups in src/api/routes/. It reads the server through ApiDeps only.

import swagger from '@fastify/swagger';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { dashboardPlugin } from '../dashboard/plugin.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4.js';
import { type Access, authorize, isLoopback } from './auth.js';
import { ConfigDrift } from './config-drift.js';
import { ConfigFile } from './config-file.js';
import type { ApiDeps } from './deps.js';
import { LazySerializers } from './lazy-serializers.js';
import { ApiMetrics } from './metrics.js';
import { OperationLog, operationLogPath } from './operation-log.js';
import { configRoutes } from './routes/config.js';
import { exportRoutes } from './routes/export.js';
import { failoverRoutes } from './routes/failover.js';
import { leaseRoutes } from './routes/leases.js';
import { metricsRoutes } from './routes/metrics.js';
import { scopeConfigRoutes } from './routes/scope-config.js';
import { scopeEditRoutes } from './routes/scope-edits.js';
import { scopeRoutes } from './routes/scopes.js';
import { statusRoutes } from './routes/status.js';
import { NoQuery, SHARED_SCHEMAS } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a caller needs to reach the route (default: read). */
    access?: Access;
  }
  interface FastifyRequest {
    /** Set by the auth hook: who is calling and what they may do. */
    caller: { tokenName: string | null; access: 'read' | 'write' };
  }
}

export type ApiApp = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface RouteContext {
  deps: ApiDeps;
  now(): number;
  metrics: ApiMetrics;
  /** The config file the write routes change. */
  configFile: ConfigFile;
  /** Operation tracker of failover relationships. */
  operations: OperationLog;
  /** configurationDiffers, cached. */
  drift: ConfigDrift;
}

export interface ApiServerOptions {
  /** Dotted IPv4 to bind. */
  listenAddress: string;
  /** 0 = any free port (tests). */
  port: number;
  /** HTTPS with this certificate and key (PEM texts); absent: plain HTTP. */
  tls?: { cert: string; key: string };
}

export interface ApiServer {
  address: string;
  port: number;
  close(): Promise<void>;
}

export class ApiStartupError extends Error {}

/** Largest request body accepted (the API takes small JSON documents only). */
const BODY_LIMIT_BYTES = 64 * 1024;
const DENIAL_LOG_INTERVAL_SECONDS = 10;

/** Each app's lazy serializers, warmed up once it listens. */
const serializersOf = new WeakMap<ApiApp, LazySerializers>();

/** Builds the app without listening (tests may use app.inject). */
export async function buildApiApp(deps: ApiDeps, options: ApiServerOptions): Promise<ApiApp> {
  const isOnLoopback = isLoopback(parseIpv4(options.listenAddress));
  const clock = deps.clock ?? { nowSeconds: () => Math.floor(Date.now() / 1000) };
  // Denials are logged once per client address and status per interval, so a scanner cannot
  // flood the log.
  const lastDenialLogged = new Map<string, number>();
  const shouldLogDenial = (key: string, now: number): boolean => {
    const last = lastDenialLogged.get(key);
    if (last !== undefined && now - last < DENIAL_LOG_INTERVAL_SECONDS) return false;
    if (lastDenialLogged.size >= 1000) lastDenialLogged.clear();
    lastDenialLogged.set(key, now);
    return true;
  };
  // HTTPS is the same app on a TLS server (Fastify's `https`); the types are the HTTP ones.
  const app: ApiApp = (
    Fastify({
      logger: false,
      bodyLimit: BODY_LIMIT_BYTES,
      ...(options.tls
        ? { https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' } }
        : {}),
    }) as unknown as FastifyInstance
  ).withTypeProvider<TypeBoxTypeProvider>();
  // TypeBox validates requests: query strings and path parameters are converted from text
  // ("limit=5"), bodies are not ({"dryRun": 1} is an error), unknown properties are errors (Fastify's
  // Ajv default would drop them silently). A POST without a body counts as {}.
  app.setValidatorCompiler((route) => {
    const check = TypeBoxValidatorCompiler(route);
    if (route.httpPart !== 'body') return check;
    return (value: unknown) => check(value === undefined || value === null ? {} : value);
  });

  // RFC 7396 §4: a JSON merge patch travels as application/merge-patch+json. It is a patch format,
  // so only PATCH takes it (anything else: 415, like any other unsupported type).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) => {
      if (request.method !== 'PATCH') {
        const err = new Error(
          `application/merge-patch+json is for PATCH only; ${request.method} takes application/json`,
        ) as FastifyError;
        err.statusCode = 415;
        err.code = 'FST_ERR_CTP_INVALID_MEDIA_TYPE';
        done(err);
        return;
      }
      parseJson(request, typeof body === 'string' ? body : body.toString('utf8'), done);
    },
  );

  // Every route takes only the query parameters its schema names: a route without a querystring
  // schema gets an empty one, so `?dryRun=true` on a route that has no dry run is a 400, never
  // silently ignored (docs/api.md §Validation). Routes of plugins registered later inherit it.
  // Response serializers are compiled at first use or in idle turns once the app is ready, not
  // all at once at start, where they held up DHCP replies for 1.3 s (src/api/lazy-serializers.ts).
  const serializers = await LazySerializers.forSharedSchemas(SHARED_SCHEMAS);
  app.addHook('onRoute', (route) => {
    if (route.schema?.response !== undefined && route.serializerCompiler === undefined) {
      route.serializerCompiler = serializers.compiler;
    }
    if (route.schema?.querystring !== undefined) return;
    route.schema = { ...(route.schema ?? {}), querystring: NoQuery };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Twinlease management API',
        version: deps.version,
        description:
          'DHCPv4 server with failover. Every route except /healthz, /openapi.json and /metrics needs ' +
          '`Authorization: Bearer <token>` (api.tokens in the config); writes need a token without readOnly. ' +
          'See docs/api.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'status', description: 'Server status' },
        { name: 'scopes', description: 'Scopes and their statistics' },
        { name: 'leases', description: 'Lease records (DHCPV4_FAILOVER_CLIENT_INFO)' },
        { name: 'config', description: 'Configuration' },
        { name: 'failover', description: 'Failover relationships (DhcpFailover, windows-model.md §4)' },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (json.$id as string | undefined) ?? `def-${i}`,
    },
  });
  for (const s of SHARED_SCHEMAS) app.addSchema(s);

  app.decorateRequest('caller', null as unknown as FastifyRequest['caller']);
  app.addHook('onRequest', async (request, reply) => {
    serializers.noteRequest();
    // Unknown routes need a token too, so the 404/401 difference reveals nothing.
    const required = request.routeOptions.config?.access ?? 'read';
    const decision = authorize(
      required,
      request.headers.authorization,
      deps.config().api.tokens,
      isOnLoopback,
    );
    if (!decision.ok) {
      if (decision.status === 401) reply.header('www-authenticate', 'Bearer realm="twinlease"');
      if (shouldLogDenial(`${request.ip}|${decision.status}`, clock.nowSeconds())) {
        deps.log?.warn(
          {
            event: 'api.denied',
            method: request.method,
            url: request.url,
            status: decision.status,
            from: request.ip,
          },
          decision.message,
        );
      }
      return reply.code(decision.status).send({ error: decision.error, message: decision.message });
    }
    request.caller = { tokenName: decision.tokenName, access: decision.access };
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.log?.debug({
      event: 'api.request',
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      tokenName: request.caller?.tokenName ?? null,
      ms: Math.round(reply.elapsedTime),
    });
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation) {
      const { path, message } = describeValidationError(err.validationContext, err.validation[0]);
      return reply.code(400).send({ error: 'invalid-request', message, path });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      deps.log?.error(
        { event: 'api.error', method: request.method, url: request.url, err: err.stack },
        'API handler failed',
      );
      return reply.code(500).send({ error: 'internal', message: 'internal error (see the server log)' });
    }
    // Fastify's own client errors: malformed JSON, body too large, unsupported media type, …
    const isBody = err.code?.startsWith('FST_ERR_CTP') ?? false;
    return reply
      .code(status)
      .send(
        isBody
          ? { error: 'invalid-request', message: err.message, path: '/body' }
          : { error: 'bad-request', message: err.message },
      );
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send({ error: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  const now = () => clock.nowSeconds();
  const configFile = new ConfigFile(deps, now);
  const writable = configFile.writablePath();
  const ctx: RouteContext = {
    deps,
    now,
    metrics: new ApiMetrics(deps),
    configFile,
    operations: new OperationLog(writable.ok ? operationLogPath(writable.path) : null, deps.log),
    drift: new ConfigDrift(configFile, now),
  };
  app.get(
    '/openapi.json',
    { config: { access: 'public' }, schema: { hide: true } },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );
  statusRoutes(app, ctx);
  scopeRoutes(app, ctx);
  leaseRoutes(app, ctx);
  configRoutes(app, ctx);
  metricsRoutes(app, ctx);
  scopeConfigRoutes(app, ctx);
  scopeEditRoutes(app, ctx);
  failoverRoutes(app, ctx);
  exportRoutes(app, ctx);
  await app.register(dashboardPlugin, { ctx });
  await app.ready();
  serializersOf.set(app, serializers);
  return app;
}

interface ValidationIssue {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** The JSON pointer of the first problem, rooted at its part (/query/limit, /body/dryRun). */
export function describeValidationError(
  context: string | undefined,
  issue: ValidationIssue | undefined,
): { path: string; message: string } {
  let path = `/${validationPart(context)}${issue?.instancePath ?? ''}`;
  const params = issue?.params ?? {};
  const firstOf = (v: unknown): string | undefined =>
    Array.isArray(v) ? String(v[0]) : typeof v === 'string' ? v : undefined;
  const missing = firstOf(params.missingProperty) ?? firstOf(params.requiredProperties);
  const extra = firstOf(params.additionalProperty) ?? firstOf(params.additionalProperties);
  let message = issue?.message ?? 'is invalid';
  if (missing !== undefined) {
    path += `/${missing}`;
    message = 'is required';
  } else if (extra !== undefined) {
    path += `/${extra}`;
    message = 'is not allowed';
  } else if (issue?.keyword === 'boolean' && issue.schemaPath?.endsWith('additionalProperties')) {
    message = 'is not allowed';
  }
  return { path, message: `${path} ${message}` };
}

function validationPart(context: string | undefined): string {
  switch (context) {
    case 'querystring':
      return 'query';
    case 'params':
      return 'params';
    case 'headers':
      return 'headers';
    default:
      return 'body';
  }
}

/**
 * Requests the API answers to itself after listening (LazySerializers.warmUp, idle turns only):
 * the lease list, twice, as an operator's first page. Its first request at 1M leases took 170 ms
 * against 30-50 ms for the next ones (serializer compiled, the listing and the serializer's code
 * run cold); each of these costs at most one page of leases. With tokens configured they use the
 * first one (a 401 would only warm less); without, the API listens on loopback and needs none.
 */
const WARM_UP_LEASE_PAGE_SIZE = 1000;
function leaseListWarmUp(app: ApiApp, deps: ApiDeps): Array<() => Promise<unknown>> {
  const token = deps.config().api.tokens[0]?.token;
  const request = () =>
    app.inject({
      method: 'GET',
      url: `/api/v1/leases?limit=${WARM_UP_LEASE_PAGE_SIZE}`,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
  return [request, request];
}

/**
 * Starts the API on `options.listenAddress:port`. Refuses (ApiStartupError) to listen beyond
 * loopback when no token is configured: an unauthenticated management API must not be reachable
 * from the network.
 */
export async function startApiServer(deps: ApiDeps, options: ApiServerOptions): Promise<ApiServer> {
  const address = parseIpv4(options.listenAddress);
  if (deps.config().api.tokens.length === 0 && !isLoopback(address)) {
    throw new ApiStartupError(
      `api: no tokens are configured (api.tokens), so the API may listen on loopback only, not ${options.listenAddress}`,
    );
  }
  const app = await buildApiApp(deps, options);
  try {
    await app.listen({ host: options.listenAddress, port: options.port });
    // After listening, so the work is not part of start-up; requests meanwhile compile their own.
    // Only while no DHCP packet and no API request arrives: the compilations run on the thread
    // that answers both.
    serializersOf.get(app)?.warmUp(
      () => deps.counters.get?.('pkt4-received') ?? 0,
      undefined,
      leaseListWarmUp(app, deps),
      (done) =>
        deps.log?.info(
          { event: 'api.warm-up', ...done, elapsedMs: Math.round(done.elapsedMs) },
          'API warmed up',
        ),
    );
  } catch (err) {
    await app.close();
    throw new ApiStartupError(
      `api: cannot listen on ${options.listenAddress}:${options.port}: ${(err as Error).message}`,
    );
  }
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
  deps.log?.info(
    {
      event: 'api.listening',
      address: formatIpv4(address),
      port,
      tokens: deps.config().api.tokens.length,
      isReadOnly: deps.config().api.tokens.length === 0,
      scheme: options.tls ? 'https' : 'http',
    },
    'management API listening',
  );
  return { address: options.listenAddress, port, close: () => app.close() };
}
