/**
 * Volumes in the apps engine: the placement facts of a stateful app (which nodes hold its data, how much room
 * the others have), snapshots before every deploy, creating an instance's volumes on its node (and restoring
 * the snapshot a `rollback --restore-volumes` asked for), and what happens to volumes when their app is deleted.
 * Every node-side action is a scripts/node/volume-*.sh file run through the node's OpCtx.
 */
import { createHash } from 'node:crypto';
import type { AppSpec } from '../../domain/apps/model.ts';
import { VM_RUNTIMES } from '../../domain/apps/model.ts';
import {
  localVolumeBytes,
  sharedHostPath,
  shrinkProblems,
  type VolumeSpec,
} from '../../domain/volumes/spec.ts';
import { invalid } from '../../domain/errors.ts';
import type { InstanceVolume, OpCtx } from '../../drivers/driver.ts';
import type { Db } from '../../store/db.ts';
import { getNodeRow, type NodeRow } from '../../store/nodes-repo.ts';
import {
  appVolumes,
  dropRestoreRequests,
  dropVolume,
  forgetSnapshots,
  holderNodes,
  recordSnapshot,
  restoreRequest,
  snapshotAfter,
  upsertVolume,
} from '../../store/volumes-repo.ts';

/** The OpCtx through which grim acts on a node. */
export type NodeAccess = (node: NodeRow, log: (line: string) => void) => OpCtx;

export type VolumeSettings = {
  /** ZFS pool for volumes on every node ("none": directories); default: each node's first pool. */
  pool?: string;
  /** Snapshots kept per volume copy (default 5). */
  snapshotKeep?: number;
  /** Largest directory volume copied as a snapshot (default 1 GiB). */
  maxCopyBytes?: number;
  /** Where nodes mount the SeaweedFS filer for shared volumes (default /srv/grim-shared). */
  sharedRoot?: string;
};

export type PlacementFacts = {
  bytesPerInstance: number;
  nodes: Map<string, { holder: boolean; freeBytes?: number }>;
};

