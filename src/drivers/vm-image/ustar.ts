// A minimal ustar writer for the metadata drive (the guest reads it with busybox tar straight from
// the block device). Names up to 100 bytes; regular files and directories only.

export interface UstarEntry {
  name: string;
  type: 'file' | 'dir';
  content?: string | Buffer;
  mode?: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

export function writeUstar(entries: readonly UstarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = entry.type === 'file' ? Buffer.from(entry.content ?? '') : Buffer.alloc(0);
    const name = entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
    if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
    const header = Buffer.alloc(512);
    header.write(name, 0, 'utf8');
    header.write(octal(entry.mode ?? (entry.type === 'dir' ? 0o700 : 0o600), 8), 100, 'latin1');
    header.write(octal(0, 8), 108, 'latin1');
    header.write(octal(0, 8), 116, 'latin1');
    header.write(octal(body.length, 12), 124, 'latin1');
    header.write(octal(mtime, 12), 136, 'latin1');
    header.write('        ', 148, 'latin1');
    header.write(entry.type === 'dir' ? '5' : '0', 156, 'latin1');
    header.write('ustar\0', 257, 'latin1');
    header.write('00', 263, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(octal(sum, 7) + ' ', 148, 'latin1');
    parts.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  const tar = Buffer.concat(parts);
  // Whole 4 KiB blocks: a clean virtio-blk device size.
  return Buffer.concat([tar, Buffer.alloc((4096 - (tar.length % 4096)) % 4096)]);
}
