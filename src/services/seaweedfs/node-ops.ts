/**
 * What the storage service does on one node, each step a node script from scripts/node/: install a release
 * (pushed over SFTP, checked against grim's SHA-256, versioned dir + symlink), write configuration, install,
 * start, stop and signal the supervised SeaweedFS services (grim's app supervisor, in their own services
 * directory so the apps reconciler never sees them), run `weed shell`.
 */
import { scriptFor } from '../../scripts/loader.ts';
import { runScript, type SshPool } from '../../ssh/index.ts';
import type { NodeRow } from '../../store/nodes-repo.ts';
import type { ReleaseRow } from '../../store/seaweedfs-repo.ts';
import { envFile } from '../../drivers/env-file.ts';
import { LAYOUT } from '../../domain/seaweedfs/cluster.ts';
import { RemoteCommandError } from '../../ssh/errors.ts';
import { targetOf } from '../nodes.ts';
import { DomainError } from '../../domain/errors.ts';

const APPS = { GRIM_APPS_DIR: LAYOUT.servicesDir };

export class NodeOps {
  readonly #pool: SshPool;
  constructor(pool: SshPool) {
    this.#pool = pool;
  }

  async run(node: NodeRow, script: string, env: Record<string, string>, timeoutMs = 120_000) {
    return runScript(this.#pool, targetOf(node), script, env, { timeoutMs });
  }

  /** Installs (if needed) and switches to a release on a node; pushes the binary only when it is missing there. */
  async install(node: NodeRow, release: ReleaseRow, opts: { switchTo?: boolean } = {}) {
    const env: Record<string, string> = { VERSION: release.version, SHA256: release.sha256 };
    if (opts.switchTo === false) env.SWITCH = 'no';
    try {
      return (await this.run(node, 'weed-install', env)).json as {
        version: string;
        previous: string;
        switched: boolean;
      };
    } catch (err) {
      if (!(err instanceof RemoteCommandError) || err.exitCode !== 3) throw err;
    }
    const staged = `${LAYOUT.dataDir}/staging/weed-${release.sha256.slice(0, 16)}`;
    await this.#pool.putFile(targetOf(node), release.path, staged, 0o700);
    return (await this.run(node, 'weed-install', { ...env, STAGED: staged }, 300_000)).json as {
      version: string;
      previous: string;
      switched: boolean;
    };
  }

  async configure(node: NodeRow, files: Record<string, string>) {
    await this.run(node, 'weed-configure', files);
  }

  /** Installs a SeaweedFS process as a supervised service (not started). */
  async installService(node: NodeRow, id: string, stopTimeoutSec: number) {
    await this.run(node, 'app-install', {
      INSTANCE_ID: id,
      APP_NAME: 'seaweedfs',
      RELEASE: '1',
      DRIVER: 'seaweedfs',
      RUN_SCRIPT: scriptFor('weed-run').body,
      ENV_FILE: envFile({ WEED_SERVICE: id, GRIM_INSTANCE: id }),
      SUPERVISOR_SCRIPT: scriptFor('supervisor').body,
      BOOT_SCRIPT: scriptFor('supervisor-boot').body,
      STOP_TIMEOUT_SEC: String(stopTimeoutSec),
      ...APPS,
    });
  }

  async start(node: NodeRow, id: string) {
    await this.run(node, 'app-start', { INSTANCE_ID: id, ...APPS });
  }

  async stop(node: NodeRow, id: string, timeoutSec = 30) {
    await this.run(
      node,
      'app-stop',
      { INSTANCE_ID: id, TIMEOUT_SEC: String(timeoutSec), ...APPS },
      (timeoutSec + 30) * 1000,
    );
  }

  async destroy(node: NodeRow, id: string) {
    await this.run(node, 'app-destroy', { INSTANCE_ID: id, TIMEOUT_SEC: '30', ...APPS }, 90_000);
  }

  async inspect(node: NodeRow, id: string) {
    return (await this.run(node, 'app-inspect', { INSTANCE_ID: id, ...APPS })).json as {
      state: string;
      pid: number | null;
      restarts: number;
    };
  }

  async logs(node: NodeRow, id: string, lines = 50) {
    const { result } = await this.run(node, 'app-logs', {
      INSTANCE_ID: id,
      TAIL_LINES: String(lines),
      ...APPS,
    });
    return result.stdout;
  }

  async signal(node: NodeRow, services: string[], signal: 'HUP' | 'TERM') {
    return (await this.run(node, 'weed-signal', { SERVICES: services.join(' '), SIGNAL: signal })).json as {
      signalled: number;
    };
  }

  /**
   * `weed shell` commands on a node with the cluster's certificate. SeaweedFS's shell reports failures as
   * "error: ..." lines with exit status 0: those become a remote_failed error listing them.
   */
  async shell(node: NodeRow, masters: string[], commands: string[], timeoutSec = 300) {
    const { result } = await this.run(
      node,
      'weed-shell',
      { MASTERS: masters.join(','), COMMANDS: commands.join('\n'), TIMEOUT_SEC: String(timeoutSec) },
      (timeoutSec + 30) * 1000,
    );
    const output = result.stdout.replace(/\n?\{"ok":true\}\s*$/, '');
    const errors = output.split('\n').filter((l) => /^error:|^\s*error:/i.test(l.trim()));
    if (errors.length)
      throw new DomainError(
        'remote_failed',
        `weed shell on ${node.name}: ${errors.join('; ')}`,
        errors.map((message) => ({ path: 'weed shell', message })),
      );
    return output;
  }
}
