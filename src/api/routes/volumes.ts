import Type from 'typebox';
import { route } from '../route.ts';
import { Ok } from '../common.ts';

const AppName = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' });
const VolumeName = Type.String({ minLength: 1, maxLength: 24, pattern: '^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$' });
const NodeName = Type.String({ minLength: 1, maxLength: 64 });
const TargetName = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$',
});
const VolumeParams = Type.Object({ app: AppName, volume: VolumeName }, { additionalProperties: false });

export const VolumeCopyView = Type.Object({
  app: Type.String(),
  volume: Type.String(),
  node: Type.String(),
  environment: Type.String(),
  kind: Type.String(),
  sizeBytes: Type.Integer(),
  usedBytes: Type.Integer(),
  backend: Type.String(),
  path: Type.String(),
  state: Type.String(),
  orphaned: Type.Boolean({ description: 'its app no longer exists' }),
  snapshots: Type.Array(Type.Object({ name: Type.String(), release: Type.Integer(), bytes: Type.Integer() })),
  lastGoodBackupAt: Type.Union([Type.Integer(), Type.Null()]),
});

export const BackupView = Type.Object({
  id: Type.String(),
  app: Type.String(),
  volume: Type.String(),
  node: Type.String(),
  target: Type.String(),
  status: Type.String(),
  resticId: Type.String(),
  bytes: Type.Integer(),
  files: Type.Integer(),
  durationMs: Type.Integer(),
  message: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  finishedAt: Type.Union([Type.Integer(), Type.Null()]),
});

const TargetView = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  location: Type.String(),
  hasCredentials: Type.Boolean(),
});

export const volumeRoutes = {
  listVolumes: route({
    method: 'GET',
    path: '/api/volumes',
    summary: 'Volume copies on nodes, with sizes, snapshots and the last good backup; orphaned ones flagged',
    tag: 'volumes',
    role: 'viewer',
    query: Type.Object(
      {
        app: Type.Optional(AppName),
        node: Type.Optional(NodeName),
        orphaned: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ volumes: Type.Array(VolumeCopyView) }),
  }),
  nodeVolumes: route({
    method: 'GET',
    path: '/api/nodes/:name/volumes',
    summary: 'What the node itself reports: every app volume on it with backend, size, use and snapshots',
    tag: 'volumes',
    role: 'viewer',
    params: Type.Object({ name: NodeName }, { additionalProperties: false }),
    response: Type.Object({ volumes: Type.Array(Type.Unknown()) }),
  }),
  deleteVolume: route({
    method: 'DELETE',
    path: '/api/volumes/:app/:volume',
    summary: "Delete one node's copy of a volume (its data and snapshots)",
    tag: 'volumes',
    role: 'operator',
    params: VolumeParams,
    query: Type.Object({ node: NodeName }, { additionalProperties: false }),
    response: Ok,
  }),
  backupVolume: route({
    method: 'POST',
    path: '/api/volumes/:app/:volume/backups',
    summary: 'Back up a volume now with restic, from the node that holds it',
    tag: 'volumes',
    role: 'operator',
    params: VolumeParams,
    body: Type.Object(
      { node: Type.Optional(NodeName), target: Type.Optional(TargetName) },
      { additionalProperties: false },
    ),
    response: Type.Object({ backup: BackupView }),
  }),
  listBackups: route({
    method: 'GET',
    path: '/api/volumes/:app/:volume/backups',
    summary: "A volume's backups, newest first",
    tag: 'volumes',
    role: 'viewer',
    params: VolumeParams,
    response: Type.Object({ backups: Type.Array(BackupView) }),
  }),
  restoreVolume: route({
    method: 'POST',
    path: '/api/volumes/:app/:volume/restore',
    summary: 'Restore a backup (default the latest) into the volume on a node, created there when missing',
    tag: 'volumes',
    role: 'operator',
    params: VolumeParams,
    body: Type.Object(
      {
        node: NodeName,
        backup: Type.Optional(Type.String({ maxLength: 64, pattern: '^[0-9a-zA-Z-]+$' })),
        target: Type.Optional(TargetName),
        replace: Type.Optional(Type.Boolean({ description: "overwrite the volume's current content" })),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({
      app: Type.String(),
      volume: Type.String(),
      node: Type.String(),
      backup: Type.String(),
      bytes: Type.Integer(),
      durationMs: Type.Integer(),
      abandoned: Type.Array(Type.String(), { description: 'nodes whose copy the app no longer uses' }),
    }),
  }),
  listBackupTargets: route({
    method: 'GET',
    path: '/api/backup-targets',
    summary: 'Where volume backups go (credentials are never returned)',
    tag: 'volumes',
    role: 'viewer',
    response: Type.Object({ targets: Type.Array(TargetView) }),
  }),
  putBackupTarget: route({
    method: 'PUT',
    path: '/api/backup-targets/:name',
    summary: 'Create or change a backup target: an S3 bucket (e.g. on SeaweedFS) or a path on the nodes',
    tag: 'volumes',
    role: 'admin',
    params: Type.Object({ name: TargetName }, { additionalProperties: false }),
    body: Type.Object(
      {
        kind: Type.Union([Type.Literal('s3'), Type.Literal('path')]),
        endpoint: Type.Optional(Type.String({ maxLength: 512 })),
        bucket: Type.Optional(Type.String({ maxLength: 63 })),
        path: Type.Optional(Type.String({ maxLength: 512 })),
        accessKeyId: Type.Optional(Type.String({ maxLength: 256 })),
        secretAccessKey: Type.Optional(Type.String({ maxLength: 256 })),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ target: TargetView }),
  }),
  deleteBackupTarget: route({
    method: 'DELETE',
    path: '/api/backup-targets/:name',
    summary: 'Forget a backup target (the backups stay where they are)',
    tag: 'volumes',
    role: 'admin',
    params: Type.Object({ name: TargetName }, { additionalProperties: false }),
    response: Ok,
  }),
};
