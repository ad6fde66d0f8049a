// Controls for single lab nodes, used by tests to simulate failures: stop/start (sshd gone ->
// connection refused), link down/up (-> timeouts), host key change, reboot, and running commands.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setLink } from './network.ts';
import { HOST_KEY, generateKey, replaceHostKeyOffline } from './node-files.ts';
import { bootCount, nodeInitPid, startSupervisor, supervisorPid } from './processes.ts';
import { scriptCommand } from '../scripts/loader.ts';
import { run, runLabScript, type RunResult } from './run.ts';
import { findNode, loadState, saveState, type LabNode, type LabState } from './state.ts';
import { tcpOpen, waitFor } from './wait.ts';

export type LabRef = string | LabState;

async function resolve(lab: LabRef, index: number): Promise<{ state: LabState; node: LabNode }> {
  const state = typeof lab === 'string' ? await loadState(lab) : await loadState(lab.name);
  return { state, node: findNode(state, index) };
}

const READY_MS = 30_000;

async function waitSsh(node: LabNode, timeoutMs = READY_MS): Promise<void> {
  await waitFor(`sshd of ${node.name} (${node.address}:22)`, () => tcpOpen(node.address, 22, 500), timeoutMs);
}

/** Stops the node (all its processes); its address stays, so SSH gets "connection refused". */
export async function stopNode(lab: LabRef, index: number): Promise<void> {
  const { node } = await resolve(lab, index);
  await runLabScript('node-stop.sh', { LAB_NODE_DIR: node.dir, LAB_NETNS: node.netns });
}

/** Boots a stopped node again and waits for its sshd. */
export async function startNode(lab: LabRef, index: number, opts: { wait?: boolean } = {}): Promise<void> {
  const { state, node } = await resolve(lab, index);
  if (await supervisorPid(node))
    throw new Error(`node ${node.name} of lab '${state.name}' is already running`);
  await startSupervisor(state, node);
  if (opts.wait !== false) await waitSsh(node);
}

/** Takes the node's link down on the host side: packets to it vanish, connections time out. */
export async function linkDown(lab: LabRef, index: number): Promise<void> {
  const { node } = await resolve(lab, index);
  await setLink(node.hostVeth, false);
}

export async function linkUp(lab: LabRef, index: number): Promise<void> {
  const { node } = await resolve(lab, index);
  await setLink(node.hostVeth, true);
}

export interface ExecOptions {
  input?: string;
  allowFailure?: boolean;
}

/** Runs `command` with the node's /bin/sh inside all of the node's namespaces and its root. */
export async function execInNode(
  lab: LabRef,
  index: number,
  command: string,
  opts: ExecOptions = {},
): Promise<RunResult> {
  const { state, node } = await resolve(lab, index);
  const pid = await nodeInitPid(node);
  if (!pid) throw new Error(`node ${node.name} of lab '${state.name}' is not running`);
  return nsenterSh(pid, command, 'sh', {}, opts);
}

/** Runs a grim script (the loader's body, parameters checked) inside a running lab node, as root. */
export async function runScriptInNode(
  lab: LabRef,
  index: number,
  name: string,
  params: Record<string, string>,
  opts: ExecOptions = {},
): Promise<RunResult> {
  const { state, node } = await resolve(lab, index);
  const pid = await nodeInitPid(node);
  if (!pid) throw new Error(`node ${node.name} of lab '${state.name}' is not running`);
  const { script, env } = scriptCommand(name, params);
  return nsenterSh(pid, script, `${name}.sh`, env, opts);
}

/** `sh -c SCRIPT NAME` in every namespace of the node's init, with a clean environment plus `env`. */
function nsenterSh(
  pid: number,
  script: string,
  name: string,
  env: Record<string, string>,
  opts: ExecOptions,
): Promise<RunResult> {
  const base = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' };
  return run(
    'env',
    [
      '-i',
      ...Object.entries({ ...base, ...env }).map(([k, v]) => `${k}=${v}`),
      'nsenter',
      '-t',
      String(pid),
      '-a',
      '-r',
      '-w',
      '--',
      '/bin/sh',
      '-c',
      script,
      name,
    ],
    { input: opts.input, allowFailure: opts.allowFailure },
  );
}

/**
 * Reboots the node as its init would on `reboot` and waits until its sshd is back.
 * (Uses SIGTERM to the node's init, never reboot(2) from the host side.)
 */
export async function rebootNode(lab: LabRef, index: number, opts: { wait?: boolean } = {}): Promise<void> {
  const { state, node } = await resolve(lab, index);
  const pid = await nodeInitPid(node);
  if (!pid) throw new Error(`node ${node.name} of lab '${state.name}' is not running`);
  const before = await bootCount(node);
  process.kill(pid, 'SIGTERM');
  if (opts.wait === false) return;
  await waitFor(`${node.name} to boot again`, async () => (await bootCount(node)) > before, READY_MS);
  await waitSsh(node);
}

/** known_hosts for the lab's nodes, from the recorded host keys. */
export async function writeKnownHosts(state: LabState): Promise<void> {
  const lines = state.nodes.filter((n) => n.hostPublicKey).map((n) => `${n.address} ${n.hostPublicKey}`);
  await writeFile(state.knownHostsPath, lines.join('\n') + '\n');
}

async function sshdServesKey(node: LabNode, publicKey: string): Promise<boolean> {
  const r = await run('ssh-keyscan', ['-T', '2', '-t', 'ed25519', node.address], { allowFailure: true });
  const served = r.stdout.split('\n').find((l) => l.startsWith(node.address));
  return !!served && served.split(' ').slice(1, 3).join(' ') === publicKey.split(' ').slice(0, 2).join(' ');
}

/**
 * Gives the node a new host key (as after a reinstall) and restarts its sshd with it.
 * Returns the new SHA256 fingerprint; the lab state and known_hosts are updated.
 */
export async function regenerateHostKey(lab: LabRef, index: number): Promise<string> {
  const { state, node } = await resolve(lab, index);
  const tmp = await mkdtemp(path.join(state.stateDir, 'key-'));
  try {
    const key = await generateKey(path.join(tmp, 'key'), node.name);
    const privateKey = await readFile(path.join(tmp, 'key'), 'utf8');
    if (await nodeInitPid(node)) {
      // scripts/lab/node-host-key.sh installs it and sends sshd SIGHUP: it re-executes itself with the new key
      await runScriptInNode(
        state,
        index,
        'lab/node-host-key',
        { HOST_KEY_PATH: `/${HOST_KEY}` },
        {
          input: `${privateKey.trimEnd()}\n${key.publicKey}\n`,
        },
      );
      await waitFor(
        `${node.name}'s sshd to serve its new host key`,
        () => sshdServesKey(node, key.publicKey),
        READY_MS,
      );
    } else {
      await replaceHostKeyOffline(node.dir, privateKey, key.publicKey);
    }
    node.hostKeyFingerprint = key.fingerprint;
    node.hostPublicKey = key.publicKey;
    await saveState(state);
    await writeKnownHosts(state);
    return key.fingerprint;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
