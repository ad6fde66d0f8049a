/**
 * The normalized usage metrics grim stores. A series is (kind, entity id, metric, dim, ts):
 * `dim` is the per-metric dimension (core index, mountpoint, block device, interface) or '' for none.
 */

export type SeriesKind = 'node' | 'instance';

/** Which dimension a metric is split by ('' = none). */
export type DimKind = '' | 'core' | 'mountpoint' | 'device' | 'interface';

export interface MetricInfo {
  kind: SeriesKind;
  dim: DimKind;
  unit: 'percent' | 'bytes' | 'bytes_per_second' | 'packets_per_second' | 'millicores' | 'load';
  help: string;
}

export const METRICS = {
  cpu_busy_pct: { kind: 'node', dim: '', unit: 'percent', help: 'CPU busy time, all cores (0-100).' },
  cpu_core_busy_pct: {
    kind: 'node',
    dim: 'core',
    unit: 'percent',
    help: 'CPU busy time of one core (0-100).',
  },
  load1: { kind: 'node', dim: '', unit: 'load', help: 'Load average over 1 minute.' },
  load5: { kind: 'node', dim: '', unit: 'load', help: 'Load average over 5 minutes.' },
  load15: { kind: 'node', dim: '', unit: 'load', help: 'Load average over 15 minutes.' },
  mem_total_bytes: { kind: 'node', dim: '', unit: 'bytes', help: 'Total memory.' },
  mem_used_bytes: { kind: 'node', dim: '', unit: 'bytes', help: 'Memory in use (total minus available).' },
  mem_available_bytes: { kind: 'node', dim: '', unit: 'bytes', help: 'Memory available for new work.' },
  fs_size_bytes: { kind: 'node', dim: 'mountpoint', unit: 'bytes', help: 'Filesystem size.' },
  fs_used_bytes: { kind: 'node', dim: 'mountpoint', unit: 'bytes', help: 'Filesystem space used.' },
  fs_free_bytes: { kind: 'node', dim: 'mountpoint', unit: 'bytes', help: 'Filesystem space available.' },
  disk_read_bytes_per_s: { kind: 'node', dim: 'device', unit: 'bytes_per_second', help: 'Disk read rate.' },
  disk_write_bytes_per_s: { kind: 'node', dim: 'device', unit: 'bytes_per_second', help: 'Disk write rate.' },
  disk_busy_pct: {
    kind: 'node',
    dim: 'device',
    unit: 'percent',
    help: 'Time the disk had IO in flight (0-100).',
  },
  net_rx_bytes_per_s: {
    kind: 'node',
    dim: 'interface',
    unit: 'bytes_per_second',
    help: 'Network receive rate.',
  },
  net_tx_bytes_per_s: {
    kind: 'node',
    dim: 'interface',
    unit: 'bytes_per_second',
    help: 'Network transmit rate.',
  },
  net_rx_packets_per_s: {
    kind: 'node',
    dim: 'interface',
    unit: 'packets_per_second',
    help: 'Network receive packet rate.',
  },
  net_tx_packets_per_s: {
    kind: 'node',
    dim: 'interface',
    unit: 'packets_per_second',
    help: 'Network transmit packet rate.',
  },
  instance_cpu_millicores: {
    kind: 'instance',
    dim: '',
    unit: 'millicores',
    help: 'Instance CPU use (1000 = one core).',
  },
  instance_mem_bytes: { kind: 'instance', dim: '', unit: 'bytes', help: 'Instance memory use.' },
  instance_net_rx_bytes_per_s: {
    kind: 'instance',
    dim: '',
    unit: 'bytes_per_second',
    help: 'Instance network receive rate (Firecracker VMs: from the VMM).',
  },
  instance_net_tx_bytes_per_s: {
    kind: 'instance',
    dim: '',
    unit: 'bytes_per_second',
    help: 'Instance network transmit rate (Firecracker VMs: from the VMM).',
  },
  instance_disk_read_bytes_per_s: {
    kind: 'instance',
    dim: '',
    unit: 'bytes_per_second',
    help: 'Instance disk read rate (Firecracker VMs: from the VMM).',
  },
  instance_disk_write_bytes_per_s: {
    kind: 'instance',
    dim: '',
    unit: 'bytes_per_second',
    help: 'Instance disk write rate (Firecracker VMs: from the VMM).',
  },
} as const satisfies Record<string, MetricInfo>;

export type MetricName = keyof typeof METRICS;

export function isMetricName(s: string): s is MetricName {
  return Object.hasOwn(METRICS, s);
}

/** One value of one series at the sample's timestamp. */
export interface MetricPoint {
  metric: MetricName;
  dim: string;
  value: number;
}
