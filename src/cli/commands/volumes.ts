import type { Command } from 'commander';
import { apiClient } from '../context.ts';
import { print, table } from '../output.ts';
import { formatBytes } from '../../domain/units.ts';

const age = (ms: number | null) => {
  if (ms === null) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
};

export function registerVolumeCommands(program: Command) {
  const vol = program.command('volume').description('app volumes: list, back up, restore');
  vol
    .command('list')
    .option('--app <name>')
    .option('--node <name>')
    .option('--orphaned', 'only volumes whose app was deleted')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listVolumes', {
        query: {
          ...(o.app ? { app: o.app } : {}),
          ...(o.node ? { node: o.node } : {}),
          ...(o.orphaned ? { orphaned: true } : {}),
        },
      });
      print(o, r, () =>
        table(
          ['APP', 'VOLUME', 'NODE', 'KIND', 'BACKEND', 'SIZE', 'USED', 'SNAPSHOTS', 'LAST BACKUP', 'STATE'],
          r.volumes.map((v) => [
            v.app,
            v.volume,
            v.node,
            v.kind,
            v.backend,
            formatBytes(v.sizeBytes),
            formatBytes(v.usedBytes),
            v.snapshots.map((s) => s.name).join(',') || '-',
            age(v.lastGoodBackupAt),
            v.orphaned ? 'orphaned' : v.state,
          ]),
        ),
      );
    });
  vol
    .command('backup <app> <volume>')
    .description('back up a volume now (restic, run on its node)')
    .option('--node <name>', 'the copy to back up (default: the node holding it)')
    .option('--target <name>', 'backup target (default: the volume policy or the only one)')
    .option('--json')
    .action(async (app, volume, o) => {
      const r = await apiClient().call('backupVolume', {
        params: { app, volume },
        body: { ...(o.node ? { node: o.node } : {}), ...(o.target ? { target: o.target } : {}) },
      });
      const b = r.backup;
      print(o, r, () =>
        b.status === 'succeeded'
          ? `backup ${b.resticId} of ${app}/${volume} from ${b.node} to ${b.target}: ${b.files} files, ${formatBytes(b.bytes || 1)}, ${(b.durationMs / 1000).toFixed(1)} s`
          : `backup of ${app}/${volume} failed: ${b.message}`,
      );
      if (b.status !== 'succeeded') process.exitCode = 1;
    });
  vol
    .command('backups <app> <volume>')
    .option('--json')
    .action(async (app, volume, o) => {
      const r = await apiClient().call('listBackups', { params: { app, volume } });
      print(o, r, () =>
        table(
          ['ID', 'WHEN', 'NODE', 'TARGET', 'STATUS', 'FILES', 'BYTES', 'TOOK'],
          r.backups.map((b) => [
            b.resticId || b.id,
            new Date(b.createdAt).toISOString(),
            b.node,
            b.target,
            b.status === 'failed' ? `failed: ${b.message.slice(0, 60)}` : b.status,
            b.files,
            b.bytes,
            `${(b.durationMs / 1000).toFixed(1)} s`,
          ]),
        ),
      );
    });
  vol
    .command('restore <app> <volume>')
    .description('restore a backup into the volume on a node (another node than the backup is fine)')
    .requiredOption('--node <name>', 'where the volume is restored')
    .option('--backup <id>', 'restic snapshot id (default: the latest)')
    .option('--target <name>')
    .option('--replace', "overwrite the volume's current content on that node")
    .option('--json')
    .action(async (app, volume, o) => {
      const r = await apiClient().call('restoreVolume', {
        params: { app, volume },
        body: {
          node: o.node,
          ...(o.backup ? { backup: o.backup } : {}),
          ...(o.target ? { target: o.target } : {}),
          ...(o.replace ? { replace: true } : {}),
        },
      });
      print(
        o,
        r,
        () =>
          `restored ${r.backup} of ${app}/${volume} onto ${r.node}: ${formatBytes(r.bytes || 1)} in ${(r.durationMs / 1000).toFixed(2)} s` +
          (r.abandoned.length ? `; the copies on ${r.abandoned.join(', ')} are no longer used` : ''),
      );
    });
  vol
    .command('delete <app> <volume>')
    .description("delete one node's copy of a volume, with its snapshots")
    .requiredOption('--node <name>')
    .action(async (app, volume, o) => {
      await apiClient().call('deleteVolume', { params: { app, volume }, query: { node: o.node } });
      process.stdout.write(`deleted ${app}/${volume} on ${o.node}\n`);
    });

  const target = program.command('backup-target').description('where volume backups go');
  target
    .command('set <name>')
    .option('--s3 <endpoint>', 'S3 endpoint, e.g. http://10.0.0.5:8333 (SeaweedFS)')
    .option('--bucket <bucket>')
    .option('--access-key <key>')
    .option('--secret-key <key>')
    .option('--path <dir>', 'a directory on the nodes instead of S3')
    .option('--json')
    .action(async (name, o) => {
      const r = await apiClient().call('putBackupTarget', {
        params: { name },
        body: o.path
          ? { kind: 'path', path: o.path }
          : {
              kind: 's3',
              endpoint: o.s3,
              bucket: o.bucket,
              accessKeyId: o.accessKey,
              secretAccessKey: o.secretKey,
            },
      });
      print(o, r, () => `backup target ${r.target.name}: ${r.target.location}`);
    });
  target
    .command('list')
    .option('--json')
    .action(async (o) => {
      const r = await apiClient().call('listBackupTargets');
      print(o, r, () =>
        table(
          ['NAME', 'KIND', 'LOCATION'],
          r.targets.map((t) => [t.name, t.kind, t.location]),
        ),
      );
    });
}
