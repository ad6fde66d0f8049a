import { routes, type Routes, type OperationId } from './index.ts';
import type { Input, Output } from './route.ts';

export interface ApiErrorBody {
  code: string;
  message: string;
  details: Array<{ path: string; message: string }>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;
  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; text(): Promise<string>; headers: { get(name: string): string | null } }>;

export interface ClientOptions {
  baseUrl: string; // '' in the browser (same origin)
  token?: string;
  csrfToken?: string;
  fetch?: FetchLike;
  /** Keep session cookies outside a browser (the CLI's login). */
  cookieJar?: boolean;
}

export function buildPath(
  path: string,
  params: Record<string, unknown> = {},
  query: Record<string, unknown> = {},
) {
  const p = path.replace(/:([A-Za-z]+)/g, (_, k: string) => {
    if (params[k] === undefined) throw new Error(`missing path parameter ${k}`);
    return encodeURIComponent(String(params[k]));
  });
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${p}?${s}` : p;
}

/** The typed client shared by the CLI and the web UI: one method, typed by the route table. */
export function createClient(opts: ClientOptions) {
  const doFetch: FetchLike = opts.fetch ?? ((url, init) => fetch(url, init as RequestInit));
  const state = { csrfToken: opts.csrfToken, cookie: '' };
  return {
    state,
    async call<K extends OperationId>(
      op: K,
      input?: Input<Routes[K]>,
      signal?: AbortSignal,
    ): Promise<Output<Routes[K]>> {
      const def = routes[op];
      const inp = (input ?? {}) as {
        body?: unknown;
        query?: Record<string, unknown>;
        params?: Record<string, unknown>;
      };
      const headers: Record<string, string> = { accept: 'application/json' };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (state.csrfToken && def.method !== 'GET') headers['x-csrf-token'] = state.csrfToken;
      if (opts.cookieJar && state.cookie) headers.cookie = state.cookie;
      let body: string | undefined;
      if (inp.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(inp.body);
      }
      const res = await doFetch(opts.baseUrl + buildPath(def.path, inp.params, inp.query), {
        method: def.method,
        headers,
        body,
        signal,
      });
      const text = await res.text();
      const setCookie = opts.cookieJar ? res.headers.get('set-cookie') : null;
      if (setCookie) state.cookie = setCookie.split(';')[0];
      let json: any;
      try {
        json = text ? JSON.parse(text) : {};
      } catch {
        throw new ApiError(res.status, {
          code: 'bad_response',
          message: `non-JSON answer (HTTP ${res.status})`,
          details: [],
        });
      }
      if (res.status >= 400) {
        throw new ApiError(
          res.status,
          json?.error ?? { code: 'http_' + res.status, message: text, details: [] },
        );
      }
      if (op === 'login' && json?.csrfToken) state.csrfToken = json.csrfToken;
      return json as Output<Routes[K]>;
    },
  };
}
export type Client = ReturnType<typeof createClient>;
