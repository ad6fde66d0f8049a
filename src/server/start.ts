import { Tracer, tracingFromEnv } from '../services/tracing/tracer.ts';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { scheduledBackupsTick } from '../services/volumes/schedule.ts';
import { sharedMounterFor } from '../services/volumes/shared-mounts.ts';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/db.ts';
import { openSqlite } from '../store/sqlite.ts';
import { openPostgres } from '../store/postgres.ts';
import { migrate } from '../store/migrate.ts';
import { AuditLog } from '../services/audit.ts';
import { AuthService } from '../services/auth.ts';
import { randomPassword } from '../services/passwords.ts';
import { buildApp } from './app.ts';
import { isLoopback, type ServerConfig } from './config.ts';
import { ensureLocalCa, type TlsMaterial } from './tls.ts';
import type { Services } from './services.ts';
import { SshPool } from '../ssh/index.ts';
import { openSecretBox } from '../secrets/secret-box.ts';
import { loadSshIdentity } from '../services/ssh-identity.ts';
import { NodeService } from '../services/nodes.ts';
import { InventoryService } from '../services/inventory.ts';
import { JobStore } from '../services/jobs.ts';
import { RunService } from '../services/runs.ts';
import { UpdateService } from '../services/updates.ts';
import { MetricsService } from '../services/metrics.ts';
import { createMetricsCollector, metricsOptionsFromEnv } from '../services/metrics/collector.ts';
import { connectAppsToMetrics, createAppService } from '../services/apps/wiring.ts';
import { DEFAULT_LEASE_TTL_MS, LeaseManager } from '../services/leases.ts';
import { SshRotation } from '../services/ssh-rotation.ts';
import { markControlInstanceStopped, registerControlInstance } from '../store/leases-repo.ts';
import { lockDataDir } from '../store/sqlite-lock.ts';
import { pruneJobEvents } from '../store/job-events-repo.ts';
import { GRIM_VERSION } from './version.ts';
import { controlBackupScheduleFromEnv, runControlBackups } from '../services/backup/schedule.ts';
import { StorageService } from '../services/storage/storage-service.ts';
import { StorageHealthLoop } from '../services/storage/health-loop.ts';
import { createSeaweedServices } from '../services/seaweedfs/wiring.ts';
import { createPipelineService } from '../services/pipelines/wiring.ts';
import { startLogShipping } from '../services/logs/wiring.ts';
import { MonitoringStackService } from '../services/monitoring/stack-service.ts';
import { stackEnv } from '../services/monitoring/stack-wiring.ts';

export function openDb(config: ServerConfig): Db {
  return config.databaseUrl
    ? openPostgres(config.databaseUrl, { sessionTimeoutMs: leaseTtlFromEnv() ?? DEFAULT_LEASE_TTL_MS })
    : openSqlite(join(config.dataDir, 'grim.db'));
}

/** Lease timing from GRIM_LEASE_TTL_MS (default 15 s; renewed every third of it). */
export function leaseTtlFromEnv(env = process.env): number | undefined {
  if (!env.GRIM_LEASE_TTL_MS) return undefined;
  const ms = Number(env.GRIM_LEASE_TTL_MS);
  if (!(ms >= 300 && ms <= 600_000))
    throw new Error(`GRIM_LEASE_TTL_MS must be between 300 and 600000, got ${env.GRIM_LEASE_TTL_MS}`);
  return ms;
}

export async function createServices(
  config: ServerConfig,
  db = openDb(config),
  opts: { listen?: string } = {},
): Promise<Services> {
  await migrate(db);
  const audit = new AuditLog(db);
  const identity = await loadSshIdentity(db, config.dataDir);
  const pool = new SshPool({ privateKey: identity.privateKey, keyExchange: config.sshKeyExchange });
  const nodes = new NodeService({ db, audit, pool, identity });
  // On SQLite the server holds the data directory's lock: no other instance can be alive.
  const leases = new LeaseManager(db, { ttlMs: leaseTtlFromEnv(), exclusive: db.dialect === 'sqlite' });
  await leases.start();
  await registerControlInstance(db, {
    id: leases.instanceId,
    hostname: hostname(),
    pid: process.pid,
    version: GRIM_VERSION,
    listen: opts.listen ?? `${config.host}:${config.port}`,
  });
  const jobs = new JobStore(db, leases.instanceId);
  // Only jobs whose owner is gone; a live instance's jobs are its own business.
  await jobs.markOrphansInterrupted(await leases.liveInstances());
  const storage = new StorageService({ db, pool, audit });
  const auth = new AuthService(db);
  const sshRotation = new SshRotation({
    db,
    pool,
    jobs,
    box: openSecretBox(config.dataDir),
    audit,
    identity,
    liveInstances: () => leases.liveInstances(),
  });
  await sshRotation.applyKeys(); // a rotation under way: the old key stays a fallback login
  const tracer = new Tracer(tracingFromEnv(process.env));
  const seaweed = createSeaweedServices({ db, pool, audit, dataDir: config.dataDir });
  const services = {
    tracer,
    leases,
    storage,
    storageHealth: new StorageHealthLoop(storage),
    sshRotation,
    config,
    db,
    audit,
    auth,
    identity, // updated in place by `grim ssh rotate`
    pool,
    inventory: new InventoryService(db),
    nodes,
    jobs,
    runs: new RunService(nodes, jobs, pool),
    updates: new UpdateService(nodes, jobs, pool, tracer),
    metrics: new MetricsService({ db, nodes, inventory: new InventoryService(db) }),
    apps: createAppService({
      db,
      pool,
      jobs,
      dataDir: config.dataDir,
      netbox: config.netbox ?? null,
      leases,
      tracer,
    }),
    ...seaweed,
    monitoringStack: new MonitoringStackService({
      db,
      pool,
      audit,
      box: openSecretBox(config.dataDir),
      dataDir: config.dataDir,
      seaweedAccess: seaweed.seaweedAccess,
      ...(process.env.GRIM_MONITORING_NODE_DIR ? { nodeDir: process.env.GRIM_MONITORING_NODE_DIR } : {}),
    }),
    pipelines: createPipelineService({ db, audit, auth, dataDir: config.dataDir, pool }),
  };
  services.apps.volumes.setSharedMounter(sharedMounterFor(db, services.seaweedAccess));
  return services;
}

