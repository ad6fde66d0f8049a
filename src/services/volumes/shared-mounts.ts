/**
 * Shared volumes ride on the environment's SeaweedFS cluster: the first shared volume on a node gets the node a
 * supervised `weed mount` of the filer's /volumes/grim at /srv/grim-shared (through the SeaweedFS service, with
 * its certificates and keys); later ones reuse it.
 */
import { SHARED_FILER_PATH, SHARED_ROOT } from '../../domain/volumes/spec.ts';
import type { Db } from '../../store/db.ts';
import { seaweedRepo } from '../../store/seaweedfs-repo.ts';
import type { SeaweedAccess } from '../seaweedfs/access.ts';
import type { SharedMounter } from './volume-service.ts';

export function sharedMounterFor(db: Db, access: SeaweedAccess): SharedMounter {
  return async (environment, node) => {
    const mounts = await seaweedRepo.mounts(db, environment);
    if (mounts.some((m) => m.node === node && m.dir === SHARED_ROOT)) return;
    try {
      await access.createMount(environment, {
        name: `grim-shared-${node}`.slice(0, 40).replace(/-+$/, ''),
        node,
        path: SHARED_FILER_PATH,
        dir: SHARED_ROOT,
      });
    } catch (err) {
      throw new Error(
        `shared volumes on ${node} need environment ${environment}'s SeaweedFS cluster mounted there: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
}
