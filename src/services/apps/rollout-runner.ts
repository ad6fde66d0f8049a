/**
 * Runs a stored rollout plan, unit by unit (maxParallel at a time), persisting each unit's phase so a rollout
 * interrupted by a crash resumes where it stopped. Every step measures before it acts (drivers are idempotent):
 * create/start again converge on the same instance, destroy of an absent instance succeeds.
 * A unit that fails its health check stops the roll; the app is then rolled back to the release that was
 * active before (or emptied when there was none), with the same engine.
 */
import type { RuntimeDriver } from '../../drivers/driver.ts';
import { batches, type RolloutPlan, type RolloutUnit, type UnitPhase } from '../../domain/apps/rollout.ts';
import { getNodeRow } from '../../store/nodes-repo.ts';
import type { Queryable } from '../../store/db.ts';
import { newId } from '../ids.ts';
import { NO_TRACING, step, type Span } from '../tracing/tracer.ts';
import type { AppRuntime } from './context.ts';
import { healthTarget, waitHealthy } from './health.ts';
import { VM_RUNTIMES } from '../../domain/apps/model.ts';
import { buildInstanceSpec, handleFor } from './instances.ts';
import { VolumeService } from '../volumes/volume-service.ts';
import { revertPlan } from '../../domain/apps/plan-deploy.ts';
import {
  activateRelease,
  appSpec,
  deleteAppCascade,
  failRelease,
  getApp,
  getRelease,
} from '../../store/apps-repo.ts';
import {
  dropInstance,
  getInstance,
  instancePorts,
  setInstanceHandle,
  setInstanceState,
} from '../../store/instances-repo.ts';
import {
  getRollout,
  insertRollout,
  rolloutPhases,
  rolloutPlan,
  setRolloutPhases,
  setRolloutStatus,
  type RolloutKind,
  type RolloutRow,
} from '../../store/rollouts-repo.ts';

export type { RolloutKind };

/** Record a rollout and the pending rows (with host ports) of every instance it will create. */
export async function recordRollout(
  tx: Queryable,
  r: {
    app: string;
    jobId: string;
    kind: RolloutKind;
    target: number;
    previous: number | null;
    plan: RolloutPlan;
    portNames: string[];
    by: string;
  },
): Promise<string> {
  return insertRollout(tx, { ...r, id: newId() });
}

export class RolloutRunner {
  private readonly d: AppRuntime;
  /** Apps whose rollout runs in this process right now (shared by the runners of one AppService). */
  readonly active: Set<string>;
  constructor(d: AppRuntime, active = new Set<string>()) {
    this.d = d;
    this.active = active;
  }

  private log(jobId: string, node: string, line: string) {
    this.d.jobs.output(jobId, 'rollout', 'stdout', `${node ? `[${node}] ` : ''}${line}\n`);
  }

  /** Run (or resume) a rollout to its end, then finish its job. Never throws. */
  async runToEnd(rolloutId: string): Promise<string> {
    const ro = await getRollout(this.d.db, rolloutId);
    if (!ro) return 'missing';
    this.active.add(ro.app);
    let status = 'failed';
    let summary: string;
    const span = (this.d.tracer ?? NO_TRACING).start(`${ro.kind} ${ro.app}`, {
      'grim.app': ro.app,
      'grim.rollout.id': ro.id,
      'grim.rollout.kind': ro.kind,
      'grim.release': Number(ro.target_release),
      'grim.job.id': ro.job_id,
    });
    try {
      await this.d.jobs.taskStarted(ro.job_id, 'rollout').catch(() => undefined);
      const r = await this.run(ro, span);
      status = r.ok ? 'succeeded' : 'failed';
      summary = r.summary;
    } catch (err) {
      summary = `rollout stopped: ${(err as Error).message}`;
      this.log(ro.job_id, '', summary);
      await this.setStatus(ro.id, 'failed', summary);
    } finally {
      this.active.delete(ro.app);
    }
    span.set({ 'grim.rollout.summary': summary });
    span.end(status === 'succeeded' ? undefined : summary);
    await this.d.jobs.taskFinished(ro.job_id, 'rollout', {
      status,
      error: status === 'failed' ? summary : '',
    });
    await this.d.jobs.finish(ro.job_id, status, summary);
    return status;
  }

  private async setStatus(id: string, status: RolloutRow['status'], message: string) {
    await setRolloutStatus(this.d.db, id, status, message);
  }

