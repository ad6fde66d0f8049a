/**
 * The Buildbot master and its local worker, run by grim on the control node as supervised services, and
 * Buildbot's REST API (bound to 127.0.0.1) read back for build status and logs and used to force builds.
 * State lives in `<base>/master` (its SQLite database, master.cfg, secrets/) and the services' logs in `<base>`;
 * `base` is a control-node volume (control-volumes.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '../../scripts/loader.ts';
import { DomainError } from '../../domain/errors.ts';
import { runLocalScript, SupervisedService } from './local-scripts.ts';

export interface BuildbotSettings {
  venv: string;
  base: string;
  pbPort: number;
  /** Address the PB port listens on: 127.0.0.1 with only the local worker, else one the worker nodes reach. */
  pbInterface: string;
  wwwPort: number;
  workerName: string;
}

export interface BuildView {
  number: number;
  state: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'error' | 'pending';
  summary: string;
  commit: string | null;
  digest: string | null;
  /** The worker that ran it. */
  worker: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

const RESULTS: Record<number, BuildView['state']> = {
  0: 'succeeded',
  1: 'succeeded', // warnings
  2: 'failed',
  3: 'succeeded', // skipped
  4: 'error', // exception
  5: 'failed', // retry
  6: 'cancelled',
};

export class Buildbot {
  readonly settings: BuildbotSettings;
  readonly master: SupervisedService;
  readonly worker: SupervisedService;

  constructor(settings: BuildbotSettings) {
    this.settings = settings;
    this.master = new SupervisedService('buildbot-master', join(settings.base, 'svc-master'));
    this.worker = new SupervisedService(
      `buildbot-worker-${settings.workerName}`,
      join(settings.base, `svc-worker-${settings.workerName}`),
    );
  }

  get masterDir(): string {
    return join(this.settings.base, 'master');
  }

