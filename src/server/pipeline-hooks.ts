/**
 * Two public endpoints outside the JSON route table, because they speak other protocols: git providers' push
 * webhooks (the signature covers the exact bytes, so the body is kept raw) and the token endpoint of grim's build
 * registry (distribution's token spec: Basic credentials in, JWT out).
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from './services.ts';
import { sendError } from './errors.ts';

export async function registerPipelineHooks(app: FastifyInstance, services: Services) {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(
      '/api/pipelines/:name/webhook',
      {
        config: { role: 'public' },
        schema: { tags: ['pipelines'], summary: 'Push webhook (GitHub, Gitea, GitLab)' },
      },
      async (req, reply) => {
        const name = String((req.params as { name?: string }).name ?? '');
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const r = await services.pipelines.webhook(name, req.headers, body, req.ip);
        if (r.status >= 400) return sendError(reply, r.status, r.code, r.message);
        return reply
          .code(r.status)
          .send({ status: r.code, message: r.message, buildsetId: r.buildsetId ?? null });
      },
    );
  });
  app.get(
    '/api/registry/token',
    {
      config: { role: 'public' },
      schema: { tags: ['pipelines'], summary: "Token endpoint of grim's build registry" },
    },
    async (req, reply) => {
      const q = req.query as Record<string, string | string[] | undefined>;
      const scopes = ([] as string[])
        .concat(q.scope ?? [])
        .flatMap((s) => s.split(' '))
        .filter(Boolean);
      const service = typeof q.service === 'string' ? q.service : null;
      const r = services.pipelines.registry.issueToken(req.headers.authorization, service, scopes);
      if ('error' in r) return sendError(reply, r.status, r.error.code, r.error.message);
      return reply.code(200).send(r.token);
    },
  );
}
