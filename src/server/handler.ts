import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static, TSchema } from 'typebox';
import type { RouteDef, Output } from '../api/route.ts';
import type { Routes, OperationId } from '../api/index.ts';
import type { Principal } from '../services/auth.ts';
import type { Services } from './services.ts';

type S<T> = T extends TSchema ? Static<T> : undefined;

export interface HandlerCtx<D> {
  body: D extends RouteDef<infer B, any, any, any> ? S<B> : never;
  query: D extends RouteDef<any, infer Q, any, any> ? S<Q> : never;
  params: D extends RouteDef<any, any, infer P, any> ? S<P> : never;
  /** Set on every non-public route (the auth hook guarantees it). */
  principal: Principal;
  ip: string;
  services: Services;
  req: FastifyRequest;
  reply: FastifyReply;
}

export type Handler<D> = (ctx: HandlerCtx<D>) => Promise<Output<D>>;
export type HandlerMap<K extends OperationId> = { [P in K]: Handler<Routes[P]> };
export type Handlers = HandlerMap<OperationId>;
