// grim's lab of simulated nodes: labUp / labDown / labStatus (node controls live in node-control.ts).
import { access, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_LAB_NAME,
  MAX_NODES,
  assertLabName,
  bridgeName,
  gatewayOf,
  hashedSubnetIndex,
  hostVeth,
  labStateDir,
  netnsPrefix,
  nodeAddress,
  nodeNetns,
  subnetOf,
} from './names.ts';
import { addNodeNetwork, createBridge, isLinkUp, linkExists, listNetns } from './network.ts';
import { generateKey, writeNodeFiles } from './node-files.ts';
import { checkLabPrerequisites } from './prereq.ts';
import { bootCount, nodeInitPid, powerState, startSupervisor, supervisorPid } from './processes.ts';
import { prepareAlpineRootfs, prepareDebianRootfs } from './rootfs.ts';
import { LAB_SCRIPTS_DIR, runLabScript } from './run.ts';
import { loadState, saveState, type LabNode, type LabOs, type LabState } from './state.ts';
import { mapLimit, tcpOpen, waitFor } from './wait.ts';
import { writeStorageDisks, type StorageDisksSpec } from './storage-disks.ts';

export { checkLabPrerequisites } from './prereq.ts';
export type { LabNode, LabOs, LabState } from './state.ts';
export { loadState } from './state.ts';
export {
  execInNode,
  linkDown,
  linkUp,
  rebootNode,
  regenerateHostKey,
  startNode,
  stopNode,
  writeKnownHosts,
} from './node-control.ts';
import { writeKnownHosts } from './node-control.ts';

export interface LabUpOptions {
  name?: string;
  nodes: number;
  os: LabOs;
  /** Alpine minirootfs tarball; defaults to $GRIM_ALPINE_ROOTFS. */
  alpineRootfs?: string;
  /** k of 10.77.k.0/24; by default hashed from the name (moving on to the next free one). */
  subnetIndex?: number;
  /** How long to wait for every node's sshd (default 60 s + 1 s per node). */
  readyTimeoutMs?: number;
  /** Storage nodes: sparse-file disks per node and a zfs-fuse daemon on each (Debian labs only). */
  storageDisks?: StorageDisksSpec;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

function validate(opts: LabUpOptions): void {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_NODES) {
    throw new Error(`--nodes must be an integer from 1 to ${MAX_NODES}, got ${opts.nodes}`);
  }
  if (opts.os !== 'debian' && opts.os !== 'alpine')
    throw new Error(`--os must be debian or alpine, got ${opts.os}`);
  const k = opts.subnetIndex;
  if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > 254)) {
    throw new Error(`subnet index must be an integer from 1 to 254, got ${k}`);
  }
}

/** Creates a lab; on any failure it removes whatever it created, then rethrows. */
export async function labUp(opts: LabUpOptions): Promise<LabState> {
  const name = opts.name ?? DEFAULT_LAB_NAME;
  assertLabName(name);
  validate(opts);
  const missing = await checkLabPrerequisites();
  if (missing.length) throw new Error(`lab prerequisites missing:\n  - ${missing.join('\n  - ')}`);
  const alpineRootfs = opts.alpineRootfs ?? process.env.GRIM_ALPINE_ROOTFS;
  if (opts.os === 'alpine' && !alpineRootfs) {
    throw new Error('an Alpine lab needs a minirootfs tarball: --alpine-rootfs PATH or GRIM_ALPINE_ROOTFS');
  }
  if (opts.storageDisks && opts.os !== 'debian')
    throw new Error("--storage-disks needs Debian nodes (zfs-fuse is the host's Debian package)");
  if (opts.storageDisks && !(await exists('/sbin/zfs-fuse')))
    throw new Error('--storage-disks needs zfs-fuse on this host: apt-get install zfs-fuse');
  const stateDir = labStateDir(name);
  const leftovers = await listNetns(netnsPrefix(name));
  if ((await exists(stateDir)) || (await linkExists(bridgeName(name))) || leftovers.length) {
    throw new Error(
      `lab '${name}' already exists (or left things behind); run 'grim lab down --name ${name}' first`,
    );
  }
  try {
    return await createLab(name, opts, stateDir, alpineRootfs);
  } catch (err) {
    await labDown(name).catch(() => {});
    throw err;
  }
}

