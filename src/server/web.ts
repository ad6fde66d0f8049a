import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { sendError } from './errors.ts';

/** Where `npm run build:web` puts the single-page app; GRIM_WEB_DIR serves a build from elsewhere. */
export const WEB_DIST = resolve(import.meta.dirname, '../web/dist');

/** Paths that belong to the server itself: never answered with the SPA's index.html. */
const SERVER_PATHS = /^\/(api(\/|$)|healthz$|readyz$|metrics$)/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
const NOT_BUILT = 'web UI not built: run npm run build:web\n';

/** Every file under dir, as '/'-separated paths relative to it. */
function listFiles(dir: string): Set<string> {
  const out = new Set<string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    out.add(relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
  }
  return out;
}

/**
 * Serves the web UI from the same origin as the API: the built files (hashed assets cached forever),
 * and index.html for any other GET that wants HTML, so that client-side routes survive a reload.
 * Only files that exist in the build are served (the list is read once, when the build is first seen).
 */
export async function registerWeb(app: FastifyInstance, opts: { distDir?: string } = {}): Promise<void> {
  const dist = opts.distDir ?? process.env.GRIM_WEB_DIR ?? WEB_DIST;
  let files: Set<string> | null = null;
  const builtFiles = () => {
    if (!files && existsSync(join(dist, 'index.html'))) files = listFiles(dist);
    return files;
  };

  await app.register(async (web) => {
    await web.register(fastifyStatic, { serve: false });

    const sendIndex = (reply: FastifyReply) =>
      reply.header('cache-control', 'no-cache').sendFile('index.html', dist, { cacheControl: false });

    const serve = async (req: FastifyRequest, reply: FastifyReply) => {
      let path: string;
      try {
        path = decodeURIComponent(req.url.split('?')[0]);
      } catch {
        return sendError(reply, 400, 'bad_request', 'bad URL encoding');
      }
      if (SERVER_PATHS.test(path)) return sendError(reply, 404, 'not_found', `no route GET ${path}`);
      const built = builtFiles();
      const wantsHtml = (req.headers.accept ?? '').includes('text/html');
      if (!built) {
        if (path === '/' || wantsHtml) return reply.code(503).type('text/plain').send(NOT_BUILT);
        return sendError(reply, 404, 'not_found', `no route GET ${path}`);
      }
      const rel = path.slice(1);
      if (rel !== '' && built.has(rel)) {
        const cache = rel.startsWith('assets/') ? IMMUTABLE : 'no-cache';
        return reply.header('cache-control', cache).sendFile(rel, dist, { cacheControl: false });
      }
      if (path === '/' || wantsHtml) return sendIndex(reply);
      return sendError(reply, 404, 'not_found', `no route GET ${path}`);
    };

    const config = { role: 'public' };
    const schema = { hide: true };
    web.get('/', { config, schema }, serve);
    web.get('/*', { config, schema }, serve);
  });
}
