// Storage nodes: pools in the layout the admin picks, datasets, snapshots, scrubs, replacing disks.
// Every action shows its exact command first; nothing runs on a node until `confirm` is true, and
// every name and path is checked by src/domain/storage before a script is called.
import { DomainError, invalid, type ErrorDetail } from '../../domain/errors.ts';
import {
  planDataset,
  snapshotProblems,
  parseInterval,
  parseNextRun,
  type DatasetRequest,
} from '../../domain/storage/datasets.ts';
import { diskPathProblems, poolNameProblems } from '../../domain/storage/names.ts';
import {
  planPool,
  type PlanResult,
  type PoolPlan,
  type PoolPlanRequest,
} from '../../domain/storage/pool-plan.ts';
import { leaves } from '../../domain/storage/pool-status.ts';
import { parseZpoolStatusText } from '../../domain/storage/parse-status-text.ts';
import type { Db } from '../../store/db.ts';
import { healthEvents, type HealthEvent, type PoolHealth } from '../../domain/storage/health.ts';
import {
  addStorageEvent,
  deleteSchedules,
  getStorageNode,
  listSchedules,
  listStorageEvents,
  listStorageNodes,
  saveStorageNode,
  setScheduleResult,
  upsertSchedule,
} from '../../store/storage-repo.ts';
import type { SshPool } from '../../ssh/index.ts';
import type { AuditLog } from '../audit.ts';
import { StorageNodes, type NodeStorage } from './node-state.ts';

export const DEFAULT_SCRUB_EVERY_SECONDS = 30 * 86400;
/** A scheduled scrub's result until it is seen finished (then the finish message replaces it). */
export const SCRUB_STARTED = 'scrub started';

export const fail = (problems: ErrorDetail[]) =>
  invalid(
    `${problems.length} problem${problems.length > 1 ? 's' : ''}: ${problems.map((p) => p.message).join('; ')}`,
    problems,
  );

function check(problems: ErrorDetail[]): void {
  if (problems.length) throw fail(problems);
}

const poolCheck = (pool: string, path = 'pool') =>
  poolNameProblems(pool).map((message) => ({ path, message }));

export interface ActionResult {
  command: string;
  ran: boolean;
  result?: unknown;
}

export class StorageService {
  readonly nodes: StorageNodes;
  readonly d: { db: Db; pool: SshPool; audit: AuditLog };
  constructor(d: { db: Db; pool: SshPool; audit: AuditLog }, nodes?: StorageNodes) {
    this.d = d;
    this.nodes = nodes ?? new StorageNodes(d);
  }

  /** The same service writing through `db` (the storage loop passes its lease-fenced Db; node reads stay). */
  withDb(db: Db): StorageService {
    return db === this.d.db ? this : new StorageService({ ...this.d, db }, this.nodes);
  }

  /** Reads a node now and stores what it found. */
  async refresh(node: string): Promise<NodeStorage> {
    const before = await getStorageNode(this.d.db, node);
    const state = await this.nodes.read(node);
    await this.recordHealth(
      node,
      before ? (JSON.parse(before.health) as PoolHealth[]) : undefined,
      state.health,
    );
    await saveStorageNode(this.d.db, node, {
      capabilities: JSON.stringify(state.capabilities),
      disks: JSON.stringify(state.disks),
      pools: JSON.stringify(state.pools),
      health: JSON.stringify(state.health),
      datasets: JSON.stringify(state.datasets),
      error: '',
    });
    return state;
  }

  /**
   * Health events between two readings: each kept as a storage event and written to the audit log in
   * one transaction (through a fenced Db, neither lands once the loop's lease has moved on). A finished
   * scrub also becomes the result of the scrub schedule that started it.
   */
  async recordHealth(
    node: string,
    previous: PoolHealth[] | undefined,
    health: PoolHealth[],
  ): Promise<HealthEvent[]> {
    const events = healthEvents(previous, health);
    for (const e of events)
      await this.d.db.transaction(async (tx) => {
        await addStorageEvent(tx, {
          node,
          pool: e.pool,
          kind: e.kind,
          severity: e.severity,
          message: e.message,
        });
        await this.d.audit.append(tx, {
          actor: 'system',
          actorKind: 'system',
          action: `storage.${e.kind}`,
          target: `${node}/${e.pool}`,
          outcome: e.severity === 'info' ? 'success' : 'failure',
          details: { message: e.message, severity: e.severity },
        });
      });
    const finished = events.filter((e) => e.kind === 'scrub-finished' || e.kind === 'scrub-found-errors');
    if (finished.length)
      for (const sch of await listSchedules(this.d.db, node)) {
        const e = finished.find((x) => x.pool === sch.target);
        if (sch.kind === 'scrub' && e && sch.last_result === SCRUB_STARTED)
          await setScheduleResult(this.d.db, sch.id, e.message.replace(/^pool \S+: /, ''));
      }
    return events;
  }

