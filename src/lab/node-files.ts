// Per-node files, written into the node's overlay upper dir (only while the node is not running).
import { chmod, mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { run } from './run.ts';
import type { LabOs } from './state.ts';

export const HOST_KEY = 'etc/ssh/ssh_host_ed25519_key';

export function sshdConfig(): string {
  return [
    'Port 22',
    'AddressFamily inet',
    `HostKey /${HOST_KEY}`,
    'PidFile /run/sshd.pid',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'MaxStartups 100:30:200',
    'Subsystem sftp internal-sftp',
    'AcceptEnv LANG LC_*',
    '',
  ].join('\n');
}

export interface HostKey {
  publicKey: string;
  fingerprint: string;
}

/** SHA256 fingerprint of a public key file, as OpenSSH prints it ("SHA256:..."). */
export async function fingerprintOf(pubFile: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile]);
  const fp = stdout.split(/\s+/)[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -l output: ${stdout}`);
  return fp;
}

/** Generates an ed25519 key pair at `file` (replacing one that is there). */
export async function generateKey(file: string, comment: string): Promise<HostKey> {
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  return {
    publicKey: (await readFile(`${file}.pub`, 'utf8')).trim(),
    fingerprint: await fingerprintOf(`${file}.pub`),
  };
}

export interface NodeFilesInput {
  dir: string;
  os: LabOs;
  hostname: string;
  address: string;
  clientPublicKey: string;
}

/** Creates the node's overlay dirs and its own files; returns its new host key. */
export async function writeNodeFiles(n: NodeFilesInput): Promise<HostKey> {
  const upper = path.join(n.dir, 'upper');
  const dirs = ['work', 'merged', 'upper/etc/ssh', 'upper/root/.ssh'];
  if (n.os === 'debian') dirs.push('usr-upper', 'usr-work');
  for (const d of dirs) await mkdir(path.join(n.dir, d), { recursive: true });
  await chmod(path.join(upper, 'root'), 0o700);
  await chmod(path.join(upper, 'root/.ssh'), 0o700);
  await writeFile(path.join(upper, 'root/.ssh/authorized_keys'), n.clientPublicKey + '\n', { mode: 0o600 });
  await writeFile(path.join(upper, 'etc/hostname'), n.hostname + '\n');
  await writeFile(path.join(upper, 'etc/hosts'), `127.0.0.1 localhost\n${n.address} ${n.hostname}\n`);
  await writeFile(path.join(upper, 'etc/ssh/sshd_config'), sshdConfig());
  return generateKey(path.join(upper, HOST_KEY), n.hostname);
}

/** Replaces the host key in the upper dir of a node that is not running. */
export async function replaceHostKeyOffline(
  dir: string,
  privateKey: string,
  publicKey: string,
): Promise<void> {
  const key = path.join(dir, 'upper', HOST_KEY);
  await writeFile(`${key}.new`, privateKey, { mode: 0o600 });
  await rename(`${key}.new`, key);
  await writeFile(`${key}.pub`, publicKey + '\n');
}
