/**
 * Services grim keeps running on a node with its app supervisor (supervisor.sh), in a services directory of
 * their own so the apps reconciler never sees them: SeaweedFS's processes and the monitoring stack's.
 */
import { scriptFor } from '../scripts/loader.ts';
import { runScript, type SshPool } from '../ssh/index.ts';
import type { NodeRow } from '../store/nodes-repo.ts';
import { envFile } from '../drivers/env-file.ts';
import { targetOf } from './nodes.ts';

export class SupervisedServices {
  readonly #pool: SshPool;
  readonly #apps: { GRIM_APPS_DIR: string };
  constructor(pool: SshPool, servicesDir: string) {
    this.#pool = pool;
    this.#apps = { GRIM_APPS_DIR: servicesDir };
  }

  run(node: NodeRow, script: string, env: Record<string, string>, timeoutMs = 120_000) {
    return runScript(this.#pool, targetOf(node), script, env, { timeoutMs });
  }

  /** Installs a service (not started): `runScript` (a node script's name) runs it with `env` (0600 file). */
  async install(
    node: NodeRow,
    s: {
      id: string;
      appName: string;
      runScript: string;
      env: Record<string, string>;
      stopTimeoutSec: number;
    },
  ) {
    await this.run(node, 'app-install', {
      INSTANCE_ID: s.id,
      APP_NAME: s.appName,
      RELEASE: '1',
      DRIVER: s.appName,
      RUN_SCRIPT: scriptFor(s.runScript).body,
      ENV_FILE: envFile({ ...s.env, GRIM_INSTANCE: s.id }),
      SUPERVISOR_SCRIPT: scriptFor('supervisor').body,
      BOOT_SCRIPT: scriptFor('supervisor-boot').body,
      STOP_TIMEOUT_SEC: String(s.stopTimeoutSec),
      ...this.#apps,
    });
  }

  async start(node: NodeRow, id: string) {
    await this.run(node, 'app-start', { INSTANCE_ID: id, ...this.#apps });
  }

  async stop(node: NodeRow, id: string, timeoutSec = 30) {
    await this.run(
      node,
      'app-stop',
      { INSTANCE_ID: id, TIMEOUT_SEC: String(timeoutSec), ...this.#apps },
      (timeoutSec + 30) * 1000,
    );
  }

  async destroy(node: NodeRow, id: string) {
    await this.run(node, 'app-destroy', { INSTANCE_ID: id, TIMEOUT_SEC: '30', ...this.#apps }, 90_000);
  }

  async inspect(node: NodeRow, id: string) {
    return (await this.run(node, 'app-inspect', { INSTANCE_ID: id, ...this.#apps })).json as {
      state: string;
      pid: number | null;
      restarts: number;
    };
  }

  async logs(node: NodeRow, id: string, lines = 50) {
    const { result } = await this.run(node, 'app-logs', {
      INSTANCE_ID: id,
      TAIL_LINES: String(lines),
      ...this.#apps,
    });
    return result.stdout;
  }
}
