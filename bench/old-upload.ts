/**
 * The upload path grim used before src/ssh/upload.ts, kept only so `npm run bench:vm` can measure both in one
 * run: one SSH exec of scripts/node/app-upload.sh per 48 KiB of data, carried base64 in an environment variable.
 */
import type { OpCtx } from '../src/drivers/driver.ts';

const CHUNK = 48 * 1024;

async function toBuffer(data: Buffer | NodeJS.ReadableStream): Promise<Buffer> {
  if (Buffer.isBuffer(data)) return data;
  const parts: Buffer[] = [];
  for await (const c of data as AsyncIterable<Buffer | string>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** `ctx` with its upload replaced by the chunked one (its runScript does the work). */
export function withChunkedUpload(ctx: OpCtx): OpCtx {
  const out: OpCtx = {
    ...ctx,
    async upload(path, data, mode = 0o600) {
      const buf = await toBuffer(data);
      for (let off = 0; off === 0 || off < buf.length; off += CHUNK) {
        const last = off + CHUNK >= buf.length;
        await out.runScript(
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
  return out;
}
