/**
 * Buildbot's own web UI through grim, at /buildbot/: Buildbot listens on 127.0.0.1 only, grim checks the
 * caller (a viewer's session or token) and forwards GETs and the UI's WebSocket (live updates). Read-only: no
 * other method is forwarded, so builds are started and configured through grim alone. Buildbot's index page
 * carries its settings in an inline script; grim's CSP for these pages allows exactly that script (its hash)
 * and inline styles (the UI's React components set them), nothing else.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket as ServerSocket } from '@fastify/websocket';
import type { Services } from './services.ts';
import { sendError } from './errors.ts';
import { checkOrigin } from './terminal.ts';

export const BUILDBOT_UI_PATH = '/buildbot/';
const PASSED_HEADERS = ['content-type', 'cache-control', 'etag', 'last-modified'];

/** The CSP of a Buildbot page: its inline scripts by hash, inline styles, everything else from grim's origin. */
export function buildbotCsp(html: string | null): string {
  const hashes = [...(html ?? '').matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self'${hashes.map((h) => ` ${h}`).join('')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
  ].join('; ');
}

export async function registerBuildbotUi(app: FastifyInstance, services: Services): Promise<void> {
  const upstream = () => `127.0.0.1:${services.pipelines.buildbot.settings.wwwPort}`;
  const notRunning = (reply: FastifyReply) =>
    sendError(reply, 503, 'unavailable', 'Buildbot is not running: apply the build configuration first');
  app.get('/buildbot', { config: { role: 'viewer' }, schema: { hide: true } }, (_req, reply) =>
    reply.redirect(BUILDBOT_UI_PATH),
  );
  // The UI's live updates: a WebSocket bridged to Buildbot's (same-origin pages only, like the terminal).
  app.get(
    '/buildbot/ws',
    { websocket: true, config: { role: 'viewer' }, schema: { hide: true }, preValidation: checkOrigin },
    (socket: ServerSocket) => bridge(socket, `ws://${upstream()}/ws`),
  );
  app.get(
    '/buildbot/*',
    { config: { role: 'viewer' }, schema: { hide: true } },
    async (req: FastifyRequest, reply: FastifyReply) => {
      if (!services.pipelines.buildbot.master.running()) return notRunning(reply);
      const path = req.url.slice(BUILDBOT_UI_PATH.length);
      let r: Response;
      try {
        r = await fetch(`http://${upstream()}/${path}`, {
          headers: { accept: String(req.headers.accept ?? '*/*') },
          signal: AbortSignal.timeout(30_000),
          redirect: 'manual',
        });
      } catch {
        return notRunning(reply);
      }
      const body = Buffer.from(await r.arrayBuffer());
      for (const h of PASSED_HEADERS) {
        const v = r.headers.get(h);
        if (v) reply.header(h, v);
      }
      const html = /^text\/html/.test(r.headers.get('content-type') ?? '') ? body.toString('utf8') : null;
      reply.header('content-security-policy', buildbotCsp(html));
      return reply.code(r.status >= 300 && r.status < 400 ? 502 : r.status).send(body);
    },
  );
}

/** Frames both ways until either side closes. */
function bridge(client: ServerSocket, url: string) {
  const up = new WebSocket(url);
  const early: Array<string | Uint8Array<ArrayBuffer>> = [];
  client.on('message', (data: Buffer, binary: boolean) => {
    const m = binary ? new Uint8Array(data) : data.toString('utf8');
    if (up.readyState === WebSocket.OPEN) up.send(m);
    else early.push(m);
  });
  up.addEventListener('open', () => {
    for (const m of early.splice(0)) up.send(m);
  });
  up.addEventListener('message', (e) => {
    if (client.readyState === client.OPEN) client.send(e.data as string);
  });
  const close = () => {
    if (client.readyState === client.OPEN) client.close();
    if (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING) up.close();
  };
  up.addEventListener('close', close);
  up.addEventListener('error', close);
  client.on('close', close);
  client.on('error', close);
}
