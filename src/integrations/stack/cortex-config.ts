/**
 * Cortex single-process configuration (target "all", blocks storage), in the shape of Cortex's own
 * single-process examples: in-memory rings (one process), auth enabled so every request names its tenant
 * (X-Scope-OrgID), blocks on S3 (the environment's SeaweedFS) or on a local directory. Validated against
 * Cortex's official JSON schema in the tests.
 */
export type ObjectStorage =
  | { kind: 'filesystem'; dir: string }
  | {
      kind: 's3';
      /** host:port of the S3 endpoint (SeaweedFS's S3 gateway). */
      endpoint: string;
      bucket: string;
      accessKeyId: string;
      secretAccessKey: string;
      insecure: boolean;
    };

export interface CortexSettings {
  httpPort: number;
  grpcPort: number;
  dataDir: string;
  storage: ObjectStorage;
  /** Alertmanager Cortex's ruler sends to (grim's Alertmanager). */
  alertmanagerUrl?: string;
  /** Network interfaces whose address the ring advertises (Cortex's default: eth0, en0). */
  interfaceNames?: string[];
}

/** Directories Cortex expects to exist before it starts (its local Alertmanager and ruler stores). */
export function cortexDirectories(s: Pick<CortexSettings, 'dataDir'>): string[] {
  return [`${s.dataDir}/alertmanager`, `${s.dataDir}/rules`, `${s.dataDir}/ruler-tmp`];
}

/**
 * Flags that pin every address Cortex would otherwise read from eth0 or en0 (its default: on a node whose
 * interface is ens18 or enp3s0 it stops with "no address found") and point its querier at its own frontend on
 * the node's address (single-process mode guesses 127.0.0.1, where grim's gRPC does not listen, and then never
 * becomes ready). Flags, because the YAML keys for these addresses are hidden from Cortex's config schema.
 */
export function cortexAddressFlags(address: string, grpcPort: number): string[] {
  const rings = [
    'ingester.lifecycler.addr',
    'distributor.ring.instance-addr',
    'compactor.ring.instance-addr',
    'store-gateway.sharding-ring.instance-addr',
    'ruler.ring.instance-addr',
    'alertmanager.sharding-ring.instance-addr',
    'frontend.instance-addr',
  ];
  return [...rings.map((f) => `-${f}=${address}`), `-querier.frontend-address=${address}:${grpcPort}`];
}

export function cortexConfig(s: CortexSettings): Record<string, unknown> {
  const ring = { kvstore: { store: 'inmemory' } };
  const blocks =
    s.storage.kind === 's3'
      ? {
          backend: 's3',
          s3: {
            endpoint: s.storage.endpoint,
            bucket_name: s.storage.bucket,
            access_key_id: s.storage.accessKeyId,
            secret_access_key: s.storage.secretAccessKey,
            insecure: s.storage.insecure,
            bucket_lookup_type: 'path',
          },
        }
      : { backend: 'filesystem', filesystem: { dir: s.storage.dir } };
  return {
    target: 'all',
    auth_enabled: true,
    server: {
      http_listen_port: s.httpPort,
      grpc_listen_port: s.grpcPort,
      grpc_server_max_recv_msg_size: 104857600,
      grpc_server_max_send_msg_size: 104857600,
    },
    distributor: { shard_by_all_labels: true, pool: { health_check_ingesters: true }, ring },
    ingester: {
      lifecycler: {
        min_ready_duration: '0s',
        final_sleep: '0s',
        num_tokens: 512,
        ...(s.interfaceNames ? { interface_names: s.interfaceNames } : {}),
        ring: { ...ring, replication_factor: 1 },
      },
    },
    blocks_storage: {
      ...blocks,
      tsdb: { dir: `${s.dataDir}/tsdb` },
      bucket_store: { sync_dir: `${s.dataDir}/tsdb-sync` },
    },
    compactor: { data_dir: `${s.dataDir}/compactor`, sharding_ring: ring },
    store_gateway: { sharding_ring: { ...ring, replication_factor: 1 } },
    frontend_worker: { match_max_concurrent: true },
    // its default is ./active-query-tracker, in whatever directory Cortex was started from
    querier: { active_query_tracker_dir: `${s.dataDir}/active-query-tracker` },
    ruler: {
      enable_api: true,
      rule_path: `${s.dataDir}/ruler-tmp`,
      ring,
      ...(s.alertmanagerUrl ? { alertmanager_url: s.alertmanagerUrl } : {}),
    },
    ruler_storage: { backend: 'local', local: { directory: `${s.dataDir}/rules` } },
    // target "all" runs Cortex's own Alertmanager too, which refuses to start without its external URL
    alertmanager: {
      external_url: `http://127.0.0.1:${s.httpPort}/alertmanager`,
      sharding_ring: { ...ring, replication_factor: 1 },
    },
    alertmanager_storage: { backend: 'local', local: { path: `${s.dataDir}/alertmanager` } },
  };
}
