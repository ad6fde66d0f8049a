/**
 * The HTTP side of the registry client: which registries may be reached over plain http, redirects (scheme
 * re-checked per hop, Authorization dropped across origins), and authentication (bearer tokens from the
 * challenge's realm, cached per scope; basic auth), plus the credentials and TLS settings grim manages for
 * the registries it runs itself.
 */
import { isLoopbackRegistry, registryApiHost } from './reference.ts';
import { findChallenge, parseWwwAuthenticate, type AuthChallenge } from './www-authenticate.ts';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** Credentials per registry (as written in references, e.g. `127.0.0.1:5000`), or a lookup function. */
  credentials?: Record<string, RegistryCredentials> | ((registry: string) => RegistryCredentials | undefined);
  /** Registries (host[:port]) that may be reached over plain http. Loopback registries always may. */
  insecureRegistries?: string[];
  /** Injected fetch (tests); defaults to the global fetch. */
  fetch?: typeof fetch;
  userAgent?: string;
  /** Redirect hops followed for one request (default 5). */
  maxRedirects?: number;
}

/**
 * Credentials grim manages for registries it runs itself (its build registry): every client without its own
 * credentials uses them, so the runtimes pull built images without per-app configuration.
 */
const managedCredentials = new Map<string, RegistryCredentials>();
export function setManagedRegistryCredentials(registry: string, creds: RegistryCredentials | null): void {
  if (creds) managedCredentials.set(registry, creds);
  else managedCredentials.delete(registry);
}

/**
 * Registries grim runs itself with TLS (its build registry): https even on loopback. Their token realm is grim's
 * own API at its public URL, reached the way every other client reaches grim (plain http only when the admin
 * set an http:// GRIM_PUBLIC_URL).
 */
const managedTls = new Set<string>();
const managedRealmHosts = new Set<string>();
export function setManagedRegistryTls(registry: string, realm: URL | null): void {
  managedTls.add(registry);
  if (realm?.protocol === 'http:') managedRealmHosts.add(realm.host);
}

export class RegistryError extends Error {
  readonly status: number;
  readonly codes: string[];
  constructor(message: string, status: number, codes: string[] = []) {
    super(message);
    this.name = 'RegistryError';
    this.status = status;
    this.codes = codes;
  }
}

export type Action = 'pull' | 'pull,push';

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Repository + actions the request needs (bearer scope). */
  repository?: string;
  actions?: Action;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;

export async function readErrorBody(res: Response): Promise<{ text: string; codes: string[] }> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const errors = body.errors ?? [];
    return {
      text: errors.map((e) => `${e.code ?? '?'}: ${e.message ?? ''}`).join('; ') || text,
      codes: errors.map((e) => e.code ?? ''),
    };
  } catch {
    return { text: text.slice(0, 300), codes: [] };
  }
}

/** HTTP to one or more registries: TLS rules, redirects, bearer-token and basic auth with a token cache. */
export class RegistryTransport {
  readonly #options: RegistryClientOptions;
  #fetch: typeof fetch;
  #tokens = new Map<string, CachedToken>();
  /** Registries that answered with a Basic challenge: send credentials up front next time. */
  #basicRegistries = new Set<string>();
  /** Number of token-endpoint requests made (observability / tests of the cache). */
  tokenRequests = 0;

  constructor(options: RegistryClientOptions = {}) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  /** True when plain http may be used for this host[:port]. */
  allowsHttp(hostPort: string): boolean {
    if (managedTls.has(hostPort)) return false;
    return isLoopbackRegistry(hostPort) || (this.#options.insecureRegistries ?? []).includes(hostPort);
  }

  baseUrl(registry: string): string {
    const host = registryApiHost(registry);
    return `${this.allowsHttp(registry) ? 'http' : 'https'}://${host}`;
  }

  #credentials(registry: string): RegistryCredentials | undefined {
    const c = this.#options.credentials;
    if (!c) return managedCredentials.get(registry);
    return typeof c === 'function' ? c(registry) : c[registry];
  }

