import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import Type from 'typebox';
import { routes, type OperationId } from '../api/index.ts';
import { ErrorBody } from '../api/common.ts';
import { mayCall } from '../domain/roles.ts';
import type { Principal } from '../services/auth.ts';
import type { Services } from './services.ts';
import type { Handlers } from './handler.ts';
import { errorHandler, sendError } from './errors.ts';
import { HttpMetrics } from './http-metrics.ts';
import { LoginLimiter } from './login-limiter.ts';
import { handlers as allHandlers } from './handlers/index.ts';
import { registerSystemRoutes } from './system-routes.ts';
import { coerceQuery } from './query-coerce.ts';
import { registerWeb } from './web.ts';
import { registerJobEvents } from './job-events.ts';
import { registerFederate } from './federate.ts';
import { registerTerminal } from './terminal.ts';
import { registerPipelineHooks } from './pipeline-hooks.ts';
import { registerBuildbotUi } from './buildbot-ui.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** Extra facts a handler adds to this request's audit entry (e.g. the command it ran). */
    auditDetails?: Record<string, unknown>;
  }
  interface FastifyContextConfig {
    operationId?: OperationId;
    role?: string;
    deployer?: boolean;
  }
}

export const SESSION_COOKIE = 'grim_session';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AppOptions {
  services: Services;
  logger?: FastifyServerOptions['logger'];
  https?: { key: Buffer; cert: Buffer } | null;
  handlers?: Handlers;
  loginLimiter?: LoginLimiter;
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { services } = opts;
  const secure = !!opts.https || !!services.config.secureCookies;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: services.config.bodyLimit,
    trustProxy: false,
    ...(opts.https ? { https: opts.https } : {}),
    // Long path parameters reach schema validation (and its clear 400) instead of the router's bare 414.
    routerOptions: { maxParamLength: 8192 },
    // Router-level rejections (bad URL encoding and the like) get the same JSON error shape.
    frameworkErrors: (err: Error & { statusCode?: number }, _req: unknown, reply: any) =>
      sendError(
        reply,
        err.statusCode && err.statusCode < 500 ? err.statusCode : 400,
        'bad_request',
        err.message,
      ),
    ajv: {
      customOptions: {
        allErrors: true,
        strictNumbers: true,
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: true,
      },
    },
  } as FastifyServerOptions);
  const metrics = new HttpMetrics();
  const limiter = opts.loginLimiter ?? new LoginLimiter({ db: services.db });
  app.decorate('grim', { services, metrics, limiter, secure });
  app.decorateRequest('principal', null);

  await app.register(cookie);
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        // Only over https: on a plain-http address the browser would otherwise ask for https and load nothing.
        upgradeInsecureRequests: secure ? [] : null,
      },
    },
    hsts: secure,
    // Browsers ignore these on a plain-http origin that is not loopback, and log an error each time.
    crossOriginOpenerPolicy: secure,
    originAgentCluster: secure,
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'grim API', version: '0.1.0', description: 'The grim control plane API' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
    },
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  // Who is calling: bearer token or session cookie. Then the route's role, then CSRF. One mechanism for every route.
  app.addHook('onRequest', async (req, reply) => {
    req.principal = await resolvePrincipal(req, services);
    const role = req.routeOptions.config?.role;
    if (!role || role === 'public') return;
    if (!req.principal) return sendError(reply, 401, 'unauthenticated', 'log in or send an API token');
    const config = req.routeOptions.config;
    const target = (req.params as Record<string, unknown> | undefined)?.name;
    if (
      !mayCall(
        req.principal.role,
        role as Principal['role'],
        { allowsDeployer: !!config?.deployer, target: typeof target === 'string' ? target : null },
        req.principal.apps ?? null,
      )
    )
      return sendError(
        reply,
        403,
        'forbidden',
        req.principal.role === 'deployer'
          ? `this deployer token may only deploy ${(req.principal.apps ?? []).join(', ') || 'nothing'}`
          : `needs role ${role}; you are ${req.principal.role}`,
      );
    if (req.principal.via === 'session' && MUTATING.has(req.method)) {
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || sent !== req.principal.csrfToken)
        return sendError(reply, 403, 'csrf', 'missing or wrong X-CSRF-Token header');
    }
  });

  // Every mutation is audited before the answer leaves: who, what, target, outcome.
  app.addHook('onSend', async (req, reply, payload) => {
    const op = req.routeOptions.config?.operationId;
    if (!op || !MUTATING.has(req.method) || op === 'login') return payload;
    const status = reply.statusCode;
    const p = req.principal;
    const params = (req.params ?? {}) as Record<string, unknown>;
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const target = String(params.id ?? params.name ?? body.name ?? body.username ?? '').slice(0, 256);
    await services.audit.record({
      actor: p?.username ?? '-',
      actorKind: p ? (p.via === 'token' ? 'token' : 'user') : 'anonymous',
      action: op,
      target,
      outcome: status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure',
      details: {
        method: req.method,
        path: req.url.split('?')[0],
        status,
        ...(p?.tokenId ? { tokenId: p.tokenId } : {}),
        ...(req.auditDetails ?? {}),
      },
      ip: req.ip,
    });
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    metrics.observe(
      req.method,
      req.routeOptions.url ?? 'unknown',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  registerTableRoutes(app, services, opts.handlers ?? allHandlers);
  registerSystemRoutes(app, services, metrics);
  registerJobEvents(app, services);
  registerFederate(app, services);
  await registerTerminal(app, services);
  await registerPipelineHooks(app, services);
  await registerBuildbotUi(app, services); // after registerTerminal: it needs the WebSocket plugin
  await registerWeb(app);
  return app;
}

async function resolvePrincipal(req: FastifyRequest, services: Services): Promise<Principal | null> {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) {
    const found = await services.auth.principalFromToken(auth.slice(7).trim());
    if (found?.firstUseInHour)
      await services.audit.record({
        actor: found.principal.username,
        actorKind: 'token',
        action: 'token.use',
        target: found.principal.tokenId ?? '',
        outcome: 'success',
        ip: req.ip,
      });
    if (!found)
      await services.audit.record({
        actor: '-',
        actorKind: 'anonymous',
        action: 'token.rejected',
        outcome: 'denied',
        ip: req.ip,
      });
    return found?.principal ?? null;
  }
  const sid = req.cookies?.[SESSION_COOKIE];
  return sid ? services.auth.principalFromSession(sid) : null;
}

function registerTableRoutes(app: FastifyInstance, services: Services, handlers: Handlers) {
  for (const [operationId, def] of Object.entries(routes) as Array<
    [OperationId, (typeof routes)[OperationId]]
  >) {
    const handler = handlers[operationId] as (ctx: any) => Promise<unknown>;
    const status = def.status ?? 200;
    app.route({
      method: def.method,
      url: def.path,
      bodyLimit: def.bodyLimit,
      config: { operationId, role: def.role, deployer: !!def.deployer },
      schema: {
        operationId,
        summary: def.summary,
        tags: [def.tag],
        ...(def.role === 'public' ? {} : { security: [{ bearer: [] }, { session: [] }] }),
        ...(def.body ? { body: def.body } : {}),
        ...(def.query ? { querystring: def.query } : {}),
        ...(def.params ? { params: def.params } : {}),
        response: { [status]: def.response, '4xx': ErrorBody, '5xx': ErrorBody },
      },
      preValidation: async (req) => {
        if (def.query) req.query = coerceQuery(def.query, req.query as Record<string, unknown>);
      },
      handler: async (req, reply) => {
        const out = await handler({
          body: req.body,
          query: req.query,
          params: req.params,
          principal: req.principal,
          ip: req.ip,
          services,
          req,
          reply,
        });
        reply.code(status);
        return out;
      },
    });
  }
}

export const NoContent = Type.Object({});
