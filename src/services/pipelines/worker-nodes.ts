/**
 * Buildbot workers on the nodes chosen in grim's build settings (build-settings.ts): scripts/node/buildbot-worker-install.sh
 * puts buildbot-worker in a venv on the node, installed offline from the wheelhouse grim keeps on the control
 * node (pushed over SFTP only when the node lacks that version), with grim's build step scripts and the
 * registry's CA; the worker then runs under grim's node supervisor in its own services directory (restarted
 * when it dies, started again at boot), like SeaweedFS's services.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { scriptFor } from '../../scripts/loader.ts';
import { runScript, type SshPool } from '../../ssh/index.ts';
import { RemoteCommandError } from '../../ssh/errors.ts';
import type { NodeRow } from '../../store/nodes-repo.ts';
import { envFile } from '../../drivers/env-file.ts';
import { targetOf } from '../nodes.ts';
import { DomainError } from '../../domain/errors.ts';

export const WORKER_VERSION = '4.3.0';
const ROOT = '/var/lib/grim/buildbot-worker';
const SERVICES = { GRIM_APPS_DIR: `${ROOT}/services` };
const SERVICE_ID = 'buildbot-worker';

/** A worker node's worker name and the paths its builds use (build properties in master.cfg). */
export const nodeWorker = (node: string) => ({
  name: `node-${node}`,
  scriptsDir: `${ROOT}/scripts`,
  registryCaDir: `${ROOT}/registry-ca`,
});

export class WorkerNodes {
  readonly #pool: SshPool;
  readonly #wheels: string;
  constructor(pool: SshPool, wheelsDir: string) {
    this.#pool = pool;
    this.#wheels = wheelsDir;
  }

  /** Installs (or updates) the worker on `node` and starts its service; idempotent. */
  async ensure(node: NodeRow, o: { master: string; password: string; registryCa: string }) {
    const target = targetOf(node);
    const env: Record<string, string> = {
      VERSION: WORKER_VERSION,
      WORKER_NAME: nodeWorker(node.name).name,
      WORKER_PASSWORD: o.password,
      MASTER: o.master,
      BUILD_IMAGE_SH: scriptFor('build/build-image').body,
      DEPLOY_SH: scriptFor('build/deploy').body,
      REGISTRY_CA: o.registryCa,
    };
    const install = (extra: Record<string, string> = {}) =>
      runScript(this.#pool, target, 'buildbot-worker-install', { ...env, ...extra }, { timeoutMs: 300_000 });
    let installed;
    try {
      installed = await install();
    } catch (err) {
      if (!(err instanceof RemoteCommandError) || err.exitCode !== 3) throw err;
      let wheels: string[];
      try {
        wheels = readdirSync(this.#wheels).filter((f) => f.endsWith('.whl'));
      } catch {
        wheels = [];
      }
      if (!wheels.some((f) => f.startsWith(`buildbot_worker-${WORKER_VERSION}-`)))
        throw new DomainError(
          'unavailable',
          `no buildbot-worker ${WORKER_VERSION} wheels in ${this.#wheels} to install on ${node.name} (pip download --dest ${this.#wheels} buildbot-worker==${WORKER_VERSION})`,
        );
      for (const f of wheels)
        await this.#pool.putFile(target, join(this.#wheels, f), `${ROOT}/wheels/${f}`, 0o644);
      installed = await install({ WHEELS_STAGED: 'yes' });
    }
    const run = (script: string, e: Record<string, string>) =>
      runScript(this.#pool, target, script, { ...e, ...SERVICES }, { timeoutMs: 90_000 });
    await run('app-install', {
      INSTANCE_ID: SERVICE_ID,
      APP_NAME: 'buildbot-worker',
      RELEASE: '1',
      DRIVER: 'buildbot',
      RUN_SCRIPT: scriptFor('build/buildbot-worker-run').body,
      ENV_FILE: envFile({
        VENV: '/opt/grim/buildbot-worker',
        BB_DIR: `${ROOT}/worker`,
        GRIM_INSTANCE: SERVICE_ID,
      }),
      SUPERVISOR_SCRIPT: scriptFor('supervisor').body,
      BOOT_SCRIPT: scriptFor('supervisor-boot').body,
      STOP_TIMEOUT_SEC: '30',
    });
    // A new venv, master address or password needs the worker restarted; otherwise running builds go on.
    if ((installed.json as { changed?: boolean }).changed)
      await run('app-stop', { INSTANCE_ID: SERVICE_ID, TIMEOUT_SEC: '30' });
    await run('app-start', { INSTANCE_ID: SERVICE_ID });
    return installed.json;
  }

  /** Stops and removes the worker service on a node no longer chosen (its venv stays for a later return). */
  async remove(node: NodeRow): Promise<void> {
    await runScript(
      this.#pool,
      targetOf(node),
      'app-destroy',
      { INSTANCE_ID: SERVICE_ID, TIMEOUT_SEC: '30', ...SERVICES },
      { timeoutMs: 90_000 },
    );
  }
}
