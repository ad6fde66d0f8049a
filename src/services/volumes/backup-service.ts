/**
 * Volume backups with restic, run on the node that holds the volume: to a named backup target (an S3 bucket,
 * e.g. on the environment's SeaweedFS cluster, or a path the admin names), one encrypted repository per app
 * (<target>/grim/<environment>/<app>) with a per-app password sealed in grim, retention by `forget --prune`.
 * Restores go into a new or existing volume on the same node or another one. Scheduled backups run from
 * tick(); the age of each volume's last good backup feeds /metrics.
 */
import { randomBytes } from 'node:crypto';
import { conflict, invalid, notFound } from '../../domain/errors.ts';
import type { AppSpec } from '../../domain/apps/model.ts';
import { VM_RUNTIMES } from '../../domain/apps/model.ts';
import { VOLUME_NAME } from '../../domain/volumes/spec.ts';
import { checkTargetInput, type BackupTargetInput } from '../../domain/volumes/targets.ts';
import type { Db } from '../../store/db.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { getNodeRow } from '../../store/nodes-repo.ts';
import { appSpec, getApp } from '../../store/apps-repo.ts';
import {
  appPassword,
  appVolumes,
  backupTimes,
  localVolumeFirsts,
  deleteTarget,
  finishBackup,
  getTarget,
  insertBackup,
  listTargets,
  putTarget,
  setVolumeState,
  storeAppPassword,
  upsertVolume,
  volumeBackups,
  type BackupRow,
  type BackupTargetRow,
} from '../../store/volumes-repo.ts';
import { newId } from '../ids.ts';
import { volumeFsUuid, type VolumeService } from './volume-service.ts';

export const targetContext = (name: string) => `backup-target:${name}`;
export const passwordContext = (app: string) => `volume-password:${app}`;

export const backupView = (b: BackupRow) => ({
  id: b.id,
  app: b.app,
  volume: b.name,
  node: b.node,
  target: b.target,
  status: b.status,
  resticId: b.restic_id,
  bytes: Number(b.bytes),
  files: Number(b.files),
  durationMs: Number(b.duration_ms),
  message: b.message,
  createdBy: b.created_by,
  createdAt: Number(b.created_at),
  finishedAt: b.finished_at === null ? null : Number(b.finished_at),
});

export const targetView = (t: BackupTargetRow) => ({
  name: t.name,
  kind: t.kind,
  location: t.location,
  hasCredentials: t.secret_key !== '',
});

export class BackupService {
  private readonly d: {
    db: Db;
    box: SecretBox;
    volumes: VolumeService;
    appSpec: (app: string) => Promise<AppSpec | undefined>;
  };
  /** Volumes whose backup runs in this process now (app/name). */
  private readonly running = new Set<string>();

  constructor(d: BackupService['d']) {
    this.d = d;
  }

  /** The backups of the apps in `db` (volume policies come from each app's current spec). */
  static forApps(db: Db, box: SecretBox, volumes: VolumeService): BackupService {
    return new BackupService({
      db,
      box,
      volumes,
      appSpec: async (app) => {
        const row = await getApp(db, app);
        return row ? appSpec(row) : undefined;
      },
    });
  }

  async putTarget(input: BackupTargetInput) {
    const r = checkTargetInput(input);
    if (!r.ok) throw invalid(`backup target ${input.name} is invalid`, r.problems);
    await putTarget(this.d.db, {
      name: r.target.name,
      kind: r.target.kind,
      location: r.target.location,
      access_key: r.target.accessKeyId
        ? this.d.box.seal(r.target.accessKeyId, targetContext(r.target.name))
        : '',
      secret_key: r.target.secretAccessKey
        ? this.d.box.seal(r.target.secretAccessKey, targetContext(r.target.name))
        : '',
    });
    return targetView((await getTarget(this.d.db, r.target.name)) as BackupTargetRow);
  }

  async targets() {
    return (await listTargets(this.d.db)).map(targetView);
  }

  async removeTarget(name: string) {
    if (!(await getTarget(this.d.db, name))) throw notFound(`backup target ${name}`);
    await deleteTarget(this.d.db, name);
  }

  private async target(name: string | undefined): Promise<BackupTargetRow> {
    if (name !== undefined) {
      const t = await getTarget(this.d.db, name);
      if (!t) throw notFound(`backup target ${name}`);
      return t;
    }
    const all = await listTargets(this.d.db);
    if (all.length === 1) return all[0];
    throw conflict(
      all.length === 0
        ? 'no backup target is configured: add one with grim backup-target set'
        : `${all.length} backup targets are configured: name one (${all.map((t) => t.name).join(', ')})`,
    );
  }

