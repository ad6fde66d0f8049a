/**
 * Test images: layer tarballs built with the system `tar` from a busybox-static rootfs, plus a tiny
 * ustar writer for crafted (also deliberately unsafe) layers.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sha256Digest } from '../../src/oci/digest.ts';
import { MEDIA_TYPE } from '../../src/oci/media-types.ts';
import type { RegistryClient } from '../../src/oci/registry-client.ts';
import type { ImageReference } from '../../src/oci/reference.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '../../src/oci/types.ts';

export interface TarSpec {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo';
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', dir: '5', fifo: '6' } as const;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** Minimal ustar writer (names up to 100 bytes) — full control over names for crafted layers. */
export function writeTar(entries: TarSpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const spec of entries) {
    const type = spec.type ?? 'file';
    const body = type === 'file' ? Buffer.from(spec.content ?? '') : Buffer.alloc(0);
    const header = Buffer.alloc(512);
    if (Buffer.byteLength(spec.name) > 100) throw new Error(`name too long for this writer: ${spec.name}`);
    header.write(spec.name, 0, 'utf8');
    header.write(octal(spec.mode ?? (type === 'dir' ? 0o755 : 0o644), 8), 100, 'latin1');
    header.write(octal(spec.uid ?? 0, 8), 108, 'latin1');
    header.write(octal(spec.gid ?? 0, 8), 116, 'latin1');
    header.write(octal(body.length, 12), 124, 'latin1');
    header.write(octal(1_700_000_000, 12), 136, 'latin1');
    header.write('        ', 148, 'latin1');
    header.write(TYPEFLAG[type], 156, 'latin1');
    header.write(spec.linkname ?? '', 157, 'utf8');
    header.write('ustar\0', 257, 'latin1');
    header.write('00', 263, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(octal(sum, 7) + ' ', 148, 'latin1');
    parts.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** `tar` of a directory with the system tar (GNU on the CI machine), root-owned, sorted. */
export function tarDirectory(dir: string): Buffer {
  return execFileSync(
    'tar',
    ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-C', dir, '-cf', '-', '.'],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
}

export interface BuiltLayer {
  /** gzip-compressed layer as pushed. */
  data: Buffer;
  descriptor: Descriptor;
  diffId: string;
}

export interface BuiltImage {
  layers: BuiltLayer[];
  config: ImageConfig;
  configBytes: Buffer;
  configDescriptor: Descriptor;
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDescriptor: Descriptor;
}

/** A layer from an uncompressed tar (compressed here), or from a tarball that is gzipped already. */
export function gzipLayer(tar: Buffer, alreadyGzipped = false): BuiltLayer {
  const data = alreadyGzipped ? tar : gzipSync(tar);
  if (alreadyGzipped) tar = gunzipSync(tar);
  return {
    data,
    descriptor: { mediaType: MEDIA_TYPE.ociLayerGzip, digest: sha256Digest(data), size: data.length },
    diffId: sha256Digest(tar),
  };
}

/**
 * Two-layer busybox image:
 *  layer 1: /bin/busybox (+ sh, ls symlinks), /etc/passwd, /etc/removed, /data/opq/{old1,old2}, /data/keep
 *  layer 2: whiteout of /etc/removed, opaque /data/opq with /data/opq/new, /etc/arch (= architecture)
 */
export function buildBusyboxImage(workDir: string, architecture = 'amd64'): BuiltImage {
  const l1 = join(workDir, `rootfs-${architecture}-1`);
  mkdirSync(join(l1, 'bin'), { recursive: true });
  mkdirSync(join(l1, 'etc'), { recursive: true });
  mkdirSync(join(l1, 'data', 'opq'), { recursive: true });
  copyFileSync('/bin/busybox', join(l1, 'bin', 'busybox'));
  symlinkSync('busybox', join(l1, 'bin', 'sh'));
  symlinkSync('busybox', join(l1, 'bin', 'ls'));
  writeFileSync(join(l1, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(l1, 'etc', 'removed'), 'deleted by layer 2\n');
  writeFileSync(join(l1, 'data', 'opq', 'old1'), 'old1\n');
  writeFileSync(join(l1, 'data', 'opq', 'old2'), 'old2\n');
  writeFileSync(join(l1, 'data', 'keep'), 'keep\n');

  const l2 = join(workDir, `rootfs-${architecture}-2`);
  mkdirSync(join(l2, 'etc'), { recursive: true });
  mkdirSync(join(l2, 'data', 'opq'), { recursive: true });
  writeFileSync(join(l2, 'etc', '.wh.removed'), '');
  writeFileSync(join(l2, 'etc', 'arch'), `${architecture}\n`);
  writeFileSync(join(l2, 'data', 'opq', '.wh..wh..opq'), '');
  writeFileSync(join(l2, 'data', 'opq', 'new'), 'new\n');

  const layers = [gzipLayer(tarDirectory(l1)), gzipLayer(tarDirectory(l2))];
  const config: ImageConfig = {
    architecture,
    os: 'linux',
    created: '2026-01-01T00:00:00Z',
    config: {
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo hello'],
      Env: ['PATH=/bin', 'GRIM_TEST=1'],
      WorkingDir: '/data',
      User: '0:0',
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
  return assembleImage(layers, config, { architecture, os: 'linux' });
}

/** Pushes blobs, then the manifest under `reference` (default: the ref's tag; pass a digest to push untagged). */
const WEB_RUN_SH = `#!/bin/sh
# Serves its hostname (the instance id); stops cleanly on TERM (it is PID 1 of its container).
mkdir -p /tmp/www
hostname > /tmp/www/index.html
busybox httpd -f -p "\${PORT:-8080}" -h /tmp/www &
pid=$!
trap 'kill $pid; wait $pid; exit 0' TERM
wait $pid
`;

/** One-layer web app image: busybox; /app/run.sh answers HTTP on $PORT (default 8080) with the hostname. */
export function buildWebImage(workDir: string): BuiltImage {
  const root = join(workDir, 'rootfs-web');
  for (const d of ['bin', 'etc', 'app', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  symlinkSync('busybox', join(root, 'bin', 'sh'));
  symlinkSync('busybox', join(root, 'bin', 'hostname'));
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'app', 'run.sh'), WEB_RUN_SH, { mode: 0o755 });
  const layer = gzipLayer(tarDirectory(root));
  return assembleImage([layer], {
    architecture: 'amd64',
    os: 'linux',
    config: { Entrypoint: ['/bin/sh'], Cmd: ['/app/run.sh'], Env: ['PATH=/bin'], User: '0:0' },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
  });
}

/** Config and manifest (with digests and descriptors) around built layers. */
export function assembleImage(
  layers: BuiltLayer[],
  config: ImageConfig,
  platform?: { architecture: string; os: string },
): BuiltImage {
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDescriptor = {
    mediaType: MEDIA_TYPE.ociConfig,
    digest: sha256Digest(configBytes),
    size: configBytes.length,
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: configDescriptor,
    layers: layers.map((l) => l.descriptor),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    layers,
    config,
    configBytes,
    configDescriptor,
    manifest,
    manifestBytes,
    manifestDescriptor: {
      mediaType: MEDIA_TYPE.ociManifest,
      digest: sha256Digest(manifestBytes),
      size: manifestBytes.length,
      ...(platform ? { platform } : {}),
    },
  };
}

export async function pushImage(
  client: RegistryClient,
  ref: ImageReference,
  image: BuiltImage,
  reference?: string,
): Promise<string> {
  for (const layer of image.layers) await client.pushBlob(ref, layer.data, layer.descriptor.mediaType);
  await client.pushBlob(ref, image.configBytes, image.configDescriptor.mediaType);
  const { digest } = await client.pushManifest(
    ref,
    image.manifestBytes,
    MEDIA_TYPE.ociManifest,
    reference ?? ref.tag,
  );
  return digest;
}

/** OCI index over several pushed images (their manifest descriptors carry the platform). */
export function buildIndex(images: BuiltImage[]): { index: ImageIndex; bytes: Buffer; digest: string } {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociIndex,
    manifests: images.map((i) => i.manifestDescriptor),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  return { index, bytes, digest: sha256Digest(bytes) };
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
