// The peers of bench/fanout.ts (Fabric, parallel-ssh, ansible) and grim in a process of its own,
// each run as a child process against the lab. Every peer verifies host keys against a
// known_hosts built from the lab's recorded host keys; all their files stay in one temp dir.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabState } from '../../src/lab/state.ts';
import { targetsOf } from './fanout-lab.ts';
import { UPTIME_OK } from './fanout-grim.ts';
import type { Sample } from './fanout-report.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Debian's interpreter, which has python3-fabric (the pyenv python3 on PATH does not). */
const DEBIAN_PYTHON = '/usr/bin/python3';
const RUN_TIMEOUT_MS = 180_000;

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface PeerFiles {
  dir: string;
  lab: LabState;
  knownHosts: string;
  env: NodeJS.ProcessEnv;
}

function runTimed(cmd: string, args: string[], files: PeerFiles): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, {
      cwd: files.dir,
      env: files.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ code, stdout, stderr, seconds: (performance.now() - start) / 1000 }),
    );
  });
}

function hostsFile(files: PeerFiles, nodes: number): string {
  return path.join(files.dir, `hosts-${nodes}.txt`);
}

/** Writes host lists, the known_hosts, the ansible inventory + config, and grim's target list. */
export function preparePeerFiles(lab: LabState, dir: string, sizes: number[]): PeerFiles {
  mkdirSync(path.join(dir, 'ansible', 'cp'), { recursive: true, mode: 0o700 });
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, lab.nodes.map((n) => `${n.address} ${n.hostPublicKey}`).join('\n') + '\n');
  for (const n of sizes) {
    writeFileSync(
      path.join(dir, `hosts-${n}.txt`),
      lab.nodes
        .slice(0, n)
        .map((x) => x.address)
        .join('\n') + '\n',
    );
  }
  writeFileSync(path.join(dir, 'targets.json'), JSON.stringify(targetsOf(lab)));
  const sshOpts =
    `-o UserKnownHostsFile=${knownHosts} -o GlobalKnownHostsFile=/dev/null ` +
    '-o StrictHostKeyChecking=yes -o BatchMode=yes';
  const inventory = [
    ...sizes.flatMap((n) => [
      `[lab${n}]`,
      ...lab.nodes.slice(0, n).map((x) => `${x.name} ansible_host=${x.address}`),
    ]),
    '[all:vars]',
    'ansible_user=root',
    `ansible_ssh_private_key_file=${lab.clientKeyPath}`,
    'ansible_python_interpreter=/usr/bin/python3',
  ];
  writeFileSync(path.join(dir, 'ansible', 'inventory.ini'), inventory.join('\n') + '\n');
  const cfg = [
    '[defaults]',
    `inventory = ${path.join(dir, 'ansible', 'inventory.ini')}`,
    `home = ${path.join(dir, 'ansible', 'home')}`,
    `local_tmp = ${path.join(dir, 'ansible', 'tmp')}`,
    'forks = 50',
    'host_key_checking = True',
    'interpreter_python = /usr/bin/python3',
    'deprecation_warnings = False',
    '[ssh_connection]',
    `control_path_dir = ${path.join(dir, 'ansible', 'cp')}`,
    'pipelining = True',
    `ssh_args = -o ControlMaster=auto -o ControlPersist=60s ${sshOpts}`,
  ];
  writeFileSync(path.join(dir, 'ansible', 'ansible.cfg'), cfg.join('\n') + '\n');
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    HOME: dir, // nothing lands in /root (no ~/.ansible, ~/.ssh/known_hosts, ...)
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    ANSIBLE_CONFIG: path.join(dir, 'ansible', 'ansible.cfg'),
    ANSIBLE_NOCOLOR: '1',
  };
  return { dir, lab, knownHosts, env };
}

