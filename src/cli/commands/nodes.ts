import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { apiClient, readSecret } from '../context.ts';
import { print, table } from '../output.ts';
import { parseTarget } from '../target.ts';
import { followJob } from './jobs.ts';

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)}Gi`;

export function registerNodeCommands(program: Command, setExit: (code: number) => void) {
  const env = program.command('env').description('environments (e.g. prod, staging)');
  env
    .command('list')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listEnvironments');
      print(o, r, () =>
        table(
          ['NAME', 'NODES', 'GROUPS', 'DESCRIPTION'],
          r.environments.map((e) => [e.name, e.nodes, e.groups, e.description]),
        ),
      );
    });
  env
    .command('create <name>')
    .option('--description <text>')
    .action(async (name, o) => {
      await apiClient().call('createEnvironment', { body: { name, description: o.description } });
      process.stdout.write(`created environment ${name}\n`);
    });
  env.command('delete <name>').action(async (name) => {
    await apiClient().call('deleteEnvironment', { params: { name } });
    process.stdout.write(`deleted environment ${name}\n`);
  });

  const group = program.command('group').description('groups: named sets of nodes in an environment');
  group
    .command('list')
    .option('--env <env>')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listGroups', { query: { environment: o.env } });
      print(o, r, () =>
        table(
          ['NAME', 'ENV', 'NODES'],
          r.groups.map((g) => [g.name, g.environment, g.nodes.join(',')]),
        ),
      );
    });
  group
    .command('create <name>')
    .requiredOption('--env <env>')
    .option('--nodes <a,b>')
    .action(async (name, o) => {
      await apiClient().call('createGroup', {
        body: { name, environment: o.env, nodes: o.nodes ? String(o.nodes).split(',') : [] },
      });
      process.stdout.write(`created group ${name}\n`);
    });
  group
    .command('set-nodes <name> <nodes>')
    .description('replace the members (comma-separated)')
    .action(async (name, nodes) => {
      await apiClient().call('setGroupNodes', {
        params: { name },
        body: { nodes: String(nodes).split(',').filter(Boolean) },
      });
      process.stdout.write(`group ${name}: ${nodes}\n`);
    });
  group.command('delete <name>').action(async (name) => {
    await apiClient().call('deleteGroup', { params: { name } });
    process.stdout.write(`deleted group ${name}\n`);
  });

  const node = program.command('node').description('nodes reached over SSH');
  node
    .command('list')
    .option('--env <env>')
    .option('--group <group>')
    .option('--selector <k=v,...>')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listNodes', {
        query: { environment: o.env, group: o.group, selector: o.selector },
      });
      print(o, r, () =>
        table(
          ['NAME', 'ENV', 'ADDRESS', 'STATE', 'OS', 'CPU', 'MEMORY', 'GROUPS', 'LABELS'],
          r.nodes.map((n) => {
            const f = n.facts as {
              os?: { id?: string; version?: string };
              cpus?: number;
              memoryBytes?: number;
            };
            return [
              n.name,
              n.environment,
              `${n.address}:${n.port}`,
              n.state,
              `${f.os?.id ?? '?'} ${f.os?.version ?? ''}`.trim(),
              f.cpus ?? '-',
              f.memoryBytes ? gib(f.memoryBytes) : '-',
              n.groups.join(','),
              Object.entries(n.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(','),
            ];
          }),
        ),
      );
    });
  node
    .command('show <name>')
    .option('--json')
    .action(async (name, o) => {
      const { node: n } = await apiClient().call('getNode', { params: { name } });
      print(o, n, () => JSON.stringify(n, null, 2));
    });
  node
    .command('create <name> <address>')
    .alias('add')
    .description("add a node: fetch and confirm its host key, install grim's key, gather facts")
    .requiredOption('--env <env>', 'environment')
    .option('--port <port>', 'SSH port', (v) => Number(v), 22)
    .option('--user <user>', 'SSH user', 'root')
    .option('--fingerprint <SHA256:...>', 'the host key fingerprint you confirmed out of band')
    .option('--yes', 'trust the fingerprint the node presents now (only on a network you trust)')
    .option('--password-stdin', "a one-time password to install grim's key (not stored)")
    .option(
      '--identity <file>',
      "a private key you already use for this node, to install grim's key (not stored)",
    )
    .option('--roles <roles>', 'compute,storage', 'compute')
    .option('--labels <k=v,...>')
    .option('--groups <a,b>')
    .option('--json')
    .action(async (name, address, o) => {
      const c = apiClient();
      const scan = await c.call('scanHostKey', { body: { address, port: o.port } });
      let fingerprint = o.fingerprint as string | undefined;
      if (fingerprint && fingerprint !== scan.fingerprint)
        throw new Error(`the node presents ${scan.fingerprint}, not the ${fingerprint} you gave: refusing`);
      if (!fingerprint) {
        if (!o.yes) {
          process.stderr.write(`${address}:${o.port} presents ${scan.keyType} key ${scan.fingerprint}\n`);
          process.stderr.write(
            'compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the node, then re-run with --fingerprint ' +
              scan.fingerprint +
              '\n',
          );
          setExit(5);
          return;
        }
        fingerprint = scan.fingerprint;
      }
      let credential: { password: string } | { privateKey: string } | undefined;
      if (o.passwordStdin) credential = { password: await readSecret('node password: ', true) };
      else if (o.identity) credential = { privateKey: readFileSync(o.identity, 'utf8') };
      const labels = o.labels
        ? Object.fromEntries(
            String(o.labels)
              .split(',')
              .map((kv) => kv.split('=') as [string, string]),
          )
        : undefined;
      const r = await c.call('createNode', {
        body: {
          name,
          environment: o.env,
          address,
          port: o.port,
          user: o.user,
          hostKeyFingerprint: fingerprint,
          credential,
          roles: String(o.roles).split(',') as Array<'compute' | 'storage'>,
          labels,
          groups: o.groups ? String(o.groups).split(',') : undefined,
        },
      });
      print(
        o,
        r,
        () =>
          `added ${r.node.name} (${r.node.address}), ${r.node.state}, host key ${r.node.hostKeyFingerprint}`,
      );
    });
  node.command('maintenance <name> <on|off>').action(async (name, state) => {
    if (state !== 'on' && state !== 'off') throw new Error('say on or off');
    const r = await apiClient().call('updateNode', {
      params: { name },
      body: { maintenance: state === 'on' },
    });
    process.stdout.write(`${name}: ${r.node.state}\n`);
  });
  node
    .command('label <name> <k=v,...>')
    .description('replace the labels')
    .action(async (name, spec) => {
      const labels = Object.fromEntries(
        String(spec)
          .split(',')
          .filter(Boolean)
          .map((kv) => kv.split('=') as [string, string]),
      );
      await apiClient().call('updateNode', { params: { name }, body: { labels } });
      process.stdout.write(`${name}: labels set\n`);
    });
  node
    .command('repin <name> <fingerprint>')
    .description('accept a changed host key you confirmed')
    .action(async (name, fingerprint) => {
      const r = await apiClient().call('repinHostKey', { params: { name }, body: { fingerprint } });
      process.stdout.write(`${name}: pinned ${fingerprint}, ${r.node.state}\n`);
    });
  node
    .command('refresh <name>')
    .description('probe now and refresh facts')
    .action(async (name) => {
      const r = await apiClient().call('refreshNode', { params: { name } });
      process.stdout.write(
        `${name}: ${r.node.state}${r.node.stateReason ? ` (${r.node.stateReason})` : ''}\n`,
      );
    });
  node.command('delete <name>').action(async (name) => {
    await apiClient().call('deleteNode', { params: { name } });
    process.stdout.write(`forgot ${name}\n`);
  });
  node
    .command('update <target>')
    .description('rolling OS update (apk/apt): nodes a,b | group:name | k=v selector')
    .option('--parallel <n>', 'nodes at a time', (v) => Number(v), 1)
    .option('--no-refresh', 'do not refresh the package index first')
    .option('--no-reboot', 'do not reboot even when the node asks for it')
    .option('--dry-run', 'show the nodes in order and the exact script, run nothing')
    .option('--json')
    .action(async (spec, o) => {
      const c = apiClient();
      const body = { target: parseTarget(spec), parallel: o.parallel, refresh: o.refresh, reboot: o.reboot };
      const plan = await c.call('planUpdate', { body });
      if (o.dryRun) {
        print(
          o,
          plan,
          () =>
            `nodes, in order (${plan.parallel} at a time): ${plan.nodes.map((n) => `${n.name} (${n.os})`).join(', ')}\nenvironment: ${JSON.stringify(plan.env)}\n--- script ---\n${plan.script}`,
        );
        return;
      }
      const { job } = await c.call('createUpdate', { body });
      setExit(await followJob(job.id, !!o.json));
    });

  program
    .command('run <target>')
    .description('run a shell command on nodes a,b | group:name | k=v selector; output streams live')
    .argument('<command...>', 'the command (after --)')
    .option('--timeout <seconds>', 'per-node timeout', (v) => Number(v), 300)
    .option('--json', 'print the finished job as JSON')
    .action(async (spec, command: string[], o) => {
      const { job } = await apiClient().call('createRun', {
        body: { target: parseTarget(spec), command: command.join(' '), timeoutSec: o.timeout },
      });
      setExit(await followJob(job.id, !!o.json));
    });
}
