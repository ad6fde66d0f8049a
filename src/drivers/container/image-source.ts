/**
 * Where an instance's image comes from, on the control node: a registry (Docker Registry HTTP API v2 through
 * RegistryClient) or an OCI layout directory (`oci:<dir>` or `oci:<dir>:<name>`). Resolves the platform
 * manifest without fetching the config, so a node that already has the image costs no blob download.
 */
import type { Readable } from 'node:stream';
import { OciLayout } from '../../oci/layout.ts';
import { layerCompression } from '../../oci/media-types.ts';
import { DEFAULT_PLATFORM, selectPlatformManifest, type PlatformSpec } from '../../oci/platform.ts';
import { parseImageReference } from '../../oci/reference.ts';
import type { RegistryClient } from '../../oci/registry-client.ts';
import type { Descriptor, ImageIndex, ImageManifest } from '../../oci/types.ts';

export interface ImageSource {
  /** What the user wrote, for messages. */
  label: string;
  manifestDigest: string;
  config: Descriptor;
  layers: Descriptor[];
  readConfig(): Promise<Buffer>;
  /** A verifying stream of one blob (fails at the end when the digest does not match). */
  openBlob(descriptor: Descriptor): Promise<Readable>;
}

const LAYOUT_PREFIX = 'oci:';

/** `oci:/dir` → {dir}; `oci:/dir:name` → {dir, name} (a name never contains "/"). */
export function parseLayoutSource(image: string): { dir: string; name?: string } | undefined {
  if (!image.startsWith(LAYOUT_PREFIX)) return undefined;
  const rest = image.slice(LAYOUT_PREFIX.length);
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/') && colon > 0)
    return { dir: rest.slice(0, colon), name: rest.slice(colon + 1) };
  return { dir: rest };
}

function checkLayers(label: string, manifest: ImageManifest): void {
  if (!manifest.config?.digest || !Array.isArray(manifest.layers))
    throw new Error(`${label}: manifest lacks config or layers`);
  for (const layer of manifest.layers) {
    const compression = layerCompression(layer.mediaType);
    if (compression === 'zstd')
      throw new Error(`${label}: zstd layers are not supported (layer ${layer.digest})`);
  }
}

export async function resolveImageSource(
  image: string,
  registry: RegistryClient,
  platform: PlatformSpec = DEFAULT_PLATFORM,
): Promise<ImageSource> {
  const layout = parseLayoutSource(image);
  if (layout) {
    const oci = new OciLayout(layout.dir);
    const resolved = await oci.resolveImage(layout.name, platform);
    checkLayers(image, resolved.manifest);
    return {
      label: image,
      manifestDigest: resolved.manifestDigest,
      config: resolved.manifest.config,
      layers: resolved.layers,
      readConfig: () => oci.readBlob(resolved.manifest.config),
      openBlob: async (d) => oci.openBlob(d),
    };
  }
  const ref = parseImageReference(image);
  let fetched = await registry.getManifest(ref);
  for (let depth = 0; fetched.isIndex; depth++) {
    if (depth >= 3) throw new Error(`${image}: indexes nested too deeply`);
    fetched = await registry.getManifest(
      ref,
      selectPlatformManifest(fetched.json as ImageIndex, platform).digest,
    );
  }
  const manifest = fetched.json as ImageManifest;
  checkLayers(image, manifest);
  return {
    label: image,
    manifestDigest: fetched.digest,
    config: manifest.config,
    layers: manifest.layers,
    readConfig: () => registry.fetchBlob(ref, manifest.config),
    openBlob: (d) => registry.openBlobStream(ref, d),
  };
}
