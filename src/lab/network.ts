// The lab network: one bridge per lab in the root namespace, one network namespace + veth per node.
import { run, runLabScript } from './run.ts';

/** Host-wide lock serialising subnet choice between concurrently starting labs. */
const NET_LOCK = '/tmp/grim-lab-net.lock';

export async function createBridge(bridge: string, subnetIndex: number, fixed: boolean): Promise<number> {
  const result = await runLabScript(
    'bridge-up.sh',
    { LAB_BRIDGE: bridge, LAB_SUBNET_INDEX: String(subnetIndex), LAB_SUBNET_FIXED: fixed ? '1' : '0' },
    ['flock', NET_LOCK],
  );
  return Number(result.subnetIndex);
}

export interface NodeNet {
  netns: string;
  hostVeth: string;
  address: string;
  bridge: string;
  subnetIndex: number;
}

export async function addNodeNetwork(n: NodeNet): Promise<void> {
  await run('ip', ['netns', 'add', n.netns]);
  await run('ip', ['link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns]);
  await run('ip', ['link', 'set', n.hostVeth, 'master', n.bridge, 'up']);
  await run('ip', ['-n', n.netns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', n.netns, 'addr', 'add', `${n.address}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', n.netns, 'link', 'set', 'eth0', 'up']);
  // A fixed neighbour entry: with the node's link down, the host never learns "no route to host",
  // connections just time out, as with a pulled cable.
  const { stdout } = await run('ip', ['-n', n.netns, '-j', 'link', 'show', 'eth0']);
  const mac = (JSON.parse(stdout) as { address: string }[])[0].address;
  await run('ip', ['neigh', 'replace', n.address, 'lladdr', mac, 'dev', n.bridge, 'nud', 'permanent']);
}

export async function setLink(hostVeth: string, up: boolean): Promise<void> {
  await run('ip', ['link', 'set', hostVeth, up ? 'up' : 'down']);
}

export async function isLinkUp(hostVeth: string): Promise<boolean> {
  const r = await run('ip', ['-j', 'link', 'show', hostVeth], { allowFailure: true });
  if (r.code !== 0) return false;
  const [link] = JSON.parse(r.stdout) as { flags: string[] }[];
  return link.flags.includes('UP');
}

export async function listNetns(prefix: string): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((ns) => ns.startsWith(prefix));
}

export async function linkExists(name: string): Promise<boolean> {
  const r = await run('ip', ['link', 'show', name], { allowFailure: true });
  return r.code === 0;
}
