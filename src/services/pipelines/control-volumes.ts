/**
 * Volumes on the control node for the services grim itself runs there (the Buildbot master's state, the build
 * registry's images): the same scripts that make app volumes on nodes (scripts/node/volume-create.sh,
 * volume-snapshot.sh, volume-backup.sh), run locally. With a ZFS pool named for them (GRIM_CONTROL_VOLUME_POOL)
 * each is a dataset with a quota and ZFS snapshots; otherwise a directory, snapshotted as a copy. They are
 * named like app volumes, app `grim-build`, under <data dir>/control-volumes so they never meet app volumes.
 */
import { join } from 'node:path';
import { runLocalScript } from './local-scripts.ts';

export const CONTROL_APP = 'grim-build';

export interface ControlVolumeSettings {
  root: string;
  /** ZFS pool, or "none" for directories. */
  pool: string;
  keepSnapshots: number;
}

export function controlVolumeSettings(dataDir: string, env: NodeJS.ProcessEnv): ControlVolumeSettings {
  return {
    root: join(dataDir, 'control-volumes'),
    pool: env.GRIM_CONTROL_VOLUME_POOL || 'none',
    keepSnapshots: Number(env.GRIM_CONTROL_VOLUME_SNAPSHOTS) || 5,
  };
}

export interface ControlVolumeInfo {
  name: string;
  path: string;
  backend: string;
  sizeBytes: number;
  usedBytes: number;
}

export class ControlVolumes {
  readonly settings: ControlVolumeSettings;
  constructor(settings: ControlVolumeSettings) {
    this.settings = settings;
  }

  /** Where volume `name` is mounted (whether it exists yet or not). */
  path(name: string): string {
    return join(this.settings.root, CONTROL_APP, name);
  }

  private common(name: string) {
    return {
      APP: CONTROL_APP,
      NAME: name,
      VOLUME_POOL: this.settings.pool,
      VOLUMES_ROOT: this.settings.root,
    };
  }

  /** Creates the volume (or finds it; a larger size grows it). */
  async ensure(name: string, sizeBytes: number): Promise<ControlVolumeInfo> {
    const { json } = await runLocalScript(
      'volume-create',
      { ...this.common(name), SIZE_BYTES: String(sizeBytes), ZVOLS: 'no' },
      60_000,
    );
    const r = json as { backend: string; path: string; sizeBytes: number; usedBytes: number };
    return { name, path: r.path, backend: r.backend, sizeBytes: r.sizeBytes, usedBytes: r.usedBytes };
  }

  /** A point-in-time copy (ZFS snapshot or a copy of the directory), the newest `keepSnapshots` kept. */
  async snapshot(name: string, snapshot: string) {
    const { json } = await runLocalScript(
      'volume-snapshot',
      { ...this.common(name), SNAPSHOT: snapshot, KEEP: String(this.settings.keepSnapshots) },
      300_000,
    );
    return json as { taken: boolean; kind: string | null; bytes: number; reason?: string };
  }

  /** A restic backup of the volume (scripts/node/volume-backup.sh, as for app volumes) with restic's environment. */
  async backup(name: string, restic: Record<string, string>) {
    const { json } = await runLocalScript(
      'volume-backup',
      { APP: CONTROL_APP, NAME: name, VOLUMES_ROOT: this.settings.root, ...restic },
      6 * 3600_000,
    );
    return json as { snapshotId: string; bytes: number; files: number; durationMs: number };
  }
}
