/**
 * Test oracle (grim's nodes unpack with scripts/node/oci-unpack.sh): a control-node layer unpacker that applies layer tarballs (files on disk) to a rootfs directory with OCI
 * whiteout semantics — the same rules as scripts/node/oci-unpack.sh (see layer-plan.ts).
 * Order per layer: validate every entry → apply whiteouts/opaque dirs → remove lower paths whose type
 * conflicts with the new entry (only dir-over-dir merges) → extract → fix directory metadata.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  readdir,
  realpath,
  rm,
  stat,
  symlink,
  unlink,
  utimes,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { planLayer, type LayerEntryInput, type LayerPlan } from '../../src/oci/layer-plan.ts';
import type { LayerCompression } from '../../src/oci/media-types.ts';
import { readTar, type TarEntry } from '../../src/oci/tar-reader.ts';

const run = promisify(execFile);

export interface UnpackLayerOptions {
  compression: LayerCompression;
  /** Restore numeric uid/gid (default: when running as root). */
  preserveOwners?: boolean;
}

export interface UnpackLayerResult {
  entries: number;
  whiteouts: number;
  opaqueDirs: number;
}

export class UnpackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnpackError';
  }
}

function openLayer(path: string, compression: LayerCompression): Readable {
  const file = createReadStream(path);
  if (compression === 'none') return file;
  const decoder = compression === 'gzip' ? createGunzip() : createZstdDecompress();
  file.on('error', (err) => decoder.destroy(err));
  return file.pipe(decoder);
}

