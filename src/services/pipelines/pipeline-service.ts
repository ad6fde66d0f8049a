/**
 * Pipelines: defined in grim, turned into Buildbot's master.cfg, built by Buildbot (buildah, a local worker),
 * deployed back through grim's API with a deployer token per pipeline. Webhooks from GitHub, Gitea and GitLab
 * are verified here, replays refused, every outcome audited, then handed to Buildbot as a forced build.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../store/db.ts';
import type { AuditLog } from '../audit.ts';
import type { AuthService, Principal } from '../auth.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { SCRIPTS_DIR } from '../../scripts/loader.ts';
import { DomainError, conflict, invalid, notFound } from '../../domain/errors.ts';
import {
  checkPipeline,
  type PipelineInput,
  type PipelineSpec,
  type WebhookProvider,
} from '../../domain/pipelines.ts';
import { verifyWebhook, type Headers } from '../../domain/webhooks.ts';
import {
  deletePipelineRow,
  getPipelineRow,
  insertPipeline,
  listPipelineRows,
  recordDelivery,
  recordReleaseBuild,
  releaseBuildsOf,
  type PipelineRow,
} from '../../store/pipelines-repo.ts';
import { Buildbot, type BuildbotSettings } from './buildbot.ts';
import { renderMasterCfg } from './master-cfg.ts';
import { nodeWorker, type WorkerNodes } from './worker-nodes.ts';
import { getNodeRow } from '../../store/nodes-repo.ts';
import type { RegistryCompanion, RegistryStorage } from './registry-companion.ts';
import { CONTROL_APP, ControlVolumes, controlVolumeSettings } from './control-volumes.ts';
import type { BackupService } from '../volumes/backup-service.ts';
import { readBuildSettings, registryStorageConfig, updateBuildSettings } from './build-settings.ts';
import type { BuildSettings } from '../../domain/build-settings.ts';
import type { SeaweedAccess } from '../seaweedfs/access.ts';

export const BUILDBOT_VOLUME = 'buildbot';
export const REGISTRY_VOLUME = 'registry';

export interface PipelineSettings {
  buildbot: BuildbotSettings;
  /** The master's PB address as worker nodes reach it (host), and the buildbot-worker wheelhouse. */
  masterHost: string;
  workerWheels: string;
  /** file:// repositories must be below one of these (empty: none allowed). */
  fileRoots: string[];
  /** grim's API as the Buildbot worker reaches it (the deploy step), and the CA file for https. */
  grimUrl: string;
  grimCaFile: string | null;
  artifactsDir: string;
  /** Sizes of the control-node volumes of the master's state and of the registry (storage kind volume). */
  buildbotVolumeBytes: number;
  registryVolumeBytes: number;
}

export function pipelineSettingsFromEnv(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): PipelineSettings {
  return {
    buildbot: {
      venv: env.GRIM_BUILDBOT_VENV || '/opt/grim-venv',
      base: new ControlVolumes(controlVolumeSettings(dataDir, env)).path(BUILDBOT_VOLUME),
      pbPort: Number(env.GRIM_BUILDBOT_PB_PORT) || 9989,
      pbInterface: env.GRIM_BUILDBOT_PB_LISTEN || '127.0.0.1',
      wwwPort: Number(env.GRIM_BUILDBOT_WWW_PORT) || 8010,
      workerName: 'local',
    },
    masterHost: env.GRIM_BUILDBOT_MASTER_HOST || env.GRIM_BUILDBOT_PB_LISTEN || '127.0.0.1',
    workerWheels: env.GRIM_BUILDBOT_WORKER_WHEELS || '/opt/grim-wheels/buildbot-worker',
    fileRoots: (env.GRIM_PIPELINE_FILE_ROOTS ?? '').split(':').filter((p) => p.startsWith('/')),
    grimUrl: env.GRIM_PUBLIC_URL || `http://${env.GRIM_LISTEN || '127.0.0.1:8080'}`,
    grimCaFile: env.GRIM_PUBLIC_CA_FILE || null,
    artifactsDir: join(dataDir, 'artifacts'),
    buildbotVolumeBytes: Number(env.GRIM_BUILDBOT_VOLUME_BYTES) || 1 << 30,
    registryVolumeBytes: Number(env.GRIM_REGISTRY_VOLUME_BYTES) || 4 * (1 << 30),
  };
}