/** Fabric ThreadingGroup: the in-process time (connect + run) and the whole process. */
export async function fabric(files: PeerFiles, nodes: number): Promise<{ inProcess: Sample; whole: Sample }> {
  const r = await runTimed(
    DEBIAN_PYTHON,
    [
      path.join(HERE, 'fanout-fabric.py'),
      hostsFile(files, nodes),
      String(nodes),
      files.lab.clientKeyPath,
      files.knownHosts,
      'uptime',
    ],
    files,
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: { seconds: number; cpuSeconds: number; ok: number; errors: string[] } | undefined;
  try {
    parsed = JSON.parse(line) as { seconds: number; cpuSeconds: number; ok: number; errors: string[] };
  } catch {
    parsed = undefined;
  }
  if (r.code !== 0 || !parsed) {
    const error = `fabric exit ${r.code}: ${r.stderr.trim().slice(-300)}`;
    return { inProcess: { seconds: r.seconds, ok: 0, error }, whole: { seconds: r.seconds, ok: 0, error } };
  }
  const error = parsed.errors.length ? parsed.errors.join('; ') : undefined;
  return {
    inProcess: {
      seconds: parsed.seconds,
      cpuSeconds: parsed.cpuSeconds,
      ok: parsed.ok,
      ...(error ? { error } : {}),
    },
    whole: { seconds: r.seconds, ok: parsed.ok, ...(error ? { error } : {}) },
  };
}

/** parallel-ssh with one output file per host (-o), counted afterwards. */
export async function pssh(files: PeerFiles, nodes: number, run: number): Promise<Sample> {
  const outDir = path.join(files.dir, 'pssh', `${nodes}-${run}`);
  mkdirSync(outDir, { recursive: true });
  const r = await runTimed(
    'parallel-ssh',
    [
      '-h',
      hostsFile(files, nodes),
      '-l',
      'root',
      '-p',
      String(nodes),
      '-t',
      '60',
      '-o',
      outDir,
      '-x',
      `-i ${files.lab.clientKeyPath}`,
      '-O',
      `UserKnownHostsFile=${files.knownHosts}`,
      '-O',
      'GlobalKnownHostsFile=/dev/null',
      '-O',
      'StrictHostKeyChecking=yes',
      '-O',
      'BatchMode=yes',
      'uptime',
    ],
    files,
  );
  const ok = readdirSync(outDir).filter((f) =>
    UPTIME_OK.test(readFileSync(path.join(outDir, f), 'utf8')),
  ).length;
  return r.code === 0 ? { seconds: r.seconds, ok } : { seconds: r.seconds, ok, error: r.stdout.slice(-300) };
}

/** `ansible labN -m command -a uptime` (ControlPersist: after the first run, connections are reused). */
export async function ansible(files: PeerFiles, nodes: number): Promise<Sample> {
  const r = await runTimed('ansible', [`lab${nodes}`, '-m', 'command', '-a', 'uptime'], files);
  const blocks = r.stdout.split(/^(?=\S+ \| )/m);
  const ok = blocks.filter((b) => /^\S+ \| CHANGED \| rc=0 >>/.test(b) && UPTIME_OK.test(b)).length;
  return r.code === 0
    ? { seconds: r.seconds, ok }
    : { seconds: r.seconds, ok, error: (r.stdout + r.stderr).slice(-300) };
}

/** grim cold in a node process of its own (start-up and module loading included). */
export async function grimProcess(files: PeerFiles, nodes: number): Promise<Sample> {
  const r = await runTimed(
    process.execPath,
    [
      path.join(HERE, 'fanout-grim-once.ts'),
      path.join(files.dir, 'targets.json'),
      files.lab.clientKeyPath,
      String(nodes),
    ],
    files,
  );
  try {
    const inner = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Sample;
    return { ...inner, seconds: r.seconds };
  } catch {
    return { seconds: r.seconds, ok: 0, error: `exit ${r.code}: ${r.stderr.trim().slice(-300)}` };
  }
}

/** Stops ansible's ControlPersist masters, by their control sockets. */
export function stopAnsibleMastersSync(dir: string): void {
  const cp = path.join(dir, 'ansible', 'cp');
  let sockets: string[] = [];
  try {
    sockets = readdirSync(cp);
  } catch {
    // nothing was started
  }
  for (const s of sockets) {
    try {
      execFileSync('ssh', ['-o', `ControlPath=${path.join(cp, s)}`, '-O', 'exit', 'lab-node'], {
        stdio: 'ignore',
        timeout: 5000,
      });
    } catch {
      // the master is gone already
    }
  }
}

/** Stops ansible's masters and removes the temp dir. */
export function cleanupPeersSync(dir: string): void {
  stopAnsibleMastersSync(dir);
  rmSync(dir, { recursive: true, force: true });
}