/**
 * Background work: heartbeats every 15 s, facts every 10 min, on one instance at a time (lease
 * `loop:heartbeats`); the node writes of a round are fenced by the lease's token.
 */
export function startMonitor(s: Services, heartbeatMs = 15_000, factsMs = 600_000, probeTimeoutMs?: number) {
  let lastFacts = Date.now();
  return s.leases.runUnderLease(
    'loop:heartbeats',
    async (lease) => {
      const facts = Date.now() - lastFacts > factsMs;
      if (facts) lastFacts = Date.now();
      const nodes = new NodeService({
        db: lease.db,
        audit: s.audit,
        pool: s.pool,
        identity: s.identity as never,
        probeTimeoutMs,
      });
      await nodes.probeAll(facts);
    },
    { everyMs: heartbeatMs },
  );
}

/**
 * `grim ssh rotate`: every instance follows the keys in the database (its pool logs in with the new key, the
 * old one as a fallback while the rotation runs); one instance at a time retries the nodes still waiting.
 */
export function startSshRotation(
  s: Services,
  retryMs = Number(process.env.GRIM_SSH_ROTATE_RETRY_MS) || 15_000,
) {
  const follow = setInterval(() => void s.sshRotation.applyKeys().catch(() => undefined), 5_000);
  follow.unref();
  const stopLoop = s.leases.runUnderLease('loop:ssh-rotate', (lease) => s.sshRotation.pass(lease.db), {
    everyMs: retryMs,
  });
  return async () => {
    clearInterval(follow);
    await stopLoop();
  };
}

/**
 * Orphaned jobs (owner instance gone) are marked interrupted, by one instance at a time, every few seconds;
 * the event rows of jobs finished over an hour ago are dropped (their tasks keep the output).
 */
export function startOrphanSweep(s: Services, everyMs = 3_000) {
  let lastPrune = 0;
  return s.leases.runUnderLease(
    'loop:orphans',
    async (lease) => {
      await s.jobs.markOrphansInterrupted(await s.leases.liveInstances());
      if (Date.now() - lastPrune > 60_000) {
        lastPrune = Date.now();
        await pruneJobEvents(lease.db, Date.now() - 3_600_000);
      }
    },
    { everyMs },
  );
}

/** Scheduled control-plane backups (GRIM_CONTROL_BACKUP_TO), on one instance at a time. */
function startControlBackups(s: Services, config: ServerConfig): () => Promise<void> {
  const schedule = controlBackupScheduleFromEnv();
  if (!schedule) return async () => undefined;
  return runControlBackups(
    s.leases,
    { db: s.db, dataDir: config.dataDir, databaseUrl: config.databaseUrl, audit: s.audit },
    schedule,
  );
}

/**
 * First run: create the first admin. The password comes from GRIM_ADMIN_PASSWORD or is random and
 * printed once. There is no open setup page, so a fresh instance cannot be claimed by whoever comes first.
 */
export async function ensureFirstAdmin(s: Services, print: (line: string) => void, env = process.env) {
  if ((await s.auth.countUsers()) > 0) return null;
  const password = env.GRIM_ADMIN_PASSWORD || randomPassword();
  const username = env.GRIM_ADMIN_USER || 'admin';
  await s.auth.createUser(username, password, 'admin');
  await s.audit.record({
    actor: 'system',
    actorKind: 'system',
    action: 'user.first-admin',
    target: username,
    outcome: 'success',
  });
  if (!env.GRIM_ADMIN_PASSWORD)
    print(`first run: created user "${username}" with one-time password: ${password}`);
  else print(`first run: created user "${username}" with the password from GRIM_ADMIN_PASSWORD`);
  return { username, password };
}