  /** The app's repository password, made on first use and sealed in grim (it outlives the app, like its backups). */
  private async password(app: string): Promise<string> {
    const sealed = await appPassword(this.d.db, app);
    if (sealed) return this.d.box.open(sealed, passwordContext(app)).toString('utf8');
    const pw = randomBytes(32).toString('base64url');
    await storeAppPassword(this.d.db, app, this.d.box.seal(pw, passwordContext(app)));
    return pw;
  }

  /** restic's environment for `app`'s repository on a target (default: the only one) for volumes outside apps. */
  async resticEnvFor(target: string | undefined, environment: string, app: string) {
    const t = await this.target(target);
    return { target: t.name, env: await this.resticEnv(t, environment, app) };
  }

  private async resticEnv(t: BackupTargetRow, environment: string, app: string) {
    const env: Record<string, string> = {
      RESTIC_REPOSITORY: `${t.location}/grim/${environment}/${app}`,
      RESTIC_PASSWORD: await this.password(app),
    };
    if (t.access_key)
      env.AWS_ACCESS_KEY_ID = this.d.box.open(t.access_key, targetContext(t.name)).toString('utf8');
    if (t.secret_key)
      env.AWS_SECRET_ACCESS_KEY = this.d.box.open(t.secret_key, targetContext(t.name)).toString('utf8');
    return env;
  }

  private async copies(app: string, name: string) {
    if (!VOLUME_NAME.test(name))
      throw invalid('bad volume name', [{ path: 'params/volume', message: 'not a volume name' }]);
    const rows = (await appVolumes(this.d.db, app)).filter((v) => v.name === name && v.kind === 'local');
    if (rows.length === 0) throw notFound(`local volume ${name} of ${app}`);
    return rows;
  }

  /** Back up one volume now, from the given node or the first ready node holding a present copy. */
  async backup(app: string, name: string, o: { node?: string; target?: string }, by: string) {
    const rows = await this.copies(app, name);
    const spec = await this.d.appSpec(app);
    const policy = spec?.volumes?.find((v) => v.name === name)?.backup;
    const t = await this.target(o.target ?? policy?.target);
    const row = rows.find((r) => (o.node ? r.node === o.node : r.state === 'present'));
    if (o.node && !row) throw notFound(`volume ${app}/${name} on node ${o.node}`);
    const node = row ? await getNodeRow(this.d.db, row.node) : undefined;
    if (!row || !node || node.state !== 'ready')
      throw conflict(
        `no ready node holds volume ${app}/${name}${row ? ` (${row.node} is ${node?.state ?? 'gone'})` : ''}`,
      );
    const key = `${app}/${name}`;
    if (this.running.has(key)) throw conflict(`a backup of ${key} is under way`);
    this.running.add(key);
    const id = newId();
    await insertBackup(this.d.db, { id, app, name, node: row.node, target: t.name, created_by: by });
    try {
      const { json } = await this.d.volumes.ctx(node).runScript(
        'volume-backup',
        {
          APP: app,
          NAME: name,
          KEEP: String(policy?.keep ?? 7),
          ...(await this.resticEnv(t, row.environment, app)),
        },
        { timeoutMs: 6 * 3600_000 },
      );
      const r = json as { snapshotId: string; bytes: number; files: number; durationMs: number };
      await finishBackup(this.d.db, id, {
        status: 'succeeded',
        resticId: r.snapshotId,
        bytes: r.bytes,
        files: r.files,
        durationMs: r.durationMs,
      });
    } catch (err) {
      await finishBackup(this.d.db, id, { status: 'failed', message: (err as Error).message });
    } finally {
      this.running.delete(key);
    }
    return backupView((await volumeBackups(this.d.db, app, name)).find((b) => b.id === id) as BackupRow);
  }

  async backups(app: string, name?: string) {
    return (await volumeBackups(this.d.db, app, name)).map(backupView);
  }

