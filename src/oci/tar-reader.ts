/**
 * Minimal streaming tar reader: ustar, GNU (long names `L`/`K`, base-256 numbers) and pax (`x`/`g`) headers.
 * Sparse and multi-volume entries are rejected.
 */

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (may be fractional with pax). */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

export interface TarItem {
  entry: TarEntry;
  /** Entry data; must be consumed before advancing, or it is skipped automatically. */
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;

class ByteSource {
  #iterator: AsyncIterator<Buffer | Uint8Array | string>;
  #buffer: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  async #fill(min: number): Promise<boolean> {
    while (this.#buffer.length < min && !this.#done) {
      const next = await this.#iterator.next();
      if (next.done) this.#done = true;
      else this.#buffer = Buffer.concat([this.#buffer, Buffer.from(next.value as Uint8Array)]);
    }
    return this.#buffer.length >= min;
  }

  /** Exactly n bytes, or null at a clean end of input (nothing buffered). */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.#fill(n))) {
      if (this.#buffer.length === 0) return null;
      throw new Error('tar: truncated archive');
    }
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** Yields n bytes in chunks as they arrive. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#buffer.length === 0 && !(await this.#fill(1))) throw new Error('tar: truncated archive');
      const take = Math.min(left, this.#buffer.length);
      const out = this.#buffer.subarray(0, take);
      this.#buffer = this.#buffer.subarray(take);
      left -= take;
      yield out;
    }
  }
}

function cstring(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? length : nul).toString('utf8');
}

function numeric(block: Buffer, start: number, length: number, field: string): number {
  const raw = block.subarray(start, start + length);
  if (raw[0] & 0x80) {
    // GNU base-256: big-endian two's complement with the high bit as marker.
    let value = raw[0] & 0x7f;
    for (let i = 1; i < raw.length; i++) value = value * 256 + raw[i];
    return value;
  }
  const text = raw.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`tar: invalid ${field} field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = numeric(block, 148, 8, 'checksum');
  let unsigned = 0;
  for (let i = 0; i < BLOCK; i++) unsigned += i >= 148 && i < 156 ? 0x20 : block[i];
  return stored === unsigned;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const length = Number(data.subarray(pos, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0) throw new Error('tar: malformed pax header');
    const record = data.subarray(space + 1, pos + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += length;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

async function collect(source: ByteSource, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source.chunks(size)) parts.push(Buffer.from(chunk));
  await source.read((BLOCK - (size % BLOCK)) % BLOCK);
  return Buffer.concat(parts);
}

export async function* readTar(input: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<TarItem> {
  const source = new ByteSource(input);
  let globalPax: Record<string, string> = {};
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await source.read(BLOCK);
    if (block === null || block.every((b) => b === 0)) return;
    if (!checksumOk(block)) throw new Error('tar: header checksum mismatch (not a tar archive or corrupted)');
    const typeflag = String.fromCharCode(block[156]);
    const size = numeric(block, 124, 12, 'size');
    if (typeflag === 'x' || typeflag === 'g') {
      const records = parsePax(await collect(source, size));
      if (typeflag === 'g') globalPax = { ...globalPax, ...records };
      else pax = { ...pax, ...records };
      continue;
    }
    if (typeflag === 'L' || typeflag === 'K') {
      const value = (await collect(source, size)).toString('utf8').replace(/\0+$/, '');
      if (typeflag === 'L') longName = value;
      else longLink = value;
      continue;
    }
    const type = TYPES[typeflag];
    if (!type) throw new Error(`tar: unsupported entry type ${JSON.stringify(typeflag)}`);
    const attrs = { ...globalPax, ...pax };
    const magic = block.subarray(257, 263).toString('latin1');
    const prefix = magic === 'ustar\0' ? cstring(block, 345, 155) : '';
    let name = cstring(block, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    const entry: TarEntry = {
      name: attrs.path ?? longName ?? name,
      type,
      mode: numeric(block, 100, 8, 'mode') & 0o7777,
      uid: attrs.uid !== undefined ? Number(attrs.uid) : numeric(block, 108, 8, 'uid'),
      gid: attrs.gid !== undefined ? Number(attrs.gid) : numeric(block, 116, 8, 'gid'),
      size: attrs.size !== undefined ? Number(attrs.size) : size,
      mtime: attrs.mtime !== undefined ? Number(attrs.mtime) : numeric(block, 136, 12, 'mtime'),
      linkname: attrs.linkpath ?? longLink ?? cstring(block, 157, 100),
      devmajor: numeric(block, 329, 8, 'devmajor'),
      devminor: numeric(block, 337, 8, 'devminor'),
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    // Only regular files carry data; skip whatever a header claims for other types.
    const stored = type === 'file' ? entry.size : size;
    const dataSize = type === 'file' ? entry.size : 0;
    let remaining = stored;
    let started = false;
    const body = (async function* () {
      if (started) throw new Error('tar: entry body read twice');
      started = true;
      for await (const chunk of source.chunks(dataSize)) {
        remaining -= chunk.length;
        yield chunk;
      }
    })();
    yield { entry, body };
    if (remaining > 0) {
      for await (const chunk of source.chunks(remaining)) remaining -= chunk.length;
    }
    await source.read((BLOCK - (stored % BLOCK)) % BLOCK);
  }
}
