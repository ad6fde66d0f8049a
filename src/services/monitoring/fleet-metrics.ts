/**
 * Fleet state for Prometheus, served with /metrics/federate so the alert rules have something to evaluate:
 *   grim_node_up{env,group,node}                         1 ready, 0 unreachable (nodes in maintenance are left out)
 *   grim_node_host_key_mismatch{env,group,node}          1 while grim refuses to talk to the node
 *   grim_app_instances{env,app,state}                    instances per state (running, lost, failed...)
 *   grim_tls_certificate_expiry_timestamp_seconds{path}  notAfter of the certificate grim serves
 *   grim_volume_backup_interval_seconds{environment,app,volume}  the backup schedule of volumes that have one
 *     (with grim_volume_last_backup_age_seconds on /metrics, the "backup older than twice its schedule" rule)
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../store/db.ts';
import { listNodeRows, nodeGroups } from '../../store/nodes-repo.ts';
import { appSpecs, instanceStateCounts } from '../../store/monitoring-repo.ts';
import { escapeLabelValue } from '../../integrations/prometheus/exposition.ts';
import { groupLabel } from '../metrics/labels.ts';

const lbl = (pairs: Record<string, string>) =>
  Object.entries(pairs)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(',');

/** The certificate grim serves: the admin's (GRIM_TLS_CERT) or the local CA's server certificate. */
export function servedCertificatePath(config: { tlsCert?: string; dataDir: string }): string | null {
  if (config.tlsCert) return config.tlsCert;
  const local = join(config.dataDir, 'tls', 'server.crt');
  return existsSync(local) ? local : null;
}

export async function fleetExposition(
  db: Db,
  config: { tlsCert?: string; dataDir: string },
): Promise<string> {
  const [rows, groups, instances] = await Promise.all([
    listNodeRows(db),
    nodeGroups(db),
    instanceStateCounts(db),
  ]);
  const up: string[] = [];
  const mismatch: string[] = [];
  for (const r of rows) {
    const l = lbl({ env: r.environment, group: groupLabel(groups.get(r.name) ?? []), node: r.name });
    if (r.state === 'ready' || r.state === 'unreachable')
      up.push(`grim_node_up{${l}} ${r.state === 'ready' ? 1 : 0}`);
    mismatch.push(`grim_node_host_key_mismatch{${l}} ${r.state === 'host-key-mismatch' ? 1 : 0}`);
  }
  const out = [
    "# HELP grim_node_up 1 when the node answered grim's last heartbeat, 0 when it is unreachable",
    '# TYPE grim_node_up gauge',
    ...up,
    '# HELP grim_node_host_key_mismatch 1 while the node presents a host key other than the pinned one',
    '# TYPE grim_node_host_key_mismatch gauge',
    ...mismatch,
    '# HELP grim_app_instances App instances per state',
    '# TYPE grim_app_instances gauge',
    ...instances.map(
      (i) => `grim_app_instances{${lbl({ env: i.environment, app: i.app, state: i.state })}} ${i.n}`,
    ),
  ];
  out.push(
    '# HELP grim_volume_backup_interval_seconds How often a volume is backed up (its schedule)',
    '# TYPE grim_volume_backup_interval_seconds gauge',
    ...(await backupIntervals(db)),
  );
  const certPath = servedCertificatePath(config);
  if (certPath) {
    try {
      const cert = new X509Certificate(readFileSync(certPath));
      out.push(
        '# HELP grim_tls_certificate_expiry_timestamp_seconds When the certificate grim serves expires (unix seconds)',
        '# TYPE grim_tls_certificate_expiry_timestamp_seconds gauge',
        `grim_tls_certificate_expiry_timestamp_seconds{${lbl({ path: certPath })}} ${Math.floor(Date.parse(cert.validTo) / 1000)}`,
      );
    } catch {
      // unreadable certificate: no series, and the TLS rule's absent() guard does not fire on that alone
    }
  }
  return out.join('\n') + '\n';
}

async function backupIntervals(db: Db): Promise<string[]> {
  const out: string[] = [];
  for (const a of await appSpecs(db)) {
    let volumes: { name?: unknown; backup?: { intervalSec?: unknown } }[] = [];
    try {
      volumes = (JSON.parse(a.spec) as { volumes?: typeof volumes }).volumes ?? [];
    } catch {
      continue;
    }
    for (const v of volumes)
      if (typeof v.name === 'string' && typeof v.backup?.intervalSec === 'number')
        out.push(
          `grim_volume_backup_interval_seconds{${lbl({ environment: a.environment, app: a.name, volume: v.name })}} ${v.backup.intervalSec}`,
        );
  }
  return out;
}
