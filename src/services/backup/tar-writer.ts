/**
 * Minimal tar writer (ustar, with a pax `path` record for names over 100 bytes), gzip-compressed, for control
 * node backups. It writes regular files and directories only; src/oci/tar-reader.ts reads it back.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mode: number, mtime: number, type: '0' | '5' | 'x'): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(Math.floor(mtime), 12), 136);
  h.write('        ', 148); // checksum placeholder
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (`${len}${body}`.length !== len) len = `${len}${body}`.length;
  return `${len}${body}`;
}

export class TarGzWriter {
  private readonly out: Writable;
  private readonly done: Promise<void>;

  constructor(path: string) {
    const gzip = createGzip({ level: 6 });
    const file = createWriteStream(path, { mode: 0o600 });
    gzip.pipe(file);
    this.out = gzip;
    this.done = new Promise((res, rej) => {
      const fail = (err: Error) => {
        this.failed = err;
        rej(err);
      };
      file.on('finish', res);
      file.on('error', fail);
      gzip.on('error', fail);
    });
    this.done.catch(() => undefined); // surfaced by the next write or by close()
  }

  private failed: Error | null = null;

  private write(chunk: Buffer): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((res) => {
      if (this.out.write(chunk)) res();
      else this.out.once('drain', res);
    });
  }

  private async head(name: string, size: number, mode: number, mtime: number, type: '0' | '5') {
    if (Buffer.byteLength(name) > 100) {
      const pax = Buffer.from(paxRecord('path', name));
      await this.write(header('PaxHeader', pax.length, 0o644, mtime, 'x'));
      await this.write(pax);
      await this.pad(pax.length);
    }
    await this.write(header(name, size, mode, mtime, type));
  }

  private async pad(size: number) {
    const rest = size % BLOCK;
    if (rest) await this.write(Buffer.alloc(BLOCK - rest));
  }

  async addDir(name: string, mode = 0o700, mtime = Date.now() / 1000) {
    await this.head(name.endsWith('/') ? name : `${name}/`, 0, mode, mtime, '5');
  }

  async addBuffer(name: string, data: Buffer, mode = 0o600, mtime = Date.now() / 1000) {
    await this.head(name, data.length, mode, mtime, '0');
    await this.write(data);
    await this.pad(data.length);
  }

  /** A file from disk; `size` must be its size (the caller stat()ed it). */
  async addFile(name: string, path: string, size: number, mode: number, mtime: number) {
    await this.head(name, size, mode, mtime, '0');
    let written = 0;
    for await (const chunk of createReadStream(path)) {
      const c = chunk as Buffer;
      const take = c.subarray(0, Math.max(0, size - written));
      written += take.length;
      if (take.length) await this.write(take);
    }
    if (written !== size) throw new Error(`${path} changed size while it was backed up`);
    await this.pad(size);
  }

  async close(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
    this.out.end();
    await this.done;
  }
}
