/**
 * The apps engine without a lab: a fake runtime driver over fake nodes, so app-service, rollout-runner and the
 * reconciler run against a real database (SQLite or PostgreSQL) with no root, no SSH and no sleeping.
 *
 * The fake nodes keep what a real node keeps: created instances (files), whether a supervisor runs them, and
 * strays. The driver can be told to fail, or to hang (a crash of grim), at any phase: create, start, health,
 * stop (a destroy stops first, as the real drivers do) and destroy.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/store/db.ts';
import type {
  InstanceHandle,
  InstanceSpec,
  OpCtx,
  RuntimeDriver,
  RuntimeKind,
} from '../../src/drivers/driver.ts';
import { DriverSet } from '../../src/drivers/driver-set.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { JobStore } from '../../src/services/jobs.ts';
import { AppService } from '../../src/services/apps/app-service.ts';
import type { NodeListing } from '../../src/services/apps/reconciler.ts';
import type { AppDeps } from '../../src/services/apps/context.ts';

export type Phase = 'create' | 'start' | 'health' | 'stop' | 'destroy';

type NodeInstance = {
  app: string;
  release: number;
  supervised: boolean;
  restarts: number;
  ports: number[];
  /** The environment the instance was created with. */
  env: Record<string, string>;
  /** The handle the driver keeps on the node (what recover() finds). */
  handle?: InstanceHandle;
};

/** What the fake nodes hold, and the calls the driver got. Shared by every AppService of one test ("process"). */
export class FakeNodes {
  readonly on = new Map<string, Map<string, NodeInstance>>();
  /** Processes whose instance directory is gone (app-list.sh reports them as strays). */
  readonly strays = new Map<string, Set<string>>();
  readonly unreachable = new Set<string>();
  readonly calls: Array<{ op: Phase | 'inspect' | 'recover'; id: string; node: string }> = [];
  /** Runs while a node is being listed (app-list.sh), before the node's answer is taken. */
  onList?: (node: string) => Promise<void>;

  node(name: string): Map<string, NodeInstance> {
    let m = this.on.get(name);
    if (!m) this.on.set(name, (m = new Map()));
    return m;
  }

  /** Every instance id present on any node, sorted. */
  present(): string[] {
    return [...this.on.values()].flatMap((m) => [...m.keys()]).sort();
  }

  count(op: Phase | 'recover', id?: string): number {
    return this.calls.filter((c) => c.op === op && (id === undefined || c.id === id)).length;
  }

  listing(node: string): NodeListing {
    return {
      instances: [...this.node(node).entries()].map(([id, i]) => ({
        id,
        app: i.app,
        release: i.release,
        supervised: i.supervised,
        appAlive: i.supervised,
        restarts: i.restarts,
        driver: 'script',
        mode: 'sh',
        wanted: 'up',
        pid: i.supervised ? 1000 : null,
      })),
      strays: [...(this.strays.get(node) ?? [])],
      listening: [],
    };
  }
}

/** When a phase fails or hangs: every time, or only for the instances `which` picks. */
type Fault = { mode: 'fail' | 'hang'; which: (id: string) => boolean; times: number };

export class FakeDriver implements RuntimeDriver {
  readonly kind: RuntimeKind;
  private readonly faults = new Map<Phase, Fault>();
  readonly nodes: FakeNodes;

  constructor(nodes: FakeNodes, kind: RuntimeKind = 'script') {
    this.nodes = nodes;
    this.kind = kind;
  }

  /** Make `phase` fail (or hang) `times` times (default: always) for the instances `which` picks (default: all). */
  breakAt(
    phase: Phase,
    o: { mode?: 'fail' | 'hang'; which?: (id: string) => boolean; times?: number } = {},
  ): void {
    this.faults.set(phase, {
      mode: o.mode ?? 'fail',
      which: o.which ?? (() => true),
      times: o.times ?? Infinity,
    });
  }

  heal(phase?: Phase): void {
    if (phase) this.faults.delete(phase);
    else this.faults.clear();
  }

  /** Called at each phase: records the call, then fails or hangs when told to. */
  private async at(op: Phase, id: string, node: string): Promise<void> {
    this.nodes.calls.push({ op, id, node });
    const f = this.faults.get(op);
    if (!f || !f.which(id) || f.times <= 0) return;
    f.times--;
    if (f.mode === 'hang') await new Promise<never>(() => undefined);
    throw new Error(`fake ${op} failure for ${id}`);
  }

  /** The command health check, as app-health.sh would answer it. */
  async health(id: string, node: string): Promise<boolean> {
    try {
      await this.at('health', id, node);
    } catch {
      return false;
    }
    return !!this.nodes.node(node).get(id)?.supervised;
  }

  capabilities() {
    return { logs: true, exec: false, enforcesLimits: false };
  }

  async fingerprint() {
    return { available: true };
  }

  async create(spec: InstanceSpec, ctx: OpCtx): Promise<InstanceHandle> {
    await this.at('create', spec.instanceId, ctx.node);
    const m = this.nodes.node(ctx.node);
    const handle = { driver: this.kind, instanceId: spec.instanceId, node: ctx.node, data: { fake: true } };
    if (!m.has(spec.instanceId))
      m.set(spec.instanceId, {
        app: spec.app,
        release: spec.release,
        supervised: false,
        restarts: 0,
        ports: spec.ports.map((p) => p.hostPort),
        env: spec.env,
        handle,
      });
    return handle;
  }

  /** What the node keeps of the instance (its handle), as a real driver reads it back after a restart. */
  async recover(id: string, ctx: OpCtx): Promise<InstanceHandle | undefined> {
    this.nodes.calls.push({ op: 'recover', id, node: ctx.node });
    const h = this.nodes.node(ctx.node).get(id)?.handle;
    return h && { ...h, node: ctx.node };
  }

