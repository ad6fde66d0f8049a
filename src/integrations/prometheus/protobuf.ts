/**
 * Hand-written protobuf codec for prometheus.WriteRequest (remote write 1.0, prompb/remote.proto + types.proto):
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }   // timestamp in ms
 * Wire types: 0 varint, 1 fixed64 (little-endian double), 2 length-delimited. proto3 default values
 * (empty string, +0.0, 0) are omitted like the reference encoder does. Unknown fields are skipped on decode.
 */

export interface Label {
  name: string;
  value: string;
}

export interface Sample {
  value: number;
  /** Unix ms. */
  timestamp: number;
}

export interface TimeSeries {
  labels: Label[];
  samples: Sample[];
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

export class ProtobufError extends Error {
  constructor(message: string) {
    super(`protobuf: ${message}`);
    this.name = 'ProtobufError';
  }
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });

/** Appends protobuf primitives to a list of chunks (also used by the Loki push and OTLP encoders). */
export class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(c: Uint8Array): void {
    this.chunks.push(c);
    this.size += c.length;
  }

  /** Unsigned varint of a non-negative safe integer, or any int64 (negatives take 10 bytes). */
  varint(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && Number.isSafeInteger(v)) {
      // tags, lengths, seconds: no BigInt (it made a Loki push of 9000 lines cost ~0.3 s of encoding)
      if (v < 0x80) return this.push(Uint8Array.of(v));
      const small: number[] = [];
      while (v >= 0x80) {
        small.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      small.push(v);
      return this.push(Uint8Array.from(small));
    }
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(b.length);
    this.push(b);
  }

  string(field: number, s: string): void {
    if (s !== '') this.bytes(field, utf8.encode(s));
  }

  double(field: number, v: number): void {
    if (v === 0 && !Object.is(v, -0)) return;
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.tag(field, WIRE_FIXED64);
    this.push(b);
  }

  int64(field: number, v: number): void {
    if (!Number.isSafeInteger(v)) throw new ProtobufError(`int64 field ${field}: ${v} is not a safe integer`);
    if (v === 0) return;
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  /** A varint field of any width (int32, uint32, enum, int64/uint64 as bigint); 0 is omitted. */
  uint(field: number, v: number | bigint): void {
    if (v === 0 || v === 0n) return;
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  /** fixed64 (e.g. OTLP's time_unix_nano), little-endian; 0 is omitted. */
  fixed64(field: number, v: bigint): void {
    if (v === 0n) return;
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.tag(field, WIRE_FIXED64);
    this.push(b);
  }

  /** A length-delimited field holding raw bytes, written even when empty is not wanted: skips empty. */
  bytesIfAny(field: number, b: Uint8Array): void {
    if (b.length > 0) this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function encodeLabel(l: Label): Uint8Array {
  const w = new Writer();
  w.string(1, l.name);
  w.string(2, l.value);
  return w.finish();
}

function encodeSample(s: Sample): Uint8Array {
  const w = new Writer();
  w.double(1, s.value);
  w.int64(2, s.timestamp);
  return w.finish();
}

function encodeTimeSeries(ts: TimeSeries): Uint8Array {
  const w = new Writer();
  for (const l of ts.labels) w.bytes(1, encodeLabel(l));
  for (const s of ts.samples) w.bytes(2, encodeSample(s));
  return w.finish();
}

export function encodeWriteRequest(series: readonly TimeSeries[]): Uint8Array {
  const w = new Writer();
  for (const ts of series) w.bytes(1, encodeTimeSeries(ts));
  return w.finish();
}

/** Reads protobuf fields of one message. */
class Reader {
  private pos = 0;
  private readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new ProtobufError('varint too long');
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new ProtobufError('truncated field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Next field: number, wire type and its raw payload (varint value or bytes). */
  field(): { field: number; wire: number; int: bigint; bytes: Uint8Array } {
    const key = Number(this.varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) throw new ProtobufError('field number 0');
    switch (wire) {
      case WIRE_VARINT:
        return { field, wire, int: this.varint(), bytes: new Uint8Array(0) };
      case WIRE_FIXED64:
        return { field, wire, int: 0n, bytes: this.take(8) };
      case WIRE_LEN:
        return { field, wire, int: 0n, bytes: this.take(Number(this.varint())) };
      case WIRE_FIXED32:
        return { field, wire, int: 0n, bytes: this.take(4) };
      default:
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }
}

function expectWire(got: number, want: number, what: string): void {
  if (got !== want) throw new ProtobufError(`${what}: wire type ${got}, expected ${want}`);
}

function decodeLabel(b: Uint8Array): Label {
  const r = new Reader(b);
  const l: Label = { name: '', value: '' };
  while (!r.done()) {
    const f = r.field();
    if (f.field === 1 || f.field === 2) {
      expectWire(f.wire, WIRE_LEN, 'Label');
      l[f.field === 1 ? 'name' : 'value'] = utf8d.decode(f.bytes);
    }
  }
  return l;
}

function decodeSample(b: Uint8Array): Sample {
  const r = new Reader(b);
  const s: Sample = { value: 0, timestamp: 0 };
  while (!r.done()) {
    const f = r.field();
    if (f.field === 1) {
      expectWire(f.wire, WIRE_FIXED64, 'Sample.value');
      s.value = new DataView(f.bytes.buffer, f.bytes.byteOffset, 8).getFloat64(0, true);
    } else if (f.field === 2) {
      expectWire(f.wire, WIRE_VARINT, 'Sample.timestamp');
      s.timestamp = Number(BigInt.asIntN(64, f.int));
    }
  }
  return s;
}

function decodeTimeSeries(b: Uint8Array): TimeSeries {
  const r = new Reader(b);
  const ts: TimeSeries = { labels: [], samples: [] };
  while (!r.done()) {
    const f = r.field();
    if (f.field === 1) {
      expectWire(f.wire, WIRE_LEN, 'TimeSeries.labels');
      ts.labels.push(decodeLabel(f.bytes));
    } else if (f.field === 2) {
      expectWire(f.wire, WIRE_LEN, 'TimeSeries.samples');
      ts.samples.push(decodeSample(f.bytes));
    }
  }
  return ts;
}

export function decodeWriteRequest(buf: Uint8Array): TimeSeries[] {
  const r = new Reader(buf);
  const out: TimeSeries[] = [];
  while (!r.done()) {
    const f = r.field();
    if (f.field === 1) {
      expectWire(f.wire, WIRE_LEN, 'WriteRequest.timeseries');
      out.push(decodeTimeSeries(f.bytes));
    }
  }
  return out;
}
