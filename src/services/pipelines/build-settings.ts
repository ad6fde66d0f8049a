/**
 * Build settings in grim (API, CLI, UI): the nodes that run Buildbot workers and the build registry's storage.
 * Stored in the settings table; an S3 bucket gets its own key from grim's SeaweedFS services (limited to that
 * bucket, its secret sealed here, the key retired when the registry moves elsewhere). Changing them while
 * Buildbot runs re-applies the configuration: workers are installed on added nodes and removed from dropped
 * ones, the registry restarts on its new storage (images are not copied over: rebuild what must stay pullable).
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../store/db.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { getSetting, putSetting } from '../../store/settings-repo.ts';
import { seaweedRepo } from '../../store/seaweedfs-repo.ts';
import { getNodeRow, listNodeRows } from '../../store/nodes-repo.ts';
import { invalid } from '../../domain/errors.ts';
import {
  buildSettingsProblems,
  DEFAULT_BUILD_SETTINGS,
  type BuildSettings,
  type RegistryStorage,
} from '../../domain/build-settings.ts';
import type { SeaweedAccess } from '../seaweedfs/access.ts';
import type { WorkerNodes } from './worker-nodes.ts';

const KEY = 'build-settings';
const S3_CONTEXT = 'build-registry-s3';

interface Stored extends BuildSettings {
  /** The registry's own key on the S3 bucket (registryStorage.kind = s3). */
  s3?: { endpoint: string; accessKey: string; secretKey: string };
}

/** Where the registry keeps its images, with what it needs to reach them. */
export type RegistryStorageConfig =
  | { kind: 'directory' | 'volume' }
  | { kind: 's3'; endpoint: string; bucket: string; accessKey: string; secretKey: string };

export async function readBuildSettings(db: Db): Promise<BuildSettings> {
  const s = await getSetting<Stored>(db, KEY);
  return s ? { workerNodes: s.workerNodes, registryStorage: s.registryStorage } : DEFAULT_BUILD_SETTINGS;
}

export async function registryStorageConfig(db: Db, box: SecretBox): Promise<RegistryStorageConfig> {
  const s = await getSetting<Stored>(db, KEY);
  const r = s?.registryStorage ?? DEFAULT_BUILD_SETTINGS.registryStorage;
  if (r.kind !== 's3') return { kind: r.kind };
  const k = s!.s3!;
  return {
    kind: 's3',
    endpoint: k.endpoint,
    bucket: r.bucket,
    accessKey: k.accessKey,
    secretKey: box.open(k.secretKey, S3_CONTEXT).toString(),
  };
}

const sameStorage = (a: RegistryStorage, b: RegistryStorage) => JSON.stringify(a) === JSON.stringify(b);

export interface BuildSettingsDeps {
  db: Db;
  box: SecretBox;
  workerNodes: WorkerNodes;
  /** Re-applies Buildbot's configuration when it runs (workers and registry follow); false when it does not run. */
  reapply: () => Promise<unknown>;
}

/**
 * Checks the new settings (every problem listed), stores them, and when Buildbot runs applies them: the
 * registry's bucket and key first, then the configuration, then the workers of dropped nodes go.
 */
export async function updateBuildSettings(
  d: BuildSettingsDeps,
  input: BuildSettings,
  s3: SeaweedAccess,
): Promise<{ settings: BuildSettings; applied: boolean; removedWorkers: string[] }> {
  const nodes = new Set((await listNodeRows(d.db)).map((n) => n.name));
  const clusters = new Set((await seaweedRepo.clusters(d.db)).map((c) => c.environment));
  const problems = buildSettingsProblems(input, { nodes, storageClusters: clusters });
  if (problems.length) throw invalid('the build settings cannot be saved', problems);
  const before = (await getSetting<Stored>(d.db, KEY)) ?? { ...DEFAULT_BUILD_SETTINGS };
  const next: Stored = { workerNodes: [...input.workerNodes], registryStorage: input.registryStorage };
  const r = input.registryStorage;
  if (r.kind === 's3' && sameStorage(r, before.registryStorage)) next.s3 = before.s3;
  else if (r.kind === 's3') {
    if (!(await seaweedRepo.bucket(d.db, r.environment, r.bucket)))
      await s3.createBucket(r.environment, { name: r.bucket });
    const key = await s3.createKey(r.environment, {
      name: `grim-build-registry-${randomBytes(3).toString('hex')}`,
      bucket: r.bucket,
      actions: ['Read', 'Write'],
    });
    if (!key.endpoints[0]) throw invalid('no S3 gateway', [{ path: 'body/registryStorage/environment', message: `the SeaweedFS cluster of ${r.environment} has no S3 gateway` }]); // prettier-ignore
    next.s3 = {
      endpoint: key.endpoints[0],
      accessKey: key.accessKey,
      secretKey: d.box.seal(key.secretKey, S3_CONTEXT),
    };
  }
  await putSetting(d.db, KEY, next);
  const applied = (await d.reapply()) !== false;
  // Workers were deployed by the running Buildbot's applies: the dropped nodes' go now.
  const removed = applied ? before.workerNodes.filter((n) => !next.workerNodes.includes(n)) : [];
  for (const name of removed) {
    const node = await getNodeRow(d.db, name);
    if (node) await d.workerNodes.remove(node);
  }
  const old = before.registryStorage;
  if (old.kind === 's3' && before.s3 && !sameStorage(old, r))
    await s3.retireKey(old.environment, before.s3.accessKey).catch(() => undefined);
  return {
    settings: { workerNodes: next.workerNodes, registryStorage: next.registryStorage },
    applied,
    removedWorkers: removed,
  };
}
