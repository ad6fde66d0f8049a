/**
 * OCI image layout directories (image-spec "image-layout"): `oci-layout`, `index.json`, `blobs/<alg>/<hex>`.
 * Reader (pick an image by `org.opencontainers.image.ref.name`, then platform) and a small writer.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { assertDigest, DigestVerifier, sha256Digest, verifyDigest } from './digest.ts';
import { INDEX_MEDIA_TYPES, MEDIA_TYPE } from './media-types.ts';
import { DEFAULT_PLATFORM, selectPlatformManifest, type PlatformSpec } from './platform.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './types.ts';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface LayoutImage {
  /** Descriptor in index.json that matched the ref name. */
  entry: Descriptor;
  indexDigest?: string;
  manifestDigest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  layers: Descriptor[];
}

export class OciLayout {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  blobPath(digest: string): string {
    assertDigest(digest);
    const [algorithm, hex] = digest.split(':');
    return join(this.dir, 'blobs', algorithm, hex);
  }

  async readIndex(): Promise<ImageIndex> {
    let marker: { imageLayoutVersion?: string };
    try {
      marker = JSON.parse(await readFile(join(this.dir, 'oci-layout'), 'utf8'));
    } catch (err) {
      throw new Error(`${this.dir} is not an OCI layout (oci-layout unreadable: ${(err as Error).message})`, {
        cause: err,
      });
    }
    if (marker.imageLayoutVersion !== '1.0.0') {
      throw new Error(
        `${this.dir}: unsupported imageLayoutVersion ${JSON.stringify(marker.imageLayoutVersion)}`,
      );
    }
    const index = JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as ImageIndex;
    if (!Array.isArray(index.manifests)) throw new Error(`${this.dir}/index.json has no manifests array`);
    return index;
  }

  /** Ref names (tags) listed in index.json. */
  async refNames(): Promise<string[]> {
    const index = await this.readIndex();
    return index.manifests.map((d) => d.annotations?.[REF_NAME_ANNOTATION]).filter((n): n is string => !!n);
  }

  /** Blob fully read and verified. */
  async readBlob(descriptor: Pick<Descriptor, 'digest'> & { size?: number }): Promise<Buffer> {
    const bytes = await readFile(this.blobPath(descriptor.digest));
    verifyDigest(`${this.dir} blob ${descriptor.digest}`, bytes, descriptor.digest, descriptor.size);
    return bytes;
  }

  /** Blob as a verifying stream. */
  openBlob(descriptor: Pick<Descriptor, 'digest'> & { size?: number }): Readable {
    const verifier = new DigestVerifier(
      `${this.dir} blob ${descriptor.digest}`,
      descriptor.digest,
      descriptor.size,
    );
    const source = createReadStream(this.blobPath(descriptor.digest));
    source.on('error', (err) => verifier.destroy(err));
    return source.pipe(verifier);
  }

  async #readJson<T>(descriptor: Descriptor): Promise<T> {
    return JSON.parse((await this.readBlob(descriptor)).toString('utf8')) as T;
  }

  /**
   * Image by ref name (annotation `org.opencontainers.image.ref.name`); without a name the layout must hold
   * exactly one entry. Indexes are resolved to the given platform.
   */
  async resolveImage(refName?: string, platform: PlatformSpec = DEFAULT_PLATFORM): Promise<LayoutImage> {
    const index = await this.readIndex();
    let entry: Descriptor | undefined;
    if (refName === undefined) {
      if (index.manifests.length !== 1) {
        throw new Error(
          `${this.dir}: ${index.manifests.length} images in index.json, name one of: ${(await this.refNames()).join(', ')}`,
        );
      }
      entry = index.manifests[0];
    } else {
      entry = index.manifests.find((d) => d.annotations?.[REF_NAME_ANNOTATION] === refName);
      if (!entry) {
        throw new Error(
          `${this.dir}: no image named ${JSON.stringify(refName)} (have: ${(await this.refNames()).join(', ') || 'none'})`,
        );
      }
    }
    let current = entry;
    let indexDigest: string | undefined;
    for (let depth = 0; INDEX_MEDIA_TYPES.includes(current.mediaType); depth++) {
      if (depth >= 3) throw new Error(`${this.dir}: indexes nested too deeply`);
      indexDigest ??= current.digest;
      current = selectPlatformManifest(await this.#readJson<ImageIndex>(current), platform);
    }
    const manifest = await this.#readJson<ImageManifest>(current);
    if (!manifest.config || !Array.isArray(manifest.layers)) {
      throw new Error(`${this.dir}: manifest ${current.digest} lacks config or layers`);
    }
    const config = await this.#readJson<ImageConfig>(manifest.config);
    return { entry, indexDigest, manifestDigest: current.digest, manifest, config, layers: manifest.layers };
  }
}

/** Writes blobs and index.json entries into a (new or existing) OCI layout directory. */
export class OciLayoutWriter {
  readonly layout: OciLayout;
  #entries: Descriptor[] = [];

  constructor(dir: string) {
    this.layout = new OciLayout(dir);
  }

  async init(): Promise<void> {
    await mkdir(join(this.layout.dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(this.layout.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    try {
      this.#entries = (await this.layout.readIndex()).manifests;
    } catch {
      this.#entries = [];
    }
  }

  /** Stores bytes as a blob (no-op when present) and returns its descriptor. */
  async addBlob(data: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(data);
    const path = this.layout.blobPath(digest);
    const exists = await stat(path).then(
      (s) => s.size === data.byteLength,
      () => false,
    );
    if (!exists) {
      await writeFile(`${path}.tmp`, data);
      await rename(`${path}.tmp`, path);
    }
    return { mediaType, digest, size: data.byteLength };
  }

  async addJson(value: ImageIndex | ImageManifest | ImageConfig, mediaType: string): Promise<Descriptor> {
    return this.addBlob(Buffer.from(JSON.stringify(value)), mediaType);
  }

  /** Adds (or replaces, by ref name) an index.json entry and rewrites index.json. */
  async tag(descriptor: Descriptor, refName: string): Promise<void> {
    const entry: Descriptor = {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
      annotations: { ...descriptor.annotations, [REF_NAME_ANNOTATION]: refName },
    };
    if (descriptor.platform) entry.platform = descriptor.platform;
    this.#entries = this.#entries.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== refName);
    this.#entries.push(entry);
    const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: this.#entries };
    await writeFile(join(this.layout.dir, 'index.json.tmp'), JSON.stringify(index));
    await rename(join(this.layout.dir, 'index.json.tmp'), join(this.layout.dir, 'index.json'));
  }
}