  async start(h: InstanceHandle, ctx: OpCtx): Promise<void> {
    await this.at('start', h.instanceId, ctx.node);
    // a real driver cannot start an instance it cannot find: the handle must be the one create() returned
    if (h.data.fake !== true) throw new Error(`${h.instanceId}: start without the instance's handle`);
    const i = this.nodes.node(ctx.node).get(h.instanceId);
    if (!i) throw new Error(`${h.instanceId} is not created on ${ctx.node}`);
    i.supervised = true;
  }

  async stop(h: InstanceHandle, ctx: OpCtx): Promise<void> {
    await this.at('stop', h.instanceId, ctx.node);
    const i = this.nodes.node(ctx.node).get(h.instanceId);
    if (i) i.supervised = false;
  }

  async destroy(h: InstanceHandle, ctx: OpCtx): Promise<void> {
    await this.stop(h, ctx);
    await this.at('destroy', h.instanceId, ctx.node);
    this.nodes.node(ctx.node).delete(h.instanceId);
    this.nodes.strays.get(ctx.node)?.delete(h.instanceId);
  }

  async inspect(h: InstanceHandle, ctx: OpCtx) {
    this.nodes.calls.push({ op: 'inspect', id: h.instanceId, node: ctx.node });
    const i = this.nodes.node(ctx.node).get(h.instanceId);
    if (!i) return { state: 'missing' as const };
    return { state: i.supervised ? ('running' as const) : ('stopped' as const), restarts: i.restarts };
  }

  observe() {
    return { cgroups: [] };
  }

  async logs(h: InstanceHandle, ctx: OpCtx): Promise<string> {
    return `logs of ${h.instanceId} on ${ctx.node}\n`;
  }
}

/** An OpCtx on a fake node: the scripts the engine itself runs (app-list, app-health) answered by the fakes. */
function fakeCtx(
  nodes: FakeNodes,
  driver: FakeDriver,
  node: string,
  log: (l: string) => void,
  signal?: AbortSignal,
): OpCtx {
  return {
    node,
    log,
    signal,
    async runScript(name, env) {
      if (nodes.unreachable.has(node)) throw new Error(`connect ECONNREFUSED ${node}`);
      const result = { exitCode: 0, stdout: '', stderr: '', durationMs: 0, timedOut: false };
      if (name === 'app-list') {
        await nodes.onList?.(node);
        return { json: nodes.listing(node), result };
      }
      if (name === 'app-health')
        return { json: { healthy: await driver.health(env.INSTANCE_ID, node) }, result };
      throw new Error(`the fake node has no script ${name}`);
    },
    async upload() {
      throw new Error('the fake node takes no uploads');
    },
  };
}

export interface FakeEngine {
  apps: AppService;
  driver: FakeDriver;
  jobs: JobStore;
}

/** One grim "process": an AppService on `db` with the fake driver over `nodes`. */
export function fakeEngine(
  db: Db,
  nodes: FakeNodes,
  key: Buffer,
  kind: RuntimeKind = 'script',
  extra: Pick<AppDeps, 'tracer'> = {},
): FakeEngine {
  const driver = new FakeDriver(nodes, kind);
  const jobs = new JobStore(db, `fake-${randomBytes(4).toString('hex')}`);
  const apps = new AppService({
    db,
    jobs,
    box: new SecretBox(key),
    drivers: new DriverSet([driver]),
    nodes: (node, log, signal) => fakeCtx(nodes, driver, node.name, log, signal),
    sleep: async () => undefined,
    ...extra,
  });
  return { apps, driver, jobs };
}

/** What facts.sh reports on a node with every runtime tool and a usable KVM. */
export const FULL_FACTS = {
  cpus: 4,
  memoryBytes: 8 * 2 ** 30,
  kvm: true,
  kvmUsable: true,
  fuse: true,
  zpools: [],
  tools: { firecracker: true, jailer: true, 'qemu-system-x86_64': true, crun: true, runc: true },
};

/** Environment `e`, ready nodes n1..nN (4 CPUs, 8 GiB each) in group `g`; `facts(i)` changes node i's facts. */
export async function seedNodes(
  db: Db,
  count: number,
  facts: (i: number) => Record<string, unknown> = () => ({}),
): Promise<string[]> {
  const now = Date.now();
  await db.run('INSERT INTO environments (name, created_at) VALUES (?, ?)', ['e', now]);
  await db.run('INSERT INTO node_groups (name, environment, created_at) VALUES (?, ?, ?)', ['g', 'e', now]);
  const names: string[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `n${i}`;
    await db.run(
      `INSERT INTO nodes (name, environment, address, port, ssh_user, roles, labels, host_key_fingerprint, state, facts, created_at)
       VALUES (?, 'e', ?, 22, 'root', '[]', '{}', 'SHA256:x', 'ready', ?, ?)`,
      [name, `127.0.0.${i + 1}`, JSON.stringify({ ...FULL_FACTS, ...facts(i) }), now],
    );
    await db.run('INSERT INTO group_members (group_name, node_name) VALUES (?, ?)', ['g', name]);
    names.push(name);
  }
  return names;
}

export const secretKey = () => randomBytes(32);

/** A two-replica script app "web" in the environment and group seedNodes creates. */
export function scriptWebApp() {
  return {
    name: 'web',
    environment: 'e',
    group: 'g',
    replicas: 2,
    cpu: '100m',
    memory: '64Mi',
    disk: '100Mi',
    runtime: 'script' as const,
    source: { kind: 'script' as const, start: 'exec sleep 1000' },
  };
}

/** Waits until the engine has no rollout running. */
export async function settleEngine(e: FakeEngine): Promise<void> {
  while (e.apps.running.size) await Promise.all([...e.apps.running.values()]);
}
