import type { HandlerMap } from '../handler.ts';
import { listControlInstances, listLeases, liveInstanceIds } from '../../store/leases-repo.ts';
import { GRIM_VERSION } from '../version.ts';

export const controlPlaneHandlers: HandlerMap<'getControlPlane'> = {
  async getControlPlane({ services }) {
    const live = await liveInstanceIds(services.db);
    const leases = (await listLeases(services.db)).filter((l) => !l.name.startsWith('instance:'));
    const instances = (await listControlInstances(services.db)).map((i) => ({
      id: i.id,
      hostname: i.hostname,
      pid: Number(i.pid),
      version: i.version,
      listen: i.listen,
      startedAt: Number(i.started_at),
      stoppedAt: i.stopped_at === null ? null : Number(i.stopped_at),
      alive: live.has(i.id),
    }));
    return {
      self: services.leases.instanceId,
      dialect: services.db.dialect,
      version: GRIM_VERSION,
      instances: instances.filter(
        (i) => i.alive || i.stoppedAt === null || Date.now() - i.stoppedAt < 3_600_000,
      ),
      leases,
    };
  },
};