  /** Writes a secret file the master reads (SecretInAFile: directory 0700, files 0600). */
  writeSecret(name: string, value: string): void {
    if (!/^[a-z0-9-]{1,80}$/.test(name)) throw new Error(`bad secret name ${name}`);
    const dir = join(this.masterDir, 'secrets');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, name), value, { mode: 0o600 });
  }

  hasSecret(name: string): boolean {
    return existsSync(join(this.masterDir, 'secrets', name));
  }

  readSecret(name: string): string {
    return readFileSync(join(this.masterDir, 'secrets', name), 'utf8').trim();
  }

  /** Creates the master's and the worker's directories once (idempotent). */
  async setup(): Promise<void> {
    const pw = join(this.masterDir, 'secrets', `worker-${this.settings.workerName}`);
    if (!existsSync(pw))
      this.writeSecret(`worker-${this.settings.workerName}`, randomBytes(24).toString('hex'));
    await runLocalScript('build/buildbot-setup', {
      VENV: this.settings.venv,
      BASE: this.settings.base,
      WORKER_NAME: this.settings.workerName,
      PB_PORT: String(this.settings.pbPort),
      PB_HOST: this.settings.pbInterface === '0.0.0.0' ? '127.0.0.1' : this.settings.pbInterface,
      SCRIPTS: `${SCRIPTS_DIR}build`,
    });
  }

  /** checkconfig on a copy, then in place, then SIGHUP to the running master (running builds go on). */
  async apply(cfg: string): Promise<{ reloaded: boolean; checkOutput: string }> {
    const candidate = join(this.settings.base, 'master.cfg.candidate');
    writeFileSync(candidate, cfg, { mode: 0o600 });
    try {
      const r = await runLocalScript(
        'build/buildbot-apply',
        {
          VENV: this.settings.venv,
          BB_DIR: this.masterDir,
          NEW_CFG: candidate,
          MASTER_PID_FILE: join(this.master.dir, 'app.pid'),
        },
        90_000,
      );
      return { reloaded: r.json?.reloaded === true, checkOutput: r.stderr };
    } catch (err) {
      throw new DomainError('invalid', `Buildbot refused the configuration: ${(err as Error).message}`);
    }
  }

  start(): void {
    this.master.start();
    this.worker.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.worker.stop(), this.master.stop()]);
  }

  private url(path: string): string {
    return `http://127.0.0.1:${this.settings.wwwPort}/api/v2/${path}`;
  }

  private async get(path: string): Promise<any> {
    let r: Response;
    try {
      r = await fetch(this.url(path), { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new DomainError('unavailable', `Buildbot's API does not answer: ${(err as Error).message}`);
    }
    if (r.status === 404) return null;
    if (!r.ok) throw new DomainError('remote_failed', `Buildbot's API: HTTP ${r.status} for ${path}`);
    return r.json();
  }

  /** True once the REST API answers and these workers (default: the local one) are connected. */
  async ready(workers: string[] = [this.settings.workerName]): Promise<boolean> {
    try {
      const connected = await this.connectedWorkers();
      return workers.every((w) => connected.includes(w));
    } catch {
      return false;
    }
  }

  /** Names of the workers connected to the master now. */
  async connectedWorkers(): Promise<string[]> {
    const r = await this.get('workers');
    return (r?.workers ?? []).filter((w: any) => w.connected_to?.length).map((w: any) => String(w.name));
  }

  async builds(builder: string, limit = 20): Promise<BuildView[]> {
    const r = await this.get(
      `builders/${encodeURIComponent(builder)}/builds?order=-number&limit=${limit}&property=got_revision&property=image_digest&property=workername`,
    );
    return (r?.builds ?? []).map((b: any): BuildView => {
      const prop = (k: string) => (b.properties?.[k]?.[0] as string | undefined) ?? null;
      const digest = prop('image_digest');
      return {
        number: Number(b.number),
        state: b.complete ? (RESULTS[Number(b.results)] ?? 'error') : 'running',
        summary: String(b.state_string ?? ''),
        commit: prop('got_revision'),
        digest: digest && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : null,
        worker: prop('workername'),
        startedAt: b.started_at ? Number(b.started_at) * 1000 : null,
        finishedAt: b.complete_at ? Number(b.complete_at) * 1000 : null,
      };
    });
  }

  /** Each step of a build with its result and the text of its logs. */
  async buildLog(builder: string, number: number) {
    const s = await this.get(`builders/${encodeURIComponent(builder)}/builds/${number}/steps`);
    if (!s) return null;
    const steps = [];
    for (const step of s.steps ?? []) {
      const logs = (await this.get(`steps/${step.stepid}/logs`))?.logs ?? [];
      let text = '';
      for (const l of logs) {
        const r = await fetch(this.url(`logs/${l.logid}/raw`), { signal: AbortSignal.timeout(10_000) });
        if (r.ok) text += (await r.text()).slice(-65536);
      }
      steps.push({
        name: String(step.name),
        state: step.complete ? (RESULTS[Number(step.results)] ?? 'error') : 'running',
        summary: String(step.state_string ?? ''),
        log: text,
      });
    }
    return steps;
  }

  /** Starts a build of `builder` at `revision` (webhooks, manual builds) through its force scheduler. */
  async force(builder: string, o: { branch: string; revision?: string; reason: string }) {
    let r: Response;
    try {
      r = await fetch(this.url(`forceschedulers/force-${encodeURIComponent(builder)}`), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          method: 'force',
          id: 1,
          params: {
            builderNames: [builder],
            branch: o.branch,
            revision: o.revision ?? '',
            reason: o.reason.slice(0, 200),
          },
        }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new DomainError('unavailable', `Buildbot's API does not answer: ${(err as Error).message}`);
    }
    const body = (await r.json().catch(() => null)) as {
      result?: [number, unknown];
      error?: { message?: string };
    };
    if (!r.ok || !body?.result)
      throw new DomainError(
        'remote_failed',
        `Buildbot refused the build: ${body?.error?.message ?? r.status}`,
      );
    return { buildsetId: Number(body.result[0]) };
  }

  appliedConfig(): string | null {
    const p = join(this.masterDir, 'master.cfg');
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  }
}
