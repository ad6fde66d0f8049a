/**
 * Cluster health from what SeaweedFS's own status endpoints answer (pure: the poller fetches, this judges).
 * Inputs are the parsed JSON bodies (or an error string when a process did not answer); the output is the
 * storage state grim keeps, shows and exports, and the list of problems. JSON is matched by field name only
 * (field order and omitted fields changed between SeaweedFS releases).
 */

export type Fetched<T> = { ok: true; body: T } | { ok: false; error: string };

export interface ClusterStatusBody {
  IsLeader?: boolean;
  Leader?: string;
  Peers?: string[];
}

export interface VolumeInfo {
  Id?: number;
  Collection?: string;
  ReplicaPlacement?: { node?: number; rack?: number; dc?: number } | null;
  Size?: number;
  ReadOnly?: boolean;
}

export interface VolStatusBody {
  Version?: string;
  Volumes?: {
    DataCenters?: Record<string, Record<string, Record<string, VolumeInfo[] | null>>> | null;
    Free?: number;
    Max?: number;
  };
}

export interface DirStatusBody {
  Topology?: {
    Max?: number;
    Free?: number;
    DataCenters?: {
      Id?: string;
      Racks?: { Id?: string; DataNodes?: { Url?: string; Volumes?: number; Max?: number }[] }[];
    }[];
    Layouts?: { replication?: string; collection?: string; writables?: number[] | null }[] | null;
  };
  Version?: string;
}

export interface VolumeServerStatusBody {
  Version?: string;
  DiskStatuses?: { dir?: string; all?: number; used?: number; free?: number; percent_used?: number }[];
  Volumes?: VolumeInfo[];
}

export interface HealthInput {
  masters: { node: string; address: string; status: Fetched<ClusterStatusBody> }[];
  /** /dir/status and /vol/status from any answering master (they proxy to the leader). */
  dir: Fetched<DirStatusBody>;
  vol: Fetched<VolStatusBody>;
  volumes: { node: string; address: string; status: Fetched<VolumeServerStatusBody> }[];
  filers: { node: string; healthy: Fetched<unknown> }[];
  s3: { node: string; healthy: Fetched<unknown> }[];
  /** disk use above which a volume server's directory counts as nearly full */
  diskFullRatio?: number;
}

export type ProblemKind =
  | 'no-leader'
  | 'master-down'
  | 'volume-server-down'
  | 'volume-server-missing'
  | 'no-writable-volumes'
  | 'under-replicated'
  | 'disk-nearly-full'
  | 'filer-down'
  | 's3-down'
  | 'bucket-over-quota';

export interface Problem {
  kind: ProblemKind;
  /** the node, collection or volume the problem is about */
  subject: string;
  message: string;
}

export interface SeaweedHealth {
  leader: string | null;
  masters: { node: string; up: boolean; leader: boolean; error?: string }[];
  volumeServers: {
    node: string;
    up: boolean;
    heartbeating: boolean;
    version: string;
    volumes: number;
    diskBytes: number;
    diskUsedBytes: number;
    diskFreeBytes: number;
    error?: string;
  }[];
  filers: { node: string; up: boolean }[];
  s3: { node: string; up: boolean }[];
  slots: { max: number; free: number };
  writable: { collection: string; replication: string; writable: number }[];
  underReplicated: { volume: number; collection: string; copies: number; expected: number }[];
  problems: Problem[];
}

/** "10.0.0.1:9333.19333" and "10.0.0.1:9333" both name the master at 10.0.0.1:9333. */
export function masterHttpAddress(raftName: string): string {
  const m = /^(.*:\d+)\.\d+$/.exec(raftName);
  return m ? m[1] : raftName;
}

