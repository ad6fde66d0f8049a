import type { Command } from 'commander';
import { apiClient } from '../context.ts';
import { print, table, when } from '../output.ts';
import { formatNicenum } from '../../domain/storage/zfs-numbers.ts';

const list = (v: string) => v.split(',').filter(Boolean);
/** Short by-id names ("ata-WDC_...") are expanded to /dev/disk/by-id/...; paths stay as they are. */
const disks = (v: string) => list(v).map((d) => (d.startsWith('/') ? d : `/dev/disk/by-id/${d}`));

const FREE = /^free(?::([0-9]{1,3}))?$/;
const ROLE_OPTIONS = [
  ['disks', 'data'],
  ['log', 'log'],
  ['cache', 'cache'],
  ['special', 'special'],
  ['spares', 'spares'],
] as const;

/**
 * The pool request from the options. A disk option that reads `free` or `free:N` picks each node's own
 * free disks by role and count (`take`: the first N, or for data all that are left), so one command fits
 * nodes whose disks have different by-id names; otherwise the option lists by-id paths or names.
 */
function poolBody(o: Record<string, any>) {
  const take: Record<string, number> = {};
  const lists: Record<string, string[]> = {};
  for (const [option, role] of ROLE_OPTIONS) {
    if (!o[option]) continue;
    const free = FREE.exec(o[option]);
    if (free) take[role] = Number(free[1] ?? 0);
    else lists[option] = disks(o[option]);
  }
  return {
    name: o.name,
    layout: o.layout,
    ...lists,
    ...(Object.keys(take).length ? { take } : {}),
    ...(o.width ? { width: Number(o.width) } : {}),
    ...(o.compression ? { compression: o.compression } : {}),
    ...(o.mountpoint ? { mountpoint: o.mountpoint } : {}),
    ...(o.force ? { force: true } : {}),
  };
}

/**
 * Plans (and with `create`, creates) a pool on one node or the same layout on each of n1,n2. Several
 * nodes or disks by count go through the API's multi-node call: every node is planned before any pool
 * is created, and a refusal lists every node's problems.
 */
async function poolOnNodes(nodeList: string, o: Record<string, any>, create: boolean) {
  const nodes = nodeList.split(',').filter(Boolean);
  const body = poolBody(o);
  const confirm = create && o.yes === true;
  if (nodes.length === 1 && !('take' in body)) {
    const params = { node: nodes[0] };
    const r = create
      ? await apiClient().call('createPool', { params, body: { pool: body as any, confirm } })
      : { plan: await apiClient().call('planPool', { params, body: body as any }), ran: false };
    return { many: false, results: [{ node: nodes[0], ...r } as any] };
  }
  const r = create
    ? await apiClient().call('createPools', { body: { nodes, pool: body as any, confirm } })
    : await apiClient().call('planPools', { body: { nodes, pool: body as any } });
  return { many: nodes.length > 1, results: r.nodes as any[] };
}

function describePlan(p: any): string {
  return [
    `will run:   ${p.commandLine}`,
    `layout:     ${p.layout}, ${p.vdevs.map((v: any) => `${v.kind}(${v.disks.length})`).join(' + ')}`,
    `capacity:   ${formatNicenum(p.usableBytes)} usable (${p.usableBytes} bytes), ${formatNicenum(p.rawBytes)} raw`,
    `may fail:   ${p.faultTolerance.description}`,
    ...p.warnings.map((w: string) => `warning:    ${w}`),
  ].join('\n');
}

function vdevLines(v: any, depth: number): string[] {
  const errs = `${v.readErrors}/${v.writeErrors}/${v.checksumErrors}`;
  const line = `${'  '.repeat(depth)}${v.name}  ${v.state || '-'}  ${errs}${v.note ? `  ${v.note}` : ''}`;
  return [line, ...v.children.flatMap((c: any) => vdevLines(c, depth + 1))];
}

function describeNode(s: any): string {
  const out: string[] = [
    `node ${s.node}: ${s.capabilities?.implementation ?? 'no ZFS'} (pool version ${s.capabilities?.poolVersion ?? '-'}), checked ${when(s.checkedAt)}${s.error ? `, last error: ${s.error}` : ''}`,
    '',
    table(
      ['DISK', 'SIZE', 'MEDIA', 'STATE', 'SMART'],
      s.disks.map((d: any) => [
        d.path,
        formatNicenum(d.sizeBytes),
        d.media,
        d.inUse ?? 'free',
        d.smart?.passed === true ? 'passed' : d.smart?.passed === false ? 'FAILED' : '-',
      ]),
    ),
  ];
  for (const p of s.pools) {
    const h = s.health.find((x: any) => x.name === p.name);
    const scan = h?.scan?.kind
      ? `${h.scan.kind} ${h.scan.state}${h.scan.percentDone !== undefined ? ` ${h.scan.percentDone}%` : ''}${h.scan.errors !== undefined ? `, ${h.scan.errors} errors` : ''}`
      : 'none';
    out.push(
      '',
      `pool ${p.name}: ${p.state}, ${h?.capacityPercent ?? '-'}% of ${formatNicenum(h?.sizeBytes ?? 0)} used, scan: ${scan}`,
    );
    out.push(...vdevLines(p.root, 1));
    for (const cls of ['logs', 'cache', 'spares', 'special', 'dedup'])
      if (p[cls].length) out.push(`  ${cls}`, ...p[cls].flatMap((v: any) => vdevLines(v, 2)));
  }
  if (s.datasets.length)
    out.push(
      '',
      table(
        ['DATASET', 'TYPE', 'USED', 'AVAIL', 'QUOTA', 'MOUNTPOINT'],
        s.datasets.map((d: any) => [
          d.name,
          d.type,
          d.usedBytes,
          d.availableBytes,
          d.quotaBytes,
          d.mountpoint,
        ]),
      ),
    );
  return out.join('\n');
}