export interface PipelineView {
  name: string;
  app: string;
  repo: string;
  branch: string;
  build: PipelineSpec['build'];
  buildArgs: Record<string, string>;
  testCommand: string | null;
  pollSeconds: number;
  webhook: { provider: WebhookProvider; url: string } | null;
  createdBy: string;
  createdAt: number;
}

/** Contexts of a pipeline's sealed webhook secret and deploy token (see SecretBox.seal). */
export const webhookContext = (pipeline: string) => `pipeline-webhook:${pipeline}`;
export const deployTokenContext = (pipeline: string) => `pipeline-token:${pipeline}`;

const view = (r: PipelineRow): PipelineView => {
  const s = JSON.parse(r.spec) as PipelineSpec;
  return {
    name: s.name,
    app: s.app,
    repo: s.repo,
    branch: s.branch,
    build: s.build,
    buildArgs: s.buildArgs,
    testCommand: s.testCommand,
    pollSeconds: s.pollSeconds,
    webhook: r.webhook_provider
      ? { provider: r.webhook_provider, url: `/api/pipelines/${s.name}/webhook` }
      : null,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
  };
};

export interface PipelineDeps {
  db: Db;
  audit: AuditLog;
  auth: AuthService;
  box: SecretBox;
  registry: RegistryCompanion;
  workerNodes: WorkerNodes;
  volumes: ControlVolumes;
}

export class PipelineService {
  settings: PipelineSettings;
  buildbot: Buildbot;
  private readonly d: PipelineDeps;

  constructor(d: PipelineDeps, settings: PipelineSettings) {
    this.d = d;
    this.settings = settings;
    this.buildbot = new Buildbot(settings.buildbot);
  }

  get registry(): RegistryCompanion {
    return this.d.registry;
  }

  async list(): Promise<PipelineView[]> {
    return (await listPipelineRows(this.d.db)).map(view);
  }

  private async row(name: string): Promise<PipelineRow> {
    const r = await getPipelineRow(this.d.db, name);
    if (!r) throw notFound(`pipeline ${name}`);
    return r;
  }

  async get(name: string): Promise<PipelineView> {
    return view(await this.row(name));
  }

  /** Checks everything first (every problem listed), then stores the pipeline and its deployer token. */
  async create(
    input: PipelineInput & { webhook?: WebhookProvider },
    owner: Principal,
  ): Promise<{ pipeline: PipelineView; webhookSecret: string | null }> {
    const checked = checkPipeline(input, this.settings.fileRoots);
    const problems = checked.ok ? [] : [...checked.problems];
    if (!(await this.d.db.get('SELECT name FROM apps WHERE name = ?', [input.app])))
      problems.push({ path: 'body/app', message: `app ${input.app} does not exist` });
    if (problems.length || !checked.ok) throw invalid(`pipeline ${input.name} cannot be created`, problems);
    if (await getPipelineRow(this.d.db, input.name)) throw conflict(`pipeline ${input.name} exists`);
    const token = await this.d.auth.createToken(owner, `pipeline ${input.name}`, 'deployer', undefined, [
      input.app,
    ]);
    const webhookSecret = input.webhook ? randomBytes(24).toString('hex') : null;
    await insertPipeline(this.d.db, {
      spec: checked.spec,
      provider: input.webhook ?? null,
      webhookSecret: webhookSecret ? this.d.box.seal(webhookSecret, webhookContext(input.name)) : '',
      deployToken: this.d.box.seal(token.secret, deployTokenContext(input.name)),
      deployTokenId: token.token.id,
      by: owner.username,
    });
    return { pipeline: await this.get(input.name), webhookSecret };
  }

  async remove(name: string, by: Principal): Promise<void> {
    const r = await this.row(name);
    if (r.deploy_token_id)
      await this.d.auth.revokeToken({ ...by, role: 'admin' }, r.deploy_token_id).catch(() => undefined);
    await deletePipelineRow(this.d.db, name);
  }