export function judgeHealth(input: HealthInput): SeaweedHealth {
  const problems: Problem[] = [];
  const fullRatio = input.diskFullRatio ?? 0.9;

  let leaderAddress: string | null = null;
  const masters = input.masters.map((m) => {
    if (!m.status.ok) {
      problems.push({
        kind: 'master-down',
        subject: m.node,
        message: `master on ${m.node} does not answer: ${m.status.error}`,
      });
      return { node: m.node, up: false, leader: false, error: m.status.error };
    }
    if (m.status.body.Leader) leaderAddress = masterHttpAddress(m.status.body.Leader);
    return { node: m.node, up: true, leader: m.status.body.IsLeader === true };
  });
  const leaderNode =
    masters.find((m) => m.leader)?.node ??
    input.masters.find((m) => m.address === leaderAddress)?.node ??
    null;
  if (
    !masters.some((m) => m.leader) &&
    (leaderNode === null || !masters.find((m) => m.node === leaderNode)?.up)
  )
    problems.push({
      kind: 'no-leader',
      subject: 'masters',
      message: 'no master is the raft leader: writes and volume lookups fail',
    });

  // which servers the leader sees heartbeating
  const heartbeating = new Set<string>();
  if (input.dir.ok)
    for (const dc of input.dir.body.Topology?.DataCenters ?? [])
      for (const rack of dc.Racks ?? [])
        for (const dn of rack.DataNodes ?? []) if (dn.Url) heartbeating.add(dn.Url);

  const volumeServers = input.volumes.map((v) => {
    const hb = [...heartbeating].some((u) => u === v.address || u.startsWith(`${v.address}:`));
    if (!v.status.ok) {
      problems.push({
        kind: 'volume-server-down',
        subject: v.node,
        message: `volume server on ${v.node} does not answer: ${v.status.error}`,
      });
      return {
        node: v.node,
        up: false,
        heartbeating: hb,
        version: '',
        volumes: 0,
        diskBytes: 0,
        diskUsedBytes: 0,
        diskFreeBytes: 0,
        error: v.status.error,
      };
    }
    if (input.dir.ok && !hb)
      problems.push({
        kind: 'volume-server-missing',
        subject: v.node,
        message: `volume server on ${v.node} runs but the leader does not see its heartbeats`,
      });
    const disks = v.status.body.DiskStatuses ?? [];
    const all = disks.reduce((s, d) => s + (d.all ?? 0), 0);
    const used = disks.reduce((s, d) => s + (d.used ?? 0), 0);
    const free = disks.reduce((s, d) => s + (d.free ?? 0), 0);
    for (const d of disks)
      if ((d.all ?? 0) > 0 && (d.used ?? 0) / (d.all ?? 1) >= fullRatio)
        problems.push({
          kind: 'disk-nearly-full',
          subject: v.node,
          message: `${d.dir ?? 'a data directory'} on ${v.node} is ${Math.round(((d.used ?? 0) / (d.all ?? 1)) * 100)}% full`,
        });
    return {
      node: v.node,
      up: true,
      heartbeating: hb,
      version: v.status.body.Version ?? '',
      volumes: (v.status.body.Volumes ?? []).length,
      diskBytes: all,
      diskUsedBytes: used,
      diskFreeBytes: free,
    };
  });

  const writable = input.dir.ok
    ? (input.dir.body.Topology?.Layouts ?? []).map((l) => ({
        collection: l.collection ?? '',
        replication: l.replication ?? '',
        writable: (l.writables ?? []).length,
      }))
    : [];
  for (const w of writable)
    if (w.writable === 0)
      problems.push({
        kind: 'no-writable-volumes',
        subject: w.collection || '(default)',
        message: `no writable volumes for collection ${w.collection || '(default)'} with replication ${w.replication}`,
      });

  const underReplicated = underReplicatedVolumes(input.vol);
  if (underReplicated.length)
    problems.push({
      kind: 'under-replicated',
      subject: underReplicated.map((u) => u.volume).join(','),
      message: `${underReplicated.length} volume(s) have fewer copies than their replication asks for: ${underReplicated
        .slice(0, 10)
        .map((u) => `${u.volume} (${u.copies}/${u.expected})`)
        .join(', ')}`,
    });

  const filers = input.filers.map((f) => {
    if (!f.healthy.ok)
      problems.push({
        kind: 'filer-down',
        subject: f.node,
        message: `filer on ${f.node} is not healthy: ${f.healthy.error}`,
      });
    return { node: f.node, up: f.healthy.ok };
  });
  const s3 = input.s3.map((g) => {
    if (!g.healthy.ok)
      problems.push({
        kind: 's3-down',
        subject: g.node,
        message: `S3 gateway on ${g.node} is not healthy: ${g.healthy.error}`,
      });
    return { node: g.node, up: g.healthy.ok };
  });

  return {
    leader: leaderNode,
    masters,
    volumeServers,
    filers,
    s3,
    slots: {
      max: input.dir.ok ? (input.dir.body.Topology?.Max ?? 0) : 0,
      free: input.dir.ok ? (input.dir.body.Topology?.Free ?? 0) : 0,
    },
    writable,
    underReplicated,
    problems,
  };
}

/** Volumes held by fewer servers than 1 + their placement's digits (from the leader's /vol/status). */
export function underReplicatedVolumes(vol: Fetched<VolStatusBody>) {
  if (!vol.ok) return [];
  const seen = new Map<number, { collection: string; copies: number; expected: number }>();
  for (const racks of Object.values(vol.body.Volumes?.DataCenters ?? {}))
    for (const nodes of Object.values(racks ?? {}))
      for (const infos of Object.values(nodes ?? {}))
        for (const v of infos ?? []) {
          if (typeof v.Id !== 'number') continue;
          const rp = v.ReplicaPlacement ?? {};
          const expected = 1 + (rp.node ?? 0) + (rp.rack ?? 0) + (rp.dc ?? 0);
          const cur = seen.get(v.Id) ?? { collection: v.Collection ?? '', copies: 0, expected };
          cur.copies++;
          seen.set(v.Id, cur);
        }
  return [...seen.entries()]
    .filter(([, v]) => v.copies < v.expected)
    .map(([volume, v]) => ({ volume, ...v }))
    .sort((a, b) => a.volume - b.volume);
}
