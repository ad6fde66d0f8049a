// The boot plan: the ordered Firecracker API requests that configure and start one microVM. Pure: grim
// writes it to the node (boot-file.ts) and scripts/node/vm-fc-run.sh sends it each time the VMM starts.
import type { ApiRequest } from './api-types.ts';
import {
  actionRequest,
  bootSourceRequest,
  driveRequest,
  FirecrackerRequestError,
  machineConfigRequest,
  metricsRequest,
  mmdsConfigRequest,
  mmdsDataRequest,
  networkInterfaceRequest,
} from './requests.ts';
import { macAddressForInstance, netmaskOf } from '../../domain/ipam.ts';

/**
 * Serial console on ttyS0; "reboot=k" makes a guest reboot (e.g. after SendCtrlAltDel) reset the CPU
 * through the keyboard controller, which Firecracker treats as exit; the i8042 flags skip probing
 * that costs tens of ms (actions.md) while keeping the keyboard that SendCtrlAltDel needs.
 */
export const DEFAULT_BOOT_ARGS =
  'console=ttyS0 reboot=k panic=1 pci=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd';

export interface GuestIpConfig {
  address: string;
  prefixLength: number;
  gateway: string;
}

export interface MicroVmBootSpec {
  instanceId: string;
  size: { cpu: string | number; memoryMib: number };
  /** Paths as Firecracker sees them: inside the chroot when jailed (see chrootStagingPlan). */
  kernel: { path: string; bootArgs?: string; initrdPath?: string };
  rootfs: { path: string; readOnly?: boolean };
  /** Optional second disk, drive id "data". */
  dataDrive?: { path: string; readOnly?: boolean };
  /** Optional read-only disk with instance metadata (e.g. cloud-init style), drive id "metadata". */
  metadataDrive?: { path: string };
  /** Persistent volume drives (read-write ext4 images), drive ids "volume0", "volume1"... */
  volumeDrives?: Array<{ path: string }>;
  network?: { hostDevName: string; ifaceId?: string; mtu?: number; guestIp?: GuestIpConfig };
  /** Requires `network`: MMDS answers through the guest's interface. */
  mmds?: { data: Record<string, unknown>; ipv4Address?: string };
  /** Metrics file inside the jail; configured first, since it is process-level, not guest config. */
  metricsPath?: string;
}

/** Kernel "ip=" argument (network-setup.md): ip=G::T:GM::GI:off with the guest interface name. */
export function guestIpBootArg(ip: GuestIpConfig, guestInterface = 'eth0'): string {
  return `ip=${ip.address}::${ip.gateway}:${netmaskOf(ip.prefixLength)}::${guestInterface}:off`;
}

export function bootArgsFor(spec: MicroVmBootSpec): string {
  const base = spec.kernel.bootArgs ?? DEFAULT_BOOT_ARGS;
  const ip = spec.network?.guestIp;
  return ip === undefined ? base : `${base} ${guestIpBootArg(ip)}`;
}

/**
 * Order: [metrics], machine-config, boot-source, drives (rootfs, [data], [metadata], [volumes]),
 * [network-interfaces], [mmds/config, mmds], InstanceStart.
 */
export function bootPlan(spec: MicroVmBootSpec): ApiRequest[] {
  if (spec.mmds !== undefined && spec.network === undefined) {
    throw new FirecrackerRequestError('MMDS needs a network interface; the spec has none');
  }
  const plan: ApiRequest[] = [];
  if (spec.metricsPath !== undefined) plan.push(metricsRequest(spec.metricsPath));
  plan.push(machineConfigRequest(spec.size));
  plan.push(
    bootSourceRequest({
      kernelImagePath: spec.kernel.path,
      bootArgs: bootArgsFor(spec),
      initrdPath: spec.kernel.initrdPath,
    }),
  );
  plan.push(
    driveRequest({
      driveId: 'rootfs',
      pathOnHost: spec.rootfs.path,
      isRootDevice: true,
      isReadOnly: spec.rootfs.readOnly ?? false,
    }),
  );
  if (spec.dataDrive !== undefined) {
    plan.push(
      driveRequest({
        driveId: 'data',
        pathOnHost: spec.dataDrive.path,
        isRootDevice: false,
        isReadOnly: spec.dataDrive.readOnly ?? false,
      }),
    );
  }
  if (spec.metadataDrive !== undefined) {
    plan.push(
      driveRequest({
        driveId: 'metadata',
        pathOnHost: spec.metadataDrive.path,
        isRootDevice: false,
        isReadOnly: true,
      }),
    );
  }
  (spec.volumeDrives ?? []).forEach((v, i) =>
    plan.push(
      driveRequest({ driveId: `volume${i}`, pathOnHost: v.path, isRootDevice: false, isReadOnly: false }),
    ),
  );
  if (spec.network !== undefined) {
    const ifaceId = spec.network.ifaceId ?? 'eth0';
    plan.push(
      networkInterfaceRequest({
        ifaceId,
        hostDevName: spec.network.hostDevName,
        guestMac: macAddressForInstance(spec.instanceId),
        mtu: spec.network.mtu,
      }),
    );
    if (spec.mmds !== undefined) {
      plan.push(mmdsConfigRequest({ networkInterfaces: [ifaceId], ipv4Address: spec.mmds.ipv4Address }));
      plan.push(mmdsDataRequest(spec.mmds.data));
    }
  }
  plan.push(actionRequest('InstanceStart'));
  return plan;
}
