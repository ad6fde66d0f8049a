/**
 * A SeaweedFS cluster per environment, from a short spec: which storage nodes run masters, volume servers,
 * filers and S3 gateways, the filer store, and the default replication. Pure: validation lists every
 * problem, and `planCluster` turns a valid spec plus the nodes' facts into the services to run (with their
 * command-line options) in start order: masters, volumes, filers, S3 gateways.
 */
import { explainReplication, replicationProblems, copiesOf } from './replication.ts';

export type FilerStore = 'leveldb2' | 'postgres';

export interface ClusterSpec {
  environment: string;
  /** 1, or 3 (or 5) for raft quorum. */
  masters: string[];
  /** Volume servers; by default every storage node of the environment. */
  volumes: string[];
  filers: string[];
  filerStore: FilerStore;
  s3: string[];
  /** e.g. "000", "001", "010", "100". */
  replication: string;
  /** The largest a volume grows before the master opens another one. */
  volumeSizeLimitMB: number;
  /** Volume slots per volume server (0 = as many as free disk allows). */
  maxVolumes: number;
  /** refquota of the volume server's ZFS dataset on nodes with a pool (0 = 90% of the pool's free space). */
  volumeQuotaMB?: number;
  /** The recorded SeaweedFS release to install. */
  version: string;
}

export interface NodeFacts {
  name: string;
  environment: string;
  address: string;
  roles: string[];
  labels: Record<string, string>;
}

export const PORTS = {
  master: { http: 9333, grpc: 19333, metrics: 9324 },
  volume: { http: 8080, grpc: 18080, metrics: 9325 },
  filer: { http: 8888, grpc: 18888, metrics: 9326 },
  s3: { http: 8333, grpc: 18333, metrics: 9327 },
} as const;

export type Role = keyof typeof PORTS;
export const ROLE_ORDER: Role[] = ['master', 'volume', 'filer', 's3'];

/** Node-side layout, the same on every node (scripts/node/weed-*.sh use the same paths). */
export const LAYOUT = {
  configDir: '/etc/seaweedfs',
  dataDir: '/var/lib/grim/seaweedfs',
  servicesDir: '/var/lib/grim/seaweedfs/services',
  binary: '/opt/seaweedfs/weed',
} as const;

export interface PlannedService {
  node: string;
  address: string;
  role: Role;
  /** The supervised instance id: weed-master, weed-volume, weed-filer, weed-s3. */
  id: string;
  /** `name=value` lines for `weed <role> -options=<file>` (no secrets: those live in 0600 config files). */
  options: Record<string, string>;
}

export interface ClusterPlan {
  services: PlannedService[];
  nodes: string[];
  masterAddresses: string[];
  copies: number;
  replicationExplained: string;
}

const uniq = <T>(a: T[]) => [...new Set(a)];
const MAX_NODES = 100;

/** Every problem with a spec, given the environment's nodes. Paths are body fields. */
export function clusterSpecProblems(
  spec: ClusterSpec,
  nodes: NodeFacts[],
): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const add = (path: string, message: string) => out.push({ path: `body/${path}`, message });
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const checkList = (field: 'masters' | 'volumes' | 'filers' | 's3', list: string[], min: number) => {
    if (list.length < min) add(field, `needs at least ${min} node${min > 1 ? 's' : ''}`);
    if (list.length > MAX_NODES) add(field, `at most ${MAX_NODES} nodes`);
    if (uniq(list).length !== list.length) add(field, 'lists a node twice');
    for (const n of list) {
      const node = byName.get(n);
      if (!node) add(field, `node ${n} does not exist`);
      else if (node.environment !== spec.environment)
        add(field, `node ${n} is in environment ${node.environment}, not ${spec.environment}`);
      else if (!node.roles.includes('storage')) add(field, `node ${n} does not have the storage role`);
    }
  };
  checkList('masters', spec.masters, 1);
  if (![1, 3, 5].includes(spec.masters.length))
    add('masters', `1 master, or 3 or 5 for a raft quorum (got ${spec.masters.length})`);
  checkList('volumes', spec.volumes, 1);
  checkList('filers', spec.filers, 1);
  checkList('s3', spec.s3, 0);
  if (spec.filerStore === 'leveldb2' && spec.filers.length > 1)
    add('filers', 'several filers share metadata only on PostgreSQL: use filerStore postgres, or one filer');
  for (const m of replicationProblems(spec.replication)) add('replication', m);
  if (replicationProblems(spec.replication).length === 0) {
    const topo = topologyOf(spec.volumes.map((n) => byName.get(n)).filter((n): n is NodeFacts => !!n));
    for (const m of placementProblems(spec.replication, topo)) add('replication', m);
  }
  if (
    !Number.isInteger(spec.volumeSizeLimitMB) ||
    spec.volumeSizeLimitMB < 8 ||
    spec.volumeSizeLimitMB > 30_000
  )
    add('volumeSizeLimitMB', 'must be an integer from 8 to 30000');
  if (!Number.isInteger(spec.maxVolumes) || spec.maxVolumes < 0 || spec.maxVolumes > 10_000)
    add('maxVolumes', 'must be an integer from 0 (as many as the disk allows) to 10000');
  const q = spec.volumeQuotaMB ?? 0;
  if (!Number.isInteger(q) || q < 0 || q > 1e9 || (q > 0 && q < spec.volumeSizeLimitMB))
    add('volumeQuotaMB', 'must be 0 (90% of the pool) or an integer from volumeSizeLimitMB to 1000000000');
  return out;
}

