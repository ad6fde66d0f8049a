// grim storage cluster|bucket|key|mount|release|repair|rotate-keys|upgrade: SeaweedFS on the storage nodes.
import type { Command } from 'commander';
import { setTimeout as delay } from 'node:timers/promises';
import { apiClient } from '../context.ts';
import { print, table, when } from '../output.ts';

const list = (v: string) => v.split(',').filter(Boolean);
const env = (o: { env: string }) => ({ environment: o.env });

async function waitSettled(environment: string) {
  for (;;) {
    const { cluster } = await apiClient().call('getStorageCluster', { params: { environment } });
    if (cluster.state !== 'provisioning' && cluster.state !== 'upgrading') return cluster;
    process.stderr.write(`  ${cluster.state}: ${cluster.stateReason}\n`);
    await delay(1000);
  }
}

function describeCluster(c: any): string {
  const h = c.health;
  const lines = [
    `cluster ${c.environment}: ${c.state}${c.stateReason ? ` (${c.stateReason})` : ''}, SeaweedFS ${c.version}`,
    `replication ${c.spec.replication}: ${c.replicationExplained}`,
    `S3 endpoints: ${c.s3Endpoints.join(' ') || '-'}`,
    '',
    table(
      ['NODE', 'ROLE', 'UP', 'DETAIL'],
      c.services.map((s: any) => {
        const m = h?.masters.find((x: any) => x.node === s.node);
        const v = h?.volumeServers.find((x: any) => x.node === s.node);
        const up =
          s.role === 'master'
            ? m?.up
            : s.role === 'volume'
              ? v?.up
              : (s.role === 'filer' ? h?.filers : h?.s3)?.find((x: any) => x.node === s.node)?.up;
        const detail =
          s.role === 'master' && m?.leader
            ? 'leader'
            : s.role === 'volume' && v
              ? `${v.volumes} volumes, ${Math.round(v.diskUsedBytes / 2 ** 20)} MiB of ${Math.round(v.diskBytes / 2 ** 30)} GiB used`
              : '';
        return [s.node, s.role, up === undefined ? '?' : up ? 'yes' : 'NO', detail];
      }),
    ),
  ];
  if (h?.problems.length)
    lines.push('', 'problems:', ...h.problems.map((p: any) => `  ${p.kind}: ${p.message}`));
  else if (h) lines.push('', `healthy (polled ${when(c.healthAt)})`);
  if (c.buckets.length)
    lines.push(
      '',
      table(
        ['BUCKET', 'QUOTA MB'],
        c.buckets.map((b: any) => [b.name, b.quotaMB ?? '-']),
      ),
    );
  if (c.keys.length)
    lines.push(
      '',
      table(
        ['KEY', 'ACCESS KEY', 'BUCKET', 'ACTIONS', 'STATUS'],
        c.keys.map((k: any) => [k.name, k.accessKey, k.bucket, k.actions.join(','), k.status]),
      ),
    );
  if (c.mounts.length)
    lines.push(
      '',
      table(
        ['MOUNT', 'NODE', 'PATH', 'DIR'],
        c.mounts.map((m: any) => [m.name, m.node, m.path, m.dir]),
      ),
    );
  return lines.join('\n');
}

