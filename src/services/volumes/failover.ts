/**
 * Failover of a stateful app is never silent: when a lost instance's data is on a node that is not back, grim
 * does not place it elsewhere with empty volumes. The instance says why, and a failed job offers the restore of
 * the latest backup onto another node (after which the holder is the new node and failover proceeds).
 */
import type { AppSpec } from '../../domain/apps/model.ts';
import type { Db } from '../../store/db.ts';
import { holderNodes, noteInstance } from '../../store/volumes-repo.ts';
import type { JobStore } from '../jobs.ts';
import { VolumeService } from './volume-service.ts';

export async function pinnedToLostData(
  d: { db: Db; jobs: JobStore },
  app: string,
  spec: AppSpec,
  instances: ReadonlyArray<{ id: string; node: string; state: string; message: string }>,
): Promise<boolean> {
  if (!VolumeService.stateful(spec)) return false;
  const holders = await holderNodes(d.db, app);
  const stuck = instances.filter((i) => i.state === 'lost' && holders.has(i.node));
  if (stuck.length === 0) return false;
  const vols = (spec.volumes ?? []).filter((v) => v.kind === 'local').map((v) => v.name);
  const nodes = [...new Set(stuck.map((i) => i.node))];
  const message =
    `not rescheduled: the data of ${app} (volumes ${vols.join(', ')}) is on ${nodes.join(', ')}, which cannot ` +
    'be reached. Bring the node back, or restore the latest backup onto another node: ' +
    vols.map((v) => `grim volume restore ${app} ${v} --node <node>`).join('; ');
  let changed = false;
  for (const i of stuck)
    if (i.message !== message) {
      await noteInstance(d.db, i.id, message);
      changed = true;
    }
  if (changed) {
    const jobId = await d.jobs.create('app.failover', { app, pinned: nodes }, 'system', ['rollout']);
    d.jobs.output(jobId, 'rollout', 'stdout', `${message}\n`);
    await d.jobs.finish(jobId, 'failed', message);
  }
  return true;
}
