import type { Tracer } from '../services/tracing/tracer.ts';
import type { Db } from '../store/db.ts';
import type { AuditLog } from '../services/audit.ts';
import type { AuthService } from '../services/auth.ts';
import type { ServerConfig } from './config.ts';
import type { SshPool } from '../ssh/index.ts';
import type { NodeService } from '../services/nodes.ts';
import type { InventoryService } from '../services/inventory.ts';
import type { JobStore } from '../services/jobs.ts';
import type { RunService } from '../services/runs.ts';
import type { UpdateService } from '../services/updates.ts';
import type { MetricsService } from '../services/metrics.ts';
import type { AppService } from '../services/apps/app-service.ts';
import type { LeaseManager } from '../services/leases.ts';
import type { StorageService } from '../services/storage/storage-service.ts';
import type { StorageHealthLoop } from '../services/storage/health-loop.ts';
import type { SeaweedService } from '../services/seaweedfs/seaweed-service.ts';
import type { SeaweedAccess } from '../services/seaweedfs/access.ts';
import type { SeaweedOperations } from '../services/seaweedfs/operations.ts';
import type { PipelineService } from '../services/pipelines/pipeline-service.ts';
import type { ShipperStatsView } from '../services/logs/shipper-types.ts';
import type { LokiTarget } from '../integrations/loki/push-client.ts';
import type { SshRotation } from '../services/ssh-rotation.ts';
import type { MonitoringStackService } from '../services/monitoring/stack-service.ts';

/** Everything a handler may call. Handlers stay thin: they translate, the services act. */
export interface Services {
  /** This instance's leases: background loops run under them (`leases.runUnderLease`), jobs are owned by its id. */
  leases: LeaseManager;
  config: ServerConfig;
  db: Db;
  audit: AuditLog;
  /** grim's own traces (deploys, rollouts, OS updates) to an OTLP receiver; a no-op without GRIM_OTLP_ENDPOINT. */
  tracer: Tracer;
  auth: AuthService;
  identity: { publicKey: string; fingerprint: string };
  pool: SshPool;
  inventory: InventoryService;
  nodes: NodeService;
  jobs: JobStore;
  runs: RunService;
  updates: UpdateService;
  apps: AppService;
  metrics: MetricsService;
  storage: StorageService;
  storageHealth: StorageHealthLoop;
  seaweedfs: SeaweedService;
  seaweedAccess: SeaweedAccess;
  seaweedOps: SeaweedOperations;
  pipelines: PipelineService;
  /** The log shipper's counters while it runs (GRIM_LOKI_URL set), for /metrics and the UI. */
  logShipping?: { stats: ShipperStatsView; target: LokiTarget } | null;
  /** `grim ssh rotate`: the key rotation in progress, if any. */
  sshRotation: SshRotation;
  /** `grim monitoring enable`: the Cortex/Loki/Tempo/Grafana stack grim deploys and feeds. */
  monitoringStack: MonitoringStackService;
}
