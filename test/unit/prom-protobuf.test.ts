import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeWriteRequest,
  encodeWriteRequest,
  ProtobufError,
  type TimeSeries,
} from '../../src/integrations/prometheus/protobuf.ts';

const toHex = (b: Uint8Array): string =>
  Buffer.from(b)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');

test('WriteRequest encoding matches a hand-derived byte vector', () => {
  // Label{name="__name__", value="up"}: 0a 08 "__name__" 12 02 "up"                      = 14 bytes
  // Sample{value=1.0, timestamp=1000}: 09 <1.0 as LE double> 10 <varint 1000 = e8 07>       = 12 bytes
  // TimeSeries: 0a 0e <label> 12 0c <sample>                                                 = 30 bytes
  // WriteRequest: 0a 1e <timeseries>
  const expected =
    '0a 1e ' +
    '0a 0e 0a 08 5f 5f 6e 61 6d 65 5f 5f 12 02 75 70 ' +
    '12 0c 09 00 00 00 00 00 00 f0 3f 10 e8 07';
  const got = encodeWriteRequest([
    { labels: [{ name: '__name__', value: 'up' }], samples: [{ value: 1, timestamp: 1000 }] },
  ]);
  assert.equal(toHex(got), expected);
});

test('proto3 defaults are omitted: zero value and zero timestamp encode as an empty Sample', () => {
  const got = encodeWriteRequest([{ labels: [], samples: [{ value: 0, timestamp: 0 }] }]);
  assert.equal(toHex(got), '0a 02 12 00');
  assert.deepEqual(decodeWriteRequest(got), [{ labels: [], samples: [{ value: 0, timestamp: 0 }] }]);
});

test("negative timestamps use 10-byte two's complement varints and decode back", () => {
  const ts: TimeSeries[] = [
    { labels: [{ name: 'a', value: 'b' }], samples: [{ value: -2.5, timestamp: -1 }] },
  ];
  const got = encodeWriteRequest(ts);
  assert.match(toHex(got), /10 ff ff ff ff ff ff ff ff ff 01$/);
  assert.deepEqual(decodeWriteRequest(got), ts);
});

test('decoder skips unknown fields (e.g. metadata = 3) and rejects truncation', () => {
  const known = encodeWriteRequest([
    { labels: [{ name: 'x', value: 'y' }], samples: [{ value: 3, timestamp: 5 }] },
  ]);
  const withMetadata = new Uint8Array([...known, 0x1a, 0x02, 0x08, 0x01, 0x20, 0x07]); // field 3 (len) + field 4 (varint)
  assert.deepEqual(decodeWriteRequest(withMetadata), decodeWriteRequest(known));
  assert.throws(() => decodeWriteRequest(known.subarray(0, known.length - 1)), ProtobufError);
});

test('property: decode(encode(x)) == x', () => {
  const opts = { noNullPrototype: true } as const;
  const text = fc.string({ minLength: 1, unit: 'grapheme' });
  const label = fc.record({ name: text, value: text }, opts);
  const sample = fc.record(
    {
      value: fc.double({ noNaN: true }).filter((v) => !Object.is(v, -0)),
      timestamp: fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    },
    opts,
  );
  fc.assert(
    fc.property(
      fc.array(fc.record({ labels: fc.array(label), samples: fc.array(sample) }, opts), { maxLength: 10 }),
      (series) => {
        assert.deepEqual(decodeWriteRequest(encodeWriteRequest(series)), series);
      },
    ),
  );
});