async function createLab(
  name: string,
  opts: LabUpOptions,
  stateDir: string,
  alpine?: string,
): Promise<LabState> {
  await mkdir(path.join(stateDir, 'nodes'), { recursive: true, mode: 0o700 });
  const rootfs = path.join(stateDir, 'rootfs');
  if (opts.os === 'alpine') await prepareAlpineRootfs(rootfs, alpine as string);
  else await prepareDebianRootfs(rootfs);
  const clientKeyPath = path.join(stateDir, 'id_lab');
  const client = await generateKey(clientKeyPath, `grim-lab-${name}-admin`);

  const bridge = bridgeName(name);
  const k = await createBridge(
    bridge,
    opts.subnetIndex ?? hashedSubnetIndex(name),
    opts.subnetIndex !== undefined,
  );
  const state: LabState = {
    name,
    os: opts.os,
    stateDir,
    bridge,
    subnet: subnetOf(k),
    subnetIndex: k,
    gateway: gatewayOf(k),
    rootfs,
    clientKeyPath,
    clientPublicKey: client.publicKey,
    knownHostsPath: path.join(stateDir, 'known_hosts'),
    createdAt: new Date().toISOString(),
    nodes: [],
    ...(opts.storageDisks ? { storageDisks: opts.storageDisks } : {}),
  };
  await saveState(state);

  const indexes = Array.from({ length: opts.nodes }, (_, i) => i + 1);
  state.nodes = await mapLimit(indexes, 8, async (index): Promise<LabNode> => {
    const node: LabNode = {
      name: `n${index}`,
      index,
      address: nodeAddress(k, index),
      port: 22,
      user: 'root',
      hostKeyFingerprint: '',
      hostPublicKey: '',
      netns: nodeNetns(name, index),
      hostVeth: hostVeth(name, index),
      dir: path.join(stateDir, 'nodes', `n${index}`),
    };
    await addNodeNetwork({ ...node, bridge, subnetIndex: k });
    const key = await writeNodeFiles({
      ...node,
      os: opts.os,
      hostname: node.name,
      clientPublicKey: client.publicKey,
    });
    node.hostKeyFingerprint = key.fingerprint;
    node.hostPublicKey = key.publicKey;
    if (opts.storageDisks) await writeStorageDisks(name, node, opts.storageDisks);
    return node;
  });
  await saveState(state);
  await writeKnownHosts(state);
  for (const node of state.nodes) await startSupervisor(state, node);
  const timeout = opts.readyTimeoutMs ?? 60_000 + 1000 * opts.nodes;
  await mapLimit(state.nodes, 16, async (node) => {
    try {
      const ready = async () => {
        if ((await bootCount(node)) > 3) throw new Error(`${node.name} fails to boot`);
        return tcpOpen(node.address, 22, 500);
      };
      await waitFor(`sshd of ${node.name} (${node.address}:22)`, ready, timeout);
    } catch (err) {
      const log = await readFile(path.join(node.dir, 'console.log'), 'utf8').catch(() => '');
      const tail = log.trim().split('\n').slice(-15).join('\n    ');
      throw new Error(`${(err as Error).message}\n  ${node.name} console.log:\n    ${tail}`, { cause: err });
    }
  });
  return state;
}

/** Removes everything the lab created (processes by PID, namespaces, bridge, state dir). Idempotent. */
export async function labDown(name: string = DEFAULT_LAB_NAME): Promise<void> {
  assertLabName(name);
  await runLabScript('lab-down.sh', labDownEnv(name));
}

/** Environment for scripts/lab/lab-down.sh (also used by synchronous exit-time cleanup). */
export function labDownEnv(name: string): Record<string, string> {
  return {
    LAB_STATE_DIR: labStateDir(name),
    LAB_NETNS_PREFIX: netnsPrefix(name),
    LAB_BRIDGE: bridgeName(name),
    LAB_SCRIPTS: LAB_SCRIPTS_DIR,
  };
}

export interface NodeStatus {
  name: string;
  address: string;
  supervisorPid?: number;
  initPid?: number;
  running: boolean;
  power: string;
  boots: number;
  linkUp: boolean;
  sshOpen: boolean;
}

export interface LabStatus {
  state: LabState;
  nodes: NodeStatus[];
}

export async function labStatus(name: string = DEFAULT_LAB_NAME): Promise<LabStatus> {
  assertLabName(name);
  const state = await loadState(name);
  const nodes = await mapLimit(state.nodes, 16, async (node): Promise<NodeStatus> => {
    const [sup, init, power, boots, link] = await Promise.all([
      supervisorPid(node),
      nodeInitPid(node),
      powerState(node),
      bootCount(node),
      isLinkUp(node.hostVeth),
    ]);
    const sshOpen = link && (await tcpOpen(node.address, 22, 500));
    return {
      name: node.name,
      address: node.address,
      supervisorPid: sup,
      initPid: init,
      running: sup !== undefined,
      power,
      boots,
      linkUp: link,
      sshOpen,
    };
  });
  return { state, nodes };
}

/** Reads a node's console log (supervisor + sshd messages), for diagnostics. */
export async function nodeConsole(state: LabState, index: number): Promise<string> {
  const node = state.nodes.find((n) => n.index === index);
  return node ? readFile(path.join(node.dir, 'console.log'), 'utf8').catch(() => '') : '';
}
