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

export function prometheusConfig(s: PrometheusSettings): Record<string, unknown> {
  const grimJob = (job: string, path: string) => ({
    job_name: job,
    scheme: s.grimScheme ?? 'http',
    metrics_path: path,
    honor_labels: true,
    authorization: { type: 'Bearer', credentials_file: s.grimTokenFile },
    ...(s.grimCaFile ? { tls_config: { ca_file: s.grimCaFile } } : {}),
    static_configs: [{ targets: [s.grimTarget] }],
  });
  return {
    global: {
      scrape_interval: s.scrapeInterval ?? '15s',
      evaluation_interval: s.evaluationInterval ?? '15s',
    },
    rule_files: s.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: s.alertmanagers }] }] },
    scrape_configs: [
      grimJob('grim', '/metrics'),
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