/** dataCenter and rack of a node, from its labels (defaults dc1 / rack1). */
export function locationOf(node: NodeFacts): { dataCenter: string; rack: string } {
  const clean = (v: string | undefined, d: string) => (v && /^[A-Za-z0-9._-]{1,63}$/.test(v) ? v : d);
  return {
    dataCenter: clean(node.labels.datacenter ?? node.labels.dataCenter ?? node.labels.zone, 'dc1'),
    rack: clean(node.labels.rack, 'rack1'),
  };
}

/** dataCenter -> rack -> servers */
export type Topology = Map<string, Map<string, string[]>>;

export function topologyOf(nodes: NodeFacts[]): Topology {
  const t: Topology = new Map();
  for (const n of nodes) {
    const { dataCenter, rack } = locationOf(n);
    const racks = t.get(dataCenter) ?? new Map<string, string[]>();
    racks.set(rack, [...(racks.get(rack) ?? []), n.name]);
    t.set(dataCenter, racks);
  }
  return t;
}

/** Whether the volume servers' locations can hold the copies a replication asks for. */
export function placementProblems(replication: string, topo: Topology): string[] {
  const [dc, rack, server] = [...replication].map(Number);
  const p: string[] = [];
  const dcs = topo.size;
  const maxRacks = Math.max(0, ...[...topo.values()].map((r) => r.size));
  const maxServers = Math.max(0, ...[...topo.values()].flatMap((r) => [...r.values()].map((s) => s.length)));
  if (dcs < dc + 1)
    p.push(`${replication} needs volume servers in ${dc + 1} data centers (labels give ${dcs})`);
  if (maxRacks < rack + 1)
    p.push(`${replication} needs ${rack + 1} racks in one data center (at most ${maxRacks} found)`);
  if (maxServers < server + 1)
    p.push(`${replication} needs ${server + 1} volume servers in one rack (at most ${maxServers} found)`);
  return p;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The services of a valid spec, in start order. */
export function planCluster(spec: ClusterSpec, nodes: NodeFacts[]): ClusterPlan {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const node = (name: string) => {
    const n = byName.get(name);
    if (!n) throw new Error(`node ${name} missing from the plan's facts`);
    return n;
  };
  const masterAddresses = spec.masters.map((m) => hostPort(node(m).address, PORTS.master.http));
  const masters = masterAddresses.join(',');
  const filerAddress = hostPort(node(spec.filers[0]).address, PORTS.filer.http);
  const services: PlannedService[] = [];
  const svc = (role: Role, name: string, options: Record<string, string>) => {
    const n = node(name);
    services.push({ node: name, address: n.address, role, id: `weed-${role}`, options });
  };
  for (const m of spec.masters) {
    const n = node(m);
    svc('master', m, {
      ip: n.address,
      port: String(PORTS.master.http),
      'port.grpc': String(PORTS.master.grpc),
      mdir: `${LAYOUT.dataDir}/master`,
      peers: spec.masters.length === 1 ? 'none' : masters,
      defaultReplication: spec.replication,
      volumeSizeLimitMB: String(spec.volumeSizeLimitMB),
      telemetry: 'false',
      metricsPort: String(PORTS.master.metrics),
    });
  }
  for (const v of spec.volumes) {
    const n = node(v);
    const loc = locationOf(n);
    svc('volume', v, {
      ip: n.address,
      port: String(PORTS.volume.http),
      'port.grpc': String(PORTS.volume.grpc),
      dir: `${LAYOUT.dataDir}/volume`,
      max: String(spec.maxVolumes),
      minFreeSpace: '5',
      preStopSeconds: '3',
      index: 'leveldb',
      master: masters,
      dataCenter: loc.dataCenter,
      rack: loc.rack,
      metricsPort: String(PORTS.volume.metrics),
    });
  }
  for (const f of spec.filers) {
    const n = node(f);
    svc('filer', f, {
      ip: n.address,
      port: String(PORTS.filer.http),
      'port.grpc': String(PORTS.filer.grpc),
      master: masters,
      defaultStoreDir: `${LAYOUT.dataDir}/filer`,
      metricsPort: String(PORTS.filer.metrics),
    });
  }
  for (const s of spec.s3) {
    const n = node(s);
    // a gateway talks to the filer on its own node when there is one
    const filer = spec.filers.includes(s) ? hostPort(n.address, PORTS.filer.http) : filerAddress;
    svc('s3', s, {
      ip: n.address,
      'ip.bind': n.address,
      port: String(PORTS.s3.http),
      'port.grpc': String(PORTS.s3.grpc),
      filer,
      config: `${LAYOUT.configDir}/s3.json`,
      'port.iceberg': '0',
      'port.lance': '0',
      metricsPort: String(PORTS.s3.metrics),
    });
  }
  return {
    services,
    nodes: uniq(services.map((s) => s.node)),
    masterAddresses,
    copies: copiesOf(spec.replication),
    replicationExplained: explainReplication(spec.replication),
  };
}

/** `name=value` lines of an options file (values never hold newlines: they come from the plan). */
export function optionsFile(options: Record<string, string>): string {
  for (const [k, v] of Object.entries(options))
    if (/[\n\r]/.test(k + v)) throw new Error(`option ${k} holds a newline`);
  return Object.entries(options)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

/** Options of a `weed mount` of a filer path on a (compute) node. */
export function mountOptions(p: { filer: string; filerPath: string; dir: string; name: string }) {
  return {
    filer: p.filer,
    'filer.path': p.filerPath,
    dir: p.dir,
    dirAutoCreate: 'true',
    cacheDir: `${LAYOUT.dataDir}/mount-cache/${p.name}`,
    cacheCapacityMB: '256',
  };
}

export { explainReplication };
