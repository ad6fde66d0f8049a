/**
 * The reconciler: every few seconds, one app-list.sh round trip per node, compared with the store.
 * - a wanted instance that is missing on its node is created and started again; one whose supervisor is
 *   gone (it died, or the node rebooted without an init system to start it) is started again;
 * - an instance on a node that grim does not want there (stray, or marked for removal) is destroyed;
 * - a node that cannot be reached marks its instances lost; for apps with failover "reschedule" the lost
 *   instances are orphaned and placed again within the group (a failover rollout); with "report" grim only
 *   reports. Apps with a rollout under way are left to the rollout.
 */
import { diffNode, type ReportedInstance } from '../../domain/apps/reconcile.ts';
import type { RuntimeKind } from '../../drivers/driver.ts';
import { getNodeRow, type NodeRow } from '../../store/nodes-repo.ts';
import { appSpec, deletingApps, getApp, getRelease, nodesOfAppGroups } from '../../store/apps-repo.ts';
import {
  allInstances,
  appsWithInstancesIn,
  dropInstance,
  setInstanceHandle,
  setInstanceRestarts,
  setInstanceState,
  type InstanceRow,
} from '../../store/instances-repo.ts';
import type { AppRuntime } from './context.ts';
import { buildInstanceSpec, handleFor, recoveredHandle } from './instances.ts';

export type NodeListing = {
  instances: Array<ReportedInstance & { driver: string; mode: string; wanted: string; pid: number | null }>;
  strays: string[];
  listening: number[];
};

export type ReconcileReport = {
  nodes: number;
  unreachable: string[];
  restarted: string[];
  recreated: string[];
  removed: string[];
  lost: string[];
  failover: string[];
  errors: string[];
};

export const DEFAULT_NODE_LIST_TIMEOUT_MS = 20_000;

export class Reconciler {
  private readonly d: AppRuntime;
  private readonly busy: () => Promise<Set<string>>;
  private readonly failover: (app: string, unreachable: ReadonlySet<string>) => Promise<void>;
  /** How long one node's listing may take, connecting included, before the node counts as unreachable. */
  private readonly nodeTimeoutMs: () => number;
  constructor(
    d: AppRuntime,
    busy: () => Promise<Set<string>>,
    failover: (app: string, unreachable: ReadonlySet<string>) => Promise<void>,
    nodeTimeoutMs: () => number = () => DEFAULT_NODE_LIST_TIMEOUT_MS,
  ) {
    this.d = d;
    this.busy = busy;
    this.failover = failover;
    this.nodeTimeoutMs = nodeTimeoutMs;
  }

  async listNode(node: NodeRow): Promise<NodeListing> {
    const ms = this.nodeTimeoutMs();
    const ctx = this.d.nodes(node, () => undefined, AbortSignal.timeout(ms));
    // the script's own limit a little earlier, so a slow node is stopped there rather than abandoned
    const { json } = await ctx.runScript('app-list', {}, { timeoutMs: Math.max(ms * 0.75, ms - 5_000) });
    return json as NodeListing;
  }

  async tick(): Promise<ReconcileReport> {
    const db = this.d.db;
    const report: ReconcileReport = {
      nodes: 0,
      unreachable: [],
      restarted: [],
      recreated: [],
      removed: [],
      lost: [],
      failover: [],
      errors: [],
    };
    const busy = await this.busy();
    const rows = await allInstances(db);
    for (const a of await deletingApps(db)) busy.add(a);
    const nodeNames = new Set<string>(rows.map((r) => r.node));
    for (const n of await nodesOfAppGroups(db)) nodeNames.add(n);
    await Promise.all(
      [...nodeNames].map(async (name) => {
        const node = await getNodeRow(db, name);
        if (!node || node.state === 'host-key-mismatch' || node.state === 'maintenance') return;
        report.nodes++;
        const mine = rows.filter((r) => r.node === name);
        let listing: NodeListing;
        try {
          listing = await this.listNode(node);
        } catch (err) {
          report.unreachable.push(name);
          for (const r of mine)
            if (!busy.has(r.app) && ['pending', 'starting', 'running', 'unhealthy'].includes(r.state)) {
              await setInstanceState(db, r.id, 'lost', `node unreachable: ${(err as Error).message}`);
              report.lost.push(r.id);
            }
          return;
        }
        // The listing took time (an SSH round trip, seconds on a loaded node): a rollout may have started
        // meanwhile and installed instances the rows and busy apps read above do not know yet, which would
        // look like strays. Read both again, rows first: an instance the node listed was recorded (with its
        // rollout) before it was installed, so it is in these rows, and its rollout, if still under way, is
        // in this busy set.
        const rowsNow = (await allInstances(db)).filter((r) => r.node === name);
        const busyNow = new Set([...busy, ...(await this.busy()), ...(await deletingApps(db))]);
        await this.repairNode(node, rowsNow, listing, busyNow, report);
      }),
    );
    // Failover: apps that opted in get their lost instances placed again within the group.
    for (const app of await appsWithInstancesIn(db, 'lost')) {
      if (busy.has(app)) continue;
      const row = await getApp(db, app);
      if (row && appSpec(row).failover === 'reschedule') {
        await this.failover(app, new Set(report.unreachable)).catch((err) =>
          report.errors.push(`${app}: failover: ${(err as Error).message}`),
        );
        report.failover.push(app);
      }
    }
    return report;
  }