export function tlsFor(config: ServerConfig): TlsMaterial | null {
  if (config.tlsCert && config.tlsKey)
    return { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) };
  if (isLoopback(config.host) || config.insecureHttp) return null;
  return ensureLocalCa(config.dataDir, config.host);
}

export async function startServer(
  config: ServerConfig,
  print = (l: string) => process.stderr.write(l + '\n'),
) {
  if (!isLoopback(config.host) && config.insecureHttp)
    print(`warning: serving plain HTTP on ${config.host} because GRIM_INSECURE_HTTP=1`);
  metricsOptionsFromEnv(); // a wrong setting stops the server before anything starts
  const lock = config.databaseUrl ? null : lockDataDir(config.dataDir);
  const services = await createServices(config).catch((err) => {
    lock?.release();
    throw err;
  });
  await ensureFirstAdmin(services, print);
  // A deployed monitoring stack is where metrics, logs and traces go unless the environment says otherwise.
  let env = stackEnv(await services.monitoringStack.activeEndpoints(), process.env);
  const metricsOptions = metricsOptionsFromEnv(env);
  services.tracer.reconfigure(tracingFromEnv(env));
  const tls = tlsFor(config);
  const app: FastifyInstance = await buildApp({
    services,
    https: tls ? { key: tls.key, cert: tls.cert } : null,
    logger: { level: config.logLevel },
  });
  const address = await app.listen({ host: config.host, port: config.port });
  const stopMonitor = startMonitor(services);
  const stopOrphans = startOrphanSweep(services);
  const stopRotation = startSshRotation(services);
  connectAppsToMetrics(services.apps, services.metrics, services.db);
  const stopApps = services.apps.startBackground(
    services.leases,
    Number(process.env.GRIM_RECONCILE_MS) || 10_000,
  );
  // Metrics collection: one instance at a time; the collector's writes are fenced by the loop's lease.
  const collector = createMetricsCollector(
    { ...services, db: services.leases.loopDb('loop:metrics') },
    metricsOptions,
  );
  const stopMetrics = services.leases.runUnderLease(
    'loop:metrics',
    async () => {
      await collector.collectOnce();
      await collector.maintainIfDue();
    },
    { everyMs: collector.intervalMs },
  );
  // Storage health: every minute, on one instance at a time, its writes fenced by the lease.
  const stopStorage = services.storageHealth.runUnder(services.leases);
  // SeaweedFS health: polled on one instance at a time.
  const stopSeaweed = services.leases.runUnderLease(
    'loop:seaweedfs-health',
    () => services.seaweedfs.pollAll(),
    {
      everyMs: Number(process.env.GRIM_SEAWEED_POLL_MS) || 15_000,
    },
  );
  services.pipelines.resume();
  // Scheduled volume backups: on one instance at a time.
  const stopBackups = services.leases.runUnderLease(
    'loop:volume-backups',
    () => scheduledBackupsTick(services.apps),
    {
      everyMs: Number(process.env.GRIM_BACKUP_TICK_MS) || 60_000,
    },
  );
  const stopControlBackups = startControlBackups(services, config);
  let stopLogShipping = startLogShipping(services, print, env);
  let rewiring = Promise.resolve();
  services.monitoringStack.onChange((endpoints) => {
    env = stackEnv(endpoints, process.env);
    collector.retarget(metricsOptionsFromEnv(env));
    services.tracer.reconfigure(tracingFromEnv(env));
    rewiring = rewiring.then(async () => {
      await stopLogShipping();
      services.logShipping = null;
      stopLogShipping = startLogShipping(services, print, env);
    });
  });
  // Build failures are reported (audit + /metrics) by one instance at a time.
  const stopBuildWatch = services.leases.runUnderLease(
    'loop:pipeline-builds',
    () => services.pipelines.watchOnce(),
    {
      everyMs: Number(process.env.GRIM_PIPELINE_WATCH_MS) || 15_000,
    },
  );
  print(
    `grim listening on ${address} (${services.db.dialect}${tls?.caCertPath ? `, CA ${tls.caCertPath}` : ''})`,
  );
  const stop = async () => {
    await stopMonitor();
    await stopOrphans();
    await stopRotation();
    await stopApps();
    await stopMetrics();
    await collector.drain();
    await stopStorage();
    await stopSeaweed();
    await stopBackups();
    await stopControlBackups();
    await rewiring;
    await stopLogShipping();
    await stopBuildWatch();
    await app.close();
    await services.tracer.shutdown(); // the spans of the last steps reach the receiver before the process exits
    await services.leases.stop();
    await markControlInstanceStopped(services.db, services.leases.instanceId).catch(() => undefined);
    services.pool.close();
    await services.db.close();
    lock?.release();
  };
  return { app, services, address, stop };
}
