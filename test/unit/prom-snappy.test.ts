import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SnappyError, snappyCompress, snappyDecompress } from '../../src/integrations/prometheus/snappy.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(s.split(' ').map((b) => parseInt(b, 16)));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

// Vectors derived by hand from the snappy format description (format_description.txt):
// varint length preamble; literal tag = (len-1)<<2 (len <= 60) or 60<<2 + 1 length byte;
// copy-1 tag = offset>>8<<5 | (len-4)<<2 | 01, then offset low byte; copy-2 tag = (len-1)<<2 | 10, offset LE16;
// copy-4 tag = (len-1)<<2 | 11, offset LE32.
const vectors: { name: string; bytes: string; out: string }[] = [
  { name: 'one literal', bytes: '0d 30 48 65 6c 6c 6f 2c 20 57 6f 72 6c 64 21', out: 'Hello, World!' },
  { name: 'literal + copy-1 (len 8, off 4)', bytes: '0c 0c 61 62 63 64 11 04', out: 'abcdabcdabcd' },
  { name: 'overlapping copy-2 (len 19, off 1)', bytes: '14 00 61 4a 01 00', out: 'a'.repeat(20) },
  { name: 'copy-4 (len 4, off 4)', bytes: '08 0c 61 62 63 64 0f 04 00 00 00', out: 'abcdabcd' },
  { name: 'empty input', bytes: '00', out: '' },
];

for (const v of vectors) {
  test(`snappy decodes the hand-derived vector: ${v.name}`, () => {
    assert.equal(str(snappyDecompress(hex(v.bytes))), v.out);
  });
}

test('snappy decodes a literal with a 1-byte length extension (60 << 2)', () => {
  const payload = 'x'.repeat(50) + 'y'.repeat(50);
  const bytes = new Uint8Array([0x64, 60 << 2, 99, ...text(payload)]);
  assert.equal(str(snappyDecompress(bytes)), payload);
});

test('snappy compressor output matches the hand-derived encodings', () => {
  assert.deepEqual(
    snappyCompress(text('Hello, World!')),
    hex('0d 30 48 65 6c 6c 6f 2c 20 57 6f 72 6c 64 21'),
  );
  // 'abcd' literal, then one copy of 16 bytes at offset 4 (copy-2: (16-1)<<2|2 = 0x3e).
  assert.deepEqual(snappyCompress(text('abcd'.repeat(5))), hex('14 0c 61 62 63 64 3e 04 00'));
  assert.deepEqual(snappyCompress(new Uint8Array(0)), hex('00'));
});

test('snappy round-trips inputs across block boundaries and long literals/copies', () => {
  const rnd = new Uint8Array(70_000);
  let x = 12345;
  for (let i = 0; i < rnd.length; i++) rnd[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  const repetitive = text('grim_node_load1{env="prod",node="n1"} 0.5\n'.repeat(5000));
  for (const input of [rnd, repetitive, new Uint8Array(300_000).fill(7)]) {
    const c = snappyCompress(input);
    assert.deepEqual(snappyDecompress(c), input);
  }
  assert.ok(snappyCompress(repetitive).length < repetitive.length / 10, 'repetitive text compresses');
});

test('property: snappyDecompress(snappyCompress(x)) == x', () => {
  const chunky = fc
    .array(fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.constantFrom(text('abcabcabc'), text('__name__'))), {
      maxLength: 40,
    })
    .map((parts) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) out.set(p, (o += p.length) - p.length);
      return out;
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), chunky), (input) => {
      assert.deepEqual(snappyDecompress(snappyCompress(input)), input);
    }),
  );
});

test('snappy rejects corrupt input', () => {
  assert.throws(() => snappyDecompress(hex('04 0d 01')), SnappyError); // copy before any output
  assert.throws(() => snappyDecompress(hex('04 0c 61 62')), /truncated/); // literal longer than input
  assert.throws(() => snappyDecompress(hex('05 0c 61 62 63 64')), /preamble said 5/); // short output
  assert.throws(() => snappyDecompress(hex('02 0c 61 62 63 64')), /overruns/); // longer than preamble
  assert.throws(() => snappyDecompress(hex('08 0c 61 62 63 64 0e 00 00')), /bad copy offset 0/);
  assert.throws(() => snappyDecompress(hex('ff ff ff ff 0f'), 1024), /exceeds limit/);
});
