import type { Command } from 'commander';
import { checkLabPrerequisites, labDown, labStatus, labUp, type LabState } from '../../lab/lab.ts';
import { DEFAULT_LAB_NAME } from '../../lab/names.ts';
import { parseStorageDisks } from '../../lab/storage-disks.ts';
import { print, table } from '../output.ts';

export interface LabCommandDeps {
  /** Adds the lab's nodes to grim (wired to the API by the caller); used by `lab up --register`. */
  registerNodes?: (state: LabState) => Promise<void>;
}

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${v}`);
  return n;
}

export function describeLab(state: LabState): string {
  const lines = [
    `lab '${state.name}': ${state.nodes.length} ${state.os} node(s) on bridge ${state.bridge} (${state.subnet}, host ${state.gateway})`,
    table(
      ['NODE', 'ADDRESS', 'USER', 'HOST KEY'],
      state.nodes.map((n) => [n.name, `${n.address}:${n.port}`, n.user, n.hostKeyFingerprint]),
    ),
    '',
    `admin key:   ${state.clientKeyPath}   (public: ${state.clientKeyPath}.pub)`,
    `known_hosts: ${state.knownHostsPath}`,
    `try:         ssh -i ${state.clientKeyPath} -o UserKnownHostsFile=${state.knownHostsPath} root@${state.nodes[0]?.address} hostname`,
    '',
    'To add the nodes to grim: run `grim lab up ... --register`, or add each node with its address, port 22,',
    `user root, the private key ${state.clientKeyPath} and the host key fingerprint shown above.`,
  ];
  return lines.join('\n');
}

export function registerLabCommands(program: Command, deps: LabCommandDeps = {}) {
  const lab = program
    .command('lab')
    .description('a lab of simulated nodes (network namespaces with sshd), needs root');
  lab
    .command('up')
    .description('create a lab and wait until every node accepts SSH')
    .option('--name <name>', 'lab name, 1-6 characters [a-z0-9]', DEFAULT_LAB_NAME)
    .option('--nodes <n>', 'number of nodes', int, 3)
    .option('--os <os>', 'debian or alpine', 'debian')
    .option('--alpine-rootfs <path>', 'Alpine minirootfs tarball (default $GRIM_ALPINE_ROOTFS)')
    .option('--subnet <k>', 'use 10.77.<k>.0/24 (default: derived from the name)', int)
    .option(
      '--storage-disks <NxSIZE>',
      'storage nodes: N sparse-file disks of SIZE each and a zfs-fuse daemon per node, e.g. 6x1G',
    )
    .option('--register', 'add the nodes to grim')
    .option('--json', 'JSON output')
    .action(async (o) => {
      if (o.register && !deps.registerNodes)
        throw new Error('--register is not available in this build of grim');
      const state = await labUp({
        name: o.name,
        nodes: o.nodes,
        os: o.os,
        alpineRootfs: o.alpineRootfs,
        subnetIndex: o.subnet,
        storageDisks: o.storageDisks ? parseStorageDisks(o.storageDisks) : undefined,
      });
      if (o.register && deps.registerNodes) await deps.registerNodes(state);
      print(o, state, () => describeLab(state) + (o.register ? '\nnodes registered with grim' : ''));
    });
  lab
    .command('down')
    .description('remove the lab: processes, namespaces, bridge, state')
    .option('--name <name>', 'lab name', DEFAULT_LAB_NAME)
    .action(async (o) => {
      await labDown(o.name);
      process.stdout.write(`lab '${o.name}' is down\n`);
    });
  lab
    .command('status')
    .description("show the lab's nodes: running, link, sshd")
    .option('--name <name>', 'lab name', DEFAULT_LAB_NAME)
    .option('--json', 'JSON output')
    .action(async (o) => {
      const status = await labStatus(o.name);
      print(o, status, () =>
        [
          describeLab(status.state).split('\n')[0],
          table(
            ['NODE', 'ADDRESS', 'RUNNING', 'POWER', 'BOOTS', 'LINK', 'SSH', 'SUPERVISOR PID'],
            status.nodes.map((n) => [
              n.name,
              n.address,
              n.running ? 'yes' : 'no',
              n.power,
              n.boots,
              n.linkUp ? 'up' : 'down',
              n.sshOpen ? 'open' : 'closed',
              n.supervisorPid,
            ]),
          ),
        ].join('\n'),
      );
    });
  lab
    .command('check')
    .description('check the prerequisites of the lab')
    .action(async () => {
      const missing = await checkLabPrerequisites();
      if (missing.length) throw new Error(`lab prerequisites missing:\n  - ${missing.join('\n  - ')}`);
      process.stdout.write('all lab prerequisites are present\n');
    });
}
