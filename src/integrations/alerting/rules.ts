/**
 * The alert rules grim ships, as Prometheus rule groups (evaluated by Prometheus over grim's /metrics/federate,
 * or by Cortex's ruler). Metric sources:
 *  - grim_node_up, grim_app_instances, grim_tls_certificate_expiry_timestamp_seconds: grim (/metrics/federate)
 *  - grim_zpool_health{state}, grim_zpool_capacity_ratio, grim_disk_smart_passed: grim's storage-node checks
 *  - SeaweedFS_master_*: SeaweedFS masters' own /metrics (names from weed/stats/metrics.go)
 *  - grim_volume_last_backup_age_seconds (/metrics) and grim_volume_backup_interval_seconds (/metrics/federate):
 *    grim's volume backups
 *  - grim_pipeline_last_build_failed (/metrics): grim's build watcher over Buildbot's builds
 */
import { stringify } from 'yaml';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'critical' | 'warning' };
  annotations: { summary: string; description: string };
}

export interface RuleOptions {
  /** How long a node must stay unreachable before it alerts (default 2m). */
  nodeUnreachableFor?: string;
  /** How long a pool must stay DEGRADED before it alerts (default 1m). */
  poolDegradedFor?: string;
  /** Pool fullness that alerts (default 0.85). */
  poolFullRatio?: number;
  /** Days before the TLS certificate expires (default 14). */
  tlsWarnDays?: number;
}

export function alertRules(o: RuleOptions = {}): { groups: { name: string; rules: AlertRule[] }[] } {
  const full = o.poolFullRatio ?? 0.85;
  const days = o.tlsWarnDays ?? 14;
  const rule = (
    alert: string,
    expr: string,
    forDuration: string,
    severity: 'critical' | 'warning',
    summary: string,
    description: string,
  ): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description },
  });
  return {
    groups: [
      {
        name: 'grim-fleet',
        rules: [
          rule(
            'GrimNodeUnreachable',
            'grim_node_up == 0',
            o.nodeUnreachableFor ?? '2m',
            'critical',
            'Node {{ $labels.node }} is unreachable',
            'grim cannot reach node {{ $labels.node }} (environment {{ $labels.env }}) over SSH.',
          ),
          rule(
            'GrimAppInstanceLost',
            'grim_app_instances{state="lost"} > 0',
            '1m',
            'critical',
            'App {{ $labels.app }} lost {{ $value }} instance(s)',
            'Instances of {{ $labels.app }} are on nodes grim cannot reach; with failover "reschedule" they are placed again.',
          ),
          rule(
            'GrimTlsCertificateExpiring',
            `grim_tls_certificate_expiry_timestamp_seconds - time() < ${days} * 86400`,
            '1h',
            'warning',
            "grim's TLS certificate expires in less than " + days + ' days',
            'The certificate at {{ $labels.path }} expires at {{ $value | humanizeTimestamp }}.',
          ),
        ],
      },
      {
        name: 'grim-storage',
        rules: [
          rule(
            'GrimZpoolDegraded',
            'grim_zpool_health{state="DEGRADED"} == 1',
            o.poolDegradedFor ?? '1m',
            'warning',
            'Pool {{ $labels.pool }} on {{ $labels.node }} is DEGRADED',
            'A vdev of {{ $labels.pool }} failed; the pool runs without its redundancy. Replace the device.',
          ),
          rule(
            'GrimZpoolFaulted',
            'grim_zpool_health{state=~"FAULTED|UNAVAIL|SUSPENDED"} == 1',
            '0m',
            'critical',
            'Pool {{ $labels.pool }} on {{ $labels.node }} is {{ $labels.state }}',
            'The pool cannot serve data.',
          ),
          rule(
            'GrimZpoolFull',
            `grim_zpool_capacity_ratio >= ${full}`,
            '10m',
            'warning',
            'Pool {{ $labels.pool }} on {{ $labels.node }} is {{ $value | humanizePercentage }} full',
            `ZFS slows down and fragments above ${Math.round(full * 100)} %.`,
          ),
          rule(
            'GrimSmartFailure',
            'grim_disk_smart_passed == 0',
            '0m',
            'critical',
            'Disk {{ $labels.disk }} on {{ $labels.node }} fails its SMART health check',
            'smartctl reports the disk as failing: replace it.',
          ),
          rule(
            'SeaweedFSNoLeader',
            'max by (job) (SeaweedFS_master_is_leader) < 1',
            '1m',
            'critical',
            'SeaweedFS ({{ $labels.job }}) has no master leader',
            'No SeaweedFS master is leader: writes and volume assignment stop.',
          ),
          rule(
            'SeaweedFSNoWritableVolumes',
            'sum by (job) (SeaweedFS_master_volume_layout_writable) == 0',
            '5m',
            'critical',
            'SeaweedFS ({{ $labels.job }}) has no writable volumes',
            'Uploads fail until volumes are added or freed.',
          ),
          rule(
            'SeaweedFSUnderReplicated',
            'sum by (job) (SeaweedFS_master_under_replicated_volumes) > 0',
            '15m',
            'warning',
            'SeaweedFS ({{ $labels.job }}) has {{ $value }} under-replicated volumes',
            'Volumes have fewer replicas than their replica placement asks for.',
          ),
          rule(
            'GrimBackupTooOld',
            'grim_volume_last_backup_age_seconds > on (environment, app, volume) 2 * grim_volume_backup_interval_seconds',
            '5m',
            'critical',
            'The last good backup of {{ $labels.app }}/{{ $labels.volume }} is older than twice its schedule',
            'Last good backup {{ $value | humanizeDuration }} ago.',
          ),
        ],
      },
      {
        name: 'grim-pipelines',
        rules: [
          rule(
            'GrimPipelineBuildFailed',
            'grim_pipeline_last_build_failed == 1',
            '0m',
            'warning',
            'The last build of pipeline {{ $labels.pipeline }} failed',
            'Nothing was deployed from it; the build log is on the pipeline page (grim pipeline builds {{ $labels.pipeline }}).',
          ),
        ],
      },
    ],
  };
}

export function alertRulesYaml(o: RuleOptions = {}): string {
  return stringify(alertRules(o), { lineWidth: 0 });
}
