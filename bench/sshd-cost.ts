// Per-connection CPU of a node's sshd, by client: sequential connections to ONE lab node, each
// verifying the host key, running `uptime` and closing. Everything the node spends (sshd listener,
// re-exec'd sshd, privilege-separation children, login shell, `uptime`) is measured in a cpuacct
// cgroup holding the node's sshd; ssh/python clients run in a second cgroup, grim in this process.
// Run as root: npx node bench/sshd-cost.ts   (SSHD_COST_CONNS=30 per round, SSHD_COST_ROUNDS=3)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLabPrerequisites } from '../src/lab/lab.ts';
import type { LabState } from '../src/lab/state.ts';
import { openClient, parsePrivateKey } from '../src/ssh/connect.ts';
import { SshPool, type SshTarget } from '../src/ssh/pool.ts';
import { CpuGroup, cpuacctAvailable } from './lib/cpu-cgroup.ts';
import { sshdListeners } from './lib/fanout-cpu.ts';
import { UPTIME_OK } from './lib/fanout-grim.ts';
import { targetsOf, withBenchLab } from './lib/fanout-lab.ts';
import { median } from './lib/fanout-report.ts';

const CONNS = Number(process.env.SSHD_COST_CONNS ?? 30);
const ROUNDS = Number(process.env.SSHD_COST_ROUNDS ?? 3);
const HERE = path.dirname(fileURLToPath(import.meta.url));

interface Client {
  name: string;
  algorithms: string;
  /** Runs CONNS sequential connections; external clients run inside `group`. */
  run(lab: LabState, target: SshTarget, group: CpuGroup): Promise<void>;
}

