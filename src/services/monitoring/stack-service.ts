/**
 * `grim monitoring enable --group G`: plans and deploys the monitoring stack (Cortex, Loki, Tempo, Grafana) on a
 * node of the group, as supervised services on fixed ports, from the releases the admin recorded. With a
 * SeaweedFS cluster in the environment each of Cortex, Loki and Tempo gets its own bucket and key (created
 * here, the key's secret sealed like every S3 key); without one they keep their data in directories on the
 * node. Grafana's admin password is generated once and sealed. Once ready, whoever listens (the server) points
 * remote write, log shipping and trace export at the stack.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Db } from '../../store/db.ts';
import type { SshPool } from '../../ssh/index.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import type { AuditLog } from '../audit.ts';
import { RemoteCommandError } from '../../ssh/errors.ts';
import { conflict, invalid, notFound, type ErrorDetail } from '../../domain/errors.ts';
import { groupEnvironment, listNodeRows, type NodeRow } from '../../store/nodes-repo.ts';
import { seaweedRepo } from '../../store/seaweedfs-repo.ts';
import { stackRepo, type StackReleaseRow, type StackRow } from '../../store/monitoring-stack-repo.ts';
import {
  BUCKETS,
  COMPONENTS,
  DEFAULT_NODE_DIR,
  planStack,
  redactPlan,
  stackLayout,
  type Component,
  type PlannedComponent,
  type StackEndpoints,
  type StackInput,
  type StackPlan,
} from '../../domain/monitoring/stack.ts';
import { PORTS as SEAWEED_PORTS } from '../../domain/seaweedfs/cluster.ts';
import { randomPassword } from '../passwords.ts';
import { base64 } from '../../drivers/env-file.ts';
import { SupervisedServices } from '../supervised-services.ts';
import { targetOf } from '../nodes.ts';
import { KEY_CONTEXT } from '../seaweedfs/seaweed-service.ts';
import type { SeaweedAccess } from '../seaweedfs/access.ts';
import { StackReleaseStore } from './stack-releases.ts';

export interface EnableBody {
  group: string;
  /** a node of the group (default: the first by name) */
  node?: string;
  /** X-Scope-OrgID grim writes and reads as (default "grim") */
  tenant?: string;
  /** default: every component with a recorded release */
  components?: string[];
}

export interface StackDeps {
  db: Db;
  pool: SshPool;
  audit: AuditLog;
  box: SecretBox;
  dataDir: string;
  seaweedAccess: SeaweedAccess;
  /** base directory on the node (GRIM_MONITORING_NODE_DIR; tests use their own) */
  nodeDir?: string;
  readyTimeoutMs?: number;
}

interface Resolved {
  environment: string;
  node: NodeRow;
  releases: Partial<Record<Component, StackReleaseRow>>;
  tenant: string;
  s3: boolean;
}

const GRAFANA_CONTEXT = (env: string) => `monitoring-grafana:${env}`;
const PLACEHOLDER = { accessKeyId: '<created on enable>', secretAccessKey: '<created on enable>' };

export class MonitoringStackService {
  readonly releases: StackReleaseStore;
  readonly #d: StackDeps;
  readonly #nodeDir: string;
  readonly #services: SupervisedServices;
  readonly #listeners: ((e: StackEndpoints | null) => void)[] = [];
  readonly #inFlight = new Map<string, Promise<void>>();
  constructor(d: StackDeps) {
    this.#d = d;
    this.#nodeDir = d.nodeDir ?? DEFAULT_NODE_DIR;
    this.releases = new StackReleaseStore(d.db, d.dataDir);
    this.#services = new SupervisedServices(d.pool, stackLayout(this.#nodeDir).services);
  }

  /** Called with the endpoints grim should feed once a stack is ready (null when disabled). */
  onChange(fn: (e: StackEndpoints | null) => void) {
    this.#listeners.push(fn);
  }