/** A stable ext4 UUID per app volume, so the guest finds the drive wherever the volume is restored. */
export function volumeFsUuid(app: string, name: string): string {
  const h = createHash('sha256').update(`grim-volume:${app}/${name}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Makes sure `node` has its environment's SeaweedFS filer mounted for shared volumes (a supervised weed mount). */
export type SharedMounter = (environment: string, node: string) => Promise<void>;

export class VolumeService {
  private readonly d: { db: Db; nodes: NodeAccess; settings: VolumeSettings };
  private sharedMounter?: SharedMounter;

  /** Set by the server once the SeaweedFS services exist. */
  setSharedMounter(m: SharedMounter) {
    this.sharedMounter = m;
  }

  get db(): Db {
    return this.d.db;
  }
  constructor(d: { db: Db; nodes: NodeAccess; settings?: VolumeSettings }) {
    this.d = { ...d, settings: d.settings ?? {} };
  }

  /** Parameters every volume script shares. */
  common(): Record<string, string> {
    return this.d.settings.pool ? { VOLUME_POOL: this.d.settings.pool } : {};
  }

  ctx(node: NodeRow, log: (line: string) => void = () => undefined): OpCtx {
    return this.d.nodes(node, log);
  }

  /** Refuses (400, every volume listed) a deploy that would make a local volume smaller than a kept copy. */
  async refuseShrinking(app: string, spec: AppSpec): Promise<void> {
    const copies = (await appVolumes(this.d.db, app))
      .filter((v) => v.kind === 'local' && v.state === 'present')
      .map((v) => ({ name: v.name, node: v.node, sizeBytes: Number(v.size_bytes) }));
    const problems = shrinkProblems(spec.volumes, copies);
    if (problems.length) throw invalid(`the volumes of ${app} cannot shrink`, problems);
  }

  static stateful(spec: AppSpec): boolean {
    return localVolumeBytes(spec.volumes) > 0;
  }

  /** For place(): the nodes holding the app's data, and the room for new volumes on every other ready node. */
  async placementFacts(
    app: string,
    spec: AppSpec,
    nodes: readonly NodeRow[],
  ): Promise<PlacementFacts | undefined> {
    const bytesPerInstance = localVolumeBytes(spec.volumes);
    if (bytesPerInstance === 0) return undefined;
    const holders = await holderNodes(this.d.db, app);
    const out = new Map<string, { holder: boolean; freeBytes?: number }>();
    await Promise.all(
      nodes.map(async (n) => {
        if (holders.has(n.name) || n.state !== 'ready') {
          out.set(n.name, { holder: holders.has(n.name) });
          return;
        }
        try {
          const { json } = await this.ctx(n).runScript('volume-space', this.common(), { timeoutMs: 20_000 });
          out.set(n.name, { holder: false, freeBytes: Number((json as { freeBytes: number }).freeBytes) });
        } catch {
          out.set(n.name, { holder: false });
        }
      }),
    );
    return { bytesPerInstance, nodes: out };
  }

  /** Before a deploy or rollback to `release`: a snapshot of every local volume copy of the app on ready nodes. */
  async snapshotBeforeRollout(app: string, release: number, log: (line: string) => void): Promise<void> {
    for (const v of await appVolumes(this.d.db, app)) {
      if (v.kind !== 'local' || v.state !== 'present') continue;
      const node = await getNodeRow(this.d.db, v.node);
      if (!node || node.state !== 'ready') {
        log(`volume ${v.name} on ${v.node}: no snapshot, the node is ${node?.state ?? 'gone'}`);
        continue;
      }
      const snapshot = `pre-r${release}`;
      try {
        const { json } = await this.ctx(node, log).runScript(
          'volume-snapshot',
          {
            ...this.common(),
            APP: app,
            NAME: v.name,
            SNAPSHOT: snapshot,
            KEEP: String(this.d.settings.snapshotKeep ?? 5),
            MAX_COPY_BYTES: String(this.d.settings.maxCopyBytes ?? 1024 ** 3),
          },
          { timeoutMs: 600_000 },
        );
        const r = json as { taken: boolean; kind: string; bytes: number; reason: string; deleted: string[] };
        await forgetSnapshots(this.d.db, app, v.name, v.node, r.deleted);
        if (!r.taken) {
          log(`[${v.node}] volume ${v.name}: no snapshot before release ${release}: ${r.reason}`);
          continue;
        }
        await recordSnapshot(this.d.db, {
          app,
          name: v.name,
          node: v.node,
          snapshot,
          release,
          kind: r.kind,
          bytes: r.bytes,
          created_at: Date.now(),
        });
        log(`[${v.node}] volume ${v.name}: ${r.kind} snapshot ${snapshot} (${r.bytes} bytes)`);
      } catch (err) {
        throw new Error(`snapshot of volume ${v.name} on ${v.node} failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  }

  /** Creates (or finds) the volumes of an instance of `release` on its node and says how to attach them. */
  async prepare(p: {
    app: string;
    environment: string;
    release: number;
    spec: AppSpec;
    node: NodeRow;
    ctx: OpCtx;
  }): Promise<InstanceVolume[]> {
    const out: InstanceVolume[] = [];
    const vm = VM_RUNTIMES.includes(p.spec.runtime);
    const restore = await restoreRequest(this.d.db, p.app, p.release);
    const kept = new Map(
      (await appVolumes(this.d.db, p.app))
        .filter((c) => c.node === p.node.name && c.kind === 'local')
        .map((c) => [c.name, Number(c.size_bytes)]),
    );
    for (const spec of p.spec.volumes ?? []) {
      // A rollback to a release that asked for less keeps the copy's size: volumes never shrink.
      const v = { ...spec, sizeBytes: Math.max(spec.sizeBytes, kept.get(spec.name) ?? 0) };
      if (v.kind === 'shared') {
        out.push(await this.prepareShared(p, v));
        continue;
      }
      const fsUuid = vm ? volumeFsUuid(p.app, v.name) : undefined;
      const { json } = await p.ctx.runScript(
        'volume-create',
        {
          ...this.common(),
          APP: p.app,
          NAME: v.name,
          SIZE_BYTES: String(v.sizeBytes),
          ...(vm ? { FORMAT: 'block', FS_UUID: fsUuid as string } : {}),
        },
        { timeoutMs: 120_000 },
      );
      const r = json as {
        created: boolean;
        backend: string;
        path: string;
        image: string | null;
        usedBytes: number;
      };
      await upsertVolume(this.d.db, {
        app: p.app,
        name: v.name,
        node: p.node.name,
        environment: p.environment,
        kind: 'local',
        size_bytes: v.sizeBytes,
        backend: r.backend,
        path: r.path,
        image: r.image ?? '',
        used_bytes: r.usedBytes,
      });
      p.ctx.log(`volume ${v.name}: ${r.created ? 'created' : 'reused'} (${r.backend}) at ${r.path}`);
      if (restore) await this.restoreSnapshot(p.app, v.name, p.node, restore.after_release, p.ctx);
      out.push({
        name: v.name,
        kind: 'local',
        mount: v.mount,
        hostPath: r.path,
        ...(r.image ? { image: r.image, fsUuid } : {}),
      });
    }
    return out;
  }

  private async restoreSnapshot(app: string, name: string, node: NodeRow, after: number, ctx: OpCtx) {
    const snap = await snapshotAfter(this.d.db, app, name, node.name, after);
    if (!snap) {
      ctx.log(
        `volume ${name}: no snapshot taken after release ${after} on ${node.name}; its data stays as it is`,
      );
      return;
    }
    const { json } = await ctx.runScript(
      'volume-restore-snapshot',
      { ...this.common(), APP: app, NAME: name, SNAPSHOT: snap.snapshot },
      { timeoutMs: 600_000 },
    );
    ctx.log(`volume ${name}: restored snapshot ${snap.snapshot} (${(json as { kind: string }).kind})`);
  }

  /** A shared volume: the node's `weed mount` of the app's filer directory, which must be mounted. */
  private async prepareShared(
    p: { app: string; environment: string; node: NodeRow; ctx: OpCtx },
    v: VolumeSpec,
  ): Promise<InstanceVolume> {
    const hostPath = sharedHostPath(p.environment, p.app, v.name);
    await this.sharedMounter?.(p.environment, p.node.name);
    const { json } = await p.ctx.runScript(
      'volume-shared',
      {
        ENVIRONMENT: p.environment,
        APP: p.app,
        NAME: v.name,
        ...(this.d.settings.sharedRoot ? { SHARED_ROOT: this.d.settings.sharedRoot } : {}),
      },
      { timeoutMs: 60_000 },
    );
    const r = json as { path: string; mount: string };
    await upsertVolume(this.d.db, {
      app: p.app,
      name: v.name,
      node: p.node.name,
      environment: p.environment,
      kind: 'shared',
      size_bytes: v.sizeBytes,
      backend: 'seaweedfs',
      path: r.path,
      image: '',
      used_bytes: 0,
    });
    p.ctx.log(`shared volume ${v.name}: ${r.path} on the node's weed mount ${r.mount}`);
    return { name: v.name, kind: 'shared', mount: v.mount, hostPath: r.path || hostPath };
  }

  /** After the app is gone: volumes asked to be deleted are removed from their nodes; the others stay, orphaned. */
  async afterAppDeleted(app: string, log: (line: string) => void): Promise<void> {
    for (const v of await appVolumes(this.d.db, app)) {
      if (v.state !== 'delete-requested') continue;
      await this.deleteCopy(app, v.name, v.node, log);
    }
    await dropRestoreRequests(this.d.db, app);
    const kept = (await appVolumes(this.d.db, app)).length;
    if (kept > 0) log(`${kept} volume copies of ${app} are kept (orphaned): grim volume list --orphaned`);
  }

  /** Removes one copy of a volume from its node (local) and forgets it. */
  async deleteCopy(app: string, name: string, nodeName: string, log: (line: string) => void): Promise<void> {
    const node = await getNodeRow(this.d.db, nodeName);
    const row = (await appVolumes(this.d.db, app)).find((v) => v.name === name && v.node === nodeName);
    if (row?.kind === 'local') {
      if (!node) throw new Error(`node ${nodeName} is gone: cannot delete volume ${app}/${name} on it`);
      await this.ctx(node, log).runScript(
        'volume-delete',
        { ...this.common(), APP: app, NAME: name },
        {
          timeoutMs: 120_000,
        },
      );
    }
    await dropVolume(this.d.db, app, name, nodeName);
    log(`volume ${app}/${name} on ${nodeName} deleted`);
  }
}
