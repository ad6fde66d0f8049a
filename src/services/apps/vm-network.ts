/**
 * MicroVM networking as the apps engine sees it: the mode comes from the release's spec (nat by default),
 * bridged addresses from the embedded IPAM pool of the app's group (else its environment), and each node's
 * private nat subnet is a pool `nat-<node>` created on first use. Addresses are released on destroy.
 */
import {
  IpamError,
  selectPool,
  type IpAllocation,
  type IpAllocator,
  type IpPool,
} from '../../domain/ipam.ts';
import type { InstanceSpec } from '../../drivers/driver.ts';
import { DEFAULT_NAT_SUBNET, natDefaults, type VmNetworkOptions } from '../../drivers/vm-image/network.ts';
import type { Db } from '../../store/db.ts';
import type { IpamStore } from '../ipam-store.ts';
import { appSpec, getApp, getRelease } from './store.ts';

const natPool = (node: string) => `nat-${node}`;

/** IPAM that creates a node's nat pool when it is first needed. */
function withNatPools(ipam: IpamStore): IpAllocator {
  const nat = natDefaults({ subnet: DEFAULT_NAT_SUBNET });
  return {
    async allocate(poolId: string, owner: string): Promise<IpAllocation> {
      if (poolId.startsWith('nat-') && (await ipam.getPool(poolId)) === undefined)
        await ipam.savePool({
          id: poolId,
          cidr: nat.subnet,
          gateway: nat.gateway,
          excluded: [],
          scope: { kind: 'node', id: poolId.slice('nat-'.length) },
        });
      return ipam.allocate(poolId, owner);
    },
    release: (owner: string) => ipam.release(owner),
  };
}

export function vmNetworkFor(db: Db, ipam: IpamStore): VmNetworkOptions {
  return {
    ipam: withNatPools(ipam),
    nat: { poolId: natPool },
    modeFor: async (spec: InstanceSpec) => {
      const rel = await getRelease(db, spec.app, spec.release);
      return (rel ? appSpec(rel).network : undefined) ?? 'nat';
    },
    bridged: {
      poolId: async (spec: InstanceSpec) => {
        const app = await getApp(db, spec.app);
        const pools = (await ipam.listPools()).filter((p) => p.scope.kind !== 'node') as IpPool[];
        const pool = selectPool(pools, { environmentId: spec.environment, groupId: app?.group_name });
        if (pool === undefined)
          throw new IpamError(
            `no IP pool for group ${app?.group_name ?? '?'} or environment ${spec.environment}: ` +
              'an admin creates one with PUT /api/ip-pools/<name> before deploying bridged microVMs',
          );
        return pool.id;
      },
    },
  };
}
