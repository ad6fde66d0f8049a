/**
 * Apps: create, deploy (a new immutable release, rolled out as a persisted job), scale, rollback, delete,
 * status and logs (read in app-view.ts); plus the background work (resuming interrupted rollouts, the reconciler).
 * Secrets are sealed with the SecretBox at rest and only ever returned by name.
 */
import { conflict, invalid, notFound } from '../../domain/errors.ts';
import { applyAppInput, checkAppName, type AppInput } from '../../domain/apps/model.ts';
import { environmentExists, groupEnvironment } from '../../store/nodes-repo.ts';
import type { AppDeps, AppRuntime } from './context.ts';
import { appRuntime, newInstanceId } from './context.ts';
import { openSecrets, sealSecrets } from './instances.ts';
import { planFor, type UsageSource } from './planner.ts';
import { DEFAULT_NODE_LIST_TIMEOUT_MS, Reconciler, type ReconcileReport } from './reconciler.ts';
import { RolloutRunner, recordRollout, type RolloutKind } from './rollout-runner.ts';
import { SizeService } from './sizes.ts';
import { appView, instanceLogs } from './app-view.ts';
import { IpamStore } from '../ipam-store.ts';
import type { HeldLease, LeaseManager } from '../leases.ts';
import type { Db } from '../../store/db.ts';
import { VolumeService, type VolumeSettings } from '../volumes/volume-service.ts';
import { BackupService } from '../volumes/backup-service.ts';
import { dropRestoreRequests, markVolumesForDeletion, requestRestore } from '../../store/volumes-repo.ts';
import { pinnedToLostData } from '../volumes/failover.ts';
import {
  appSpec,
  getApp,
  getRelease,
  insertApp,
  insertRelease,
  listApps,
  listReleases,
  markAppDeleting,
  nextReleaseNumber,
  updateAppSpec,
  type AppRow,
} from '../../store/apps-repo.ts';
import { appInstances, setInstanceState } from '../../store/instances-repo.ts';
import {
  appsWithRunningRollout,
  claimRollout,
  runningRollout,
  runningRolloutsWithOwner,
} from '../../store/rollouts-repo.ts';

export type StartedRollout = { jobId: string; release: number; warnings: string[] };

export class AppService {
  private readonly d: AppRuntime;
  readonly sizes: SizeService;
  /** Embedded IPAM: pools for bridged microVMs and the nodes' nat subnets. */
  readonly ipam: IpamStore;
  readonly runner: RolloutRunner;
  readonly reconciler: Reconciler;
  /** The runtime drivers this service was given. */
  get drivers() {
    return this.d.drivers;
  }
  /** App volumes (placement facts, snapshots, creation on nodes). */
  readonly volumes: VolumeService;
  /** restic backups of app volumes, backup targets, scheduled backups. */
  readonly backups: BackupService;
  /** Rollouts started by this process, for tests and shutdown. */
  readonly running = new Map<string, Promise<string>>();
  /** How long a reconcile round waits for one node (connecting included) before it counts as unreachable. */
  nodeListTimeoutMs = DEFAULT_NODE_LIST_TIMEOUT_MS;

  constructor(deps: AppDeps & { volumeSettings?: VolumeSettings }) {
    this.volumes = new VolumeService({ db: deps.db, nodes: deps.nodes, settings: deps.volumeSettings });
    this.d = appRuntime(deps, this.volumes);
    this.backups = BackupService.forApps(deps.db, deps.box, this.volumes);
    this.sizes = new SizeService(deps.db);
    this.ipam = new IpamStore(deps.db);
    this.runner = new RolloutRunner(this.d);
    this.reconciler = new Reconciler(
      this.d,
      () => this.busyApps(),
      (app, unreachable) => this.failover(app, unreachable),
      () => this.nodeListTimeoutMs,
    );
  }

  private async app(name: string): Promise<AppRow> {
    const a = await getApp(this.d.db, name);
    if (!a) throw notFound(`app ${name}`);
    return a;
  }

  async create(body: AppInput & { name: string; environment: string; group: string }, by: string) {
    const problems: Array<{ path: string; message: string }> = [];
    const nameError = checkAppName(body.name);
    if (nameError) problems.push({ path: 'body/name', message: nameError });
    const groupEnv = await groupEnvironment(this.d.db, body.group);
    if (!(await environmentExists(this.d.db, body.environment)))
      problems.push({ path: 'body/environment', message: `environment ${body.environment} does not exist` });
    if (groupEnv === undefined)
      problems.push({ path: 'body/group', message: `group ${body.group} does not exist` });
    else if (groupEnv !== body.environment)
      problems.push({
        path: 'body/group',
        message: `group ${body.group} is in environment ${groupEnv}`,
      });
    const r = applyAppInput(body, await this.sizes.list());
    if (!r.ok) problems.push(...r.problems);
    if (problems.length || !r.ok) throw invalid(`app ${body.name} cannot be created`, problems);
    if (await getApp(this.d.db, body.name)) throw conflict(`app ${body.name} exists`);
    await insertApp(this.d.db, {
      name: body.name,
      environment: body.environment,
      group: body.group,
      spec: JSON.stringify(r.spec),
      secrets: sealSecrets(this.d.box, body.name, r.secrets),
      by,
    });
    return this.get(body.name);
  }

