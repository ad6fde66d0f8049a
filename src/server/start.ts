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

export function openDb(config: ServerConfig): Db {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openSqlite(join(config.dataDir, 'grim.db'));
}

export async function createServices(config: ServerConfig, db = openDb(config)): Promise<Services> {
  await migrate(db);
  return { config, db, audit: new AuditLog(db), auth: new AuthService(db) };
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
  const services = await createServices(config);
  await ensureFirstAdmin(services, print);
  const tls = tlsFor(config);
  const app: FastifyInstance = await buildApp({
    services,
    https: tls ? { key: tls.key, cert: tls.cert } : null,
    logger: { level: config.logLevel },
  });
  const address = await app.listen({ host: config.host, port: config.port });
  print(
    `grim listening on ${address} (${services.db.dialect}${tls?.caCertPath ? `, CA ${tls.caCertPath}` : ''})`,
  );
  const stop = async () => {
    await app.close();
    await services.db.close();
  };
  return { app, services, address, stop };
}
