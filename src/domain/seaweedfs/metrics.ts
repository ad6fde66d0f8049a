/**
 * grim's own gauges about its SeaweedFS clusters (on grim's /metrics), from the last health poll. Alert on:
 *   grim_storage_has_leader == 0                    no raft leader
 *   grim_storage_up{role=...} == 0                  a master, volume server, filer or S3 gateway down
 *   grim_storage_writable_volumes == 0              no writable volumes for a collection
 *   grim_storage_under_replicated_volumes > 0       volumes with fewer copies than their replication
 *   grim_storage_disk_used_ratio > 0.9              a volume server's disk nearly full
 *   grim_storage_problems > 0                       any problem, by kind
 */
import type { ProblemKind, SeaweedHealth } from './health.ts';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const KINDS: ProblemKind[] = [
  'no-leader',
  'master-down',
  'volume-server-down',
  'volume-server-missing',
  'no-writable-volumes',
  'under-replicated',
  'disk-nearly-full',
  'filer-down',
  's3-down',
  'bucket-over-quota',
];

export const SEAWEED_METRICS = {
  grim_storage_has_leader: 'Whether the SeaweedFS masters have a raft leader (1) or not (0)',
  grim_storage_up: 'Whether a SeaweedFS process answers its status endpoint (role master, volume, filer, s3)',
  grim_storage_volume_server_heartbeating: 'Whether the leader sees the volume server heartbeating',
  grim_storage_writable_volumes: 'Writable volumes per collection and replication (0 = writes to it fail)',
  grim_storage_under_replicated_volumes: 'Volumes with fewer copies than their replication asks for',
  grim_storage_disk_used_ratio: 'Used fraction of a volume server data directory',
  grim_storage_free_volume_slots: 'Free volume slots in the cluster',
  grim_storage_problems: 'Current problems by kind',
} as const;

export function seaweedMetricLines(clusters: Map<string, SeaweedHealth>): string[] {
  const out: string[] = [];
  const family = (name: keyof typeof SEAWEED_METRICS, samples: string[]) => {
    out.push(`# HELP ${name} ${SEAWEED_METRICS[name]}`, `# TYPE ${name} gauge`, ...samples);
  };
  const all = [...clusters.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const l = (labels: Record<string, string>) =>
    '{' +
    Object.entries(labels)
      .map(([k, v]) => `${k}="${esc(v)}"`)
      .join(',') +
    '}';
  family(
    'grim_storage_has_leader',
    all.map(([env, h]) => `grim_storage_has_leader${l({ environment: env })} ${h.leader ? 1 : 0}`),
  );
  family(
    'grim_storage_up',
    all.flatMap(([env, h]) => [
      ...h.masters.map(
        (m) => `grim_storage_up${l({ environment: env, role: 'master', node: m.node })} ${m.up ? 1 : 0}`,
      ),
      ...h.volumeServers.map(
        (v) => `grim_storage_up${l({ environment: env, role: 'volume', node: v.node })} ${v.up ? 1 : 0}`,
      ),
      ...h.filers.map(
        (f) => `grim_storage_up${l({ environment: env, role: 'filer', node: f.node })} ${f.up ? 1 : 0}`,
      ),
      ...h.s3.map(
        (g) => `grim_storage_up${l({ environment: env, role: 's3', node: g.node })} ${g.up ? 1 : 0}`,
      ),
    ]),
  );
  family(
    'grim_storage_volume_server_heartbeating',
    all.flatMap(([env, h]) =>
      h.volumeServers.map(
        (v) =>
          `grim_storage_volume_server_heartbeating${l({ environment: env, node: v.node })} ${v.heartbeating ? 1 : 0}`,
      ),
    ),
  );
  family(
    'grim_storage_writable_volumes',
    all.flatMap(([env, h]) =>
      h.writable.map(
        (w) =>
          `grim_storage_writable_volumes${l({ environment: env, collection: w.collection, replication: w.replication })} ${w.writable}`,
      ),
    ),
  );
  family(
    'grim_storage_under_replicated_volumes',
    all.map(
      ([env, h]) =>
        `grim_storage_under_replicated_volumes${l({ environment: env })} ${h.underReplicated.length}`,
    ),
  );
  family(
    'grim_storage_disk_used_ratio',
    all.flatMap(([env, h]) =>
      h.volumeServers
        .filter((v) => v.up && v.diskBytes > 0)
        .map(
          (v) =>
            `grim_storage_disk_used_ratio${l({ environment: env, node: v.node })} ${(v.diskUsedBytes / v.diskBytes).toFixed(4)}`,
        ),
    ),
  );
  family(
    'grim_storage_free_volume_slots',
    all.map(([env, h]) => `grim_storage_free_volume_slots${l({ environment: env })} ${h.slots.free}`),
  );
  family(
    'grim_storage_problems',
    all.flatMap(([env, h]) =>
      KINDS.map(
        (k) =>
          `grim_storage_problems${l({ environment: env, kind: k })} ${h.problems.filter((p) => p.kind === k).length}`,
      ),
    ),
  );
  return out;
}
