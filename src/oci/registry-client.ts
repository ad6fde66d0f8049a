/**
 * Docker Registry HTTP API v2 / OCI distribution-spec client (pull, monolithic push), with platform selection
 * and digest verification; authentication and transport rules are in registry-transport.ts.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestVerifier, sha256Digest, verifyDigest } from './digest.ts';
import { INDEX_MEDIA_TYPES, MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES } from './media-types.ts';
import { DEFAULT_PLATFORM, selectPlatformManifest, type PlatformSpec } from './platform.ts';
import { manifestReference, parseImageReference, type ImageReference } from './reference.ts';
import { RegistryError, RegistryTransport, type RegistryClientOptions } from './registry-transport.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './types.ts';
import { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate.ts';

export {
  RegistryError,
  setManagedRegistryCredentials,
  setManagedRegistryTls,
  type RegistryClientOptions,
  type RegistryCredentials,
} from './registry-transport.ts';

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

type Ref = ImageReference | string;

function toRef(ref: Ref): ImageReference {
  return typeof ref === 'string' ? parseImageReference(ref) : ref;
}

export class RegistryClient {
  readonly #http: RegistryTransport;

  constructor(options: RegistryClientOptions = {}) {
    this.#http = new RegistryTransport(options);
  }

  /** Number of token-endpoint requests made (observability / tests of the cache). */
  get tokenRequests(): number {
    return this.#http.tokenRequests;
  }

  /** True when plain http may be used for this host[:port]. */
  allowsHttp(hostPort: string): boolean {
    return this.#http.allowsHttp(hostPort);
  }

  baseUrl(registry: string): string {
    return this.#http.baseUrl(registry);
  }

  /** GET /v2/ without authenticating: reachability, API version and auth challenges. */
  async ping(registry: string): Promise<PingResult> {
    const url = new URL(`${this.baseUrl(registry)}/v2/`);
    const res = await this.#http.fetchFollowing(url, { method: 'GET', headers: {} });
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
    const res = await this.#http.expectOk(
      await this.#http.request(ref.registry, `/v2/${ref.repository}/manifests/${target}`, {
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
    return this.#http.expectOk(
      await this.#http.request(ref.registry, `/v2/${ref.repository}/blobs/${digest}`, {
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
    const res = await this.#http.request(ref.registry, `/v2/${ref.repository}/blobs/${digest}`, {
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
    const started = await this.#http.expectOk(
      await this.#http.request(ref.registry, `/v2/${ref.repository}/blobs/uploads/`, {
        ...push,
        method: 'POST',
      }),
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
    const done = await this.#http.expectOk(
      await this.#http.request(ref.registry, `${uploadUrl.pathname}${uploadUrl.search}`, {
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
    const res = await this.#http.expectOk(
      await this.#http.request(ref.registry, `/v2/${ref.repository}/manifests/${target}`, {
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