  /**
   * Restore a backup (default the latest) into the volume on `node`, created there when missing. The node may be
   * another one than the backup's: for an app of at most one replica, the copies on other nodes are then
   * abandoned, so its instance follows its data to `node`.
   */
  async restore(
    app: string,
    name: string,
    o: { node: string; backup?: string; target?: string; replace?: boolean },
  ) {
    const rows = await this.copies(app, name);
    const spec = await this.d.appSpec(app);
    const vspec = spec?.volumes?.find((v) => v.name === name);
    const sizeBytes = vspec?.sizeBytes ?? Math.max(...rows.map((r) => Number(r.size_bytes)));
    const node = await getNodeRow(this.d.db, o.node);
    if (!node) throw notFound(`node ${o.node}`);
    if (node.state !== 'ready') throw conflict(`node ${o.node} is ${node.state}`);
    const backups = (await volumeBackups(this.d.db, app, name)).filter((b) => b.status === 'succeeded');
    const picked = o.backup ? backups.find((b) => b.restic_id === o.backup || b.id === o.backup) : backups[0];
    const t = await this.target(o.target ?? picked?.target ?? vspec?.backup?.target);
    const vm = spec ? VM_RUNTIMES.includes(spec.runtime) : rows.some((r) => r.image !== '');
    const ctx = this.d.volumes.ctx(node);
    const { json: created } = await ctx.runScript(
      'volume-create',
      {
        ...this.d.volumes.common(),
        APP: app,
        NAME: name,
        SIZE_BYTES: String(sizeBytes),
        ...(vm ? { FORMAT: 'block', FS_UUID: volumeFsUuid(app, name) } : {}),
      },
      { timeoutMs: 120_000 },
    );
    const c = created as { backend: string; path: string; image: string | null; usedBytes: number };
    const { json } = await ctx.runScript(
      'volume-restore',
      {
        APP: app,
        NAME: name,
        BACKUP: o.backup ? (picked?.restic_id ?? o.backup) : 'latest',
        ...(o.replace || vm ? { REPLACE: 'yes' } : {}),
        ...(await this.resticEnv(t, rows[0].environment, app)),
      },
      { timeoutMs: 6 * 3600_000 },
    );
    const r = json as { restored: string; bytes: number; durationMs: number };
    await upsertVolume(this.d.db, {
      app,
      name,
      node: node.name,
      environment: rows[0].environment,
      kind: 'local',
      size_bytes: sizeBytes,
      backend: c.backend,
      path: c.path,
      image: c.image ?? '',
      used_bytes: r.bytes,
    });
    const abandoned: string[] = [];
    if ((spec?.replicas ?? 0) <= 1)
      for (const other of new Set(rows.map((x) => x.node)))
        if (other !== node.name) {
          await setVolumeState(this.d.db, app, other, 'abandoned');
          abandoned.push(other);
        }
    return {
      app,
      volume: name,
      node: node.name,
      backup: r.restored,
      bytes: r.bytes,
      durationMs: r.durationMs,
      abandoned,
    };
  }

  /** Seconds since each volume's last good backup (since its first copy when it never had one). */
  async lastBackupAges(now = Date.now()) {
    const times = new Map((await backupTimes(this.d.db)).map((t) => [`${t.app}/${t.name}`, t]));
    const rows = await localVolumeFirsts(this.d.db);
    return rows.map((r) => {
      const t = times.get(`${r.app}/${r.name}`);
      const since = t?.last_good ?? Number(r.created);
      return {
        app: r.app,
        volume: r.name,
        environment: r.environment,
        lastGood: t?.last_good === null || t?.last_good === undefined ? null : Number(t.last_good),
        ageSeconds: Math.max(0, Math.round((now - Number(since)) / 1000)),
      };
    });
  }

  /** Runs every scheduled backup that is due (one volume at a time). Returns the backups it ran. */
  async tick(apps: Array<{ name: string; spec: AppSpec }>, now = Date.now()) {
    const times = new Map((await backupTimes(this.d.db)).map((t) => [`${t.app}/${t.name}`, t]));
    const ran: Array<ReturnType<typeof backupView>> = [];
    for (const a of apps)
      for (const v of a.spec.volumes ?? []) {
        if (!v.backup || v.kind !== 'local') continue;
        const copies = (await appVolumes(this.d.db, a.name)).filter(
          (c) => c.name === v.name && c.state === 'present',
        );
        if (copies.length === 0) continue;
        const last = times.get(`${a.name}/${v.name}`)?.last_attempt;
        const from =
          last === null || last === undefined
            ? Math.min(...copies.map((c) => Number(c.created_at)))
            : Number(last);
        if (now < from + v.backup.intervalSec * 1000) continue;
        ran.push(
          await this.backup(a.name, v.name, {}, 'schedule').catch((err) => ({
            ...failedView(a.name, v.name, err),
          })),
        );
      }
    return ran;
  }
}

function failedView(app: string, volume: string, err: unknown) {
  return backupView({
    id: '',
    app,
    name: volume,
    node: '',
    target: '',
    status: 'failed',
    restic_id: '',
    bytes: 0,
    files: 0,
    duration_ms: 0,
    message: (err as Error).message,
    created_by: 'schedule',
    created_at: Date.now(),
    finished_at: Date.now(),
  });
}
