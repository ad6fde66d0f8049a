// A real OpenSSH server for tests: 127.0.0.1, a random free port, its own host key, and the login
// user's home replaced by a temp dir. sshd runs in a private mount namespace (unshare --mount) in
// which /etc/passwd and /etc/shadow are bind-mounted copies: the user's home (and optionally its
// password) exist only there, so nothing on the machine is touched. Stopped by PID.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fingerprintOfPublicKey, generateKeyPair } from '../../src/ssh/keys.ts';

export interface TestSshd {
  address: '127.0.0.1';
  port: number;
  user: string;
  /** The login user's home inside sshd's namespace (a temp dir). */
  home: string;
  authorizedKeysPath: string;
  hostKeyFingerprint: string;
  clientPrivateKey: string;
  clientPublicKey: string;
  dir: string;
  pid: number;
  /** sshd's log so far (LogLevel VERBOSE). */
  log(): string;
  /** Number of successful logins so far (one per SSH connection). */
  logins(): number;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Also allow password login with this password. */
  password?: string;
  /** Put the generated client key in authorized_keys (default true). */
  authorizeClientKey?: boolean;
  maxSessions?: number;
  loginShell?: string;
  /** sshd's KexAlgorithms (default: OpenSSH's). */
  kexAlgorithms?: string;
}

/** Why sshd-based tests cannot run here, or undefined when they can. */
export function sshdUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (sshd switches to the login user; unshare --mount)';
  for (const bin of ['/usr/sbin/sshd', '/usr/bin/ssh-keygen', '/usr/bin/unshare', '/usr/bin/openssl']) {
    if (!existsSync(bin)) {
      return `${bin} is missing (apt-get install openssh-server openssl util-linux)`;
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function accountFiles(dir: string, user: string, home: string, shell: string, password?: string): void {
  const passwd = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => {
      const f = line.split(':');
      if (f[0] !== user) return line;
      f[5] = home;
      f[6] = shell;
      return f.join(':');
    })
    .join('\n');
  const hash = password
    ? execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim()
    : '*';
  const shadow = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .map((line) => {
      const f = line.split(':');
      if (f[0] !== user) return line;
      f[1] = hash;
      return f.join(':');
    })
    .join('\n');
  writeFileSync(join(dir, 'passwd'), passwd, { mode: 0o644 });
  writeFileSync(join(dir, 'shadow'), shadow, { mode: 0o640 });
}

function sshdConfig(dir: string, port: number, opts: SshdOptions): string {
  const passwordAuth = opts.password !== undefined;
  return [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${join(dir, 'host_ed25519')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'AuthorizedKeysFile .ssh/authorized_keys',
    'StrictModes no',
    `PermitRootLogin ${passwordAuth ? 'yes' : 'prohibit-password'}`,
    'PubkeyAuthentication yes',
    `PasswordAuthentication ${passwordAuth ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    `MaxSessions ${opts.maxSessions ?? 10}`,
    'MaxStartups 100:30:200',
    'LogLevel VERBOSE',
    ...(opts.kexAlgorithms ? [`KexAlgorithms ${opts.kexAlgorithms}`] : []),
    '',
  ].join('\n');
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(name));
    } catch {
      // process went away
    }
  }
  return children;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function waitForListening(child: ChildProcess, logs: string[], port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start:\n${logs.join('')}`)), 10_000);
    const onData = (): void => {
      if (logs.join('').includes(`Server listening on 127.0.0.1 port ${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited (${code}):\n${logs.join('')}`));
    });
  });
}

export async function startSshd(opts: SshdOptions = {}): Promise<TestSshd> {
  const user = userInfo().username;
  const dir = mkdtempSync(join(tmpdir(), 'grim-sshd-'));
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'test-host',
    '-f',
    join(dir, 'host_ed25519'),
  ]);
  const hostKeyFingerprint = fingerprintOfPublicKey(readFileSync(join(dir, 'host_ed25519.pub'), 'utf8'));
  const client = generateKeyPair('test');
  const authorizedKeysPath = join(home, '.ssh', 'authorized_keys');
  if (opts.authorizeClientKey !== false)
    writeFileSync(authorizedKeysPath, `${client.publicKey}\n`, { mode: 0o600 });
  accountFiles(dir, user, home, opts.loginShell ?? '/bin/sh', opts.password);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation dir

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'sshd_config'), sshdConfig(dir, port, opts));
    const script =
      'mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/shadow" /etc/shadow && ' +
      'exec /usr/sbin/sshd -D -e -f "$1/sshd_config"';
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const logs: string[] = [];
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => logs.push(chunk));
    try {
      await waitForListening(child, logs, port);
    } catch (err) {
      if (attempt < 3 && logs.join('').includes('Address already in use')) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const pid = child.pid as number;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return {
      address: '127.0.0.1',
      port,
      user,
      home,
      authorizedKeysPath,
      hostKeyFingerprint,
      clientPrivateKey: client.privateKey,
      clientPublicKey: client.publicKey,
      dir,
      pid,
      log: () => logs.join(''),
      logins: () => logs.join('').match(/Accepted (publickey|password) for /g)?.length ?? 0,
      stop: async () => {
        for (const session of childrenOf(pid)) signal(session, 'SIGTERM');
        if (child.exitCode === null) signal(pid, 'SIGTERM');
        const timer = setTimeout(() => child.exitCode === null && signal(pid, 'SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
