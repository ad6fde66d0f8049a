// Storage lab nodes: sparse-file disks behind /dev/disk/by-id links and a zfs-fuse daemon of the
// node's own (node-boot.sh binds the disks in and links them, node-init.sh starts the daemon).
import { copyFile, mkdir, open, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface StorageDisksSpec {
  count: number;
  sizeBytes: number;
}

const MiB = 1024 * 1024;
const UNITS: Record<string, number> = { M: MiB, G: 1024 * MiB, T: 1024 * 1024 * MiB };

/** "6x1G" -> { count: 6, sizeBytes: 1 GiB }. Sizes are powers of 1024 (M, G, T), at least 64M each. */
export function parseStorageDisks(text: string): StorageDisksSpec {
  const m = /^([0-9]{1,2})x([0-9]{1,5})([MGT])$/.exec(text);
  if (!m)
    throw new Error(
      `--storage-disks must look like 6x1G (count x size with M, G or T), got ${JSON.stringify(text)}`,
    );
  const spec = { count: Number(m[1]), sizeBytes: Number(m[2]) * UNITS[m[3]] };
  const problems: string[] = [];
  if (spec.count < 1 || spec.count > 26) problems.push('from 1 to 26 disks per node');
  if (spec.sizeBytes < 64 * MiB) problems.push('each disk at least 64M (the smallest device ZFS accepts)');
  if (problems.length) throw new Error(`--storage-disks ${text}: ${problems.join('; ')}`);
  return spec;
}

/** The by-id name of a lab disk, shaped like a real one (bus-model_serial). */
export function labDiskId(lab: string, node: string, index: number): string {
  return `ata-GRIM_LAB_DISK_${lab}${node}d${index}`;
}

/** Where a node's disk files live on the host, bound into the node at /var/lib/grim-lab-disks. */
export const nodeDisksDir = (nodeDir: string) => path.join(nodeDir, 'disks');

/** Creates the node's sparse disk files and the marker that makes its init start zfs-fuse. */
export async function writeStorageDisks(
  lab: string,
  node: { name: string; dir: string },
  spec: StorageDisksSpec,
): Promise<string[]> {
  const dir = nodeDisksDir(node.dir);
  await mkdir(dir, { recursive: true });
  const ids: string[] = [];
  for (let i = 1; i <= spec.count; i++) {
    const id = labDiskId(lab, node.name, i);
    const fh = await open(path.join(dir, id), 'w');
    await fh.truncate(spec.sizeBytes);
    await fh.close();
    ids.push(id);
  }
  const etc = path.join(node.dir, 'upper', 'etc');
  await mkdir(path.join(etc, 'grim-lab'), { recursive: true });
  await writeFile(path.join(etc, 'grim-lab', 'zfs-fuse'), 'start a zfs-fuse daemon at boot\n');
  await mkdir(path.join(etc, 'zfs'), { recursive: true });
  await copyFile('/etc/zfs/zfsrc', path.join(etc, 'zfs', 'zfsrc')).catch(() => {});
  return ids;
}

/** The node's disk files (by-id names), for tests that take a disk away. */
export async function listStorageDisks(nodeDir: string): Promise<string[]> {
  return (await readdir(nodeDisksDir(nodeDir)).catch(() => [])).sort();
}
