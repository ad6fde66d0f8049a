/** What the API shows of volumes: each copy with its snapshots and last good backup, orphans flagged. */
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../../store/db.ts';
import { getNodeRow } from '../../store/nodes-repo.ts';
import { listApps } from '../../store/apps-repo.ts';
import { allVolumes, backupTimes, volumeSnapshots } from '../../store/volumes-repo.ts';
import type { VolumeService } from './volume-service.ts';

export async function volumeCopies(db: Db, f: { app?: string; node?: string; orphaned?: boolean }) {
  const apps = new Set((await listApps(db)).map((a) => a.name));
  const times = new Map((await backupTimes(db)).map((t) => [`${t.app}/${t.name}`, t.last_good]));
  const rows = (await allVolumes(db)).filter(
    (v) =>
      (f.app === undefined || v.app === f.app) &&
      (f.node === undefined || v.node === f.node) &&
      (f.orphaned === undefined || f.orphaned === !apps.has(v.app)),
  );
  const snaps = new Map<string, Awaited<ReturnType<typeof volumeSnapshots>>>();
  for (const app of new Set(rows.map((r) => r.app))) snaps.set(app, await volumeSnapshots(db, app));
  return rows.map((v) => {
    const good = times.get(`${v.app}/${v.name}`);
    return {
      app: v.app,
      volume: v.name,
      node: v.node,
      environment: v.environment,
      kind: v.kind,
      sizeBytes: Number(v.size_bytes),
      usedBytes: Number(v.used_bytes),
      backend: v.backend,
      path: v.path,
      state: v.state,
      orphaned: !apps.has(v.app),
      snapshots: (snaps.get(v.app) ?? [])
        .filter((s) => s.name === v.name && s.node === v.node)
        .map((s) => ({ name: s.snapshot, release: Number(s.release), bytes: Number(s.bytes) })),
      lastGoodBackupAt: good === null || good === undefined ? null : Number(good),
    };
  });
}

/** The node's own account of its volumes (scripts/node/volume-list.sh). */
export async function liveNodeVolumes(db: Db, volumes: VolumeService, nodeName: string) {
  const node = await getNodeRow(db, nodeName);
  if (!node) throw notFound(`node ${nodeName}`);
  const { json } = await volumes.ctx(node).runScript('volume-list', volumes.common(), { timeoutMs: 60_000 });
  return (json as { volumes: unknown[] }).volumes;
}
