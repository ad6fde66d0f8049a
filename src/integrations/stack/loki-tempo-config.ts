/**
 * Loki (single binary, TSDB index, schema v13, structured metadata on) and Tempo (single binary, OTLP receivers
 * bound to explicit addresses, never 0.0.0.0 by default) configurations. Storage: an S3 bucket on the
 * environment's SeaweedFS (own bucket and key per component) or a local directory.
 */
import type { ObjectStorage } from './cortex-config.ts';

export interface LokiSettings {
  httpPort: number;
  grpcPort: number;
  /** Address the HTTP and gRPC servers listen on. */
  listenAddress: string;
  dataDir: string;
  storage: ObjectStorage;
  /** First day of the v13 schema period (YYYY-MM-DD); keep it stable once data exists. */
  schemaFrom: string;
  retentionDays?: number;
}

export function lokiConfig(s: LokiSettings): Record<string, unknown> {
  const s3 = s.storage.kind === 's3' ? s.storage : null;
  return {
    auth_enabled: true,
    server: {
      http_listen_address: s.listenAddress,
      http_listen_port: s.httpPort,
      grpc_listen_address: s.listenAddress,
      grpc_listen_port: s.grpcPort,
    },
    common: {
      path_prefix: s.dataDir,
      replication_factor: 1,
      ring: { instance_addr: s.listenAddress, kvstore: { store: 'inmemory' } },
      storage: s3
        ? {
            s3: {
              endpoint: s3.endpoint,
              bucketnames: s3.bucket,
              access_key_id: s3.accessKeyId,
              secret_access_key: s3.secretAccessKey,
              insecure: s3.insecure,
              s3forcepathstyle: true,
            },
          }
        : { filesystem: { chunks_directory: `${s.dataDir}/chunks`, rules_directory: `${s.dataDir}/rules` } },
    },
    schema_config: {
      configs: [
        {
          from: s.schemaFrom,
          store: 'tsdb',
          object_store: s3 ? 's3' : 'filesystem',
          schema: 'v13',
          index: { prefix: 'index_', period: '24h' },
        },
      ],
    },
    limits_config: {
      allow_structured_metadata: true,
      max_line_size: '256KB',
      reject_old_samples: true,
      reject_old_samples_max_age: '168h',
      retention_period: `${(s.retentionDays ?? 30) * 24}h`,
    },
    compactor: {
      working_directory: `${s.dataDir}/compactor`,
      retention_enabled: true,
      delete_request_store: s3 ? 's3' : 'filesystem',
    },
  };
}

export interface TempoSettings {
  httpPort: number;
  grpcPort: number;
  listenAddress: string;
  /** Where the OTLP receivers listen (explicit host:port, e.g. the node's address). */
  otlpHttpEndpoint: string;
  otlpGrpcEndpoint: string;
  dataDir: string;
  storage: ObjectStorage;
}

export function tempoConfig(s: TempoSettings): Record<string, unknown> {
  const s3 = s.storage.kind === 's3' ? s.storage : null;
  return {
    stream_over_http_enabled: true,
    server: {
      http_listen_address: s.listenAddress,
      http_listen_port: s.httpPort,
      grpc_listen_address: s.listenAddress,
      grpc_listen_port: s.grpcPort,
    },
    distributor: {
      receivers: {
        otlp: {
          protocols: { http: { endpoint: s.otlpHttpEndpoint }, grpc: { endpoint: s.otlpGrpcEndpoint } },
        },
      },
    },
    ingester: { max_block_duration: '5m' },
    storage: {
      trace: {
        backend: s3 ? 's3' : 'local',
        wal: { path: `${s.dataDir}/wal` },
        ...(s3
          ? {
              s3: {
                endpoint: s3.endpoint,
                bucket: s3.bucket,
                access_key: s3.accessKeyId,
                secret_key: s3.secretAccessKey,
                insecure: s3.insecure,
                forcepathstyle: true,
              },
            }
          : { local: { path: `${s.dataDir}/blocks` } }),
      },
    },
  };
}
