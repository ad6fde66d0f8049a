import type { FastifyInstance } from 'fastify';
import { EXPOSITION_CONTENT_TYPE } from '../integrations/prometheus/exposition.ts';
import type { Services } from './services.ts';
import { fleetExposition } from '../services/monitoring/fleet-metrics.ts';

/**
 * GET /metrics/federate: the latest node and instance usage samples in Prometheus text format, with
 * the labels env, group, node, app, instance, then the fleet state the alert rules use (node up, instances per
 * state, TLS expiry). Same access as /metrics: a viewer token.
 */
export function registerFederate(app: FastifyInstance, services: Services) {
  app.get(
    '/metrics/federate',
    { config: { role: 'viewer' }, schema: { tags: ['system'], security: [{ bearer: [] }] } },
    async (_req, reply) => {
      reply.type(EXPOSITION_CONTENT_TYPE);
      // Storage pool health too: the shipped alert rules evaluate grim_zpool_* from here.
      const storage = (await services.storageHealth.metricsLines()).join('\n') + '\n';
      return (
        (await services.metrics.federate()) + (await fleetExposition(services.db, services.config)) + storage
      );
    },
  );
}
