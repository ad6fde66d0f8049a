/**
 * Snappy BLOCK format (not the framing format), as required by Prometheus remote write.
 * Layout: varint(uncompressed length), then elements whose tag's low 2 bits are
 *   00 literal (length-1 in the upper 6 bits, or 60..63 = 1..4 little-endian length bytes follow),
 *   01 copy, 1-byte offset (length 4..11 in bits 2..4, offset bits 8..10 in bits 5..7, + 1 offset byte),
 *   10 copy, 2-byte offset (length 1..64 in the upper 6 bits, + 2 offset bytes LE),
 *   11 copy, 4-byte offset (same, + 4 offset bytes LE).
 * The compressor works on independent 64 KiB blocks with a 4-byte hash table (greedy literal + copy).
 */

const BLOCK = 1 << 16;
const HASH_BITS = 14;
/** Inputs shorter than this are stored as one literal. */
const MIN_MATCH_INPUT = 16;

export class SnappyError extends Error {
  constructor(message: string) {
    super(`snappy: ${message}`);
    this.name = 'SnappyError';
  }
}

class ByteWriter {
  buf: Uint8Array<ArrayBuffer>;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  bytes(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    this.buf.set(src.subarray(start, end), this.len);
    this.len += end - start;
  }
  result(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.len);
  }
}

function writeUvarint(w: ByteWriter, v: number): void {
  while (v >= 0x80) {
    w.byte((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  w.byte(v);
}

function emitLiteral(w: ByteWriter, src: Uint8Array, start: number, end: number): void {
  const n = end - start - 1;
  if (n < 0) return;
  if (n < 60) {
    w.byte(n << 2);
  } else {
    const bytes = n < 1 << 8 ? 1 : n < 1 << 16 ? 2 : n < 1 << 24 ? 3 : 4;
    w.byte((59 + bytes) << 2);
    for (let k = 0; k < bytes; k++) w.byte((n >>> (8 * k)) & 0xff);
  }
  w.bytes(src, start, end);
}

function emitCopy2(w: ByteWriter, offset: number, length: number): void {
  w.byte(((length - 1) << 2) | 0x02);
  w.byte(offset & 0xff);
  w.byte(offset >>> 8);
}

function emitCopy(w: ByteWriter, offset: number, length: number): void {
  while (length >= 68) {
    emitCopy2(w, offset, 64);
    length -= 64;
  }
  if (length > 64) {
    emitCopy2(w, offset, 60);
    length -= 60;
  }
  if (length >= 4 && length <= 11 && offset < 2048) {
    w.byte(((offset >>> 8) << 5) | ((length - 4) << 2) | 0x01);
    w.byte(offset & 0xff);
  } else emitCopy2(w, offset, length);
}

function load32(src: Uint8Array, i: number): number {
  return (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)) >>> 0;
}

function hash(v: number): number {
  return Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);
}

function compressBlock(w: ByteWriter, src: Uint8Array, start: number, end: number, table: Int32Array): void {
  if (end - start < MIN_MATCH_INPUT) {
    emitLiteral(w, src, start, end);
    return;
  }
  table.fill(-1);
  let litStart = start;
  let i = start;
  while (i + 4 <= end) {
    const v = load32(src, i);
    const h = hash(v);
    const cand = table[h];
    table[h] = i;
    if (cand >= start && load32(src, cand) === v) {
      emitLiteral(w, src, litStart, i);
      let len = 4;
      while (i + len < end && src[cand + len] === src[i + len]) len++;
      emitCopy(w, i - cand, len);
      i += len;
      litStart = i;
    } else i++;
  }
  emitLiteral(w, src, litStart, end);
}

export function snappyCompress(src: Uint8Array): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter(src.length + Math.ceil(src.length / 6) + 16);
  writeUvarint(w, src.length);
  const table = new Int32Array(1 << HASH_BITS);
  for (let start = 0; start < src.length; start += BLOCK) {
    compressBlock(w, src, start, Math.min(src.length, start + BLOCK), table);
  }
  return w.result();
}

/** Decodes a snappy block; `maxLength` guards against hostile length preambles. */
export function snappyDecompress(src: Uint8Array, maxLength = 256 * 1024 * 1024): Uint8Array {
  let s = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (s >= src.length || shift > 28) throw new SnappyError('bad length preamble');
    const b = src[s++];
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (length > maxLength) throw new SnappyError(`uncompressed length ${length} exceeds limit ${maxLength}`);
  const dst = new Uint8Array(length);
  let d = 0;
  const need = (n: number): void => {
    if (s + n > src.length) throw new SnappyError('truncated input');
  };
  while (s < src.length) {
    const tag = src[s++];
    let len: number;
    let offset: number;
    switch (tag & 0x03) {
      case 0: {
        let n = tag >>> 2;
        if (n >= 60) {
          const bytes = n - 59;
          need(bytes);
          n = 0;
          for (let k = 0; k < bytes; k++) n += src[s + k] * 2 ** (8 * k);
          s += bytes;
        }
        len = n + 1;
        need(len);
        if (d + len > length) throw new SnappyError('literal overruns output');
        dst.set(src.subarray(s, s + len), d);
        s += len;
        d += len;
        continue;
      }
      case 1:
        need(1);
        len = 4 + ((tag >>> 2) & 0x07);
        offset = ((tag & 0xe0) << 3) | src[s];
        s += 1;
        break;
      case 2:
        need(2);
        len = 1 + (tag >>> 2);
        offset = src[s] | (src[s + 1] << 8);
        s += 2;
        break;
      default:
        need(4);
        len = 1 + (tag >>> 2);
        offset = (src[s] | (src[s + 1] << 8) | (src[s + 2] << 16) | (src[s + 3] << 24)) >>> 0;
        s += 4;
    }
    if (offset === 0 || offset > d) throw new SnappyError(`bad copy offset ${offset} at output ${d}`);
    if (d + len > length) throw new SnappyError('copy overruns output');
    for (const end = d + len; d < end; d++) dst[d] = dst[d - offset];
  }
  if (d !== length) throw new SnappyError(`decoded ${d} bytes, preamble said ${length}`);
  return dst;
}