  private async run(ro: RolloutRow, span: Span): Promise<{ ok: boolean; summary: string }> {
    const plan = rolloutPlan(ro);
    const phases = rolloutPhases(ro);
    let writes = Promise.resolve();
    const persist = (unitId: string, phase: UnitPhase) => {
      phases[unitId] = phase;
      const snapshot = { ...phases };
      writes = writes.then(() => setRolloutPhases(this.d.db, ro.id, snapshot));
      return writes;
    };
    this.log(
      ro.job_id,
      '',
      `${ro.kind} of ${ro.app} to release ${ro.target_release}: ${plan.units.length} new instance(s), ` +
        `${plan.units.filter((u) => u.oldId).length} replaced, ${plan.removals.length} removed, ${plan.maxParallel} at a time`,
    );
    const volumes = this.d.volumes;
    if ((ro.kind === 'deploy' || ro.kind === 'rollback') && Object.keys(phases).length === 0 && volumes) {
      const snapshot = () =>
        volumes.snapshotBeforeRollout(ro.app, ro.target_release, (l) => this.log(ro.job_id, '', l));
      const rel = await getRelease(this.d.db, ro.app, ro.target_release);
      await (rel && appSpec(rel).volumes?.length ? step(span, 'snapshot volumes', {}, snapshot) : snapshot());
    }
    let failed: string | null = null;
    for (const batch of batches(plan.units, plan.maxParallel)) {
      const results = await Promise.all(
        batch.map((u) => {
          const unitSpan = span.child(`instance ${u.newId}`, {
            'grim.instance': u.newId,
            'grim.node': u.node,
            ...(u.oldId ? { 'grim.replaces': u.oldId } : {}),
          });
          return this.unit(ro, u, phases[u.newId] ?? 'pending', persist, unitSpan).then((r) => {
            unitSpan.end(r === true ? undefined : r);
            return r;
          });
        }),
      );
      const bad = results.find((r) => r !== true);
      if (bad) {
        failed = bad as string;
        break;
      }
    }
    if (!failed) {
      for (const id of plan.removals)
        await step(span, `remove ${id}`, { 'grim.instance': id }, () => this.removeInstance(ro, id));
      await writes;
      return this.succeed(ro, plan);
    }
    await writes;
    return step(span, 'stop and revert', { 'grim.failure': failed }, (s) => this.fail(ro, failed, phases, s));
  }

  /** One unit: create + start the new instance, wait until healthy, remove the old one. true, or why it failed. */
  private async unit(
    ro: RolloutRow,
    u: RolloutUnit,
    start: UnitPhase,
    persist: (id: string, p: UnitPhase) => Promise<void>,
    span: Span,
  ): Promise<true | string> {
    let phase = start;
    if (phase === 'done') return true;
    if (phase === 'failed') return `${u.newId} failed before`;
    const db = this.d.db;
    const app = await getApp(db, ro.app);
    const rel = app ? await getRelease(db, ro.app, ro.target_release) : undefined;
    const inst = await getInstance(db, u.newId);
    const node = await getNodeRow(db, u.node);
    if (!app || !rel || !inst) return `${u.newId}: its app, release or row is gone`;
    if (!node || node.state !== 'ready') {
      await persist(u.newId, 'failed');
      return `${u.newId}: node ${u.node} is ${node ? node.state : 'gone'}`;
    }
    const spec = appSpec(rel);
    const driver = this.d.drivers.get(spec.runtime);
    const ctx = this.d.nodes(node, (line) => this.log(ro.job_id, u.node, line));
    try {
      if (phase === 'pending') {
        if (VM_RUNTIMES.includes(spec.runtime))
          await step(span, 'fingerprint', {}, async () => {
            const fp = await driver.fingerprint(ctx);
            if (!fp.available) throw new Error(`${spec.runtime} is not available on ${u.node}: ${fp.reason}`);
          });
        // A stateful instance owns its node's copy of the volumes: the old one stops before the new one starts.
        const oldId = u.oldId;
        if (oldId && VolumeService.stateful(spec))
          await step(span, 'remove old instance', { 'grim.instance': oldId }, () =>
            this.removeInstance(ro, oldId),
          );
        const prepare = async () =>
          this.d.volumes?.prepare({
            app: app.name,
            environment: app.environment,
            release: Number(rel.number),
            spec,
            node,
            ctx,
          });
        const volumes = spec.volumes?.length
          ? await step(span, 'prepare volumes', {}, prepare)
          : await prepare();
        const instanceSpec = buildInstanceSpec(
          this.d.box,
          app,
          rel,
          inst,
          this.d.tracer?.settings?.appEndpoint,
        );
        const handle = await step(span, 'create', { 'grim.runtime': spec.runtime }, () =>
          driver.create(volumes?.length ? { ...instanceSpec, volumes } : instanceSpec, ctx),
        );
        await setInstanceHandle(db, inst.id, handle);
        await step(span, 'start', {}, () => driver.start(handle, ctx));
        await setInstanceState(db, inst.id, 'starting');
        await persist(u.newId, (phase = 'started'));
      }
      if (phase === 'started') {
        const fresh = (await getInstance(db, inst.id)) ?? inst;
        const freshHandle = await handleFor(fresh, driver, ctx);
        const healthSpan = span.child('health', { 'grim.health': spec.health?.type ?? 'none' });
        const r = await waitHealthy(
          spec.health,
          {
            ...healthTarget(node.address, instancePorts(fresh), spec, freshHandle, driver),
            instanceId: inst.id,
            ctx,
          },
          driver,
          freshHandle,
          this.d.sleep,
        );
        healthSpan.end(r.healthy ? undefined : r.message);
        if (!r.healthy) {
          this.log(ro.job_id, u.node, `${inst.id}: ${r.message}; the roll stops here`);
          await setInstanceState(db, inst.id, 'unhealthy', r.message);
          await persist(u.newId, 'failed');
          return `${inst.id} on ${u.node}: ${r.message}`;
        }
        this.log(ro.job_id, u.node, `${inst.id}: ${r.message}`);
        await setInstanceState(db, inst.id, 'running');
        await persist(u.newId, (phase = 'healthy'));
      }
      if (phase === 'healthy') {
        const oldId = u.oldId;
        if (oldId)
          await step(span, 'remove old instance', { 'grim.instance': oldId }, () =>
            this.removeInstance(ro, oldId),
          );
        await persist(u.newId, 'done');
      }
      return true;
    } catch (err) {
      const message = (err as Error).message;
      this.log(ro.job_id, u.node, `${inst.id}: ${message}`);
      await persist(u.newId, 'failed');
      return `${inst.id} on ${u.node}: ${message}`;
    }
  }