  async get(node: string, refresh = false) {
    let row = await getStorageNode(this.d.db, node);
    if (!row || refresh) {
      await this.refresh(node);
      row = await getStorageNode(this.d.db, node);
    }
    const schedules = await listSchedules(this.d.db, node);
    return {
      node,
      capabilities: JSON.parse(row!.capabilities),
      disks: JSON.parse(row!.disks),
      pools: JSON.parse(row!.pools),
      health: JSON.parse(row!.health),
      datasets: JSON.parse(row!.datasets),
      error: row!.error,
      checkedAt: Number(row!.checked_at),
      schedules: schedules.map((s) => ({
        target: s.target,
        kind: s.kind,
        label: s.label,
        everySeconds: Number(s.every_seconds),
        keep: Number(s.keep),
        lastRunAt: Number(s.last_run_at),
        nextRunAt: Number(s.last_run_at) + Number(s.every_seconds) * 1000,
        lastResult: s.last_result,
      })),
    };
  }

  async list() {
    return (await listStorageNodes(this.d.db)).map((r) => ({
      node: r.node,
      capabilities: JSON.parse(r.capabilities),
      health: JSON.parse(r.health),
      disks: (JSON.parse(r.disks) as unknown[]).length,
      error: r.error,
      checkedAt: Number(r.checked_at),
    }));
  }

  async events(node: string | undefined, limit = 100) {
    return (await listStorageEvents(this.d.db, node, limit)).map((e) => ({ ...e, at: Number(e.at) }));
  }

  /** The wizard: what `zpool create` would do on this node, with capacity, tolerance and warnings. */
  async plan(node: string, req: PoolPlanRequest): Promise<PoolPlan> {
    const result = this.planAgainst(node, await this.refresh(node), req);
    if (!result.ok) throw fail(result.problems);
    return result.plan;
  }

  /** The plan against a node's state as just read, or every problem (a pool of that name already there too). */
  planAgainst(node: string, state: NodeStorage, req: PoolPlanRequest): PlanResult {
    if (!state.capabilities)
      return { ok: false, problems: [{ path: 'node', message: `node ${node} has no ZFS` }] };
    const problems: ErrorDetail[] = state.pools.some((p) => p.name === req.name)
      ? [{ path: 'name', message: `a pool named ${req.name} already exists on ${node}` }]
      : [];
    const result = planPool(req, state.disks, state.capabilities);
    if (!result.ok) problems.push(...result.problems);
    return problems.length ? { ok: false, problems } : result;
  }

  async createPool(node: string, req: PoolPlanRequest, confirm: boolean) {
    const plan = await this.plan(node, req);
    if (!confirm) return { plan, ran: false };
    return { plan, ...(await this.runCreate(node, plan)) };
  }

  /** Runs a checked plan's `zpool create`, schedules the pool's scrubs and reads the node again. */
  async runCreate(node: string, plan: PoolPlan) {
    await this.nodes.run(
      node,
      'zpool-create',
      { POOL: plan.name, ARGS: plan.argv.slice(2).join('\n') },
      120_000,
    );
    await upsertSchedule(this.d.db, {
      node,
      target: plan.name,
      kind: 'scrub',
      label: '',
      every_seconds: DEFAULT_SCRUB_EVERY_SECONDS,
      keep: 0,
    });
    const state = await this.refresh(node);
    return {
      ran: true as const,
      pool: state.pools.find((p) => p.name === plan.name) ?? null,
      health: state.health.find((h) => h.name === plan.name) ?? null,
    };
  }

  async destroyPool(node: string, pool: string, confirmName: string | undefined): Promise<ActionResult> {
    check(poolCheck(pool));
    const command = `zpool destroy ${pool}`;
    if (confirmName === undefined) return { command, ran: false };
    if (confirmName !== pool)
      throw invalid('confirmation does not match', [
        { path: 'confirm', message: `type the pool's name (${pool}) to destroy it` },
      ]);
    const result = await this.nodes.run(node, 'zpool-destroy', { POOL: pool }, 120_000);
    await deleteSchedules(this.d.db, node, pool);
    await this.refresh(node);
    return { command, ran: true, result };
  }

