/**
 * One upload = one SSH channel through the pool: scripts/node/file-receive.sh runs with the bytes on its stdin
 * (`cat >` a temporary file), checks the SHA-256 it was given, and moves the file into place. The data is
 * streamed with backpressure, never held whole in memory (unless its checksum is unknown).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { scriptCommand } from '../scripts/loader.ts';
import type { SshPool, SshTarget } from './pool.ts';

export interface UploadOptions {
  mode?: number;
  /** SHA-256 of the content (hex, or "sha256:<hex>"); computed here when absent (a stream is then buffered). */
  sha256?: string;
  signal?: AbortSignal;
}

async function toBuffer(data: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of data as AsyncIterable<Buffer | string>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

export async function uploadFile(
  pool: SshPool,
  target: SshTarget,
  path: string,
  data: Buffer | NodeJS.ReadableStream,
  o: UploadOptions = {},
): Promise<{ bytes: number }> {
  let body = data;
  let sha = o.sha256?.replace(/^sha256:/, '');
  if (!sha) {
    body = Buffer.isBuffer(data) ? data : await toBuffer(data);
    sha = createHash('sha256').update(body).digest('hex');
  }
  const { channel, exit } = await pool.stream(
    target,
    scriptCommand('file-receive', {
      FILE_PATH: path,
      FILE_SHA256: sha,
      FILE_MODE: (o.mode ?? 0o600).toString(8),
    }),
  );
  let stdout = '';
  channel.on('data', (c: Buffer) => {
    if (stdout.length < 65536) stdout += c.toString('utf8');
  });
  const abort = () => channel.close();
  o.signal?.addEventListener('abort', abort, { once: true });
  try {
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : (body as NodeJS.ReadableStream);
    // A node that fails early (bad path, full disk) closes the channel: its exit status says why.
    await pipeline(source, channel).catch((err: unknown) => {
      if (!channel.destroyed) throw err;
    });
    const { code, stderr } = await exit;
    if (code !== 0)
      throw new Error(
        `upload of ${path} to ${target.nodeId} failed (exit ${code ?? 'none'}): ${stderr.trim() || 'no message'}`,
      );
    const last = stdout.trim().split('\n').at(-1) ?? '';
    return { bytes: Number((JSON.parse(last) as { bytes: number }).bytes) };
  } finally {
    o.signal?.removeEventListener('abort', abort);
  }
}
