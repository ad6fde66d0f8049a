/** The OpCtx a driver gets for one node: scripts and uploads through grim's SSH pool, log lines to the job. */
import type { OpCtx } from '../../drivers/driver.ts';
import { runScript, type SshPool } from '../../ssh/index.ts';
import type { NodeRow } from '../../store/nodes-repo.ts';
import { targetOf } from '../nodes.ts';

/** 48 KiB of data per call: 64 KiB of base64, well inside the 128 KiB limit of one command line. */
const CHUNK = 48 * 1024;

async function toBuffer(data: Buffer | NodeJS.ReadableStream): Promise<Buffer> {
  if (Buffer.isBuffer(data)) return data;
  const parts: Buffer[] = [];
  for await (const c of data as AsyncIterable<Buffer | string>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

export function nodeCtx(
  pool: SshPool,
  node: NodeRow,
  log: (line: string) => void,
  signal?: AbortSignal,
): OpCtx {
  const target = targetOf(node);
  const ctx: OpCtx = {
    node: node.name,
    log,
    signal,
    runScript: (name, env, opts) =>
      runScript(pool, target, name, env, { timeoutMs: opts?.timeoutMs ?? 60_000, signal }),
    async upload(path, data, mode = 0o600) {
      const buf = await toBuffer(data);
      for (let off = 0; off === 0 || off < buf.length; off += CHUNK) {
        const last = off + CHUNK >= buf.length;
        await ctx.runScript(
          'app-upload',
          {
            FILE_PATH: path,
            FILE_DATA_B64: buf.subarray(off, off + CHUNK).toString('base64'),
            ...(off > 0 ? { FILE_APPEND: '1' } : {}),
            ...(last ? { FILE_COMMIT: '1' } : {}),
            FILE_MODE: mode.toString(8),
          },
          { timeoutMs: 60_000 },
        );
        if (last) break;
      }
    },
  };
  return ctx;
}
