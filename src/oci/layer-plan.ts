/**
 * Pure planning of one layer application (OCI image-spec "layer" changesets), shared semantics with
 * scripts/node/oci-unpack.sh:
 *  - entry names are normalized (leading `./`, `.` components, trailing `/` dropped);
 *    absolute names and `..` components are rejected;
 *  - `<dir>/.wh.<name>` deletes `<dir>/<name>` from lower layers;
 *  - `<dir>/.wh..wh..opq` removes the lower contents of `<dir>` (entries of the same layer stay);
 *  - other `.wh..wh.*` names (aufs metadata, and everything below them) are markers without effect;
 *    markers are never left in the rootfs;
 *  - an entry (or hard-link target) below a symlink that the same layer creates is rejected;
 *  - names with newline, tab or NUL are rejected (the sh script parses line/tab separated listings).
 */
import type { TarEntryType } from './tar-reader.ts';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export class UnsafeLayerEntryError extends Error {
  constructor(name: string, reason: string) {
    super(`unsafe layer entry ${JSON.stringify(name)}: ${reason}`);
    this.name = 'UnsafeLayerEntryError';
  }
}

export interface LayerEntryInput {
  name: string;
  type: TarEntryType;
  linkname?: string;
}

export interface PlannedEntry {
  /** Normalized path relative to the rootfs; '' is the rootfs itself. */
  path: string;
  type: TarEntryType;
  /** Normalized hard-link target (hard links only). */
  linkTarget?: string;
  /** Index in the archive. */
  index: number;
}

export interface LayerPlan {
  /** Paths removed from lower layers (whiteout targets), in archive order. */
  deletions: string[];
  /** Directories whose lower contents are removed. */
  opaqueDirs: string[];
  /** Whiteout marker paths (not extracted / removed after extraction). */
  markers: string[];
  /** Entries to extract (markers excluded). */
  entries: PlannedEntry[];
}

/** Normalizes an archive path; throws for absolute paths, `..` components, newlines. */
export function normalizeLayerPath(name: string): string {
  if (/[\n\t\0]/.test(name)) throw new UnsafeLayerEntryError(name, 'newline, tab or NUL in name');
  if (name.startsWith('/')) throw new UnsafeLayerEntryError(name, 'absolute path');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UnsafeLayerEntryError(name, '".." component');
    parts.push(part);
  }
  return parts.join('/');
}

function dirnameOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function planLayer(inputs: Iterable<LayerEntryInput>): LayerPlan {
  const plan: LayerPlan = { deletions: [], opaqueDirs: [], markers: [], entries: [] };
  const symlinks = new Set<string>();
  const all: { path: string; name: string }[] = [];
  let index = 0;
  for (const input of inputs) {
    const path = normalizeLayerPath(input.name);
    all.push({ path, name: input.name });
    const base = path.slice(path.lastIndexOf('/') + 1);
    const dir = dirnameOf(path);
    if (base === OPAQUE_MARKER) {
      plan.markers.push(path);
      plan.opaqueDirs.push(dir);
    } else if (`/${path}`.includes(`/${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
      plan.markers.push(path);
    } else if (base.startsWith(WHITEOUT_PREFIX)) {
      const target = base.slice(WHITEOUT_PREFIX.length);
      if (target === '' || target === '.' || target === '..') {
        throw new UnsafeLayerEntryError(input.name, 'whiteout without a valid target name');
      }
      plan.markers.push(path);
      plan.deletions.push(join(dir, target));
    } else {
      const entry: PlannedEntry = { path, type: input.type, index };
      if (input.type === 'hardlink') {
        const target = normalizeLayerPath(input.linkname ?? '');
        if (target === '') throw new UnsafeLayerEntryError(input.name, 'hard link to the rootfs itself');
        entry.linkTarget = target;
        all.push({ path: target, name: input.name });
      }
      if (input.type === 'symlink') symlinks.add(path);
      plan.entries.push(entry);
    }
    index++;
  }
  if (symlinks.size > 0) {
    for (const { path, name } of all) {
      for (let dir = dirnameOf(path); dir !== ''; dir = dirnameOf(dir)) {
        if (symlinks.has(dir))
          throw new UnsafeLayerEntryError(name, `below symlink ${JSON.stringify(dir)} of the same layer`);
      }
    }
  }
  return plan;
}
