/**
 * grim's SeaweedFS clusters, one per environment: create (provision in the background: install the pinned
 * release, write certificates and configuration, then start supervised masters -> volumes -> filers -> S3
 * gateways, each step waiting for a real readiness signal), show, delete, and poll health into the stored
 * state, the audit log and /metrics. Buckets, keys and mounts are in access.ts; repair, key rotation and
 * upgrades in operations.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../store/db.ts';
import type { SshPool } from '../../ssh/index.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import type { AuditLog } from '../audit.ts';
import { nodeRepoGet, nodesOf } from './nodes-lookup.ts';
import { seaweedRepo, type ClusterRow } from '../../store/seaweedfs-repo.ts';
import {
  clusterSpecProblems,
  planCluster,
  PORTS,
  type ClusterPlan,
  type ClusterSpec,
  type NodeFacts,
  type PlannedService,
  type Role,
  explainReplication,
} from '../../domain/seaweedfs/cluster.ts';
import { securityToml, type JwtKeys, type PostgresStore } from '../../domain/seaweedfs/config-files.ts';
import type { Problem, SeaweedHealth } from '../../domain/seaweedfs/health.ts';
import { conflict, invalid, notFound } from '../../domain/errors.ts';
import { ClusterCa } from './ca.ts';
import { NodeOps } from './node-ops.ts';
import { ReleaseStore, versionProblems } from './releases.ts';
import { QuotaEnforcer } from './quota-enforcer.ts';
import { until, waitReady } from './readiness.ts';
import { nodeConfigFiles, s3JsonOf } from './node-config.ts';

export { until };
import { createFilerSchema, dropFilerSchema, filerSchemaName } from '../../store/seaweedfs-filer-schema.ts';
import { hp, pollHealth } from './health-poll.ts';
import type { NodeRow } from '../../store/nodes-repo.ts';

export interface ClusterSecrets {
  jwt: JwtKeys;
  admin: { accessKey: string; secretKey: string };
  postgres?: Omit<PostgresStore, never>;
}

export interface CreateClusterBody {
  masters: string[];
  volumes?: string[];
  filers: string[];
  filerStore?: 'leveldb2' | 'postgres';
  postgres?: PostgresStore;
  s3: string[];
  replication?: string;
  volumeSizeLimitMB?: number;
  maxVolumes?: number;
  volumeQuotaMB?: number;
  version: string;
}

export const SECRET_CONTEXT = (env: string) => `seaweedfs:${env}`;
export const KEY_CONTEXT = (env: string, accessKey: string) => `seaweedfs-key:${env}:${accessKey}`;
export const randomKey = (bytes = 32) => randomBytes(bytes).toString('base64');
export const newAccessKey = () => 'GRIM' + randomBytes(10).toString('hex').toUpperCase().slice(0, 16);
export const newSecretKey = () => randomBytes(30).toString('base64').replace(/[+/=]/g, 'x');
const STOP_TIMEOUT: Record<Role, number> = { master: 10, volume: 20, filer: 10, s3: 10 };

export interface SeaweedDeps {
  db: Db;
  pool: SshPool;
  audit: AuditLog;
  box: SecretBox;
  dataDir: string;
}

export class SeaweedService {
  readonly d: SeaweedDeps;
  readonly releases: ReleaseStore;
  readonly ops: NodeOps;
  readonly quota = new QuotaEnforcer(this);
  readonly #health = new Map<string, SeaweedHealth>();
  readonly #running = new Map<string, Promise<void>>();

  constructor(d: SeaweedDeps) {
    this.d = d;
    this.releases = new ReleaseStore(d.db, d.dataDir);
    this.ops = new NodeOps(d.pool);
  }

  ca(environment: string) {
    return new ClusterCa(this.d.dataDir, environment);
  }

  secrets(row: ClusterRow): ClusterSecrets {
    return JSON.parse(
      this.d.box.open(row.secrets, SECRET_CONTEXT(row.environment)).toString('utf8'),
    ) as ClusterSecrets;
  }

  sealSecrets(environment: string, s: ClusterSecrets): string {
    return this.d.box.seal(JSON.stringify(s), SECRET_CONTEXT(environment));
  }

  async row(environment: string): Promise<ClusterRow> {
    const row = await seaweedRepo.cluster(this.d.db, environment);
    if (!row) throw notFound(`storage cluster of environment ${environment}`);
    return row;
  }

  spec(row: ClusterRow): ClusterSpec {
    return JSON.parse(row.spec) as ClusterSpec;
  }

  async facts(environment: string): Promise<{ facts: NodeFacts[]; rows: Map<string, NodeRow> }> {
    const rows = await nodesOf(this.d.db, environment);
    return {
      rows: new Map(rows.map((r) => [r.name, r])),
      facts: rows.map((r) => ({
        name: r.name,
        environment: r.environment,
        address: r.address,
        roles: JSON.parse(r.roles) as string[],
        labels: JSON.parse(r.labels) as Record<string, string>,
      })),
    };
  }

  async plan(row: ClusterRow): Promise<{ plan: ClusterPlan; rows: Map<string, NodeRow>; spec: ClusterSpec }> {
    const spec = this.spec(row);
    const { facts, rows } = await this.facts(row.environment);
    return { plan: planCluster(spec, facts), rows, spec };
  }

  /** Validates, records the cluster and provisions it in the background (GET shows progress). */
  async create(environment: string, body: CreateClusterBody, user: string) {
    const { facts } = await this.facts(environment);
    if (!(await this.d.db.get('SELECT name FROM environments WHERE name = ?', [environment])))
      throw notFound(`environment ${environment}`);
    const storageNodes = facts.filter((f) => f.roles.includes('storage')).map((f) => f.name);
    const spec: ClusterSpec = {
      environment,
      masters: body.masters,
      volumes: body.volumes ?? storageNodes,
      filers: body.filers,
      filerStore: body.filerStore ?? (body.filers.length > 1 ? 'postgres' : 'leveldb2'),
      s3: body.s3,
      replication: body.replication ?? '000',
      volumeSizeLimitMB: body.volumeSizeLimitMB ?? 1024,
      maxVolumes: body.maxVolumes ?? 0,
      volumeQuotaMB: body.volumeQuotaMB ?? 0,
      version: body.version,
    };
    const problems = clusterSpecProblems(spec, facts);
    for (const m of versionProblems(body.version)) problems.push({ path: 'body/version', message: m });
    if (!versionProblems(body.version).length && !(await this.releases.get(body.version)))
      problems.push({
        path: 'body/version',
        message: `release ${body.version} is not recorded (grim storage release add)`,
      });
    if (spec.filerStore === 'postgres' && !body.postgres)
      problems.push({
        path: 'body/postgres',
        message: 'filerStore postgres needs the connection (host, port, database, user, password)',
      });
    if (problems.length) throw invalid('invalid storage cluster', problems);
    if (await seaweedRepo.cluster(this.d.db, environment))
      throw conflict(`environment ${environment} already has a storage cluster`);
    const secrets: ClusterSecrets = {
      jwt: {
        volumeWrite: randomKey(),
        volumeRead: randomKey(),
        filerWrite: randomKey(),
        filerRead: randomKey(),
      },
      admin: { accessKey: newAccessKey(), secretKey: newSecretKey() },
      ...(body.postgres ? { postgres: body.postgres } : {}),
    };
    const now = Date.now();
    await seaweedRepo.insertCluster(this.d.db, {
      environment,
      spec: JSON.stringify(spec),
      state: 'provisioning',
      state_reason: 'starting',
      version: spec.version,
      secrets: this.sealSecrets(environment, secrets),
      health: '',
      health_at: null,
      provision_ms: null,
      created_by: user,
      created_at: now,
      updated_at: now,
    });
    this.#background(environment, () => this.#provision(environment, user));
    return this.view(environment);
  }

  #background(environment: string, fn: () => Promise<void>) {
    const p = fn().finally(() => this.#running.delete(environment));
    this.#running.set(environment, p);
    p.catch(() => {});
  }

  /** Resolves when the cluster's background work (provisioning, upgrade) ends. */
  async settled(environment: string) {
    await this.#running.get(environment)?.catch(() => {});
  }

  async #progress(environment: string, reason: string) {
    await seaweedRepo.updateCluster(this.d.db, environment, { state_reason: reason });
  }

  async #provision(environment: string, user: string) {
    const started = performance.now();
    try {
      const row = await this.row(environment);
      const { plan, rows, spec } = await this.plan(row);
      const secrets = this.secrets(row);
      const release = await this.releases.verifiedBinary(spec.version);
      await this.#progress(environment, `installing SeaweedFS ${spec.version} on ${plan.nodes.length} nodes`);
      await Promise.all(plan.nodes.map((n) => this.ops.install(rows.get(n)!, release)));
      if (spec.filerStore === 'postgres' && secrets.postgres) {
        await this.#progress(environment, "creating the filers' PostgreSQL schema");
        await createFilerSchema(secrets.postgres, filerSchemaName(environment));
      }
      await this.#progress(environment, 'writing certificates and configuration');
      await Promise.all(
        plan.nodes.map((n) => this.configureNode(environment, rows.get(n)!, plan, spec, secrets)),
      );
      // one node's services one after another (app-install edits the node's boot hook)
      await Promise.all(
        plan.nodes.map(async (n) => {
          for (const s of plan.services.filter((x) => x.node === n))
            await this.ops.installService(rows.get(n)!, s.id, STOP_TIMEOUT[s.role]);
        }),
      );
      for (const role of ['master', 'volume', 'filer', 's3'] as Role[]) {
        const services = plan.services.filter((s) => s.role === role);
        if (!services.length) continue;
        await this.#progress(environment, `starting ${services.length} ${role} service(s)`);
        await Promise.all(services.map((s) => this.ops.start(rows.get(s.node)!, s.id)));
        try {
          await this.waitReady(role, services, plan);
        } catch (err) {
          // what the processes said is the most useful part of the failure
          const logs = await Promise.all(
            services.map(
              async (s) =>
                `--- ${s.id} on ${s.node}:\n${(await this.ops.logs(rows.get(s.node)!, s.id, 15).catch((e) => String(e))).trim()}`,
            ),
          );
          throw new Error(`${(err as Error).message}\n${logs.join('\n')}`, { cause: err });
        }
      }
      const ms = Math.round(performance.now() - started);
      await seaweedRepo.updateCluster(this.d.db, environment, {
        state: 'ready',
        state_reason: '',
        provision_ms: ms,
      });
      await this.d.audit.record({
        actor: user,
        actorKind: 'user',
        action: 'storage.provisioned',
        target: environment,
        outcome: 'success',
        details: { ms, nodes: plan.nodes },
      });
      await this.pollOnce(environment).catch(() => {});
    } catch (err) {
      const reason = (err as Error).message.slice(0, 8000);
      await seaweedRepo.updateCluster(this.d.db, environment, { state: 'failed', state_reason: reason });
      await this.d.audit.record({
        actor: user,
        actorKind: 'user',
        action: 'storage.provisioned',
        target: environment,
        outcome: 'failure',
        details: { error: reason },
      });
    }
  }

  /** Everything a node of the cluster gets in /etc/seaweedfs (only what its services need). */
  async configureNode(
    environment: string,
    node: NodeRow,
    plan: ClusterPlan,
    spec: ClusterSpec,
    secrets: ClusterSecrets,
    only?: 'security' | 's3',
  ) {
    const cert = await this.ca(environment).nodeCert(node.name, node.address);
    if (only === 'security')
      return this.ops.configure(node, {
        CA_CRT: cert.ca,
        NODE_CRT: cert.cert,
        NODE_KEY: cert.key,
        SECURITY_TOML: securityToml({ jwt: secrets.jwt }),
      });
    const s3 = plan.services.some((s) => s.node === node.name && s.role === 's3')
      ? await this.s3Json(environment, secrets)
      : undefined;
    if (only === 's3') return this.ops.configure(node, { S3_JSON: s3 ?? '' });
    const files = nodeConfigFiles({ environment, node: node.name, plan, spec, secrets, cert, s3Json: s3 });
    await this.ops.configure(node, files);
  }

  async s3Json(environment: string, secrets: ClusterSecrets): Promise<string> {
    return s3JsonOf(this.d, environment, secrets);
  }

  /** Waits for a real readiness signal of the services of one role (readiness.ts). */
  waitReady(role: Role, services: PlannedService[], plan: ClusterPlan, ms = 90_000) {
    return waitReady(role, services, plan, ms);
  }

  async view(environment: string) {
    const row = await this.row(environment);
    const spec = this.spec(row);
    const { facts } = await this.facts(environment);
    let services: PlannedService[] = [];
    try {
      services = planCluster(spec, facts).services;
    } catch {
      // a node was removed since: the stored spec still says what was asked
    }
    const health = row.health ? (JSON.parse(row.health) as SeaweedHealth) : null;
    const [buckets, keys, mounts] = await Promise.all([
      seaweedRepo.buckets(this.d.db, environment),
      seaweedRepo.keys(this.d.db, environment),
      seaweedRepo.mounts(this.d.db, environment),
    ]);
    const s3 = services.filter((s) => s.role === 's3').map((s) => `http://${hp(s.address, PORTS.s3.http)}`);
    return {
      environment,
      state: row.state,
      stateReason: row.state_reason,
      version: row.version,
      spec,
      replicationExplained: planExplain(spec),
      services: services.map((s) => ({ node: s.node, role: s.role, id: s.id, address: s.address })),
      s3Endpoints: s3,
      provisionMs: row.provision_ms,
      health,
      healthAt: row.health_at,
      buckets: buckets.map((b) => ({ name: b.name, quotaMB: b.quota_mb, createdAt: b.created_at })),
      keys: keys.map((k) => ({
        name: k.name,
        accessKey: k.access_key,
        bucket: k.bucket,
        actions: JSON.parse(k.actions) as string[],
        status: k.status,
        createdAt: k.created_at,
      })),
      mounts: mounts.map((m) => ({
        name: m.name,
        node: m.node,
        path: m.filer_path,
        dir: m.dir,
        createdAt: m.created_at,
      })),
      createdAt: row.created_at,
    };
  }

  async list() {
    const rows = await seaweedRepo.clusters(this.d.db);
    return Promise.all(rows.map((r) => this.view(r.environment)));
  }

  /** Stops and removes every service, then the configuration (and with deleteData the data) on each node. */
  async remove(environment: string, deleteData: boolean, user: string) {
    const row = await this.row(environment);
    if (this.#running.has(environment))
      throw conflict(`the storage cluster of ${environment} is busy (${row.state_reason})`);
    const { rows, spec } = await this.plan(row).catch(async () => ({
      ...(await this.facts(environment)),
      plan: null,
      spec: this.spec(row),
    }));
    const mounts = await seaweedRepo.mounts(this.d.db, environment);
    for (const m of mounts) {
      const n = rows.get(m.node);
      if (n) await this.ops.destroy(n, `weed-mount-${m.name}`);
    }
    const order: [Role, string[]][] = [
      ['s3', spec.s3],
      ['filer', spec.filers],
      ['volume', spec.volumes],
      ['master', spec.masters],
    ];
    for (const [role, nodes] of order)
      await Promise.all(
        nodes.map((n) => (rows.get(n) ? this.ops.destroy(rows.get(n)!, `weed-${role}`) : undefined)),
      );
    const all = new Set([
      ...spec.masters,
      ...spec.volumes,
      ...spec.filers,
      ...spec.s3,
      ...mounts.map((m) => m.node),
    ]);
    await Promise.all(
      [...all].map((n) =>
        rows.get(n)
          ? this.ops.run(rows.get(n)!, 'weed-uninstall', deleteData ? { DATA: 'delete' } : {})
          : undefined,
      ),
    );
    const pgStore = spec.filerStore === 'postgres' ? this.secrets(row).postgres : undefined;
    if (deleteData && pgStore) await dropFilerSchema(pgStore, filerSchemaName(environment));
    await seaweedRepo.deleteCluster(this.d.db, environment);
    await this.ca(environment).remove();
    this.#health.delete(environment);
    await this.d.audit.record({
      actor: user,
      actorKind: 'user',
      action: 'storage.deleted',
      target: environment,
      outcome: 'success',
      details: { deleteData },
    });
    return { ok: true };
  }

  /** One health poll: stored, audited when problems appear or clear, kept for /metrics. */
  async pollOnce(environment: string): Promise<SeaweedHealth> {
    const row = await this.row(environment);
    const { plan } = await this.plan(row);
    const health = await pollHealth(plan);
    health.problems.push(...this.quota.problems(environment));
    const before =
      this.#health.get(environment) ?? (row.health ? (JSON.parse(row.health) as SeaweedHealth) : null);
    this.#health.set(environment, health);
    await seaweedRepo.updateCluster(this.d.db, environment, {
      health: JSON.stringify(health),
      health_at: Date.now(),
    });
    const key = (p: Problem) => `${p.kind}|${p.subject}`;
    const old = new Set((before?.problems ?? []).map(key));
    const now = new Set(health.problems.map(key));
    for (const p of health.problems)
      if (!old.has(key(p)))
        await this.d.audit.record({
          actor: 'grim',
          actorKind: 'system',
          action: 'storage.problem',
          target: environment,
          outcome: 'failure',
          details: { ...p },
        });
    for (const p of before?.problems ?? [])
      if (!now.has(key(p)))
        await this.d.audit.record({
          actor: 'grim',
          actorKind: 'system',
          action: 'storage.recovered',
          target: environment,
          outcome: 'success',
          details: { ...p },
        });
    return health;
  }

  /** One round over every ready cluster (run under a lease: one grim instance polls at a time). */
  async pollAll(): Promise<void> {
    for (const c of await seaweedRepo.clusters(this.d.db))
      if (c.state === 'ready') await this.pollOnce(c.environment).catch(() => {});
  }

  /** Latest stored health per environment (for /metrics, on whichever grim instance is asked). */
  async latestHealth(): Promise<Map<string, SeaweedHealth>> {
    const out = new Map<string, SeaweedHealth>();
    for (const c of await seaweedRepo.clusters(this.d.db))
      if (c.health) out.set(c.environment, JSON.parse(c.health) as SeaweedHealth);
    return out;
  }

  isBusy(environment: string) {
    return this.#running.has(environment);
  }

  runInBackground(environment: string, fn: () => Promise<void>) {
    if (this.#running.has(environment)) throw conflict(`the storage cluster of ${environment} is busy`);
    this.#background(environment, fn);
  }

  async node(name: string) {
    return nodeRepoGet(this.d.db, name);
  }
}

function planExplain(spec: ClusterSpec) {
  return explainReplication(spec.replication);
}
