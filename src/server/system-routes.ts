import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { Services } from './services.ts';
import { processMemoryLines, type HttpMetrics } from './http-metrics.ts';
import { seaweedMetricLines } from '../domain/seaweedfs/metrics.ts';
import { sendError } from './errors.ts';
import { GRIM_VERSION } from './version.ts';
import { shipperExposition } from '../services/logs/settings.ts';
import { tracerExposition } from '../services/tracing/tracer.ts';

/** Staleness of volume backups, so an alert can fire: seconds since each local volume's last good backup. */
async function volumeBackupMetrics(services: Services): Promise<string[]> {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const ages = await services.apps.backups.lastBackupAges();
  return [
    "# HELP grim_volume_last_backup_age_seconds Seconds since the volume's last good backup (since its creation when it has none)",
    '# TYPE grim_volume_last_backup_age_seconds gauge',
    ...ages.map(
      (a) =>
        `grim_volume_last_backup_age_seconds{environment="${esc(a.environment)}",app="${esc(a.app)}",volume="${esc(a.volume)}",backed_up="${a.lastGood === null ? 'never' : 'yes'}"} ${a.ageSeconds}`,
    ),
  ];
}

/** Operational endpoints outside the JSON route table: health, readiness, Prometheus metrics, the OpenAPI document. */
export function registerSystemRoutes(app: FastifyInstance, services: Services, metrics: HttpMetrics) {
  const Health = Type.Object({ status: Type.String(), version: Type.Optional(Type.String()) });
  app.get(
    '/healthz',
    { config: { role: 'public' }, schema: { tags: ['system'], response: { 200: Health } } },
    async () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/readyz',
    { config: { role: 'public' }, schema: { tags: ['system'], response: { 200: Health, 503: Health } } },
    async (_req, reply) => {
      try {
        await services.db.ping();
        return { status: 'ready', version: GRIM_VERSION };
      } catch {
        return reply.code(503).send({ status: 'database unreachable' });
      }
    },
  );
  app.get(
    '/metrics',
    { config: { role: 'viewer' }, schema: { tags: ['system'], security: [{ bearer: [] }] } },
    async (_req, reply) => {
      const p = services.db.poolStats();
      const extra = [
        '# HELP grim_db_pool_connections Database connections by state',
        '# TYPE grim_db_pool_connections gauge',
        `grim_db_pool_connections{state="total"} ${p.total}`,
        `grim_db_pool_connections{state="idle"} ${p.idle}`,
        `grim_db_pool_connections{state="waiting"} ${p.waiting}`,
        '# HELP grim_info grim build information',
        '# TYPE grim_info gauge',
        `grim_info{dialect="${services.db.dialect}"} 1`,
        ...processMemoryLines(),
        ...(await services.storageHealth.metricsLines()),
        ...seaweedMetricLines(await services.seaweedfs.latestHealth()),
        ...(await volumeBackupMetrics(services)),
        ...(services.logShipping ? shipperExposition(services.logShipping.stats) : []),
        ...(services.tracer.settings ? tracerExposition(services.tracer.stats) : []),
        ...services.pipelines.metricsLines(),
      ];
      reply.type('text/plain; version=0.0.4');
      return metrics.render(extra);
    },
  );
  app.get(
    '/api/openapi.json',
    { config: { role: 'public' }, schema: { hide: true } },
    async (_req, reply) => {
      try {
        return (app as any).swagger();
      } catch (err) {
        return sendError(reply, 500, 'internal', String(err));
      }
    },
  );
}
