import type { TSchema, Static } from 'typebox';
import type { Role } from '../domain/roles.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One API operation: the single source for validation, handler types, the OpenAPI document,
 * the typed client (CLI and web UI) and role enforcement.
 */
export interface RouteDef<
  B extends TSchema | undefined = TSchema | undefined,
  Q extends TSchema | undefined = TSchema | undefined,
  P extends TSchema | undefined = TSchema | undefined,
  R extends TSchema = TSchema,
> {
  method: Method;
  path: string; // fastify style: /api/users/:id
  summary: string;
  tag: string;
  /** Minimum role; 'public' routes need no credentials. */
  role: Role | 'public';
  /** Deployer tokens may call this route for the apps in their scope (the `:name` parameter). */
  deployer?: boolean;
  body?: B;
  query?: Q;
  params?: P;
  response: R;
  /** Success status (default 200). */
  status?: number;
  /** Body limit in bytes (default: the server's). */
  bodyLimit?: number;
}

export function route<
  B extends TSchema | undefined = undefined,
  Q extends TSchema | undefined = undefined,
  P extends TSchema | undefined = undefined,
  R extends TSchema = TSchema,
>(def: RouteDef<B, Q, P, R>): RouteDef<B, Q, P, R> {
  return def;
}

type S<T> = T extends TSchema ? Static<T> : undefined;

/** What a caller passes for a route: only the parts the route declares. */
export type Input<D> =
  D extends RouteDef<infer B, infer Q, infer P, any>
    ? (B extends TSchema ? { body: S<B> } : { body?: undefined }) &
        (Q extends TSchema ? { query?: S<Q> } : { query?: undefined }) &
        (P extends TSchema ? { params: S<P> } : { params?: undefined })
    : never;

export type Output<D> = D extends RouteDef<any, any, any, infer R> ? Static<R> : never;
