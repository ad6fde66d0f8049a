// Pure, typed builders for Firecracker API requests ({method, path, body}); no I/O here.
import type {
  ActionType,
  ApiRequest,
  BootSource,
  Drive,
  MachineConfiguration,
  MmdsConfig,
  NetworkInterface,
} from './api-types.ts';
import { checkMemoryMib, parseCpuMillis, vcpuCountFor } from './resources.ts';

export class FirecrackerRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FirecrackerRequestError';
  }
}

// Firecracker accepts resource ids (drive_id, iface_id) made of alphanumerics and underscores only.
const RESOURCE_ID = /^[A-Za-z0-9_]{1,64}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function resourceId(kind: string, id: string): string {
  if (!RESOURCE_ID.test(id)) {
    throw new FirecrackerRequestError(`${kind} "${id}" must be 1-64 letters, digits or underscores`);
  }
  return id;
}

function nonEmpty(field: string, value: string): string {
  if (value.length === 0) throw new FirecrackerRequestError(`${field} must not be empty`);
  return value;
}

/** PUT /machine-config from an app size. Fractional CPU rounds up to whole vCPUs (see resources.ts). */
export function machineConfigRequest(size: { cpu: string | number; memoryMib: number }): ApiRequest {
  const body: MachineConfiguration = {
    vcpu_count: vcpuCountFor(parseCpuMillis(size.cpu)),
    mem_size_mib: checkMemoryMib(size.memoryMib),
    smt: false,
  };
  return { method: 'PUT', path: '/machine-config', body };
}

export function bootSourceRequest(source: {
  kernelImagePath: string;
  bootArgs: string;
  initrdPath?: string;
}): ApiRequest {
  const body: BootSource = {
    kernel_image_path: nonEmpty('kernelImagePath', source.kernelImagePath),
    boot_args: source.bootArgs,
  };
  if (source.initrdPath !== undefined) body.initrd_path = nonEmpty('initrdPath', source.initrdPath);
  return { method: 'PUT', path: '/boot-source', body };
}

export function driveRequest(drive: {
  driveId: string;
  pathOnHost: string;
  isRootDevice: boolean;
  isReadOnly: boolean;
  cacheType?: 'Unsafe' | 'Writeback';
}): ApiRequest {
  const body: Drive = {
    drive_id: resourceId('drive_id', drive.driveId),
    path_on_host: nonEmpty('pathOnHost', drive.pathOnHost),
    is_root_device: drive.isRootDevice,
    is_read_only: drive.isReadOnly,
  };
  if (drive.cacheType !== undefined) body.cache_type = drive.cacheType;
  return { method: 'PUT', path: `/drives/${body.drive_id}`, body };
}

export function networkInterfaceRequest(nic: {
  ifaceId: string;
  hostDevName: string;
  guestMac: string;
  mtu?: number;
}): ApiRequest {
  if (!MAC.test(nic.guestMac)) throw new FirecrackerRequestError(`guest MAC "${nic.guestMac}" is malformed`);
  const body: NetworkInterface = {
    iface_id: resourceId('iface_id', nic.ifaceId),
    host_dev_name: nonEmpty('hostDevName', nic.hostDevName),
    guest_mac: nic.guestMac,
  };
  if (nic.mtu !== undefined) body.mtu = nic.mtu;
  return { method: 'PUT', path: `/network-interfaces/${body.iface_id}`, body };
}

/** PUT /mmds/config. Always V2 (session tokens); the spec's default V1 is deprecated. */
export function mmdsConfigRequest(config: { networkInterfaces: string[]; ipv4Address?: string }): ApiRequest {
  if (config.networkInterfaces.length === 0) {
    throw new FirecrackerRequestError('MMDS needs at least one network interface');
  }
  const body: MmdsConfig = {
    network_interfaces: config.networkInterfaces.map((id) => resourceId('iface_id', id)),
    version: 'V2',
  };
  if (config.ipv4Address !== undefined) body.ipv4_address = config.ipv4Address;
  return { method: 'PUT', path: '/mmds/config', body };
}

/** PUT /mmds: the metadata store contents (any JSON object). */
export function mmdsDataRequest(data: Record<string, unknown>): ApiRequest {
  return { method: 'PUT', path: '/mmds', body: data };
}

export function actionRequest(action: ActionType): ApiRequest {
  return { method: 'PUT', path: '/actions', body: { action_type: action } };
}

/** PUT /metrics. The v1.16.1 spec's Metrics has only metrics_path. */
export function metricsRequest(metricsPath: string): ApiRequest {
  return { method: 'PUT', path: '/metrics', body: { metrics_path: nonEmpty('metricsPath', metricsPath) } };
}

export function describeInstanceRequest(): ApiRequest {
  return { method: 'GET', path: '/' };
}

export function vmConfigRequest(): ApiRequest {
  return { method: 'GET', path: '/vm/config' };
}
