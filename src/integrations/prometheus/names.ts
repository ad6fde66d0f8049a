/** Prometheus metric names and label names for grim's normalized usage metrics. */
import type { DimKind, MetricName, SeriesKind } from '../../domain/metrics/catalog.ts';
import { METRICS } from '../../domain/metrics/catalog.ts';

export const PROM_NAMES: Record<MetricName, string> = {
  cpu_busy_pct: 'grim_node_cpu_busy_percent',
  cpu_core_busy_pct: 'grim_node_cpu_core_busy_percent',
  load1: 'grim_node_load1',
  load5: 'grim_node_load5',
  load15: 'grim_node_load15',
  mem_total_bytes: 'grim_node_memory_total_bytes',
  mem_used_bytes: 'grim_node_memory_used_bytes',
  mem_available_bytes: 'grim_node_memory_available_bytes',
  fs_size_bytes: 'grim_node_filesystem_size_bytes',
  fs_used_bytes: 'grim_node_filesystem_used_bytes',
  fs_free_bytes: 'grim_node_filesystem_free_bytes',
  disk_read_bytes_per_s: 'grim_node_disk_read_bytes_per_second',
  disk_write_bytes_per_s: 'grim_node_disk_write_bytes_per_second',
  disk_busy_pct: 'grim_node_disk_busy_percent',
  net_rx_bytes_per_s: 'grim_node_network_receive_bytes_per_second',
  net_tx_bytes_per_s: 'grim_node_network_transmit_bytes_per_second',
  net_rx_packets_per_s: 'grim_node_network_receive_packets_per_second',
  net_tx_packets_per_s: 'grim_node_network_transmit_packets_per_second',
  instance_cpu_millicores: 'grim_instance_cpu_millicores',
  instance_mem_bytes: 'grim_instance_memory_bytes',
  instance_net_rx_bytes_per_s: 'grim_instance_network_receive_bytes_per_second',
  instance_net_tx_bytes_per_s: 'grim_instance_network_transmit_bytes_per_second',
  instance_disk_read_bytes_per_s: 'grim_instance_disk_read_bytes_per_second',
  instance_disk_write_bytes_per_s: 'grim_instance_disk_write_bytes_per_second',
};

/** Label carrying a metric's dimension (core index, mountpoint, device, interface). */
export function dimLabel(metric: MetricName): Exclude<DimKind, ''> | null {
  const d: DimKind = METRICS[metric].dim;
  return d === '' ? null : d;
}

/** Identity labels, always in this order. Undefined or empty values are left out. */
export const IDENTITY_LABELS = ['env', 'group', 'node', 'app', 'instance'] as const;
export type IdentityLabels = Partial<Record<(typeof IDENTITY_LABELS)[number], string>>;

/** The latest normalized points of one node or instance, with its identity labels. */
export interface LabelledPoints {
  kind: SeriesKind;
  labels: IdentityLabels;
  points: readonly { metric: MetricName; dim: string; value: number }[];
}

/** Ordered [name, value] label pairs of one point (identity labels, then the dimension label). */
export function pointLabels(labels: IdentityLabels, metric: MetricName, dim: string): [string, string][] {
  const out: [string, string][] = [];
  for (const k of IDENTITY_LABELS) {
    const v = labels[k];
    if (v !== undefined && v !== '') out.push([k, v]);
  }
  const dl = dimLabel(metric);
  if (dl !== null && dim !== '') out.push([dl, dim]);
  return out;
}
