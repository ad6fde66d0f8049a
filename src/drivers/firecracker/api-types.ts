// Request and response bodies of the Firecracker v1.16.1 API (swagger: firecracker-v1.16.1.yaml).
// Only the fields grim sends or reads; names are the wire names.

export type HttpMethod = 'GET' | 'PUT' | 'PATCH';

export interface ApiRequest {
  method: HttpMethod;
  path: string;
  body?: unknown;
}

/** definitions/MachineConfiguration. vcpu_count 1..32; smt left false so any count in range is valid. */
export interface MachineConfiguration {
  vcpu_count: number;
  mem_size_mib: number;
  smt?: boolean;
  track_dirty_pages?: boolean;
  huge_pages?: 'None' | '2M';
}

/** definitions/BootSource. Paths are as Firecracker sees them (inside the jail when jailed). */
export interface BootSource {
  kernel_image_path: string;
  boot_args?: string;
  initrd_path?: string;
}

/** definitions/Drive (virtio-block variant: path_on_host and is_read_only are always sent). */
export interface Drive {
  drive_id: string;
  is_root_device: boolean;
  path_on_host: string;
  is_read_only: boolean;
  partuuid?: string;
  cache_type?: 'Unsafe' | 'Writeback';
  io_engine?: 'Sync' | 'Async';
}

/** definitions/NetworkInterface. */
export interface NetworkInterface {
  iface_id: string;
  host_dev_name: string;
  guest_mac?: string;
  mtu?: number;
}

/** definitions/MmdsConfig. grim always sends version V2 (the spec's default is the deprecated V1). */
export interface MmdsConfig {
  network_interfaces: string[];
  version?: 'V1' | 'V2';
  ipv4_address?: string;
  imds_compat?: boolean;
}

/** definitions/InstanceActionInfo. */
export type ActionType = 'InstanceStart' | 'SendCtrlAltDel' | 'FlushMetrics';

/** definitions/Metrics. v1.16.1 knows only metrics_path (emit_id/properties came later). */
export interface MetricsConfig {
  metrics_path: string;
}

/** definitions/InstanceInfo (GET /). */
export interface InstanceInfo {
  app_name: string;
  id: string;
  state: 'Not started' | 'Running' | 'Paused';
  vmm_version: string;
}

/** definitions/FullVmConfiguration (GET /vm/config), the parts grim reads. */
export interface FullVmConfiguration {
  'machine-config'?: MachineConfiguration;
  'boot-source'?: BootSource;
  drives?: Drive[];
  'network-interfaces'?: NetworkInterface[];
  'mmds-config'?: MmdsConfig;
  metrics?: MetricsConfig;
  [other: string]: unknown;
}
