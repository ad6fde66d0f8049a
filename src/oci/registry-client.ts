/**
 * Docker Registry HTTP API v2 / OCI distribution-spec client (pull, monolithic push),
 * with bearer-token and basic auth, platform selection and digest verification.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestVerifier, sha256Digest, verifyDigest } from './digest.ts';
import { INDEX_MEDIA_TYPES, MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES } from './media-types.ts';
import { DEFAULT_PLATFORM, selectPlatformManifest, type PlatformSpec } from './platform.ts';
import {
  isLoopbackRegistry,
  manifestReference,
  parseImageReference,
  registryApiHost,
  type ImageReference,
} from './reference.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './types.ts';
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

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  /** Parsed JSON: an index/list when `isIndex`, otherwise an image manifest. */
  json: ImageIndex | ImageManifest;
  isIndex: boolean;
}

export interface ResolvedImage {
  reference: ImageReference;
  /** Digest of the index / manifest list the tag pointed to, if it was one. */
  indexDigest?: string;
  manifestDigest: string;
  manifestMediaType: string;
  manifest: ImageManifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
  configBytes: Buffer;
  layers: Descriptor[];
}

export interface PingResult {
  status: number;
  apiVersion?: string;
  /** Challenges announced by /v2/ (empty when anonymous access is allowed). */
  challenges: AuthChallenge[];
}

type Action = 'pull' | 'pull,push';
type Ref = ImageReference | string;

interface RequestOptions {
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

function toRef(ref: Ref): ImageReference {
  return typeof ref === 'string' ? parseImageReference(ref) : ref;
}

async function readErrorBody(res: Response): Promise<{ text: string; codes: string[] }> {
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

export class RegistryClient {
  #options: RegistryClientOptions;
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
  async #fetchFollowing(
    url: URL,
    init: RequestInit & { headers: Record<string, string> },
  ): Promise<Response> {
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
    const res = await this.#fetchFollowing(url, { method: 'GET', headers });
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
  async #request(registry: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(`${this.baseUrl(registry)}${path}`);
    const scope = this.#scope(options);
    const headers: Record<string, string> = { ...options.headers };
    if (this.#options.userAgent) headers['user-agent'] = this.#options.userAgent;
    const creds = this.#credentials(registry);
    const cached = this.#cachedToken(registry, scope);
    if (cached) headers.authorization = `Bearer ${cached}`;
    else if (creds && this.#basicRegistries.has(registry)) headers.authorization = this.#basicHeader(creds);

    const send = () =>
      this.#fetchFollowing(url, {
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

  async #expectOk(res: Response, what: string, statuses: number[] = [200]): Promise<Response> {
    if (statuses.includes(res.status)) return res;
    const err = await readErrorBody(res);
    throw new RegistryError(`${what} failed (${res.status}): ${err.text}`, res.status, err.codes);
  }

  /** GET /v2/ without authenticating: reachability, API version and auth challenges. */
  async ping(registry: string): Promise<PingResult> {
    const url = new URL(`${this.baseUrl(registry)}/v2/`);
    const res = await this.#fetchFollowing(url, { method: 'GET', headers: {} });
    await res.body?.cancel();
    if (res.status !== 200 && res.status !== 401) {
      throw new RegistryError(
        `${registry}: /v2/ answered ${res.status}, not a registry v2 endpoint`,
        res.status,
      );
    }
    const header = res.headers.get('www-authenticate');
    return {
      status: res.status,
      apiVersion: res.headers.get('docker-distribution-api-version') ?? undefined,
      challenges: header ? parseWwwAuthenticate(header) : [],
    };
  }

  /** GET a manifest (index/list or image manifest) by tag or digest; verifies the digest. */
  async getManifest(refInput: Ref, reference?: string): Promise<FetchedManifest> {
    const ref = toRef(refInput);
    const target = reference ?? manifestReference(ref);
    const what = `manifest ${ref.registry}/${ref.repository}:${target}`;
    const res = await this.#expectOk(
      await this.#request(ref.registry, `/v2/${ref.repository}/manifests/${target}`, {
        headers: { accept: MANIFEST_ACCEPT },
        repository: ref.repository,
      }),
      `GET ${what}`,
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    let digest = sha256Digest(bytes);
    if (target.includes(':')) {
      verifyDigest(what, bytes, target);
      digest = target;
    } else {
      const announced = res.headers.get('docker-content-digest');
      if (announced?.startsWith('sha256:') && announced !== digest) {
        throw new RegistryError(
          `${what}: Docker-Content-Digest ${announced} does not match content ${digest}`,
          res.status,
        );
      }
    }
    let json: ImageIndex | ImageManifest;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new RegistryError(`${what}: body is not JSON`, res.status);
    }
    const headerType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    const mediaType = json.mediaType ?? headerType;
    const isIndex = INDEX_MEDIA_TYPES.includes(mediaType) || (!mediaType && 'manifests' in json);
    if (!isIndex && !MANIFEST_MEDIA_TYPES.includes(mediaType) && !('config' in json)) {
      throw new RegistryError(
        `${what}: unsupported manifest media type ${JSON.stringify(mediaType)}`,
        res.status,
      );
    }
    return { mediaType, digest, bytes, json, isIndex };
  }

