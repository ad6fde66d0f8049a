// What the lab needs from the host, and a readable list of what is missing.
import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function findCommand(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (await isExecutable(file)) return file;
  }
  return undefined;
}

const COMMANDS: [string, string][] = [
  ['ip', 'iproute2'],
  ['unshare', 'util-linux'],
  ['nsenter', 'util-linux'],
  ['flock', 'util-linux'],
  ['mount', 'mount'],
  ['chroot', 'coreutils'],
  ['mknod', 'coreutils'],
  ['tar', 'tar'],
  ['ssh-keygen', 'openssh-client'],
  ['ssh-keyscan', 'openssh-client'],
];

/** Returns one human-readable line per missing prerequisite; an empty list means the lab can run. */
export async function checkLabPrerequisites(): Promise<string[]> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0)
    missing.push('must run as root (uid 0): the lab creates namespaces, bridges and mounts');
  for (const [cmd, pkg] of COMMANDS) {
    if (!(await findCommand(cmd))) missing.push(`command '${cmd}' not found (Debian package ${pkg})`);
  }
  if (!(await isExecutable('/usr/sbin/sshd')))
    missing.push('/usr/sbin/sshd not found (Debian package openssh-server)');
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  if (!/\toverlay$/m.test(filesystems)) missing.push('the kernel has no overlay filesystem (overlayfs)');
  try {
    await access('/proc/self/ns/time');
  } catch {
    missing.push('the kernel has no time namespaces (needs Linux >= 5.6 with CONFIG_TIME_NS)');
  }
  return missing;
}