async function exists(path: string) {
  return lstat(path).then(
    (s) => s,
    () => undefined,
  );
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

/** Reads only the headers of a layer (first pass). */
export async function listLayer(path: string, compression: LayerCompression): Promise<LayerEntryInput[]> {
  const out: LayerEntryInput[] = [];
  for await (const { entry } of readTar(openLayer(path, compression))) {
    out.push({ name: entry.name, type: entry.type, linkname: entry.linkname });
  }
  return out;
}

class RootFs {
  readonly root: string;
  readonly real: string;
  /** Parents already verified in the current phase (the tree does not change within a phase). */
  #verified = new Set<string>();

  constructor(root: string, real: string) {
    this.root = root;
    this.real = real;
  }

  static async open(root: string): Promise<RootFs> {
    await mkdir(root, { recursive: true });
    return new RootFs(root, await realpath(root));
  }

  abs(rel: string): string {
    return rel === '' ? this.root : join(this.root, rel);
  }

  /**
   * The deepest existing ancestor of `rel`'s parent must resolve inside the rootfs; `strict` also requires it
   * to be a directory (an extraction target). Same rule as check_parent in oci-unpack.sh.
   */
  async assertParentInside(rel: string, strict: boolean): Promise<void> {
    const parent = parentOf(rel);
    if (this.#verified.has(parent)) return;
    let dir = parent;
    while (dir !== '' && !(await exists(this.abs(dir)))) dir = parentOf(dir);
    if (dir !== '') {
      const resolved = await realpath(this.abs(dir)).catch(() => undefined);
      const isDir = resolved !== undefined && (await stat(resolved)).isDirectory();
      if (isDir && resolved !== this.real && !resolved.startsWith(`${this.real}/`)) {
        throw new UnpackError(`${rel}: parent ${dir} resolves outside the rootfs (${resolved})`);
      }
      if (!isDir) {
        if (strict)
          throw new UnpackError(`${rel}: parent ${dir} is not a directory (or is a dangling symlink)`);
        return;
      }
    }
    this.#verified.add(parent);
  }

  /** Forget verified parents (call after removing things from the tree). */
  forgetVerified(): void {
    this.#verified.clear();
  }

  async removeChildren(rel: string): Promise<void> {
    for (const name of await readdir(this.abs(rel)))
      await rm(join(this.abs(rel), name), { recursive: true, force: true });
  }
}

async function applyWhiteouts(fs: RootFs, plan: LayerPlan): Promise<void> {
  for (const path of plan.deletions) {
    if (await exists(fs.abs(path))) await rm(fs.abs(path), { recursive: true, force: true });
  }
  for (const dir of plan.opaqueDirs) {
    const st = await exists(fs.abs(dir));
    if (!st) continue;
    if (st.isDirectory()) await fs.removeChildren(dir);
    else if (dir !== '') await rm(fs.abs(dir), { force: true });
  }
}

async function removeConflicts(fs: RootFs, plan: LayerPlan): Promise<void> {
  for (const entry of plan.entries) {
    if (entry.path === '') continue;
    const st = await exists(fs.abs(entry.path));
    if (st && !(entry.type === 'dir' && st.isDirectory()))
      await rm(fs.abs(entry.path), { recursive: true, force: true });
  }
}

interface DirMeta {
  path: string;
  entry: TarEntry;
}

async function setMeta(path: string, entry: TarEntry, owners: boolean, isLink = false): Promise<void> {
  if (owners) await lchown(path, entry.uid, entry.gid);
  if (isLink) {
    await lutimes(path, entry.mtime, entry.mtime);
    return;
  }
  await chmod(path, entry.mode); // after chown, which clears setuid/setgid
  await utimes(path, entry.mtime, entry.mtime);
}

async function extract(
  fs: RootFs,
  layerPath: string,
  options: UnpackLayerOptions,
  plan: LayerPlan,
): Promise<void> {
  const owners = options.preserveOwners ?? process.getuid?.() === 0;
  const wanted = new Map(plan.entries.map((e) => [e.index, e]));
  const dirs: DirMeta[] = [];
  const createdDirs = new Set<string>();
  let index = -1;
  for await (const { entry, body } of readTar(openLayer(layerPath, options.compression))) {
    index++;
    const planned = wanted.get(index);
    if (!planned) continue; // whiteout marker
    const rel = planned.path;
    const abs = fs.abs(rel);
    const parent = parentOf(rel);
    if (rel !== '' && !createdDirs.has(parent)) {
      await mkdir(fs.abs(parent), { recursive: true, mode: 0o755 });
      createdDirs.add(parent);
    }
    const st = await exists(abs);
    if (entry.type === 'dir') {
      if (st && !st.isDirectory()) await rm(abs, { recursive: true, force: true });
      if (!st || !st.isDirectory()) await mkdir(abs, { mode: 0o700 });
      dirs.push({ path: abs, entry });
      continue;
    }
    if (st?.isDirectory()) await rm(abs, { recursive: true, force: true });
    else if (st) await unlink(abs);
    switch (entry.type) {
      case 'file':
        await pipeline(body, createWriteStream(abs, { mode: 0o600 }));
        await setMeta(abs, entry, owners);
        break;
      case 'symlink':
        await symlink(entry.linkname, abs);
        await setMeta(abs, entry, owners, true);
        break;
      case 'hardlink': {
        const target = planned.linkTarget as string;
        const targetStat = await exists(fs.abs(target));
        if (!targetStat || targetStat.isDirectory())
          throw new UnpackError(`${rel}: hard link target ${target} missing or a directory`);
        await link(fs.abs(target), abs);
        break;
      }
      case 'fifo':
        await run('mkfifo', ['-m', '600', abs]);
        await setMeta(abs, entry, owners);
        break;
      case 'char':
      case 'block':
        await run('mknod', [
          '-m',
          '600',
          abs,
          entry.type === 'char' ? 'c' : 'b',
          String(entry.devmajor),
          String(entry.devminor),
        ]);
        await setMeta(abs, entry, owners);
        break;
    }
  }
  for (const dir of dirs.reverse()) await setMeta(dir.path, dir.entry, owners);
}

/** Applies one layer file to `rootfs`. Idempotent: re-applying the same layer yields the same tree. */
export async function unpackLayer(
  rootfs: string,
  layerPath: string,
  options: UnpackLayerOptions,
): Promise<UnpackLayerResult> {
  const fs = await RootFs.open(rootfs);
  const plan = planLayer(await listLayer(layerPath, options.compression));
  // Before touching anything: every location deleted or replaced must resolve inside the rootfs.
  for (const path of [...plan.deletions, ...plan.opaqueDirs, ...plan.entries.map((e) => e.path)]) {
    await fs.assertParentInside(path, false);
  }
  await applyWhiteouts(fs, plan);
  await removeConflicts(fs, plan);
  fs.forgetVerified();
  // After the removals, every extraction location (and hard-link target) must be a directory inside the rootfs.
  const targets = plan.entries.flatMap((e) => (e.linkTarget ? [e.path, e.linkTarget] : [e.path]));
  for (const path of [...plan.markers, ...targets]) await fs.assertParentInside(path, true);
  // Extraction cannot make a verified parent escape: entries below a symlink of the same layer were
  // rejected by the planner, and only directories are ever merged.
  await extract(fs, layerPath, options, plan);
  return {
    entries: plan.entries.length,
    whiteouts: plan.deletions.length,
    opaqueDirs: plan.opaqueDirs.length,
  };
}

/** Applies layers in order (lowest first). */
export async function unpackLayers(
  rootfs: string,
  layers: { path: string; compression: LayerCompression }[],
  options: { preserveOwners?: boolean } = {},
): Promise<UnpackLayerResult[]> {
  const results: UnpackLayerResult[] = [];
  for (const layer of layers)
    results.push(await unpackLayer(rootfs, layer.path, { ...options, compression: layer.compression }));
  return results;
}