  async importPool(node: string, pool: string | undefined, dir: string | undefined) {
    const problems: ErrorDetail[] = [];
    if (pool !== undefined && !/^[0-9]{1,20}$/.test(pool)) problems.push(...poolCheck(pool));
    if (dir !== undefined)
      problems.push(
        ...diskPathProblems(dir.endsWith('/') ? dir.slice(0, -1) : dir).map((message) => ({
          path: 'dir',
          message,
        })),
      );
    check(problems);
    const env: Record<string, string> = {};
    if (pool) env.POOL = pool;
    if (dir) env.DIR = dir;
    const result = await this.nodes.run(node, 'zpool-import', env, 120_000);
    if (!pool) {
      // What the UI offers to adopt: each pool zpool import lists, with its id, state and advice
      const importable = parseZpoolStatusText(String(result?.listing ?? '')).map((p) => ({
        name: p.name,
        id: p.id ?? '',
        state: p.state,
        status: p.status,
        action: p.action,
      }));
      return {
        command: `zpool import${dir ? ` -d ${dir}` : ''}`,
        ran: true,
        result: { ...result, importable },
      };
    }
    await upsertSchedule(this.d.db, {
      node,
      target: pool,
      kind: 'scrub',
      label: '',
      every_seconds: DEFAULT_SCRUB_EVERY_SECONDS,
      keep: 0,
    });
    await this.refresh(node);
    return { command: `zpool import${dir ? ` -d ${dir}` : ''} ${pool}`, ran: true, result };
  }

  async scrub(node: string, pool: string, stop = false): Promise<ActionResult> {
    check(poolCheck(pool));
    const result = await this.nodes.run(node, 'zpool-scrub', { POOL: pool, ...(stop ? { STOP: '1' } : {}) });
    await this.refresh(node);
    return { command: `zpool scrub ${stop ? '-s ' : ''}${pool}`, ran: true, result };
  }

  /** How often the pool is scrubbed; `next` ("now" or a date-time) says when the next scrub starts. */
  async setScrubSchedule(node: string, pool: string, every: string, next?: string) {
    const problems = poolCheck(pool);
    const interval = parseInterval(every);
    if (!interval.ok) problems.push({ path: 'every', message: interval.error });
    const now = Date.now();
    const nextRun = next === undefined ? undefined : parseNextRun(next, now);
    if (nextRun && !nextRun.ok) problems.push({ path: 'next', message: nextRun.error });
    check(problems);
    const seconds = (interval as { seconds: number }).seconds;
    await upsertSchedule(this.d.db, {
      node,
      target: pool,
      kind: 'scrub',
      label: '',
      every_seconds: seconds,
      keep: 0,
      ...(nextRun?.ok ? { last_run_at: nextRun.at - seconds * 1000 } : {}),
    });
    return { ok: true };
  }

  /** offline / online / clear / replace a device; replace shows its command until confirmed. */
  async device(
    node: string,
    pool: string,
    action: 'offline' | 'online' | 'clear' | 'replace',
    device: string | undefined,
    newDevice: string | undefined,
    confirm: boolean,
  ): Promise<ActionResult> {
    const problems = poolCheck(pool);
    if (action !== 'clear' && !device)
      problems.push({ path: 'device', message: `${action} needs the device` });
    if (device !== undefined && !/^[0-9]{1,20}$/.test(device))
      problems.push(
        ...diskPathProblems(device.startsWith('/') ? device : `/dev/${device}`).map((message) => ({
          path: 'device',
          message,
        })),
      );
    if (action === 'replace') {
      if (!newDevice) problems.push({ path: 'newDevice', message: 'replace needs the new disk' });
      else problems.push(...diskPathProblems(newDevice).map((message) => ({ path: 'newDevice', message })));
    }
    check(problems);
    const command = ['zpool', action, pool, device ?? '', action === 'replace' ? newDevice : '']
      .filter(Boolean)
      .join(' ');
    if (action === 'replace') {
      const state = await this.refresh(node);
      const p = state.pools.find((x) => x.name === pool);
      if (!p) throw invalid('no such pool', [{ path: 'pool', message: `no pool ${pool} on ${node}` }]);
      const names = leaves(p).flatMap((l) => [l.name, l.wasPath ?? '', `/dev/${l.name}`]);
      if (!names.includes(device!))
        throw invalid('no such device', [
          { path: 'device', message: `${device} is not a device of pool ${pool}` },
        ]);
      const disk = state.disks.find((x) => x.path === newDevice);
      if (!disk)
        throw invalid('no such disk', [
          { path: 'newDevice', message: `${newDevice} is not a disk of ${node}` },
        ]);
      if (disk.inUse)
        throw invalid('disk in use', [
          { path: 'newDevice', message: `${newDevice} is in use (${disk.inUse})` },
        ]);
      if (!confirm) return { command, ran: false };
    }
    const env: Record<string, string> = { ACTION: action, POOL: pool };
    if (device) env.DEVICE = device;
    if (newDevice && action === 'replace') env.NEW_DEVICE = newDevice;
    const result = await this.nodes.run(node, 'zpool-device', env, 120_000);
    await this.refresh(node);
    return { command, ran: true, result };
  }