  /** master.cfg for the pipelines as they are now. */
  async renderConfig(): Promise<string> {
    const rows = await listPipelineRows(this.d.db);
    const envs = await this.d.db.all<{ name: string; environment: string }>(
      'SELECT name, environment FROM apps',
    );
    const s = this.settings;
    const { workerNodes } = await readBuildSettings(this.d.db);
    const local = s.buildbot.workerName;
    return renderMasterCfg(
      {
        title: 'grim pipelines',
        pbPort: s.buildbot.pbPort,
        pbInterface: s.buildbot.pbInterface,
        wwwPort: s.buildbot.wwwPort,
        workers: [
          { name: local, scriptsDir: `${SCRIPTS_DIR}build`, registryCaDir: this.d.registry.caDir },
          ...workerNodes.map(nodeWorker),
        ],
        imageWorkers: workerNodes.length ? workerNodes.map((n) => nodeWorker(n).name) : [local],
        tarballWorkers: [local],
        grimUrl: s.grimUrl,
        grimCaFile: s.grimCaFile,
        registry: this.d.registry.host,
        artifactsDir: s.artifactsDir,
        environmentOf: Object.fromEntries(envs.map((e) => [e.name, e.environment])),
      },
      rows.map((r) => JSON.parse(r.spec) as PipelineSpec),
    );
  }

  async configView() {
    const generated = await this.renderConfig();
    const applied = this.buildbot.appliedConfig();
    return { generated, applied, pending: generated !== applied };
  }