/** Runs a command inside the client cgroup (the shell moves itself in, then execs). */
function inGroup(group: CpuGroup, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'sh',
      ['-c', `echo $$ > ${group.dir}/cgroup.procs && exec "$@"`, 'sh', cmd, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exit ${code}: ${err.slice(-300)}`)),
    );
  });
}

function openssh(kex?: string): Client['run'] {
  return async (lab, target, group) => {
    const opts = [
      `-i ${lab.clientKeyPath}`,
      `-o UserKnownHostsFile=${lab.knownHostsPath}`,
      '-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes',
      ...(kex ? [`-o KexAlgorithms=${kex}`] : []),
    ].join(' ');
    const out = await inGroup(group, 'sh', [
      '-c',
      `for i in $(seq ${CONNS}); do ssh ${opts} root@${target.address} uptime || exit 1; done`,
    ]);
    const ok = out.split('\n').filter((l) => UPTIME_OK.test(l)).length;
    if (ok !== CONNS) throw new Error(`ssh: ${ok}/${CONNS} ok`);
  };
}

function python(kind: 'paramiko' | 'fabric'): Client['run'] {
  return async (lab, target, group) => {
    const script = path.join(HERE, 'lib', 'sshd-cost-paramiko.py');
    const args = [script, target.address, String(CONNS), lab.clientKeyPath, lab.knownHostsPath, kind];
    const out = await inGroup(group, '/usr/bin/python3', args);
    const { ok } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { ok?: number };
    if (ok !== CONNS) throw new Error(`${kind}: ${ok}/${CONNS} ok`);
  };
}

function grim(keyExchange: 'curve25519' | 'ecdh-p256'): Client['run'] {
  return async (lab, target) => {
    const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
    for (let i = 0; i < CONNS; i++) {
      const pool = new SshPool({ privateKey, keyExchange });
      try {
        const r = await pool.exec(target, { argv: ['uptime'] }, { timeoutMs: 30_000 });
        if (r.exitCode !== 0 || !UPTIME_OK.test(r.stdout)) throw new Error(`grim: exit ${r.exitCode}`);
      } finally {
        await pool.close();
      }
    }
  };
}

/** Key exchange and authentication only: no session, no shell. */
const grimNoSession: Client['run'] = async (lab, target) => {
  const privateKey = parsePrivateKey(readFileSync(lab.clientKeyPath, 'utf8'));
  for (let i = 0; i < CONNS; i++) {
    const client = await openClient({
      endpoint: target,
      user: target.user,
      auth: { privateKey },
      hostKeyFingerprint: target.hostKeyFingerprint,
      readyTimeoutMs: 30_000,
      keepaliveIntervalMs: 0,
      keepaliveCountMax: 0,
    });
    await new Promise<void>((resolve) => {
      client.once('close', () => resolve());
      client.end();
    });
  }
};

const CLIENTS: Client[] = [
  { name: 'OpenSSH ssh, defaults', algorithms: 'sntrup761x25519, chacha20-poly1305', run: openssh() },
  { name: 'OpenSSH ssh', algorithms: 'curve25519, chacha20-poly1305', run: openssh('curve25519-sha256') },
  {
    name: 'paramiko SSHClient',
    algorithms: 'curve25519, aes128-ctr + hmac-sha2-256',
    run: python('paramiko'),
  },
  { name: 'Fabric Connection', algorithms: 'curve25519, aes128-ctr + hmac-sha2-256', run: python('fabric') },
  { name: 'grim SshPool (default)', algorithms: 'curve25519, aes128-gcm', run: grim('curve25519') },
  {
    name: "grim SshPool, keyExchange 'ecdh-p256'",
    algorithms: 'ecdh-nistp256, aes128-gcm',
    run: grim('ecdh-p256'),
  },
  {
    name: 'grim: handshake + auth only, no session',
    algorithms: 'curve25519, aes128-gcm',
    run: grimNoSession,
  },
];

const missing = await checkLabPrerequisites();
if (missing.length || !cpuacctAvailable()) {
  console.error(`sshd-cost needs the lab and cgroup-v1 cpuacct: ${missing.join('; ') || 'no cpuacct'}`);
  process.exit(1);
}

const results = new Map<string, { sshd: number[]; client: number[] }>();
await withBenchLab(
  1,
  () => undefined,
  async (lab) => {
    const [target] = targetsOf(lab);
    const [listener] = await sshdListeners(lab);
    const sshd = new CpuGroup(`grim-sshd-cost-${process.pid}`);
    const clients = new CpuGroup(`grim-sshd-cost-clients-${process.pid}`);
    try {
      sshd.add(listener);
      for (let round = 0; round < ROUNDS; round++) {
        console.error(`round ${round + 1}/${ROUNDS}`);
        for (const c of CLIENTS) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          const [s0, c0, self0] = [sshd.ms(), clients.ms(), process.cpuUsage()];
          await c.run(lab, target, clients);
          await new Promise((resolve) => setTimeout(resolve, 200)); // the last connection's processes exit
          const self = process.cpuUsage(self0);
          const r = results.get(c.name) ?? { sshd: [], client: [] };
          r.sshd.push((sshd.ms() - s0) / CONNS);
          r.client.push((clients.ms() - c0 + (self.user + self.system) / 1000) / CONNS);
          results.set(c.name, r);
        }
      }
    } finally {
      sshd.remove();
      clients.remove();
    }
  },
);

console.log(
  `## sshd CPU per connection: ${CONNS} sequential connections x ${ROUNDS} rounds to one lab node\n`,
);
console.log(
  '| client | key exchange, cipher | sshd + session CPU per connection: median (min–max) | client CPU per connection |',
);
console.log('|---|---|---|---|');
for (const c of CLIENTS) {
  const r = results.get(c.name);
  if (!r) continue;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  console.log(
    `| ${c.name} | ${c.algorithms} | ${ms(median(r.sshd))} (${ms(Math.min(...r.sshd))}–${ms(Math.max(...r.sshd))}) | ${ms(median(r.client))} |`,
  );
}
console.log(
  '\nHost key ssh-ed25519 and user key ssh-ed25519 for every client. The node-side figure includes the listener, the re-exec\'d sshd, its privilege-separation children, bash and `uptime` (except the "no session" row).',
);