  async list() {
    return Promise.all((await listApps(this.d.db)).map((a) => this.get(a.name)));
  }

  async get(name: string) {
    return appView(this.d.db, await this.app(name));
  }

  /** Plan, record and start a rollout; throws `held` (with per-node numbers) before recording anything. */
  private async startRollout(
    a: AppRow,
    o: {
      kind: RolloutKind;
      target: number;
      acceptOvercommit: boolean;
      by: string;
      newRelease?: { spec: string; secrets: string; rollbackOf: number | null };
      appUpdate?: { spec: string; secrets: string };
      unreachable?: ReadonlySet<string>;
    },
  ): Promise<StartedRollout> {
    const db = this.d.db;
    const running = await runningRollout(db, a.name);
    if (running) throw conflict(`a ${running.kind} of ${a.name} is under way (job ${running.job_id})`);
    const releaseSpec = o.newRelease
      ? appSpec({ spec: o.newRelease.spec })
      : appSpec((await getRelease(db, a.name, o.target)) ?? { spec: a.spec });
    const replicas = appSpec(o.appUpdate ?? a).replicas;
    const previous = a.current_release === null ? null : Number(a.current_release);
    this.d.drivers.get(releaseSpec.runtime); // fail early when the runtime has no driver
    const { plan, warnings } = await planFor(db, {
      app: a.name,
      group: a.group_name,
      spec: releaseSpec,
      target: o.target,
      previous: o.kind === 'deploy' || o.kind === 'rollback' ? previous : null,
      replicas,
      acceptOvercommit: o.acceptOvercommit,
      newId: (release) => newInstanceId(a.name, release),
      usage: this.d.usage,
      unreachable: o.unreachable,
      volumeFacts: (nodes) => this.volumes.placementFacts(a.name, releaseSpec, nodes),
    });
    const jobId = await this.d.jobs.create(
      'app.' + o.kind,
      { app: a.name, release: o.target, acceptOvercommit: o.acceptOvercommit, warnings },
      o.by,
      ['rollout'],
    );
    let rolloutId: string;
    try {
      rolloutId = await db.transaction(async (tx) => {
        if (o.newRelease)
          await insertRelease(tx, {
            app: a.name,
            number: o.target,
            kind: o.kind,
            spec: o.newRelease.spec,
            secrets: o.newRelease.secrets,
            rollbackOf: o.newRelease.rollbackOf,
            by: o.by,
          });
        if (o.appUpdate) await updateAppSpec(tx, a.name, o.appUpdate.spec, o.appUpdate.secrets);
        return recordRollout(tx, {
          app: a.name,
          jobId,
          kind: o.kind,
          target: o.target,
          previous,
          plan,
          portNames: releaseSpec.ports.map((p) => p.name),
          by: o.by,
        });
      });
    } catch (err) {
      await this.d.jobs.finish(jobId, 'failed', (err as Error).message);
      throw err;
    }
    for (const w of warnings) this.d.jobs.output(jobId, 'rollout', 'stdout', `warning: ${w}\n`);
    this.launch(rolloutId);
    return { jobId, release: o.target, warnings };
  }

  /**
   * Run a rollout in the background. With leases, under `rollout:<id>` (taken here for a new rollout, handed
   * over by resume() for a takeover): its runner writes through the lease's fenced Db, so once another
   * instance has taken the rollout over, this one's next write fails and it stops.
   */
  private launch(rolloutId: string, held?: HeldLease) {
    const leases = this.d.leases;
    const name = `rollout:${rolloutId}`;
    const p = (async () => {
      if (!leases) return this.runner.runToEnd(rolloutId);
      const lease = held ?? (await leases.acquire(name));
      if (!lease) return 'held elsewhere';
      const runner = new RolloutRunner({ ...this.d, db: lease.db }, this.runner.active);
      try {
        return await runner.runToEnd(rolloutId);
      } finally {
        await leases.release(name);
      }
    })()
      .catch((err: Error) => `stopped: ${err.message}`) // the lease was lost: the new holder carries on
      .finally(() => this.running.delete(rolloutId));
    this.running.set(rolloutId, p);
  }

