import type { FastifyInstance } from 'fastify';
import { EXPOSITION_CONTENT_TYPE } from '../integrations/prometheus/exposition.ts';
import type { Services } from './services.ts';

/**
 * GET /metrics/federate: the latest node and instance usage samples in Prometheus text format, with
 * the labels env, group, node, app, instance. Same access as /metrics: a viewer token.
 */
export function registerFederate(app: FastifyInstance, services: Services) {
  app.get(
    '/metrics/federate',
    { config: { role: 'viewer' }, schema: { tags: ['system'], security: [{ bearer: [] }] } },
    async (_req, reply) => {
      reply.type(EXPOSITION_CONTENT_TYPE);
      return services.metrics.federate();
    },
  );
}
