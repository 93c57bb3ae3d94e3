// GET /metrics: Prometheus text exposition (docs/metrics.md). Open like /healthz: scrapers rarely
// carry tokens, and the numbers reveal no client identity. It is served on the API's own address
// (loopback by default); expose it further only together with the API.

import type { ApiApp, RouteContext } from '../server.js';

export function metricsRoutes(app: ApiApp, { now, metrics }: RouteContext): void {
  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Prometheus metrics (no token needed)',
        security: [],
        response: { 200: { type: 'string', description: 'Prometheus text format 0.0.4' } },
      },
    },
    async (_request, reply) => {
      const text = await metrics.render(now());
      return reply.type(metrics.contentType).send(text);
    },
  );
}