  async createDataset(node: string, req: DatasetRequest, confirm = true): Promise<ActionResult> {
    const row = await getStorageNode(this.d.db, node);
    const caps = row ? JSON.parse(row.capabilities) : (await this.refresh(node)).capabilities;
    const result = planDataset(req, caps);
    if (!result.ok) throw fail(result.problems);
    if (!confirm) return { command: result.plan.commandLine, ran: false };
    const out = await this.nodes.run(node, 'zfs-dataset', {
      ACTION: 'create',
      DATASET: result.plan.name,
      PROPS: result.plan.props.join('\n'),
    });
    await this.refresh(node);
    return { command: result.plan.commandLine, ran: true, result: out };
  }

  async destroyDataset(node: string, name: string, confirmName: string | undefined): Promise<ActionResult> {
    const problems = planDataset({ name }, null);
    if (!problems.ok) throw fail(problems.problems);
    const command = `zfs destroy -r ${name}`;
    if (confirmName === undefined) return { command, ran: false };
    if (confirmName !== name)
      throw invalid('confirmation does not match', [
        { path: 'confirm', message: `type the dataset's name (${name}) to destroy it` },
      ]);
    const result = await this.nodes.run(node, 'zfs-dataset', { ACTION: 'destroy', DATASET: name });
    await deleteSchedules(this.d.db, node, name);
    await this.refresh(node);
    return { command, ran: true, result };
  }

  async snapshot(
    node: string,
    action: 'create' | 'destroy' | 'rollback',
    name: string,
    opts: { recursive?: boolean; destroyNewer?: boolean },
    refresh = true,
  ): Promise<ActionResult> {
    check(snapshotProblems(name));
    const flag = action === 'rollback' ? (opts.destroyNewer ? ' -r' : '') : opts.recursive ? ' -r' : '';
    const verb = action === 'create' ? 'snapshot' : action;
    const command = `zfs ${verb}${flag} ${name}`;
    const env: Record<string, string> = { ACTION: action, SNAPSHOT: name };
    if (opts.recursive) env.RECURSIVE = '1';
    if (opts.destroyNewer) env.DESTROY_NEWER = '1';
    const result = await this.nodes.run(node, 'zfs-snapshot', env);
    if (refresh) await this.refresh(node);
    return { command, ran: true, result };
  }

  async setSnapshotPolicy(
    node: string,
    dataset: string,
    label: 'hourly' | 'daily' | 'weekly',
    keep: number,
    every?: string,
  ) {
    const problems = planDataset({ name: dataset }, null);
    const errs: ErrorDetail[] = problems.ok ? [] : problems.problems;
    if (!Number.isInteger(keep) || keep < 1 || keep > 1000)
      errs.push({ path: 'keep', message: 'keep is a whole number from 1 to 1000' });
    let seconds = { hourly: 3600, daily: 86400, weekly: 604800 }[label];
    if (every !== undefined) {
      const i = parseInterval(every);
      if (!i.ok) errs.push({ path: 'every', message: i.error });
      else seconds = i.seconds;
    }
    check(errs);
    await upsertSchedule(this.d.db, {
      node,
      target: dataset,
      kind: 'snapshot',
      label,
      every_seconds: seconds,
      keep,
    });
    return { ok: true };
  }

  static isDomainError(err: unknown): err is DomainError {
    return err instanceof DomainError;
  }
}
