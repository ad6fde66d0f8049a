// The image pipeline shared by the VM drivers. Everything heavy happens on the node and is cached
// there: an OCI image's layers are streamed to the node, unpacked with whiteouts (oci-unpack.sh),
// grim's guest init + a static busybox are injected and an ext4 disk is built (vm-image-build.sh),
// keyed by the manifest digest so a redeploy of the same digest reuses it. Runtimes (named, versioned
// base root filesystems) and tarball apps (drives mounted on /app) are cached the same way.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { scriptFor } from '../../scripts/loader.ts';
import type { OpCtx } from '../driver.ts';
import { extractRuntimeConfig, type RuntimeConfig } from '../../oci/image-config.ts';
import { layerCompression } from '../../oci/media-types.ts';
import type { RegistryClient } from '../../oci/registry-client.ts';
import { appDefinitionFromImage, renderAppDefinition } from './app-definition.ts';
import { appDriveKey, imageKey, runtimeKey } from './node-layout.ts';
import { removeStageDir, runJson, stageDir, uploadGuestScript } from './node-ops.ts';

export interface BuiltDisk {
  key: string;
  disk: string;
  cached: boolean;
  sizeBytes: number;
  contentBytes: number;
}

export interface OciRootfs extends BuiltDisk {
  manifestDigest: string;
  config: RuntimeConfig;
}

/** A runtime: a named, versioned base root filesystem (e.g. the Alpine minirootfs) for tarball apps. */
export interface RuntimeImage {
  name: string;
  version: string;
  /** Root filesystem tarball on the control node (gzip or plain tar). */
  tarball: string;
}

export interface PipelineOptions {
  vmRoot: string;
  /** Free space left in each built filesystem (MiB). */
  headroomMb: number;
}

/**
 * A root disk carries grim's guest init, so its cache key names the init it holds: a disk built by an older
 * grim (whose init reads other files) is not reused by a newer one.
 */
function rootDiskKey(base: string): string {
  const init = createHash('sha256').update(scriptFor('guest/init').body).digest('hex');
  return `${base}-g${init.slice(0, 8)}`;
}

async function cachedDisk(ctx: OpCtx, o: PipelineOptions, key: string): Promise<string | undefined> {
  const r = await runJson<{ cached: boolean; disk: string }>(ctx, 'vm-image-status', {
    KEY: key,
    VM_ROOT: o.vmRoot,
  });
  return r.cached ? r.disk : undefined;
}

async function buildDisk(
  ctx: OpCtx,
  o: PipelineOptions,
  env: Record<string, string | undefined>,
): Promise<BuiltDisk> {
  return runJson<BuiltDisk>(
    ctx,
    'vm-image-build',
    { ...env, VM_ROOT: o.vmRoot, HEADROOM_MB: String(o.headroomMb) },
    600_000,
  );
}

/** OCI image -> cached root disk on the node. */
export async function ensureOciRootfs(
  ctx: OpCtx,
  registry: RegistryClient,
  image: string,
  o: PipelineOptions,
): Promise<OciRootfs> {
  const resolved = await registry.resolveImage(image);
  const config = extractRuntimeConfig(resolved.config);
  const key = rootDiskKey(imageKey(resolved.manifestDigest));
  const existing = await cachedDisk(ctx, o, key);
  const result = (disk: BuiltDisk): OciRootfs => ({
    ...disk,
    manifestDigest: resolved.manifestDigest,
    config,
  });
  if (existing !== undefined) {
    ctx.log(`root disk for ${image} (${resolved.manifestDigest}) is cached on ${ctx.node}`);
    return result(await buildDisk(ctx, o, { KEY: key }));
  }
  const stage = `build-${key.slice(0, 30)}-${Date.now().toString(36)}`;
  const dir = await stageDir(ctx, o.vmRoot, stage);
  try {
    const layers: string[] = [];
    for (const [i, layer] of resolved.layers.entries()) {
      const compression = layerCompression(layer.mediaType);
      if (compression === 'zstd')
        throw new Error(`layer ${layer.digest}: zstd layers are not supported on nodes yet`);
      const path = `${dir}/layer-${i}`;
      ctx.log(`uploading layer ${i + 1}/${resolved.layers.length} (${layer.size} bytes) to ${ctx.node}`);
      await ctx.upload(path, await registry.openBlobStream(resolved.reference, layer), 0o600, layer.digest);
      layers.push(`${path}:${compression}`);
    }
    const unpack = `${dir}/oci-unpack.sh`;
    await ctx.upload(unpack, Buffer.from(scriptFor('oci-unpack').body), 0o755);
    const init = await uploadGuestScript(ctx, dir, 'init');
    const appDef = `${dir}/app`;
    if (config.argv.length > 0)
      await ctx.upload(appDef, Buffer.from(renderAppDefinition(appDefinitionFromImage(config))), 0o644);
    const built = await buildDisk(ctx, o, {
      KEY: key,
      LAYERS: layers.join(' '),
      OCI_UNPACK: unpack,
      KIND: 'root',
      GUEST_INIT: init,
      APP_DEF: config.argv.length > 0 ? appDef : undefined,
    });
    return result(built);
  } finally {
    await removeStageDir(ctx, o.vmRoot, stage).catch(() => {});
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function ensureFromTarball(
  ctx: OpCtx,
  o: PipelineOptions,
  key: string,
  tarball: string,
  kind: 'root' | 'app',
): Promise<BuiltDisk> {
  if ((await cachedDisk(ctx, o, key)) !== undefined) return buildDisk(ctx, o, { KEY: key });
  const stage = `build-${key.slice(0, 30)}-${Date.now().toString(36)}`;
  const dir = await stageDir(ctx, o.vmRoot, stage);
  try {
    const path = `${dir}/source.tar`;
    await ctx.upload(path, createReadStream(tarball), 0o600, await sha256File(tarball));
    const init = kind === 'root' ? await uploadGuestScript(ctx, dir, 'init') : undefined;
    return await buildDisk(ctx, o, { KEY: key, SOURCE_TARBALL: path, KIND: kind, GUEST_INIT: init });
  } finally {
    await removeStageDir(ctx, o.vmRoot, stage).catch(() => {});
  }
}

/** Runtime base rootfs -> cached root disk (no app of its own: the instance's metadata names it). */
export function ensureRuntimeRootfs(
  ctx: OpCtx,
  runtime: RuntimeImage,
  o: PipelineOptions,
): Promise<BuiltDisk> {
  return ensureFromTarball(
    ctx,
    o,
    rootDiskKey(runtimeKey(runtime.name, runtime.version)),
    runtime.tarball,
    'root',
  );
}

/** App tarball -> cached ext4 drive labelled grim-app, mounted on /app by the guest init. */
export async function ensureAppDrive(ctx: OpCtx, tarball: string, o: PipelineOptions): Promise<BuiltDisk> {
  await access(tarball).catch((err: Error) => {
    throw new Error(`app tarball ${tarball}: ${err.message}`);
  });
  return ensureFromTarball(ctx, o, appDriveKey(await sha256File(tarball)), tarball, 'app');
}
