/**
 * Prometheus configuration grim generates for its alerting: scrape grim's /metrics and /metrics/federate
 * (viewer token from a file), the SeaweedFS masters when the environment has a cluster, evaluate grim's rule
 * file, send to Alertmanager, and remote-write to Cortex with the tenant header when Cortex is enabled.
 */
import { stringify } from 'yaml';

export interface PrometheusSettings {
  /** grim as Prometheus reaches it: host:port and scheme. */
  grimTarget: string;
  grimScheme?: 'http' | 'https';
  grimTokenFile: string;
  grimCaFile?: string;
  ruleFiles: string[];
  alertmanagers: string[];
  seaweedfsMasters?: string[];
  cortex?: { url: string; tenant: string };
  scrapeInterval?: string;
  evaluationInterval?: string;
}

/** Series /metrics and /metrics/federate both carry. */
const STORAGE_SERIES = 'grim_(zpool|disk_smart|storage_node)_.*';

export function prometheusConfig(s: PrometheusSettings): Record<string, unknown> {
  const grimJob = (job: string, path: string, drop?: string) => ({
    job_name: job,
    scheme: s.grimScheme ?? 'http',
    metrics_path: path,
    honor_labels: true,
    authorization: { type: 'Bearer', credentials_file: s.grimTokenFile },
    ...(s.grimCaFile ? { tls_config: { ca_file: s.grimCaFile } } : {}),
    static_configs: [{ targets: [s.grimTarget] }],
    ...(drop
      ? { metric_relabel_configs: [{ source_labels: ['__name__'], regex: drop, action: 'drop' }] }
      : {}),
  });
  return {
    global: {
      scrape_interval: s.scrapeInterval ?? '15s',
      evaluation_interval: s.evaluationInterval ?? '15s',
    },
    rule_files: s.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: s.alertmanagers }] }] },
    scrape_configs: [
      // The storage-node series are on both endpoints: kept once (from the federate job), or every storage
      // alert would fire twice (once per job), as the degraded-pool lab test showed.
      grimJob('grim', '/metrics', STORAGE_SERIES),
      grimJob('grim-federate', '/metrics/federate'),
      ...(s.seaweedfsMasters?.length
        ? [{ job_name: 'seaweedfs', static_configs: [{ targets: s.seaweedfsMasters }] }]
        : []),
    ],
    ...(s.cortex
      ? { remote_write: [{ url: s.cortex.url, headers: { 'X-Scope-OrgID': s.cortex.tenant } }] }
      : {}),
  };
}

export function prometheusConfigYaml(s: PrometheusSettings): string {
  return stringify(prometheusConfig(s), { lineWidth: 0 });
}
