import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  flattenMetrics,
  parseMetricsText,
  readMetricsFile,
  unitOf,
} from '../../src/drivers/firecracker/metrics.ts';

const line = (ts: number) =>
  JSON.stringify({
    utc_timestamp_ms: ts,
    net_eth0: { rx_bytes_count: 10, tx_count: 2 },
    vcpu: { exit_io_in_agg: { min_us: 3 } },
  });

test('metrics text: complete lines only, unterminated tail kept for later', () => {
  const { samples, consumedBytes } = parseMetricsText(`${line(1)}\n${line(2)}\n{"utc_timest`);
  assert.deepEqual(
    samples.map((s) => s.utc_timestamp_ms),
    [1, 2],
  );
  assert.equal(consumedBytes, line(1).length + line(2).length + 2);
  assert.throws(() => parseMetricsText('not json\n'), /not JSON/);
  assert.throws(() => parseMetricsText('{"a":1}\n'), /utc_timestamp_ms/);
});

test('metrics file is read incrementally from an offset', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'grim-fc-metrics-'));
  try {
    const file = path.join(dir, 'metrics.ndjson');
    await writeFile(file, `${line(1)}\n${line(2)}`);
    const first = await readMetricsFile(file);
    assert.deepEqual(
      first.samples.map((s) => s.utc_timestamp_ms),
      [1],
    );
    await appendFile(file, `\n${line(3)}\n`);
    const second = await readMetricsFile(file, first.nextOffset);
    assert.deepEqual(
      second.samples.map((s) => s.utc_timestamp_ms),
      [2, 3],
    );
    const none = await readMetricsFile(file, second.nextOffset);
    assert.deepEqual(none.samples, []);
    await writeFile(file, `${line(9)}\n`); // recreated and shorter: start over
    assert.deepEqual(
      (await readMetricsFile(file, second.nextOffset)).samples.map((s) => s.utc_timestamp_ms),
      [9],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('flattened metrics carry units by the metrics.md naming rule', () => {
  const flat = flattenMetrics(JSON.parse(line(5)));
  assert.deepEqual(flat, [
    { key: 'net_eth0.rx_bytes_count', value: 10, unit: 'Bytes' },
    { key: 'net_eth0.tx_count', value: 2, unit: 'Count' },
    { key: 'vcpu.exit_io_in_agg.min_us', value: 3, unit: 'Microseconds' },
  ]);
  assert.equal(unitOf('latencies_us.pause_vm'), 'Microseconds');
  assert.equal(unitOf('api_server.sync_response_fails'), 'Count');
  assert.equal(unitOf('logger.log_ms'), 'Milliseconds');
});