  /** Stop and remove an instance from its node, then forget it. An unreachable node leaves it orphaned. */
  async removeInstance(ro: { app: string; job_id: string }, id: string): Promise<void> {
    const db = this.d.db;
    const inst = await getInstance(db, id);
    if (!inst) return;
    const node = await getNodeRow(db, inst.node);
    const app = await getApp(db, inst.app);
    const rel = app ? await getRelease(db, inst.app, inst.release) : undefined;
    const driver: RuntimeDriver = this.d.drivers.get(rel ? appSpec(rel).runtime : 'script');
    if (inst.state !== 'stopping') await setInstanceState(db, id, 'stopping');
    if (!node) return dropInstance(db, id);
    try {
      const ctx = this.d.nodes(node, (line) => this.log(ro.job_id, inst.node, line));
      await driver.destroy(await handleFor(inst, driver, ctx), ctx);
      await dropInstance(db, id);
    } catch (err) {
      this.log(
        ro.job_id,
        inst.node,
        `${id}: cannot remove it now (${(err as Error).message}); the reconciler will`,
      );
      await setInstanceState(db, id, 'orphaned', (err as Error).message);
    }
  }

  private async succeed(ro: RolloutRow, plan: RolloutPlan) {
    const db = this.d.db;
    if (ro.kind === 'delete') {
      await db.transaction((tx) => deleteAppCascade(tx, ro.app));
      await this.d.volumes?.afterAppDeleted(ro.app, (l) => this.log(ro.job_id, '', l));
      return { ok: true, summary: `app ${ro.app} deleted` };
    }
    const reverted = ro.kind === 'revert' ? await getRelease(db, ro.app, ro.target_release) : undefined;
    const summary =
      ro.kind === 'revert'
        ? reverted?.status === 'failed'
          ? `removed the ${plan.removals.length} instance(s) it started`
          : `rolled back to release ${ro.target_release}`
        : `release ${ro.target_release} is active (${plan.units.length} started, ${plan.removals.length + plan.units.filter((u) => u.oldId).length} removed)`;
    await db.transaction(async (tx) => {
      await activateRelease(tx, ro.app, ro.target_release);
      await setRolloutStatus(tx, ro.id, 'succeeded', summary);
    });
    this.log(ro.job_id, '', summary);
    return { ok: ro.kind !== 'revert', summary };
  }

  /** The roll stopped: mark it, then restore the release that was active before (or remove what was started). */
  private async fail(
    ro: RolloutRow,
    why: string,
    phases: Readonly<Record<string, UnitPhase>>,
    span: Span,
  ): Promise<{ ok: boolean; summary: string }> {
    const db = this.d.db;
    await this.setStatus(ro.id, 'failed', why);
    await failRelease(db, ro.app, ro.target_release);
    if (ro.kind === 'revert' || ro.kind === 'delete')
      return { ok: false, summary: `${ro.kind} failed: ${why}` };
    const app = await getApp(db, ro.app);
    if (!app) return { ok: false, summary: why };
    // The revert was planned when this rollout was recorded; the phases reached say which part of it applies.
    const { target, plan } = revertPlan(rolloutPlan(ro), phases, ro.target_release);
    const backRel = target !== ro.target_release ? await getRelease(db, ro.app, target) : undefined;
    this.log(
      ro.job_id,
      '',
      `${why}; ${backRel ? `rolling back to release ${target}` : 'removing the instances that did not finish'}`,
    );
    const revertId = await db.transaction((tx) =>
      recordRollout(tx, {
        app: ro.app,
        jobId: ro.job_id,
        kind: 'revert',
        target,
        previous: null,
        plan,
        portNames: (backRel ? appSpec(backRel) : appSpec(app)).ports.map((p) => p.name),
        by: 'system',
      }),
    );
    const revert = (await getRollout(db, revertId)) as RolloutRow;
    const r = await this.run(revert, span);
    return { ok: false, summary: `${why}; ${r.summary}` };
  }
}