function poolOptions(c: Command): Command {
  return c
    .requiredOption('--name <pool>', 'pool name')
    .requiredOption(
      '--layout <layout>',
      'stripe | mirror | striped-mirrors | raidz1 | raidz2 | raidz3 | draid1..3',
    )
    .requiredOption(
      '--disks <a,b,...>',
      "by-id paths or names, comma separated; or free (free:N): each node's free disks (the first N)",
    )
    .option('--width <n>', 'disks per mirror (2 or 3) or per raidz vdev')
    .option('--log <a,b|free:N>', 'log disks by path, or free:N (SSDs first)')
    .option('--cache <a,b|free:N>')
    .option('--special <a,b|free:N>')
    .option('--spares <a,b|free:N>')
    .option('--compression <algo>')
    .option('--mountpoint <path>')
    .option('--force', 'use disks that look in use (zpool create -f)')
    .option('--json');
}

export function registerStorageCommands(program: Command) {
  const st = program.command('storage').description('storage nodes: disks, ZFS pools, datasets, snapshots');
  st.command('list')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listStorageNodes');
      print(o, r, () =>
        table(
          ['NODE', 'ZFS', 'DISKS', 'POOLS', 'CHECKED'],
          r.nodes.map((n: any) => [
            n.node,
            n.capabilities?.implementation ?? '-',
            n.disks,
            n.health.map((h: any) => `${h.name}:${h.state}`).join(' '),
            when(n.checkedAt),
          ]),
        ),
      );
    });
  st.command('show <node>')
    .description("a node's disks, pools (vdev tree, scan), datasets and snapshots")
    .option('--refresh', 'read the node now')
    .option('--json')
    .action(async (node, o) => {
      const r = await apiClient().call('getStorageNode', {
        params: { node },
        query: { refresh: o.refresh === true },
      });
      print(o, r, () => describeNode(r));
    });
  st.command('check <node>')
    .description('read pool health now (events recorded like the minute loop)')
    .option('--json')
    .action(async (node, o) => {
      const r = await apiClient().call('checkStorageNode', { params: { node } });
      print(o, r, () => describeNode(r));
    });
  poolOptions(
    st
      .command('plan <nodes>')
      .description(
        'show what creating a pool would do on a node (or n1,n2: the same layout on each); nothing runs',
      ),
  ).action(async (nodes, o) => {
    const { many, results } = await poolOnNodes(nodes, o, false);
    const plans = results.map((r) => r.plan);
    print(o, many ? plans : plans[0], () =>
      results.map((r) => `${many ? `== ${r.node}\n` : ''}${describePlan(r.plan)}`).join('\n'),
    );
  });
  poolOptions(
    st
      .command('create <nodes>')
      .description('create a pool on a node or on each of n1,n2 (shows the plans; --yes runs them)'),
  )
    .option('--yes', 'run it')
    .action(async (nodes, o) => {
      const { many, results } = await poolOnNodes(nodes, o, true);
      print(o, many ? results : results[0], () =>
        results
          .map((r) =>
            [
              ...(many ? [`== ${r.node}`] : []),
              describePlan(r.plan),
              r.error
                ? `creating failed: ${r.error}`
                : r.ran
                  ? `created pool ${r.plan.name}`
                  : 'nothing ran: add --yes to create it',
            ].join('\n'),
          )
          .join('\n'),
      );
      if (results.some((r) => r.error)) process.exitCode = 1;
    });
  st.command('destroy <node> <pool>')
    .description("destroy a pool; --confirm must repeat the pool's name")
    .option('--confirm <pool>')
    .action(async (node, pool, o) => {
      const r = await apiClient().call('destroyPool', {
        params: { node, pool },
        body: { confirm: o.confirm },
      });
      process.stdout.write(
        `${r.command}\n${r.ran ? 'destroyed' : "nothing ran: add --confirm <pool's name>"}\n`,
      );
    });
  st.command('import <node> [pool]')
    .description('list importable pools, or import (adopt) one')
    .option('--dir <dir>', 'search this directory (zpool import -d)')
    .action(async (node, pool, o) => {
      const r = await apiClient().call('importPool', { params: { node }, body: { pool, dir: o.dir } });
      process.stdout.write(`${r.command}\n${(r.result as any)?.listing ?? ''}\n`);
    });
  st.command('scrub <node> <pool>')
    .option('--stop')
    .option('--every <interval>', 'set the schedule instead (e.g. 30d, 7d)')
    .option(
      '--next <when>',
      'with --every: when the next scheduled scrub starts ("now" or 2027-01-01T03:00Z)',
    )
    .action(async (node, pool, o) => {
      if (o.every) {
        await apiClient().call('setScrubSchedule', {
          params: { node, pool },
          body: { every: o.every, ...(o.next ? { next: o.next } : {}) },
        });
        process.stdout.write(
          `pool ${pool} on ${node} is scrubbed every ${o.every}${o.next ? `, next ${o.next}` : ''}\n`,
        );
        return;
      }
      const r = await apiClient().call('scrubPool', {
        params: { node, pool },
        body: { stop: o.stop === true },
      });
      process.stdout.write(`${r.command}\n`);
    });
  st.command('device <node> <pool> <action> [device] [newDevice]')
    .description('offline | online | clear | replace a device (replace shows its command; --yes runs it)')
    .option('--yes')
    .action(async (node, pool, action, device, newDevice, o) => {
      const r = await apiClient().call('poolDevice', {
        params: { node, pool },
        body: { action, device, newDevice, confirm: o.yes === true },
      });
      process.stdout.write(`${r.command}\n${r.ran ? 'done' : 'nothing ran: add --yes'}\n`);
    });
  const ds = st.command('dataset').description('datasets');
  ds.command('create <node> <name>')
    .option('--quota <bytes>', 'e.g. 10Gi')
    .option('--refquota <bytes>')
    .option('--reservation <bytes>')
    .option('--compression <algo>')
    .option('--recordsize <bytes>')
    .option('--dry-run', 'only show the command')
    .action(async (node, name, o) => {
      const r = await apiClient().call('createDataset', {
        params: { node },
        body: {
          name,
          quota: o.quota,
          refquota: o.refquota,
          reservation: o.reservation,
          compression: o.compression,
          recordsize: o.recordsize,
          dryRun: o.dryRun === true,
        },
      });
      process.stdout.write(`${r.command}\n`);
    });
  ds.command('destroy <node> <name>')
    .option('--confirm <name>')
    .action(async (node, name, o) => {
      const r = await apiClient().call('destroyDataset', {
        params: { node },
        body: { name, confirm: o.confirm },
      });
      process.stdout.write(
        `${r.command}\n${r.ran ? 'destroyed' : "nothing ran: add --confirm <dataset's name>"}\n`,
      );
    });
  st.command('snapshot <node> <action> <name>')
    .description('create | destroy | rollback pool/dataset@name')
    .option('-r, --recursive')
    .option('--destroy-newer', 'rollback: destroy newer snapshots')
    .action(async (node, action, name, o) => {
      const r = await apiClient().call('snapshotAction', {
        params: { node },
        body: { action, name, recursive: o.recursive === true, destroyNewer: o.destroyNewer === true },
      });
      process.stdout.write(`${r.command}\n`);
    });
  st.command('snapshot-policy <node> <dataset>')
    .requiredOption('--label <hourly|daily|weekly>')
    .requiredOption('--keep <n>')
    .action(async (node, dataset, o) => {
      await apiClient().call('setSnapshotPolicy', {
        params: { node },
        body: { dataset, label: o.label, keep: Number(o.keep) },
      });
      process.stdout.write(`${dataset}: keep ${o.keep} ${o.label} snapshots\n`);
    });
  st.command('replicate <sourceNode> <snapshot> <targetNode> <targetDataset>')
    .description('send a snapshot to another node, relayed by grim (incremental with --from)')
    .option('--from <snapshot>')
    .option('--no-wait', 'answer at once with the job (its progress: grim job show <id>)')
    .option('--json')
    .action(async (sourceNode, snapshot, targetNode, targetDataset, o) => {
      const r = await apiClient().call('replicateDataset', {
        body: { sourceNode, snapshot, targetNode, targetDataset, from: o.from, wait: o.wait !== false },
      });
      if (r.running) {
        print(o, r, () => `${r.command}\nrunning: grim job show ${r.jobId}`);
        return;
      }
      print(
        o,
        r,
        () =>
          `${r.command}\n${r.bytes} bytes in ${r.seconds} s${r.incremental ? ' (incremental)' : ''}${r.jobId ? `\nprogress: grim job show ${r.jobId}` : ''}`,
      );
    });
  st.command('events')
    .option('--node <node>')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('storageEvents', { query: { node: o.node } });
      print(o, r, () =>
        table(
          ['AT', 'NODE', 'POOL', 'SEVERITY', 'MESSAGE'],
          r.events.map((e) => [when(e.at), e.node, e.pool, e.severity, e.message]),
        ),
      );
    });
}