  /**
   * Applies the generated master.cfg: sets up the master and worker once, writes their secrets, runs
   * `buildbot checkconfig`, then starts them or reloads the running master (running builds continue).
   */
  async apply(): Promise<{ reloaded: boolean; started: boolean }> {
    // Nothing to build: nothing is started (Buildbot and the registry come with the first pipeline).
    if (!(await listPipelineRows(this.d.db)).length && !this.buildbot.master.running())
      throw conflict('there are no pipelines to apply: create one first (grim pipeline create)');
    await this.d.registry.ensureRunning(await this.registryStorage());
    const bb = this.buildbot;
    // The master's state (SQLite database, master.cfg, secrets, logs) lives on a volume, snapshotted before
    // every apply.
    await this.d.volumes.ensure(BUILDBOT_VOLUME, this.settings.buildbotVolumeBytes);
    if (bb.appliedConfig() !== null)
      await this.d.volumes.snapshot(BUILDBOT_VOLUME, `pre-apply-${Date.now().toString(36)}`);
    await bb.setup();
    const creds = await this.d.registry.builderCredentials();
    bb.writeSecret('registry-user', creds.username);
    bb.writeSecret('registry-password', creds.password);
    const nodes = [];
    const { workerNodes } = await readBuildSettings(this.d.db);
    for (const name of workerNodes) {
      const node = await getNodeRow(this.d.db, name);
      if (!node) throw notFound(`worker node ${name} (grim pipeline settings)`);
      const secret = `worker-${nodeWorker(name).name}`;
      if (!bb.hasSecret(secret)) bb.writeSecret(secret, randomBytes(24).toString('hex'));
      nodes.push({ node, password: bb.readSecret(secret) });
    }
    for (const r of await listPipelineRows(this.d.db))
      bb.writeSecret(
        `deploy-${r.name}`,
        this.d.box.open(r.deploy_token, deployTokenContext(r.name)).toString(),
      );
    const { reloaded } = await bb.apply(await this.renderConfig());
    const started = !bb.master.running();
    bb.start();
    // Worker nodes after the master knows them: they connect at once instead of backing off.
    const master = `${this.settings.masterHost}:${this.settings.buildbot.pbPort}`;
    for (const { node, password } of nodes)
      await this.d.workerNodes.ensure(node, { master, password, registryCa: this.d.registry.caPem() });
    const workers = [bb.settings.workerName, ...workerNodes.map((n) => nodeWorker(n).name)];
    const end = Date.now() + 90_000;
    while (!(await bb.ready(workers))) {
      if (Date.now() > end)
        throw new DomainError('unavailable', `Buildbot did not come up:\n${bb.master.log().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return { reloaded, started };
  }

  /** Where the registry keeps images now; a volume is made (or grown) first. */
  private async registryStorage(): Promise<RegistryStorage> {
    const c = await registryStorageConfig(this.d.db, this.d.box);
    if (c.kind === 's3') return c;
    if (c.kind === 'directory')
      return { kind: 'directory', path: join(this.d.registry.settings.dir, 'data') };
    const v = await this.d.volumes.ensure(REGISTRY_VOLUME, this.settings.registryVolumeBytes);
    return { kind: 'directory', path: v.path };
  }

  buildSettings() {
    return readBuildSettings(this.d.db);
  }

  /** New build settings (checked, stored); applied at once when Buildbot runs. */
  updateBuildSettings(input: BuildSettings, s3: SeaweedAccess) {
    const reapply = async () => this.buildbot.master.running() && (await this.apply(), true);
    return updateBuildSettings({ ...this.d, reapply }, input, s3);
  }

  /** restic backups of the master's state volume and, when the registry is on one, of the registry's. */
  async backupVolumes(backups: BackupService, target: string | undefined) {
    const { registryStorage } = await readBuildSettings(this.d.db);
    const names = [BUILDBOT_VOLUME, ...(registryStorage.kind === 'volume' ? [REGISTRY_VOLUME] : [])];
    const restic = await backups.resticEnvFor(target, 'control', CONTROL_APP);
    const out = [];
    for (const volume of names) {
      if (!existsSync(this.d.volumes.path(volume)))
        throw conflict(`volume ${volume} does not exist yet: apply the build configuration first`);
      out.push({ volume, target: restic.target, ...(await this.d.volumes.backup(volume, restic.env)) });
    }
    return out;
  }

  /** On grim's start: keep Buildbot and the registry running when a configuration was applied before. */
  resume(): void {
    if (this.buildbot.appliedConfig() === null) return;
    this.d.registry.start();
    this.buildbot.start();
  }

  /** Stops Buildbot and the registry (they otherwise outlive grim, like services on nodes). */
  async stop(): Promise<void> {
    await Promise.allSettled([this.buildbot.stop(), this.d.registry.stop()]);
  }

  async builds(name: string) {
    await this.row(name);
    const builds = await this.buildbot.builds(name);
    const releases = await releaseBuildsOf(this.d.db, { pipeline: name });
    return builds.map((b) => ({
      ...b,
      release: releases.find((r) => Number(r.build_number) === b.number)?.release ?? null,
    }));
  }

  async buildLog(name: string, number: number) {
    await this.row(name);
    const steps = await this.buildbot.buildLog(name, number);
    if (!steps) throw notFound(`build ${number} of pipeline ${name}`);
    return steps;
  }

  async triggerBuild(name: string, revision: string | undefined, reason: string) {
    const p = await this.get(name);
    return this.buildbot.force(name, { branch: p.branch, revision, reason });
  }

  /**
   * A webhook delivery: verified against the pipeline's secret, refused when replayed, audited whatever the
   * outcome, and for a push to the pipeline's branch handed to Buildbot as a build of the pushed commit.
   */
  async webhook(
    name: string,
    headers: Headers,
    body: Buffer,
    ip: string,
  ): Promise<{ status: number; code: string; message: string; buildsetId?: number }> {
    const r = /^[a-z0-9-]{1,32}$/.test(name) ? await getPipelineRow(this.d.db, name) : undefined;
    const provider = r?.webhook_provider ?? 'unknown';
    const audit = (outcome: 'success' | 'denied' | 'failure', details: Record<string, unknown>) =>
      this.d.audit.record({
        actor: `webhook:${provider}`,
        actorKind: 'anonymous',
        action: 'pipeline.webhook',
        target: name.slice(0, 64),
        outcome,
        details,
        ip,
      });
    if (!r || !r.webhook_provider) {
      await audit('denied', { reason: 'no such pipeline webhook' });
      return { status: 404, code: 'not_found', message: `pipeline ${name.slice(0, 64)} has no webhook` };
    }
    const secret = this.d.box.open(r.webhook_secret, webhookContext(name)).toString();
    const verdict = verifyWebhook(r.webhook_provider, secret, headers, body);
    if (!verdict.ok) {
      await audit('denied', { reason: verdict.reason, delivery: verdict.delivery });
      return { status: 401, code: 'unauthenticated', message: verdict.reason };
    }
    if (!(await recordDelivery(this.d.db, name, verdict.delivery))) {
      await audit('denied', { reason: 'replayed delivery', delivery: verdict.delivery });
      return { status: 409, code: 'conflict', message: `delivery ${verdict.delivery} was already received` };
    }
    const spec = JSON.parse(r.spec) as PipelineSpec;
    if (verdict.branch !== spec.branch || !verdict.commit) {
      await audit('success', {
        delivery: verdict.delivery,
        event: verdict.event,
        ignored: `not a push to ${spec.branch}`,
      });
      return { status: 202, code: 'ignored', message: `ignored: not a push to ${spec.branch}` };
    }
    try {
      const { buildsetId } = await this.buildbot.force(name, {
        branch: spec.branch,
        revision: verdict.commit,
        reason: `${provider} push ${verdict.delivery}`,
      });
      await audit('success', { delivery: verdict.delivery, commit: verdict.commit, buildsetId });
      return { status: 202, code: 'accepted', message: `building ${verdict.commit}`, buildsetId };
    } catch (err) {
      await audit('failure', {
        delivery: verdict.delivery,
        commit: verdict.commit,
        error: (err as Error).message,
      });
      return { status: 503, code: 'unavailable', message: (err as Error).message };
    }
  }

  /** Before a deploy that says what built it: the pipeline deploys this app, and a deployer is its own. */
  async checkBuild(app: string, build: { pipeline: string }, principal: Principal): Promise<void> {
    const p = await getPipelineRow(this.d.db, build.pipeline);
    if (!p || p.app !== app)
      throw invalid('build does not match a pipeline of this app', [
        { path: 'body/build/pipeline', message: `pipeline ${build.pipeline} does not deploy ${app}` },
      ]);
    if (principal.role === 'deployer' && principal.tokenId !== p.deploy_token_id)
      throw new DomainError('forbidden', `only pipeline ${build.pipeline}'s own token may record its builds`);
  }

  /** What built a release (the deploy handler, after checkBuild and the deploy). */
  async recordRelease(
    app: string,
    release: number,
    build: { pipeline: string; number: number; commit: string; digest: string },
  ): Promise<void> {
    await recordReleaseBuild(this.d.db, { app, release, ...build });
  }

  /** Latest finished build per pipeline (for /metrics) and the failures already reported. */
  private lastBuild = new Map<string, { number: number; failed: boolean }>();
  private reported = new Set<string>();
  private watched = false;

  /**
   * One round of the build watcher (run under a lease by the server): every finished build that failed is
   * reported once, as an audit entry `pipeline.build-failed` (the alerting path reads /metrics:
   * grim_pipeline_last_build_failed). Failures already there at the first round are not reported again.
   */
  async watchOnce(): Promise<Array<{ pipeline: string; number: number }>> {
    if (!this.buildbot.master.running()) return [];
    const reported: Array<{ pipeline: string; number: number }> = [];
    const first = !this.watched;
    for (const p of await listPipelineRows(this.d.db)) {
      let builds;
      try {
        builds = await this.buildbot.builds(p.name, 10);
      } catch {
        continue; // Buildbot is restarting: next round
      }
      const done = builds.filter((b) => b.state !== 'running');
      if (done[0])
        this.lastBuild.set(p.name, { number: done[0].number, failed: done[0].state !== 'succeeded' });
      for (const b of done) {
        const key = `${p.name}#${b.number}`;
        if (b.state === 'succeeded' || b.state === 'cancelled' || this.reported.has(key)) continue;
        this.reported.add(key);
        if (first) continue;
        reported.push({ pipeline: p.name, number: b.number });
        await this.d.audit.record({
          actor: 'buildbot',
          actorKind: 'system',
          action: 'pipeline.build-failed',
          target: p.name,
          outcome: 'failure',
          details: { build: b.number, commit: b.commit, summary: b.summary.slice(0, 500) },
        });
      }
    }
    this.watched = true;
    return reported;
  }

  /** Prometheus lines: whether each pipeline's latest finished build failed, and its number. */
  metricsLines(): string[] {
    if (!this.lastBuild.size) return [];
    const out = [
      '# HELP grim_pipeline_last_build_failed 1 when the latest finished build of the pipeline failed',
      '# TYPE grim_pipeline_last_build_failed gauge',
    ];
    for (const [p, b] of this.lastBuild)
      out.push(`grim_pipeline_last_build_failed{pipeline="${p}"} ${b.failed ? 1 : 0}`);
    out.push(
      '# HELP grim_pipeline_last_build_number Number of the latest finished build',
      '# TYPE grim_pipeline_last_build_number gauge',
    );
    for (const [p, b] of this.lastBuild)
      out.push(`grim_pipeline_last_build_number{pipeline="${p}"} ${b.number}`);
    return out;
  }

  releaseBuilds(app: string) {
    return releaseBuildsOf(this.d.db, { app });
  }
}