  /** Tag → (index → platform manifest) → manifest + config. */
  async resolveImage(refInput: Ref, platform: PlatformSpec = DEFAULT_PLATFORM): Promise<ResolvedImage> {
    const ref = toRef(refInput);
    let fetched = await this.getManifest(ref);
    let indexDigest: string | undefined;
    for (let depth = 0; fetched.isIndex; depth++) {
      if (depth >= 3) throw new RegistryError(`${ref.repository}: indexes nested too deeply`, 0);
      indexDigest ??= fetched.digest;
      const chosen = selectPlatformManifest(fetched.json as ImageIndex, platform);
      fetched = await this.getManifest(ref, chosen.digest);
    }
    const manifest = fetched.json as ImageManifest;
    if (!manifest.config?.digest || !Array.isArray(manifest.layers)) {
      throw new RegistryError(`${ref.repository}@${fetched.digest}: manifest lacks config or layers`, 0);
    }
    const configBytes = await this.fetchBlob(ref, manifest.config);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    return {
      reference: ref,
      indexDigest,
      manifestDigest: fetched.digest,
      manifestMediaType: fetched.mediaType,
      manifest,
      configDescriptor: manifest.config,
      config,
      configBytes,
      layers: manifest.layers,
    };
  }

  async #blobResponse(ref: ImageReference, digest: string): Promise<Response> {
    return this.#expectOk(
      await this.#request(ref.registry, `/v2/${ref.repository}/blobs/${digest}`, {
        repository: ref.repository,
      }),
      `GET blob ${digest} from ${ref.registry}/${ref.repository}`,
    );
  }

  /** Whole blob in memory, digest- and size-verified (configs, small layers). */
  async fetchBlob(
    refInput: Ref,
    descriptor: Pick<Descriptor, 'digest'> & { size?: number },
  ): Promise<Buffer> {
    const ref = toRef(refInput);
    const res = await this.#blobResponse(ref, descriptor.digest);
    const bytes = Buffer.from(await res.arrayBuffer());
    verifyDigest(`blob ${descriptor.digest}`, bytes, descriptor.digest, descriptor.size);
    return bytes;
  }

  /** Blob as a stream that errors (at the end, or early on oversize) when the content does not verify. */
  async openBlobStream(
    refInput: Ref,
    descriptor: Pick<Descriptor, 'digest'> & { size?: number },
  ): Promise<Readable> {
    const ref = toRef(refInput);
    const res = await this.#blobResponse(ref, descriptor.digest);
    if (!res.body) throw new RegistryError(`blob ${descriptor.digest}: empty response body`, res.status);
    const verifier = new DigestVerifier(`blob ${descriptor.digest}`, descriptor.digest, descriptor.size);
    const source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    source.on('error', (err) => verifier.destroy(err));
    return source.pipe(verifier);
  }

  /** Streams a blob to `path` (via `path.partial`, renamed only after verification). */
  async downloadBlob(
    refInput: Ref,
    descriptor: Pick<Descriptor, 'digest'> & { size?: number },
    path: string,
  ): Promise<void> {
    const partial = `${path}.partial`;
    try {
      await pipeline(await this.openBlobStream(refInput, descriptor), createWriteStream(partial));
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  async blobExists(refInput: Ref, digest: string): Promise<boolean> {
    const ref = toRef(refInput);
    const res = await this.#request(ref.registry, `/v2/${ref.repository}/blobs/${digest}`, {
      method: 'HEAD',
      repository: ref.repository,
    });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw new RegistryError(`HEAD blob ${digest} failed (${res.status})`, res.status);
  }

  /** Monolithic upload: POST /blobs/uploads/ then PUT <location>?digest=. Skips existing blobs. */
  async pushBlob(
    refInput: Ref,
    data: Uint8Array,
    mediaType = 'application/octet-stream',
  ): Promise<Descriptor> {
    const ref = toRef(refInput);
    const digest = sha256Digest(data);
    const descriptor: Descriptor = { mediaType, digest, size: data.byteLength };
    const push = { repository: ref.repository, actions: 'pull,push' as const };
    if (await this.blobExists(ref, digest)) return descriptor;
    const started = await this.#expectOk(
      await this.#request(ref.registry, `/v2/${ref.repository}/blobs/uploads/`, { ...push, method: 'POST' }),
      `start upload to ${ref.registry}/${ref.repository}`,
      [202],
    );
    await started.body?.cancel();
    const location = started.headers.get('location');
    if (!location) throw new RegistryError('upload start response has no Location', started.status);
    const uploadUrl = new URL(location, `${this.baseUrl(ref.registry)}/`);
    if (uploadUrl.host !== new URL(this.baseUrl(ref.registry)).host) {
      throw new RegistryError(`upload location on another host (${uploadUrl.host}) is not supported`, 0);
    }
    uploadUrl.searchParams.set('digest', digest);
    const done = await this.#expectOk(
      await this.#request(ref.registry, `${uploadUrl.pathname}${uploadUrl.search}`, {
        ...push,
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.byteLength) },
        body: Buffer.from(data),
      }),
      `upload blob ${digest}`,
      [201, 204],
    );
    await done.body?.cancel();
    return descriptor;
  }

  /** PUT a manifest under `reference` (default: the ref's tag, else its digest). Returns its digest. */
  async pushManifest(
    refInput: Ref,
    manifest: Uint8Array | ImageIndex | ImageManifest,
    mediaType: string,
    reference?: string,
  ): Promise<{ digest: string; size: number }> {
    const ref = toRef(refInput);
    const bytes =
      manifest instanceof Uint8Array ? Buffer.from(manifest) : Buffer.from(JSON.stringify(manifest), 'utf8');
    const digest = sha256Digest(bytes);
    const target = reference ?? ref.tag ?? digest;
    const res = await this.#expectOk(
      await this.#request(ref.registry, `/v2/${ref.repository}/manifests/${target}`, {
        repository: ref.repository,
        actions: 'pull,push',
        method: 'PUT',
        headers: { 'content-type': mediaType },
        body: bytes,
      }),
      `PUT manifest ${ref.registry}/${ref.repository}:${target}`,
      [200, 201, 202],
    );
    await res.body?.cancel();
    const announced = res.headers.get('docker-content-digest');
    if (announced && announced !== digest) {
      throw new RegistryError(`registry stored manifest as ${announced}, expected ${digest}`, res.status);
    }
    return { digest, size: bytes.byteLength };
  }
}