  /** The endpoints of the most recently enabled ready stack, if any. */
  async activeEndpoints(): Promise<StackEndpoints | null> {
    const ready = (await stackRepo.stacks(this.#d.db)).filter((s) => s.state === 'ready');
    const last = ready.sort((a, b) => b.updated_at - a.updated_at)[0];
    return last ? (JSON.parse(last.endpoints) as StackEndpoints) : null;
  }

  async #resolve(body: EnableBody): Promise<Resolved> {
    const problems: ErrorDetail[] = [];
    const environment = await groupEnvironment(this.#d.db, body.group ?? '');
    if (!environment)
      problems.push({ path: 'body/group', message: `no node group ${JSON.stringify(body.group)}` });
    const nodes = environment ? await listNodeRows(this.#d.db, { group: body.group }) : [];
    if (environment && !nodes.length)
      problems.push({ path: 'body/group', message: `group ${body.group} has no nodes` });
    const node = body.node ? nodes.find((n) => n.name === body.node) : nodes[0];
    if (body.node && environment && !node)
      problems.push({ path: 'body/node', message: `${body.node} is not a node of group ${body.group}` });
    const wanted = body.components ?? [...COMPONENTS];
    for (const c of wanted)
      if (!COMPONENTS.includes(c as Component))
        problems.push({
          path: 'body/components',
          message: `unknown component ${JSON.stringify(c)} (${COMPONENTS.join(', ')})`,
        });
    if (!wanted.length) problems.push({ path: 'body/components', message: 'name at least one component' });
    const releases: Partial<Record<Component, StackReleaseRow>> = {};
    for (const c of wanted.filter((x): x is Component => COMPONENTS.includes(x as Component))) {
      const r = await this.releases.verified(c);
      if (r) releases[c] = r;
      else if (body.components)
        problems.push({
          path: 'body/components',
          message: `no ${c} release recorded (grim monitoring release add --component ${c})`,
        });
    }
    if (!body.components && !Object.keys(releases).length && environment)
      problems.push({
        path: 'body',
        message: 'no release of any component is recorded (grim monitoring release add)',
      });
    const tenant = body.tenant ?? 'grim';
    if (!/^[A-Za-z0-9_.-]{1,150}$/.test(tenant))
      problems.push({
        path: 'body/tenant',
        message: '1 to 150 letters, digits, dots, dashes or underscores',
      });
    if (problems.length) throw invalid('cannot enable monitoring', problems);
    const cluster = await seaweedRepo.cluster(this.#d.db, environment!);
    if (cluster && cluster.state !== 'ready')
      throw conflict(
        `the storage cluster of ${environment} is ${cluster.state}: enable monitoring once it is ready`,
      );
    return { environment: environment!, node: node!, releases, tenant, s3: !!cluster };
  }

  #input(
    r: Resolved,
    existing: StackRow | undefined,
    s3: StackInput['s3'],
    grafanaAdminPassword: string,
  ): StackInput {
    return {
      environment: r.environment,
      node: { name: r.node.name, address: r.node.address },
      nodeDir: this.#nodeDir,
      tenant: r.tenant,
      releases: Object.fromEntries(
        Object.entries(r.releases).map(([c, v]) => [
          c,
          { version: v!.version, sha256: v!.sha256, entry: v!.entry },
        ]),
      ),
      s3,
      grafanaAdminPassword,
      lokiSchemaFrom: existing?.loki_schema_from ?? new Date().toISOString().slice(0, 10),
    };
  }

  async #s3Endpoint(environment: string): Promise<string> {
    const c = await this.#d.seaweedAccess.ready(environment);
    const gw = c.plan.services.find((s) => s.role === 's3');
    if (!gw) throw conflict(`the storage cluster of ${environment} has no S3 gateway`);
    return `${gw.address}:${SEAWEED_PORTS.s3.http}`;
  }

  /** What enable would deploy: every generated file (secrets shown as <sealed>), ports, storage, problems. */
  async plan(body: EnableBody) {
    const r = await this.#resolve(body);
    const existing = await stackRepo.stack(this.#d.db, r.environment);
    const s3: StackInput['s3'] = {};
    if (r.s3) {
      const endpoint = await this.#s3Endpoint(r.environment);
      for (const c of Object.keys(r.releases) as Component[])
        if (BUCKETS[c]) s3[c] = { kind: 's3', endpoint, bucket: BUCKETS[c], insecure: true, ...PLACEHOLDER };
    }
    const plan = planStack(this.#input(r, existing, s3, '<sealed>'));
    return { environment: r.environment, group: body.group, plan: redactPlan(plan, []) };
  }

  /** Creates (once) each component's bucket and key; the secret comes back from its sealed record. */
  async #ensureS3(environment: string, components: Component[]): Promise<StackInput['s3']> {
    const endpoint = await this.#s3Endpoint(environment);
    const out: StackInput['s3'] = {};
    for (const c of components) {
      const bucket = BUCKETS[c];
      if (!bucket) continue;
      if (!(await seaweedRepo.bucket(this.#d.db, environment, bucket)))
        await this.#d.seaweedAccess.createBucket(environment, { name: bucket });
      const key = (await seaweedRepo.keys(this.#d.db, environment)).find(
        (k) => k.name === bucket && k.status === 'active',
      );
      const creds = key
        ? {
            accessKeyId: key.access_key,
            secretAccessKey: this.#d.box
              .open(key.secret, KEY_CONTEXT(environment, key.access_key))
              .toString('utf8'),
          }
        : await this.#d.seaweedAccess
            .createKey(environment, { name: bucket, bucket, actions: ['Read', 'Write'] })
            .then((k) => ({ accessKeyId: k.accessKey, secretAccessKey: k.secretKey }));
      out[c] = { kind: 's3', endpoint, bucket, insecure: true, ...creds };
    }
    return out;
  }

  async enable(body: EnableBody, user: string) {
    const r = await this.#resolve(body);
    const existing = await stackRepo.stack(this.#d.db, r.environment);
    if (existing?.state === 'deploying' && Date.now() - existing.updated_at < 600_000)
      throw conflict(`monitoring of ${r.environment} is being deployed`);
    const password = existing
      ? this.#d.box.open(existing.grafana_password, GRAFANA_CONTEXT(r.environment)).toString('utf8')
      : randomPassword();
    const components = Object.keys(r.releases) as Component[];
    const s3 = r.s3 ? await this.#ensureS3(r.environment, components) : {};
    const plan = planStack(this.#input(r, existing, s3, password));
    if (plan.problems.length)
      throw invalid(
        'the generated stack has problems',
        plan.problems.map((message) => ({ path: 'plan', message })),
      );
    const now = Date.now();
    const row: StackRow = {
      environment: r.environment,
      node_group: body.group,
      node: r.node.name,
      tenant: r.tenant,
      versions: JSON.stringify(
        Object.fromEntries(plan.components.map((c) => [c.component, c.release.version])),
      ),
      storage: r.s3 ? 's3' : 'local',
      s3_keys: JSON.stringify(Object.fromEntries(Object.entries(s3).map(([c, v]) => [c, v!.accessKeyId]))),
      grafana_password: this.#d.box.seal(password, GRAFANA_CONTEXT(r.environment)),
      loki_schema_from: existing?.loki_schema_from ?? this.#input(r, existing, s3, '').lokiSchemaFrom,
      endpoints: JSON.stringify(plan.endpoints),
      state: 'deploying',
      state_reason: '',
      created_by: existing?.created_by ?? user,
      created_at: existing?.created_at ?? now,
      updated_at: now,
    };
    await stackRepo.putStack(this.#d.db, row);
    // Deploying (pushing binaries, waiting for readiness) outlives a request: it runs on, its state in the row.
    const done = this.#rollOut(r, plan, row, user);
    this.#inFlight.set(r.environment, done);
    void done.finally(() => this.#inFlight.delete(r.environment));
    return {
      environment: r.environment,
      plan: redactPlan(plan, [password, ...Object.values(s3).map((v) => v!.secretAccessKey)]),
    };
  }

  /** Resolves when the deploy started by enable() has ended (at once when none runs here). */
  async settled(environment: string): Promise<void> {
    await this.#inFlight.get(environment);
  }

  async #rollOut(r: Resolved, plan: StackPlan, row: StackRow, user: string) {
    try {
      for (const c of plan.components) await this.#deploy(r.node, c, r.releases[c.component]!);
      await Promise.all(plan.components.map((c) => this.#waitReady(r.node, c)));
    } catch (err) {
      await stackRepo.setState(this.#d.db, r.environment, 'failed', (err as Error).message.slice(0, 4000));
      await this.#d.audit.record({
        actor: user,
        actorKind: 'user',
        action: 'monitoring.enable',
        target: r.environment,
        outcome: 'failure',
        details: { error: (err as Error).message.slice(0, 500) },
      });
      return;
    }
    await stackRepo.setState(this.#d.db, r.environment, 'ready', '');
    await this.#d.audit.record({
      actor: user,
      actorKind: 'user',
      action: 'monitoring.enable',
      target: r.environment,
      outcome: 'success',
      details: {
        group: row.node_group,
        node: r.node.name,
        versions: JSON.parse(row.versions),
        storage: row.storage,
      },
    });
    for (const fn of this.#listeners) fn(plan.endpoints);
  }

  async #deploy(node: NodeRow, c: PlannedComponent, release: StackReleaseRow) {
    const L = stackLayout(this.#nodeDir);
    const env = {
      COMPONENT: c.component,
      VERSION: release.version,
      SHA256: release.sha256,
      KIND: release.kind,
      ENTRY: release.entry,
      MON_DIR: this.#nodeDir,
    };
    try {
      await this.#services.run(node, 'monitoring-install', env);
    } catch (err) {
      if (!(err instanceof RemoteCommandError) || err.exitCode !== 3) throw err;
      const staged = `${L.base}/staging/${c.component}-${release.sha256.slice(0, 16)}`;
      await this.#d.pool.putFile(targetOf(node), release.path, staged, 0o600);
      await this.#services.run(node, 'monitoring-install', { ...env, STAGED: staged }, 600_000);
    }
    await this.#services.run(node, 'monitoring-configure', {
      COMPONENT: c.component,
      MON_DIR: this.#nodeDir,
      FILES: c.files.map((f) => `${f.name}=${base64(f.content)}`).join('\n'),
      ARGS: c.args.join('\n'),
      DIRS: c.dirs.join('\n'),
    });
    await this.#services.install(node, {
      id: c.id,
      appName: 'monitoring',
      runScript: 'monitoring-run',
      env: {
        COMPONENT: c.component,
        MON_DIR: this.#nodeDir,
        ENTRY: release.entry,
        WORKDIR: c.workdir,
        ...c.env,
      },
      stopTimeoutSec: 30,
    });
    const state = await this.#services.inspect(node, c.id);
    if (state.state === 'running') await this.#services.stop(node, c.id);
    await this.#services.start(node, c.id);
  }

  async #waitReady(node: NodeRow, c: PlannedComponent) {
    const deadline = Date.now() + (this.#d.readyTimeoutMs ?? 120_000);
    let last = '';
    while (Date.now() < deadline) {
      const status = await fetch(c.readyUrl, { signal: AbortSignal.timeout(5_000) }).then(
        async (res) => (await res.arrayBuffer(), res.status),
        (e: Error) => e.message,
      );
      if (status === 200) return;
      last = String(status);
      await delay(250);
    }
    const log = await this.#services.logs(node, c.id, 20).catch(() => '');
    throw conflict(
      `${c.component} on ${node.name} did not answer ${c.readyUrl} (last: ${last}); its log:\n${log}`,
    );
  }

  async list() {
    return (await stackRepo.stacks(this.#d.db)).map(stackView);
  }

  async view(environment: string) {
    const row = await stackRepo.stack(this.#d.db, environment);
    if (!row) throw notFound(`monitoring stack of ${environment}`);
    return stackView(row);
  }

  /** Stops and removes the stack's services (their data and buckets stay). */
  async disable(environment: string, user: string) {
    const row = await stackRepo.stack(this.#d.db, environment);
    if (!row) throw notFound(`monitoring stack of ${environment}`);
    const node = (await listNodeRows(this.#d.db, { group: row.node_group })).find((n) => n.name === row.node);
    if (node)
      for (const c of Object.keys(JSON.parse(row.versions))) await this.#services.destroy(node, `grim-${c}`);
    await stackRepo.deleteStack(this.#d.db, environment);
    await this.#d.audit.record({
      actor: user,
      actorKind: 'user',
      action: 'monitoring.disable',
      target: environment,
      outcome: 'success',
    });
    const next = await this.activeEndpoints();
    for (const fn of this.#listeners) fn(next);
    return { ok: true };
  }
}

function stackView(r: StackRow) {
  return {
    environment: r.environment,
    group: r.node_group,
    node: r.node,
    tenant: r.tenant,
    versions: JSON.parse(r.versions) as Record<string, string>,
    storage: r.storage,
    s3AccessKeys: JSON.parse(r.s3_keys) as Record<string, string>,
    endpoints: JSON.parse(r.endpoints) as StackEndpoints,
    state: r.state,
    stateReason: r.state_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export type StackView = ReturnType<typeof stackView>;
export type { StackPlan };
