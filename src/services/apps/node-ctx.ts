/** The OpCtx a driver gets for one node: scripts and uploads through grim's SSH pool, log lines to the job. */
import type { OpCtx } from '../../drivers/driver.ts';
import { runScript, uploadFile, type SshPool } from '../../ssh/index.ts';
import type { NodeRow } from '../../store/nodes-repo.ts';
import { targetOf } from '../nodes.ts';

export function nodeCtx(
  pool: SshPool,
  node: NodeRow,
  log: (line: string) => void,
  signal?: AbortSignal,
): OpCtx {
  const target = targetOf(node);
  return {
    node: node.name,
    log,
    signal,
    runScript: (name, env, opts) =>
      runScript(pool, target, name, env, { timeoutMs: opts?.timeoutMs ?? 60_000, signal }),
    async upload(path, data, mode = 0o600, sha256) {
      await uploadFile(pool, target, path, data, { mode, sha256, signal });
    },
  };
}
