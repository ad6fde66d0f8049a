/**
 * What the storage service does on one node, each step a node script from scripts/node/: install a release
 * (pushed over SFTP, checked against grim's SHA-256, versioned dir + symlink), write configuration, install,
 * start, stop and signal the supervised SeaweedFS services (grim's app supervisor, in their own services
 * directory so the apps reconciler never sees them), run `weed shell`.
 */
import { runScript, type SshPool } from '../../ssh/index.ts';
import type { NodeRow } from '../../store/nodes-repo.ts';
import type { ReleaseRow } from '../../store/seaweedfs-repo.ts';
import { SupervisedServices } from '../supervised-services.ts';
import { LAYOUT } from '../../domain/seaweedfs/cluster.ts';
import { RemoteCommandError } from '../../ssh/errors.ts';
import { targetOf } from '../nodes.ts';
import { DomainError } from '../../domain/errors.ts';

export class NodeOps {
  readonly #pool: SshPool;
  readonly #services: SupervisedServices;
  constructor(pool: SshPool) {
    this.#pool = pool;
    this.#services = new SupervisedServices(pool, LAYOUT.servicesDir);
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
    await this.#services.install(node, {
      id,
      appName: 'seaweedfs',
      runScript: 'weed-run',
      env: { WEED_SERVICE: id },
      stopTimeoutSec,
    });
  }

  start(node: NodeRow, id: string) {
    return this.#services.start(node, id);
  }

  stop(node: NodeRow, id: string, timeoutSec = 30) {
    return this.#services.stop(node, id, timeoutSec);
  }

  destroy(node: NodeRow, id: string) {
    return this.#services.destroy(node, id);
  }

  inspect(node: NodeRow, id: string) {
    return this.#services.inspect(node, id);
  }

  logs(node: NodeRow, id: string, lines = 50) {
    return this.#services.logs(node, id, lines);
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