export function registerSeaweedCommands(program: Command) {
  const st =
    program.commands.find((c) => c.name() === 'storage') ?? program.command('storage').description('storage');

  const rel = st
    .command('release')
    .description('SeaweedFS releases grim may install (SHA-256 recorded by grim)');
  rel
    .command('add <version>')
    .option('--path <file>', 'a weed binary on the control node')
    .option('--url <url>', 'a release tarball, e.g. .../releases/download/4.48/linux_amd64.tar.gz')
    .option('--sha256 <hex>', 'the SHA-256 you expect of the binary')
    .option('--json')
    .action(async (version, o) => {
      const r = await apiClient().call('addStorageRelease', {
        body: {
          version,
          ...(o.path ? { path: o.path } : {}),
          ...(o.url ? { url: o.url } : {}),
          ...(o.sha256 ? { sha256: o.sha256 } : {}),
        },
      });
      print(
        o,
        r,
        () => `recorded ${r.release.version}: sha256 ${r.release.sha256}, ${r.release.sizeBytes} bytes`,
      );
    });
  rel
    .command('list')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listStorageReleases');
      print(o, r, () =>
        table(
          ['VERSION', 'SHA256', 'SOURCE'],
          r.releases.map((x) => [x.version, x.sha256, x.source]),
        ),
      );
    });

  const cl = st.command('cluster').description('the SeaweedFS cluster of an environment');
  cl.command('create <environment>')
    .description('set up masters, volume servers, filers and S3 gateways; waits and prints the time it took')
    .requiredOption('--masters <nodes>', '1 or 3 storage nodes')
    .requiredOption('--filers <nodes>', 'one filer (leveldb2) or several (PostgreSQL)')
    .option('--s3 <nodes>', 'S3 gateways', '')
    .option('--volumes <nodes>', 'volume servers (default: every storage node)')
    .option(
      '--replication <xyz>',
      '000, 001 (other server), 010 (other rack), 100 (other data center)',
      '000',
    )
    .option('--volume-size-mb <n>', 'volume size limit')
    .option('--volume-quota-mb <n>', "refquota of each volume server's ZFS dataset (nodes with a pool)")
    // not --version: commander gives that to the program (it printed grim's version and exited 0)
    .requiredOption('--release <version>', 'a recorded release')
    .option('--json')
    .action(async (environment, o) => {
      const started = performance.now();
      await apiClient().call('createStorageCluster', {
        params: { environment },
        body: {
          masters: list(o.masters),
          filers: list(o.filers),
          s3: list(o.s3),
          ...(o.volumes ? { volumes: list(o.volumes) } : {}),
          replication: o.replication,
          ...(o.volumeSizeMb ? { volumeSizeLimitMB: Number(o.volumeSizeMb) } : {}),
          ...(o.volumeQuotaMb ? { volumeQuotaMB: Number(o.volumeQuotaMb) } : {}),
          version: o.release,
        },
      });
      const c = await waitSettled(environment);
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      print(
        o,
        { cluster: c, seconds: Number(secs) },
        () => `${describeCluster(c)}\n\n${c.state === 'ready' ? 'ready' : c.state} after ${secs} s`,
      );
      if (c.state !== 'ready') process.exitCode = 1;
    });
  cl.command('show <environment>')
    .option('--json')
    .action(async (environment, o) => {
      const r = await apiClient().call('getStorageCluster', { params: { environment } });
      print(o, r, () => describeCluster(r.cluster));
    });
  cl.command('list')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listStorageClusters');
      print(o, r, () =>
        table(
          ['ENVIRONMENT', 'STATE', 'VERSION', 'PROBLEMS'],
          r.clusters.map((c: any) => [c.environment, c.state, c.version, c.health?.problems.length ?? '-']),
        ),
      );
    });
  cl.command('health <environment>')
    .option('--json')
    .action(async (environment, o) => {
      const r = await apiClient().call('pollSeaweedHealth', { params: { environment } });
      const h = r.health as any;
      print(o, r, () =>
        h.problems.length
          ? h.problems.map((p: any) => `${p.kind}: ${p.message}`).join('\n')
          : `healthy, leader ${h.leader}`,
      );
    });
  cl.command('delete <environment>')
    .option('--delete-data', 'also remove volumes and metadata on the nodes')
    .action(async (environment, o) => {
      await apiClient().call('deleteStorageCluster', {
        params: { environment },
        query: { deleteData: !!o.deleteData },
      });
      console.log(
        `removed the SeaweedFS cluster of ${environment}${o.deleteData ? ' and its data' : ' (data kept on the nodes)'}`,
      );
    });

  const bk = st.command('bucket').description('S3 buckets');
  bk.command('create <name>')
    .requiredOption('--env <environment>')
    .option('--quota-mb <n>')
    .action(async (name, o) => {
      const r = await apiClient().call('createStorageBucket', {
        params: env(o),
        body: { name, ...(o.quotaMb ? { quotaMB: Number(o.quotaMb) } : {}) },
      });
      console.log(
        `bucket ${r.bucket.name} created${r.bucket.quotaMB ? ` (quota ${r.bucket.quotaMB} MB)` : ''}`,
      );
    });
  bk.command('list')
    .requiredOption('--env <environment>')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listStorageBuckets', { params: env(o) });
      print(o, r, () =>
        table(
          ['BUCKET', 'QUOTA MB', 'SIZE', 'CREATED'],
          r.buckets.map((b) => [b.name, b.quotaMB ?? '-', b.sizeBytes ?? '-', when(b.createdAt)]),
        ),
      );
    });
  bk.command('delete <name>')
    .requiredOption('--env <environment>')
    .action(async (name, o) => {
      await apiClient().call('deleteStorageBucket', { params: { ...env(o), bucket: name } });
      console.log(`bucket ${name} deleted`);
    });

  const key = st.command('key').description('S3 keys limited to one bucket');
  key
    .command('create <name>')
    .requiredOption('--env <environment>')
    .requiredOption('--bucket <bucket>')
    .option('--actions <list>', 'Read,Write or Read', 'Read,Write')
    .option('--json')
    .action(async (name, o) => {
      const r = await apiClient().call('createStorageKey', {
        params: env(o),
        body: { name, bucket: o.bucket, actions: list(o.actions) },
      });
      print(o, r, () =>
        [
          `key ${r.key.name} for bucket ${r.key.bucket} (${r.key.actions.join(', ')})`,
          `AWS_ACCESS_KEY_ID=${r.key.accessKey}`,
          `AWS_SECRET_ACCESS_KEY=${r.key.secretKey}`,
          `S3_ENDPOINT=${r.key.endpoints[0] ?? ''}`,
          'the secret is shown this once: grim keeps it sealed and never prints it again',
        ].join('\n'),
      );
    });
  key
    .command('retire <accessKey>')
    .description(
      'the gateways refuse the key at once (rotate: create a new key, move clients, retire the old one)',
    )
    .requiredOption('--env <environment>')
    .action(async (accessKey, o) => {
      await apiClient().call('retireStorageKey', { params: { ...env(o), accessKey } });
      console.log(`key ${accessKey} retired`);
    });

  const mnt = st.command('mount').description('weed mount of a filer path on a node (supervised)');
  mnt
    .command('create <name>')
    .requiredOption('--env <environment>')
    .requiredOption('--node <node>')
    .requiredOption('--path <filerPath>', 'e.g. /buckets/photos or /volumes/shared')
    .requiredOption('--dir <mountPoint>')
    .action(async (name, o) => {
      const r = await apiClient().call('createStorageMount', {
        params: env(o),
        body: { name, node: o.node, path: o.path, dir: o.dir },
      });
      console.log(`${r.mount.path} mounted at ${r.mount.node}:${r.mount.dir}`);
    });
  mnt
    .command('delete <name>')
    .requiredOption('--env <environment>')
    .action(async (name, o) => {
      await apiClient().call('deleteStorageMount', { params: { ...env(o), mount: name } });
      console.log(`mount ${name} removed`);
    });

  st.command('repair <environment>')
    .description('volume.fix.replication: shows the preview; --apply runs it under the shell lock')
    .option('--apply')
    .option('--balance', 'also volume.balance')
    .option('--json')
    .action(async (environment, o) => {
      const r = await apiClient().call('repairStorage', {
        params: { environment },
        body: { apply: !!o.apply, balance: !!o.balance },
      });
      print(
        o,
        r,
        () =>
          `${r.output.trim()}\n\n${r.applied ? 'applied' : 'preview only (run again with --apply)'}: ${r.commands.join('; ')}; under-replicated volumes now: ${r.underReplicated ?? '?'}`,
      );
    });
  st.command('rotate-keys <environment>')
    .description('new JWT signing keys on every node, reloaded with SIGHUP')
    .action(async (environment) => {
      const r = await apiClient().call('rotateStorageKeys', { params: { environment } });
      console.log(`new keys on ${r.nodes} nodes, ${r.signalled} processes reloaded in ${r.ms} ms`);
    });
  st.command('upgrade <environment>')
    .description('rolling upgrade (or rollback) to another recorded release; waits for it')
    .requiredOption('--release <version>', 'a recorded release')
    .option('--include-gateways', 'also restart a filer or S3 gateway that is the only one (S3 pauses)')
    .action(async (environment, o) => {
      const r = await apiClient().call('upgradeStorage', {
        params: { environment },
        body: { version: o.release, includeGateways: !!o.includeGateways },
      });
      console.log(`upgrading ${r.from} -> ${r.to}`);
      const c = await waitSettled(environment);
      console.log(
        c.version === r.to
          ? `now on ${c.version}${c.stateReason ? `: ${c.stateReason}` : ''}`
          : `stopped: ${c.stateReason}`,
      );
      if (c.version !== r.to) process.exitCode = 1;
    });
}
