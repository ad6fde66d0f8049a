// VM networking on a node: one bridge per mode, a TAP per VM, and the guest's IPv4 address from IPAM.
//   nat:     a private per-node subnet (same on every node: it never leaves the node), masquerading,
//            ports published on the node's address;
//   bridged: the node's uplink is in the bridge and the VM gets a LAN address from the group's pool.
import type { InstanceSpec, OpCtx } from '../driver.ts';
import type { IpAllocation, IpAllocator } from '../../domain/ipam.ts';
import { parseCidr } from '../../domain/ipam.ts';
import { runJson } from './node-ops.ts';

export type VmNetworkMode = 'nat' | 'bridged';

export interface NatNetworkOptions {
  bridge?: string; // default grimnat0
  /** Private subnet on every node, default 172.31.0.0/24 (the node is .1). */
  subnet?: string;
  gateway?: string;
  /** IPAM pool of a node's private subnet, default `nat-<node>`. */
  poolId?: (node: string) => string;
}

export interface BridgedNetworkOptions {
  bridge?: string; // default grimlan0
  uplink?: string; // default eth0
  /** IPAM pool of the LAN for an instance (per environment or group). */
  poolId: (spec: InstanceSpec) => string | Promise<string>;
}

export interface VmNetworkOptions {
  ipam: IpAllocator;
  /** Mode per instance (chosen per group); default nat. */
  modeFor?: (spec: InstanceSpec) => VmNetworkMode | Promise<VmNetworkMode>;
  nat?: NatNetworkOptions;
  bridged?: BridgedNetworkOptions;
  dns?: string[];
}

export interface VmNetworkPlan {
  mode: VmNetworkMode;
  bridge: string;
  poolId: string;
  ip: IpAllocation;
}

export const DEFAULT_NAT_SUBNET = '172.31.0.0/24';

export function natDefaults(o: NatNetworkOptions = {}): Required<NatNetworkOptions> {
  const subnet = o.subnet ?? DEFAULT_NAT_SUBNET;
  const { network } = parseCidr(subnet);
  const gw = o.gateway ?? [24, 16, 8, 0].map((s) => Math.floor((network + 1) / 2 ** s) % 256).join('.');
  return {
    bridge: o.bridge ?? 'grimnat0',
    subnet,
    gateway: gw,
    poolId: o.poolId ?? ((node) => `nat-${node}`),
  };
}

/** Sets up the node's bridge + rules for the instance's mode and allocates its address (idempotent). */
export async function planInstanceNetwork(
  ctx: OpCtx,
  spec: InstanceSpec,
  o: VmNetworkOptions,
): Promise<VmNetworkPlan> {
  const mode = (await o.modeFor?.(spec)) ?? 'nat';
  if (mode === 'nat') {
    const nat = natDefaults(o.nat);
    const prefix = parseCidr(nat.subnet).prefixLength;
    await runJson(ctx, 'vm-net-setup', {
      MODE: 'nat',
      BRIDGE: nat.bridge,
      SUBNET: nat.subnet,
      GATEWAY_CIDR: `${nat.gateway}/${prefix}`,
    });
    const poolId = nat.poolId(ctx.node);
    return { mode, bridge: nat.bridge, poolId, ip: await o.ipam.allocate(poolId, spec.instanceId) };
  }
  if (o.bridged === undefined)
    throw new Error(`instance ${spec.instanceId} wants bridged networking, but no LAN pool is configured`);
  const bridge = o.bridged.bridge ?? 'grimlan0';
  const poolId = await o.bridged.poolId(spec); // before the uplink moves into the bridge: no pool, no change
  await runJson(ctx, 'vm-net-setup', { MODE: 'bridged', BRIDGE: bridge, UPLINK: o.bridged.uplink ?? 'eth0' });
  return { mode, bridge, poolId, ip: await o.ipam.allocate(poolId, spec.instanceId) };
}

/** nat mode: "hostPort:guestIp:guestPort" words for vm-instance-start.sh. */
export function publishedPorts(spec: InstanceSpec, plan: { mode: VmNetworkMode; ip: IpAllocation }): string {
  if (plan.mode !== 'nat') return '';
  return spec.ports.map((p) => `${p.hostPort}:${plan.ip.address}:${p.port}`).join(' ');
}
