// Turning what a Firecracker metrics file gained into instance rates: complete lines only, torn and
// foreign lines skipped, counters summed over the time they cover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vmmChunkLines, vmmPoints } from '../../src/domain/metrics/vmm.ts';

const line = (ts: number, rx: number, read = 0) =>
  JSON.stringify({
    utc_timestamp_ms: ts,
    net: { rx_bytes_count: rx, tx_bytes_count: 1 },
    block: { read_bytes: read },
  });

test('chunk lines: the unterminated tail waits; a chunk that starts mid-line drops its head', () => {
  const text = `${line(1, 1)}\n${line(2, 2)}\n{"utc`;
  const whole = vmmChunkLines({ path: 'p', found: true, size: 99, from: 0, text }, 0);
  assert.deepEqual(whole.lines, [line(1, 1), line(2, 2)]);
  assert.equal(whole.nextOffset, Buffer.byteLength(`${line(1, 1)}\n${line(2, 2)}\n`));
  // The node returned only the last bytes (more was written than it sends): the torn first line is skipped.
  const skipped = vmmChunkLines(
    { path: 'p', found: true, size: 999, from: 500, text: `_bytes":1}\n${line(3, 3)}\n` },
    10,
  );
  assert.deepEqual(skipped.lines, [line(3, 3)]);
  assert.equal(skipped.nextOffset, 500 + Buffer.byteLength(`_bytes":1}\n${line(3, 3)}\n`));
  const none = vmmChunkLines({ path: 'p', found: true, size: 5, from: 0, text: '{"utc' }, 0);
  assert.deepEqual(none, { lines: [], nextOffset: 0 });
});

test('rates: counters are per-flush increases, summed over the covered time; the first line starts the clock', () => {
  const first = vmmPoints(undefined, [line(10_000, 999), line(20_000, 1000, 5000), line(30_000, 3000, 0)]);
  const v = (m: string) => first.points.find((p) => p.metric === m)?.value;
  assert.equal(v('instance_net_rx_bytes_per_s'), 4000 / 20);
  assert.equal(v('instance_disk_read_bytes_per_s'), 5000 / 20);
  assert.equal(first.lastTs, 30_000);
  const next = vmmPoints(30_000, ['not json', '{"no":"ts"}', line(40_000, 500)]);
  assert.equal(next.points.find((p) => p.metric === 'instance_net_rx_bytes_per_s')?.value, 50);
  assert.deepEqual(vmmPoints(undefined, [line(1, 1)]).points, [], 'one line: no interval, no rate');
  assert.deepEqual(vmmPoints(40_000, [line(40_000, 7)]).points, [], 'a repeated line is not new time');
});
