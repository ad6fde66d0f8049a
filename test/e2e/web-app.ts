import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.ts';
import { configFromEnv } from '../../src/server/config.ts';
import { createServices } from '../../src/server/start.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import { registerWeb } from '../../src/server/web.ts';

/**
 * The real app (its CSP, auth hook and error shapes) serving the web UI from distDir.
 * Works whether or not buildApp already calls registerWeb: GRIM_WEB_DIR points it at distDir.
 */
export async function appWithWeb(
  t: { after(fn: () => unknown): void },
  distDir: string,
): Promise<FastifyInstance> {
  const dataDir = mkdtempSync(join(tmpdir(), 'grim-web-'));
  const config = configFromEnv({ dataDir, host: '127.0.0.1', port: 0 }, {});
  const services = await createServices(config, openSqlite(join(dataDir, 'grim.db')));
  const before = process.env.GRIM_WEB_DIR;
  process.env.GRIM_WEB_DIR = distDir;
  let app: FastifyInstance;
  try {
    app = await buildApp({ services });
    if (!app.hasRoute({ method: 'GET', url: '/*' })) await registerWeb(app);
  } finally {
    if (before === undefined) delete process.env.GRIM_WEB_DIR;
    else process.env.GRIM_WEB_DIR = before;
  }
  await app.ready();
  t.after(async () => {
    await app.close();
    await services.db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return app;
}