  private nextRelease(app: string) {
    return nextReleaseNumber(this.d.db, app);
  }

  /** A new release from the app's spec plus `changes`, rolled out over the group. */
  async deploy(name: string, o: { changes?: AppInput; acceptOvercommit?: boolean }, by: string) {
    return this.d.lock.run(name, async () => {
      const a = await this.app(name);
      if (Number(a.deleting)) throw conflict(`app ${name} is being deleted`);
      const current = { spec: appSpec(a), secrets: openSecrets(this.d.box, name, a.secrets) };
      const r = applyAppInput(o.changes ?? {}, await this.sizes.list(), current);
      if (!r.ok) throw invalid(`the deploy of ${name} is invalid`, r.problems);
      await this.volumes.refuseShrinking(name, r.spec);
      const spec = JSON.stringify(r.spec);
      const secrets = sealSecrets(this.d.box, name, r.secrets);
      return this.startRollout(a, {
        kind: 'deploy',
        target: await this.nextRelease(name),
        acceptOvercommit: !!o.acceptOvercommit,
        by,
        newRelease: { spec, secrets, rollbackOf: null },
        appUpdate: { spec, secrets },
      });
    });
  }

  /** Change the replica count of the current release (no new release). */
  async scale(name: string, replicas: number, acceptOvercommit: boolean, by: string) {
    return this.d.lock.run(name, async () => {
      const a = await this.app(name);
      if (a.current_release === null) throw conflict(`app ${name} has no release yet: deploy it first`);
      const spec = { ...appSpec(a), replicas };
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > 10_000)
        throw invalid('bad replicas', [{ path: 'body/replicas', message: 'must be 0 to 10000' }]);
      return this.startRollout(a, {
        kind: 'scale',
        target: Number(a.current_release),
        acceptOvercommit,
        by,
        appUpdate: { spec: JSON.stringify(spec), secrets: a.secrets },
      });
    });
  }

  /** A new release with the content of an earlier one (default: the one active before the current). */
  async rollback(
    name: string,
    to: number | undefined,
    acceptOvercommit: boolean,
    by: string,
    o: { restoreVolumes?: boolean } = {},
  ) {
    return this.d.lock.run(name, async () => {
      const a = await this.app(name);
      const releases = await listReleases(this.d.db, name);
      const cur = a.current_release === null ? null : Number(a.current_release);
      const pick =
        to !== undefined
          ? releases.find((r) => Number(r.number) === to)
          : releases.find(
              (r) => Number(r.number) !== cur && (r.status === 'superseded' || r.status === 'active'),
            );
      if (!pick)
        throw to !== undefined
          ? notFound(`release ${to} of ${name}`)
          : conflict(`${name} has no earlier release to return to`);
      if (Number(pick.number) === cur)
        throw conflict(`release ${cur} is already the current release of ${name}`);
      const spec = { ...appSpec(pick), replicas: appSpec(a).replicas };
      const target = await this.nextRelease(name);
      // --restore-volumes: each volume copy gets the snapshot taken when the picked release was left behind.
      if (o.restoreVolumes) {
        if (!VolumeService.stateful(spec))
          throw conflict(`release ${pick.number} of ${name} has no local volumes`);
        await requestRestore(this.d.db, name, target, Number(pick.number));
      }
      try {
        return await this.startRollout(a, {
          kind: 'rollback',
          target,
          acceptOvercommit,
          by,
          newRelease: { spec: JSON.stringify(spec), secrets: pick.secrets, rollbackOf: Number(pick.number) },
          appUpdate: { spec: JSON.stringify(spec), secrets: pick.secrets },
        });
      } catch (err) {
        if (o.restoreVolumes) await dropRestoreRequests(this.d.db, name, target);
        throw err;
      }
    });
  }

  /** Remove every instance from its node, then the app and its releases; its volumes stay unless deleteVolumes. */
  async remove(name: string, by: string, o: { deleteVolumes?: boolean } = {}) {
    return this.d.lock.run(name, async () => {
      const a = await this.app(name);
      const running = await runningRollout(this.d.db, name);
      if (running) throw conflict(`a ${running.kind} of ${name} is under way (job ${running.job_id})`);
      if (o.deleteVolumes) await markVolumesForDeletion(this.d.db, name);
      const instances = await appInstances(this.d.db, name);
      const jobId = await this.d.jobs.create('app.delete', { app: name }, by, ['rollout']);
      const rolloutId = await this.d.db.transaction(async (tx) => {
        await markAppDeleting(tx, name);
        return recordRollout(tx, {
          app: name,
          jobId,
          kind: 'delete',
          target: Number(a.current_release ?? 0),
          previous: null,
          plan: { target: 0, units: [], removals: instances.map((i) => i.id), maxParallel: 1 },
          portNames: [],
          by,
        });
      });
      this.launch(rolloutId);
      return { jobId };
    });
  }

  /** Lost instances of a "reschedule" app are orphaned and placed again in the group (not on `unreachable`). */
  async failover(name: string, unreachable: ReadonlySet<string> = new Set()) {
    await this.d.lock.run(name, async () => {
      const a = await this.app(name);
      if (a.current_release === null || (await runningRollout(this.d.db, name))) return;
      if (await pinnedToLostData(this.d, a.name, appSpec(a), await appInstances(this.d.db, name))) return;
      for (const i of await appInstances(this.d.db, name))
        if (i.state === 'lost') await setInstanceState(this.d.db, i.id, 'orphaned', 'rescheduled elsewhere');
      await this.startRollout(a, {
        kind: 'failover',
        target: Number(a.current_release),
        acceptOvercommit: false,
        by: 'system',
        unreachable,
      });
    });
  }

  /** The tail of each instance's output, read on its node by its driver. */
  async logs(name: string, tailLines: number) {
    return instanceLogs(this.d, await this.app(name), tailLines);
  }

  /** Where recent actual usage per node comes from (the metrics service), for overcommit warnings. */
  setUsage(usage: UsageSource) {
    this.d.usage = usage;
  }

  reconcile(): Promise<ReconcileReport> {
    return this.reconciler.tick();
  }

  /**
   * Rollouts whose instance is gone (their job's owner no longer holds its instance lease): take each over
   * under a new job owned by this instance and resume it from its persisted steps. Rollouts of live
   * instances are never touched. The takeover is a compare-and-set on the rollout's job, so two instances
   * sweeping at once cannot both take the same rollout.
   */
  async resume(liveOwners: ReadonlySet<string> = new Set()): Promise<number> {
    const rows = await runningRolloutsWithOwner(this.d.db);
    let taken = 0;
    for (const ro of rows) {
      if (this.runner.active.has(ro.app) || this.running.has(ro.id)) continue;
      const owner = ro.job_owner ?? '';
      if (owner === this.d.jobs.owner || liveOwners.has(owner)) continue;
      const lease = this.d.leases
        ? await this.d.leases.acquire(`rollout:${ro.id}`, { holderGone: (h) => !liveOwners.has(h) })
        : undefined;
      if (lease === null) continue; // another live instance runs it
      const jobId = await this.d.jobs.create(
        `app.${ro.kind}`,
        { app: ro.app, release: Number(ro.target_release), resumeOf: ro.job_id },
        ro.created_by,
        ['rollout'],
      );
      if (!(await claimRollout(lease?.db ?? this.d.db, ro.id, ro.job_id, jobId).catch(() => false))) {
        await this.d.jobs.finish(jobId, 'cancelled', 'another grim instance took this rollout over first');
        if (lease) await this.d.leases!.release(lease.name);
        continue;
      }
      this.d.jobs.output(
        jobId,
        'rollout',
        'stdout',
        `resuming the ${ro.kind} interrupted in job ${ro.job_id} (its grim instance ${owner || 'unknown'} is gone)\n`,
      );
      this.launch(ro.id, lease);
      taken++;
    }
    return taken;
  }

  /**
   * Background work, each under its lease so exactly one grim instance does it at a time: taking over
   * orphaned rollouts (`loop:rollouts`, every few seconds) and reconciling (`loop:reconciler`, every
   * `intervalMs`), whose database writes are fenced by the lease's token. Returns an async stop.
   */
  startBackground(leases: LeaseManager, intervalMs = 10_000): () => Promise<void> {
    const stopRollouts = leases.runUnderLease(
      'loop:rollouts',
      async () => this.resume(await leases.liveInstances()),
      { everyMs: Math.min(3_000, intervalMs) },
    );
    const stopReconciler = leases.runUnderLease('loop:reconciler', (lease) => this.reconcileWith(lease.db), {
      everyMs: intervalMs,
    });
    return async () => {
      await stopRollouts();
      await stopReconciler();
    };
  }

  /** One reconciler round whose writes go through `db` (a lease-fenced Db). */
  reconcileWith(db: Db): Promise<ReconcileReport> {
    const r = new Reconciler(
      { ...this.d, db },
      () => this.busyApps(),
      (app, unreachable) => this.failover(app, unreachable),
      () => this.nodeListTimeoutMs,
    );
    return r.tick();
  }

  private async busyApps(): Promise<Set<string>> {
    return new Set([...(await appsWithRunningRollout(this.d.db)), ...this.runner.active]);
  }
}
