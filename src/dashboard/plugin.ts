// The operator dashboard, mounted on the management API at /ui/ (docs/dashboard.md).
//   GET /ui/, /ui/assets/*     public: the page shell, its script modules and stylesheet (no data)
//   GET /ui/api/snapshot       read: state of this server + histories (DashboardSnapshot)
//   GET /ui/api/events         read: the same as a server-sent event stream, then updates
// Everything else the page shows (leases, actions) comes from the API routes with the operator's
// own token. Authentication is the API's: the routes declare their access and the API's
// onRequest hook decides; the stream re-checks the token on every push (tokens can be rotated).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { authorize, isLoopback } from '../api/auth.js';
import type { RouteContext } from '../api/server.js';
import { DashboardModel, DEFAULT_SAMPLING, type SamplingOptions } from './model.js';
import { DASHBOARD_CSS, DASHBOARD_HTML, SECURITY_HEADERS } from './page.js';
import type { ActionFeatures, DashboardSnapshot, DashboardUpdate } from './view.js';

export interface DashboardOptions {
  ctx: RouteContext;
  sampling?: SamplingOptions;
  /** How often the stream pushes an update. */
  pushIntervalMs?: number;
}

/** At most this many open event streams (each holds a timer and a socket). */
export const MAX_STREAMS = 32;
export const UI_PREFIX = '/ui';

const ASSET_NAME = /^[a-z][a-z0-9-]*\.js$/;

/** The compiled browser modules beside this file (dist/dashboard/client/); none when run from src/. */
function clientAssets(): Map<string, string> {
  const dir = fileURLToPath(new URL('./client/', import.meta.url));
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (ASSET_NAME.test(name)) out.set(name, readFileSync(`${dir}${name}`, 'utf8'));
  }
  return out;
}

export async function dashboardPlugin(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const { ctx } = options;
  const { deps } = ctx;
  const sampling = options.sampling ?? DEFAULT_SAMPLING;
  const pushIntervalMs = options.pushIntervalMs ?? 2000;
  const model = new DashboardModel(ctx, sampling);
  const assets = clientAssets();
  const streams = new Set<() => void>();
  const timers: NodeJS.Timeout[] = [];

  const guarded = (what: string, f: () => void) => () => {
    try {
      f();
    } catch (err) {
      deps.log?.error(
        { event: 'dashboard.sample-failed', what, err: (err as Error).stack },
        'dashboard sampling failed',
      );
    }
  };
  app.addHook('onReady', async () => {
    const states = guarded('states', () => model.sampleStates());
    const scopes = guarded('scopes', () => model.sampleScopes());
    states();
    scopes();
    timers.push(setInterval(states, sampling.stateSampleSeconds * 1000));
    timers.push(setInterval(scopes, sampling.scopeSampleSeconds * 1000));
    for (const t of timers) t.unref();
  });
  app.addHook('preClose', async () => {
    for (const t of timers) clearInterval(t);
    for (const end of [...streams]) end();
  });

  let features: ActionFeatures | null = null;
  const actionFeatures = (): ActionFeatures => {
    if (features !== null) return features;
    const has = (action: string) =>
      app.hasRoute({ method: 'POST', url: `/api/v1/failover/relationships/:name/actions/${action}` });
    features = { partnerDown: has('partner-down'), replicate: has('replicate'), resync: has('resync') };
    return features;
  };

  const page = (reply: FastifyReply, type: string, body: string) =>
    reply.headers({ ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-cache' }).send(body);
  const pub = { config: { access: 'public' as const }, schema: { hide: true } };
  const read = { config: { access: 'read' as const }, schema: { hide: true } };

  app.get(UI_PREFIX, pub, async (_request, reply) => reply.redirect(`${UI_PREFIX}/`));
  app.get(`${UI_PREFIX}/`, pub, async (_request, reply) =>
    page(reply, 'text/html; charset=utf-8', DASHBOARD_HTML),
  );
  app.get(`${UI_PREFIX}/assets/dashboard.css`, pub, async (_request, reply) =>
    page(reply, 'text/css; charset=utf-8', DASHBOARD_CSS),
  );
  app.get<{ Params: { file: string } }>(`${UI_PREFIX}/assets/:file`, pub, async (request, reply) => {
    const body = assets.get(request.params.file);
    if (body === undefined) {
      return reply.code(404).send({
        error: 'not-found',
        message:
          assets.size === 0
            ? 'the dashboard scripts are not built (npm run build compiles them to dist/dashboard/client/)'
            : `no dashboard asset ${request.params.file}`,
      });
    }
    return page(reply, 'text/javascript; charset=utf-8', body);
  });

  app.get(
    `${UI_PREFIX}/api/snapshot`,
    read,
    async (request): Promise<DashboardSnapshot> => ({
      ...model.state(request.caller.access, actionFeatures()),
      history: model.history(),
    }),
  );

  app.get(`${UI_PREFIX}/api/events`, read, (request, reply) => {
    if (streams.size >= MAX_STREAMS) {
      reply.code(503).send({ error: 'busy', message: `at most ${MAX_STREAMS} dashboard streams at once` });
      return;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    let cursor = model.cursor();
    send('snapshot', { ...model.state(request.caller.access, actionFeatures()), history: model.history() });
    const push = () => {
      // The token may have been rotated away since the stream opened.
      const decision = authorize(
        'read',
        request.headers.authorization,
        deps.config().api.tokens,
        isLoopback(deps.config().api.listenAddress),
      );
      if (!decision.ok) {
        send('unauthorized', { error: decision.error, message: decision.message });
        end();
        return;
      }
      try {
        const state = model.state(decision.access, actionFeatures());
        const update: DashboardUpdate = {
          ...state,
          newStates: model.states.after(cursor.stateSeq),
          newScopeSamples: model.scopes.after(cursor.scopeSeq),
        };
        cursor = model.cursor();
        send('update', update);
      } catch (err) {
        deps.log?.error(
          { event: 'dashboard.push-failed', err: (err as Error).stack },
          'dashboard update failed',
        );
      }
    };
    const timer = setInterval(push, pushIntervalMs);
    const end = () => {
      clearInterval(timer);
      streams.delete(end);
      res.end();
    };
    streams.add(end);
    request.raw.on('close', end);
  });
}