  private async repairNode(
    node: NodeRow,
    mine: InstanceRow[],
    listing: NodeListing,
    busy: Set<string>,
    report: ReconcileReport,
  ) {
    const db = this.d.db;
    const diff = diffNode(
      mine.map((r) => ({ id: r.id, app: r.app, state: r.state })),
      listing.instances,
      busy,
    );
    const byId = new Map(mine.map((r) => [r.id, r]));
    const ctx = this.d.nodes(node, () => undefined);
    const runtimeOf = async (row: InstanceRow | undefined, fallback: string): Promise<RuntimeKind> => {
      const rel = row ? await getRelease(db, row.app, row.release) : undefined;
      const kind = (rel ? appSpec(rel).runtime : fallback) as RuntimeKind;
      return this.d.drivers.has(kind) ? kind : 'script';
    };
    for (const r of diff.ok) {
      const row = byId.get(r.id) as InstanceRow;
      const state = r.appAlive ? (row.state === 'unhealthy' ? 'unhealthy' : 'running') : 'starting';
      if (row.state !== state && !(row.state === 'pending')) await setInstanceState(db, r.id, state);
      if (Number(row.restarts) !== r.restarts) await setInstanceRestarts(db, r.id, r.restarts);
      // Running, but grim never stored its handle (it stopped between create and the write): keep the node's,
      // so metrics, logs and health find the instance again without touching it.
      if (!row.handle && !busy.has(row.app))
        try {
          const h = await this.d.drivers.get(await runtimeOf(row, 'script')).recover(r.id, ctx);
          if (h) await setInstanceHandle(db, r.id, h);
        } catch (err) {
          report.errors.push(`${r.id}: recover: ${(err as Error).message}`);
        }
    }
    for (const id of diff.restart) {
      const row = byId.get(id) as InstanceRow;
      try {
        const driver = this.d.drivers.get(await runtimeOf(row, 'script'));
        await driver.start(await handleFor(row, driver, ctx), ctx);
        if (row.state === 'lost') await setInstanceState(db, id, 'starting');
        report.restarted.push(id);
      } catch (err) {
        report.errors.push(`${id}: restart: ${(err as Error).message}`);
      }
    }
    const destroy = async (id: string) => {
      const row = byId.get(id);
      if (row && busy.has(row.app)) return;
      const reported = listing.instances.find((i) => i.id === id);
      try {
        const driver = this.d.drivers.get(await runtimeOf(row, reported?.driver ?? 'script'));
        await driver.destroy(
          row ? await handleFor(row, driver, ctx) : await recoveredHandle(id, driver, ctx),
          ctx,
        );
        if (row && diff.remove.includes(id)) await dropInstance(db, id);
        report.removed.push(id);
      } catch (err) {
        report.errors.push(`${id}: remove: ${(err as Error).message}`);
      }
    };
    // Processes whose instance directory is gone go first: they may hold the ports a recreated instance needs.
    for (const id of listing.strays) await destroy(id);
    for (const id of diff.recreate) {
      const row = byId.get(id) as InstanceRow;
      try {
        const app = await getApp(db, row.app);
        const rel = await getRelease(db, row.app, row.release);
        if (!app || !rel) continue;
        const driver = this.d.drivers.get(appSpec(rel).runtime);
        const handle = await driver.create(
          buildInstanceSpec(this.d.box, app, rel, row, this.d.tracer?.settings?.appEndpoint),
          ctx,
        );
        await setInstanceHandle(db, id, handle);
        await driver.start(handle, ctx);
        if (row.state !== 'pending' && row.state !== 'starting')
          await setInstanceState(db, id, 'starting', 'recreated by the reconciler');
        report.recreated.push(id);
      } catch (err) {
        report.errors.push(`${id}: recreate: ${(err as Error).message}`);
      }
    }
    for (const id of diff.remove) if (!listing.strays.includes(id)) await destroy(id);
    for (const id of diff.forget) await dropInstance(db, id);
  }
}
