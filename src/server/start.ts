import { join } from 'node:path';
import { readFileSync } from 'node:fs';
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
import { loadSshIdentity } from '../services/ssh-identity.ts';
import { NodeService } from '../services/nodes.ts';
import { InventoryService } from '../services/inventory.ts';
import { JobStore } from '../services/jobs.ts';
import { RunService } from '../services/runs.ts';
import { UpdateService } from '../services/updates.ts';
import { MetricsService } from '../services/metrics.ts';
import { metricsOptionsFromEnv, startMetricsCollector } from '../services/metrics/collector.ts';
import { connectAppsToMetrics, createAppService } from '../services/apps/wiring.ts';

export function openDb(config: ServerConfig): Db {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openSqlite(join(config.dataDir, 'grim.db'));
}

export async function createServices(config: ServerConfig, db = openDb(config)): Promise<Services> {
  await migrate(db);
  const audit = new AuditLog(db);
  const identity = await loadSshIdentity(db, config.dataDir);
  const pool = new SshPool({ privateKey: identity.privateKey, keyExchange: config.sshKeyExchange });
  const nodes = new NodeService({ db, audit, pool, identity });
  const jobs = new JobStore(db);
  await jobs.markInterrupted();
  return {
    config,
    db,
    audit,
    auth: new AuthService(db),
    identity: { publicKey: identity.publicKey, fingerprint: identity.fingerprint },
    pool,
    inventory: new InventoryService(db),
    nodes,
    jobs,
    runs: new RunService(nodes, jobs, pool),
    updates: new UpdateService(nodes, jobs, pool),
    metrics: new MetricsService({ db, nodes, inventory: new InventoryService(db) }),
    apps: createAppService({ db, pool, jobs, dataDir: config.dataDir, netbox: config.netbox ?? null }),
  };
}

/** Background work: heartbeats every 15 s, facts every 10 min. */
export function startMonitor(s: Services, heartbeatMs = 15_000, factsMs = 600_000) {
  let lastFacts = Date.now();
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    const facts = Date.now() - lastFacts > factsMs;
    if (facts) lastFacts = Date.now();
    s.nodes.probeAll(facts).finally(() => (running = false));
  }, heartbeatMs);
  timer.unref();
  return () => clearInterval(timer);
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
  const metricsOptions = metricsOptionsFromEnv();
  const services = await createServices(config);
  await ensureFirstAdmin(services, print);
  const tls = tlsFor(config);
  const app: FastifyInstance = await buildApp({
    services,
    https: tls ? { key: tls.key, cert: tls.cert } : null,
    logger: { level: config.logLevel },
  });
  const address = await app.listen({ host: config.host, port: config.port });
  const stopMonitor = startMonitor(services);
  connectAppsToMetrics(services.apps, services.metrics, services.db);
  const stopApps = services.apps.startBackground(Number(process.env.GRIM_RECONCILE_MS) || 10_000);
  const metricsCollector = startMetricsCollector(services, metricsOptions);
  print(
    `grim listening on ${address} (${services.db.dialect}${tls?.caCertPath ? `, CA ${tls.caCertPath}` : ''})`,
  );
  const stop = async () => {
    stopMonitor();
    stopApps();
    await metricsCollector.stop();
    await app.close();
    services.pool.close();
    await services.db.close();
  };
  return { app, services, address, stop };
}