  #basicHeader(creds: RegistryCredentials): string {
    return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  }

  #scope(options: RequestOptions): string | undefined {
    return options.repository ? `repository:${options.repository}:${options.actions ?? 'pull'}` : undefined;
  }

  #tokenKey(registry: string, scope: string | undefined): string {
    return `${registry}|${scope ?? ''}`;
  }

  #cachedToken(registry: string, scope: string | undefined): string | undefined {
    const key = this.#tokenKey(registry, scope);
    const entry = this.#tokens.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#tokens.delete(key);
      return undefined;
    }
    return entry.token;
  }

  #checkUrlAllowed(url: URL, what: string): void {
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && (this.allowsHttp(url.host) || managedRealmHosts.has(url.host))) return;
    throw new RegistryError(
      `${what}: refusing ${url.protocol}//${url.host} (plain http only for loopback or insecureRegistries)`,
      0,
    );
  }

  /** fetch with manual redirects: re-checks scheme per hop and drops Authorization across origins. */
  async fetchFollowing(url: URL, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    let current = url;
    let currentInit = init;
    const max = this.#options.maxRedirects ?? 5;
    for (let hop = 0; ; hop++) {
      this.#checkUrlAllowed(current, `${currentInit.method ?? 'GET'} ${current.pathname}`);
      const res = await this.#fetch(current, { ...currentInit, redirect: 'manual' });
      if (!REDIRECT_STATUSES.has(res.status)) return res;
      const location = res.headers.get('location');
      if (!location) return res;
      await res.body?.cancel();
      if (hop >= max) throw new RegistryError(`too many redirects fetching ${url.pathname}`, res.status);
      const next = new URL(location, current);
      const headers = { ...currentInit.headers };
      if (next.origin !== current.origin) delete headers.authorization;
      const method = res.status === 303 ? 'GET' : currentInit.method;
      currentInit = {
        ...currentInit,
        method,
        headers,
        body: method === 'GET' ? undefined : currentInit.body,
      };
      current = next;
    }
  }

  async #fetchToken(registry: string, challenge: AuthChallenge, scope: string | undefined): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${registry}: bearer challenge without realm`, 401);
    const url = new URL(realm);
    this.#checkUrlAllowed(url, `token realm of ${registry}`);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const s of (scope ?? '').split(' ').filter(Boolean)) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { accept: 'application/json' };
    const creds = this.#credentials(registry);
    if (creds) headers.authorization = this.#basicHeader(creds);
    if (this.#options.userAgent) headers['user-agent'] = this.#options.userAgent;
    this.tokenRequests++;
    const res = await this.fetchFollowing(url, { method: 'GET', headers });
    if (!res.ok) {
      const err = await readErrorBody(res);
      throw new RegistryError(
        `token request to ${url.origin}${url.pathname} failed (${res.status}): ${err.text}`,
        res.status,
        err.codes,
      );
    }
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`token response from ${url.origin} has no token`, res.status);
    const lifetime =
      body.expires_in && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME_SECONDS;
    const entry = { token, expiresAt: Date.now() + Math.max(lifetime - 5, 1) * 1000 };
    this.#tokens.set(this.#tokenKey(registry, scope), entry);
    return token;
  }

  /** One API request with auth (challenge → credentials → retry once). Caller handles non-2xx. */
  async request(registry: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(`${this.baseUrl(registry)}${path}`);
    const scope = this.#scope(options);
    const headers: Record<string, string> = { ...options.headers };
    if (this.#options.userAgent) headers['user-agent'] = this.#options.userAgent;
    const creds = this.#credentials(registry);
    const cached = this.#cachedToken(registry, scope);
    if (cached) headers.authorization = `Bearer ${cached}`;
    else if (creds && this.#basicRegistries.has(registry)) headers.authorization = this.#basicHeader(creds);

    const send = () =>
      this.fetchFollowing(url, {
        method: options.method ?? 'GET',
        headers,
        body: options.body as BodyInit | undefined,
      });
    const res = await send();
    if (res.status !== 401) return res;

    const header = res.headers.get('www-authenticate') ?? '';
    const failure = await readErrorBody(res);
    const challenges = header ? parseWwwAuthenticate(header) : [];
    const bearer = findChallenge(challenges, 'bearer');
    const basic = findChallenge(challenges, 'basic');
    if (bearer) {
      const tokenScope = bearer.params.scope ?? scope;
      const token = await this.#fetchToken(registry, bearer, tokenScope);
      if (tokenScope !== scope)
        this.#tokens.set(
          this.#tokenKey(registry, scope),
          this.#tokens.get(this.#tokenKey(registry, tokenScope)) as CachedToken,
        );
      headers.authorization = `Bearer ${token}`;
    } else if (basic && creds) {
      this.#basicRegistries.add(registry);
      headers.authorization = this.#basicHeader(creds);
    } else {
      const why = basic ? 'registry wants basic auth and no credentials are configured' : failure.text;
      throw new RegistryError(`${registry}: unauthorized (${why})`, 401, failure.codes);
    }
    const retry = await send();
    if (retry.status === 401) {
      const err = await readErrorBody(retry);
      throw new RegistryError(`${registry}: unauthorized after authenticating: ${err.text}`, 401, err.codes);
    }
    return retry;
  }

  async expectOk(res: Response, what: string, statuses: number[] = [200]): Promise<Response> {
    if (statuses.includes(res.status)) return res;
    const err = await readErrorBody(res);
    throw new RegistryError(`${what} failed (${res.status}): ${err.text}`, res.status, err.codes);
  }
}
