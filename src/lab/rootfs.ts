// Base root filesystems (overlay lower dirs) for lab nodes: Debian from the host, or an Alpine minirootfs.
import { chmod, mkdir, symlink, writeFile, readFile, access } from 'node:fs/promises';
import path from 'node:path';
import { run } from './run.ts';

/** Host files copied into the Debian skeleton (the node's /usr is the host's, copy-on-write). */
const DEBIAN_ETC_FILES = [
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'debian_version',
  'profile',
  'bash.bashrc',
  'shells',
  'localtime',
  'apt',
  'dpkg',
  'alternatives',
  'ssh/moduli',
];

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function mkdirs(root: string, dirs: string[]): Promise<void> {
  for (const d of dirs) await mkdir(path.join(root, d), { recursive: true });
}

/** Debian skeleton: host /usr (mounted per node), host dpkg/apt state, its own /etc. */
export async function prepareDebianRootfs(root: string): Promise<void> {
  await mkdirs(root, [
    'etc/ssh',
    'root',
    'run',
    'tmp',
    'var/log/apt',
    'var/tmp',
    'var/cache/apt/archives/partial',
    'var/lib/apt/lists/partial',
    'proc',
    'sys',
    'dev',
    'usr',
    'home',
  ]);
  await chmod(path.join(root, 'tmp'), 0o1777);
  await chmod(path.join(root, 'var/tmp'), 0o1777);
  await chmod(path.join(root, 'root'), 0o700);
  for (const l of ['bin', 'sbin', 'lib', 'lib64']) await symlink(`usr/${l}`, path.join(root, l));
  const etc = path.join(root, 'etc');
  await writeFile(
    path.join(etc, 'passwd'),
    'root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n' +
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  await writeFile(path.join(etc, 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  // '*' (no password, key login allowed); '!' would make sshd refuse root as "account is locked"
  await writeFile(
    path.join(etc, 'shadow'),
    'root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n',
    { mode: 0o640 },
  );
  await writeFile(
    path.join(etc, 'nsswitch.conf'),
    'passwd: files\ngroup: files\nshadow: files\nhosts: files\n',
  );
  await run('cp', ['-L', '/etc/os-release', path.join(etc, 'os-release')]);
  for (const f of DEBIAN_ETC_FILES) {
    if (await exists(`/etc/${f}`)) await run('cp', ['-a', `/etc/${f}`, path.join(etc, f)]);
  }
  await run('cp', ['-a', '/var/lib/dpkg', path.join(root, 'var/lib/dpkg')]);
  if (await exists('/var/lib/apt/extended_states')) {
    await run('cp', ['-a', '/var/lib/apt/extended_states', path.join(root, 'var/lib/apt/extended_states')]);
  }
}

/** Alpine minirootfs plus empty mount points where node-boot.sh binds the host's glibc sshd. */
export async function prepareAlpineRootfs(root: string, tarball: string): Promise<void> {
  if (!(await exists(tarball))) throw new Error(`Alpine minirootfs tarball not found: ${tarball}`);
  await mkdir(root, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', root]);
  if (!(await exists(path.join(root, 'etc/alpine-release')))) {
    throw new Error(`${tarball} is not an Alpine minirootfs (no etc/alpine-release)`);
  }
  await mkdirs(root, [
    'lib/x86_64-linux-gnu',
    'usr/lib/x86_64-linux-gnu',
    'usr/lib/openssh',
    'lib64',
    'etc/ssh',
    'run',
    'root',
  ]);
  await symlink('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', path.join(root, 'lib64/ld-linux-x86-64.so.2'));
  await writeFile(path.join(root, 'usr/sbin/sshd'), '', { mode: 0o755 });
  const passwd = await readFile(path.join(root, 'etc/passwd'), 'utf8');
  if (!/^sshd:/m.test(passwd)) {
    await writeFile(path.join(root, 'etc/passwd'), passwd + 'sshd:x:22:22:sshd:/dev/null:/sbin/nologin\n');
  }
}
