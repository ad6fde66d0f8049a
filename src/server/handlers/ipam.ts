import type { HandlerMap } from '../handler.ts';
import { IpamError } from '../../domain/ipam.ts';
import { conflict, invalid, notFound } from '../../domain/errors.ts';

/** IPAM pools for microVM networking (admin), stored in the embedded IPAM. */
export const ipamHandlers: HandlerMap<'listIpPools' | 'putIpPool' | 'deleteIpPool'> = {
  listIpPools: async ({ services }) => {
    const ipam = services.apps.ipam;
    const pools = await ipam.listPools();
    return {
      pools: await Promise.all(
        pools.map(async (p) => ({
          ...p,
          excluded: [...(p.excluded ?? [])],
          used: await ipam.allocations(p.id),
        })),
      ),
    };
  },
  putIpPool: async ({ params, body, services, req }) => {
    req.auditDetails = { ...body };
    const pool = { id: params.name, ...body, excluded: body.excluded ?? [] };
    try {
      await services.apps.ipam.savePool(pool);
    } catch (err) {
      if (err instanceof IpamError) throw invalid(err.message);
      throw err;
    }
    return { pool };
  },
  deleteIpPool: async ({ params, services }) => {
    try {
      if (!(await services.apps.ipam.deletePool(params.name))) throw notFound(`IP pool ${params.name}`);
    } catch (err) {
      if (err instanceof IpamError) throw conflict(err.message);
      throw err;
    }
    return { ok: true };
  },
};
