import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.ts';
import { configFromEnv, type ServerConfig } from '../../src/server/config.ts';
import { createServices } from '../../src/server/start.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import type { Services } from '../../src/server/services.ts';
import { LoginLimiter } from '../../src/server/login-limiter.ts';

export const ADMIN_PASSWORD = 'correct-horse-battery';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  dataDir: string;
  /** Bearer token of the first admin. */
  adminToken: string;
  tokenFor(role: 'viewer' | 'operator' | 'admin'): Promise<string>;
  call(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; json: any; headers: Record<string, unknown> }>;
}

/** A real app on a real SQLite file (in a temp dir), driven with inject(): no network. */
export async function startTestApp(
  t: TestContext | { after: (fn: () => unknown) => void },
  opts: { limiter?: LoginLimiter; config?: Partial<ServerConfig> } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'grim-test-'));
  const config = { ...configFromEnv({ dataDir, host: '127.0.0.1', port: 0 }, {}), ...opts.config };
  const services = await createServices(config, openSqlite(join(dataDir, 'grim.db')));
  await services.auth.createUser('admin', ADMIN_PASSWORD, 'admin');
  const app = await buildApp({ services, loginLimiter: opts.limiter });
  await app.ready();
  t.after(async () => {
    await app.close();
    await services.leases.stop();
    services.pool.close();
    await services.db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const admin = (await services.auth.listUsers())[0];
  const adminPrincipal = {
    userId: admin.id,
    username: 'admin',
    role: 'admin' as const,
    via: 'session' as const,
  };
  const adminToken = (await services.auth.createToken(adminPrincipal, 'test', 'admin')).secret;
  const call: TestApp['call'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const res = await app.inject({
      method: method as any,
      url,
      headers,
      ...(o.body !== undefined ? { payload: o.body as any } : {}),
    });
    let json: any;
    try {
      json = res.json();
    } catch {
      json = res.body;
    }
    return { status: res.statusCode, json, headers: res.headers };
  };
  let n = 0;
  return {
    app,
    services,
    dataDir,
    adminToken,
    call,
    async tokenFor(role) {
      const username = `${role}${++n}`;
      const r = await call('POST', '/api/users', {
        token: adminToken,
        body: { username, password: ADMIN_PASSWORD, role },
      });
      if (r.status !== 201) throw new Error(`createUser: ${JSON.stringify(r.json)}`);
      const u = r.json.user;
      return (await services.auth.createToken({ userId: u.id, username, role, via: 'session' }, 't', role))
        .secret;
    },
  };
}
