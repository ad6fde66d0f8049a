/**
 * MicroVM networking as the apps engine sees it: the mode comes from the release's spec (nat by default),
 * bridged addresses from the IP pool of the app's group (else its environment), and each node's private nat
 * subnet is a pool `nat-<node>` created on first use. Addresses are released on destroy.
 *
 * Pools are always defined in grim (PUT /api/ip-pools/<name>). Who hands out a bridged pool's addresses:
 *  - embedded (default): grim's IpamStore;
 *  - NetBox, when configured: the pool's CIDR is the NetBox prefix and its gateway the guests' gateway; addresses
 *    come from the prefix's available-ips, tagged and described with the instance, and are deleted on destroy.
 *    NetBox decides what is free (the pool's `excluded` ranges do not apply: reserve those addresses in NetBox).
 * nat pools stay embedded either way: they are private to a node and never reach the LAN.
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
import { NetboxIpAllocator } from '../../integrations/netbox/client.ts';
import { netboxTag, type NetboxSettings } from '../../integrations/netbox/settings.ts';
import type { Db } from '../../store/db.ts';
import type { IpamStore } from '../ipam-store.ts';
import { appSpec, getApp, getRelease } from '../../store/apps-repo.ts';

const natPool = (node: string) => `nat-${node}`;

/** Embedded IPAM that creates a node's nat pool when it is first needed. */
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

/** A node's private nat pool (existing with scope node, or not yet created under its nat-<node> name). */
async function isNodePool(ipam: IpamStore, poolId: string): Promise<boolean> {
  const pool = await ipam.getPool(poolId);
  return pool === undefined ? poolId.startsWith('nat-') : pool.scope.kind === 'node';
}

/** nat pools from the embedded store, every LAN pool from NetBox; release frees the owner in both. */
function withNetboxLan(ipam: IpamStore, embedded: IpAllocator, settings: NetboxSettings): IpAllocator {
  const netbox = new NetboxIpAllocator({
    baseUrl: settings.url,
    token: settings.token,
    ...(settings.tag === undefined ? {} : { tag: netboxTag(settings.tag) }),
    pools: async (poolId) => {
      const pool = await ipam.getPool(poolId);
      if (pool === undefined || pool.scope.kind === 'node') return undefined;
      return { prefix: pool.cidr, gateway: pool.gateway };
    },
  });
  return {
    async allocate(poolId: string, owner: string): Promise<IpAllocation> {
      return (await isNodePool(ipam, poolId))
        ? embedded.allocate(poolId, owner)
        : netbox.allocate(poolId, owner);
    },
    async release(owner: string): Promise<void> {
      await embedded.release(owner);
      await netbox.release(owner); // an unreachable NetBox fails the destroy, which is retried: no leaked address
    },
  };
}

export interface VmNetworkSetup {
  /** NetBox as the source of truth for bridged addresses; unset: the embedded IPAM. */
  netbox?: NetboxSettings;
}

export function vmNetworkFor(db: Db, ipam: IpamStore, setup: VmNetworkSetup = {}): VmNetworkOptions {
  const embedded = withNatPools(ipam);
  return {
    ipam: setup.netbox === undefined ? embedded : withNetboxLan(ipam, embedded, setup.netbox),
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
