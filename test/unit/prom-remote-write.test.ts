import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  pushRemoteWrite,
  RemoteWriteError,
  sortLabels,
  toTimeSeries,
} from '../../src/integrations/prometheus/remote-write.ts';
import { decodeWriteRequest, type TimeSeries } from '../../src/integrations/prometheus/protobuf.ts';
import { snappyDecompress } from '../../src/integrations/prometheus/snappy.ts';

interface Received {
  headers: IncomingMessage['headers'];
  series: TimeSeries[];
}

/** A receiver answering with the given statuses in turn (the last one repeats). */
async function receiver(
  statuses: number[],
): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, series: decodeWriteRequest(snappyDecompress(Buffer.concat(chunks))) });
      const status = statuses[Math.min(got.length - 1, statuses.length - 1)];
      res.writeHead(status).end(status >= 400 ? `status ${status}` : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/write`,
    got,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const series = toTimeSeries(
  [
    {
      kind: 'node',
      labels: { env: 'prod', group: 'g', node: 'n1' },
      points: [
        { metric: 'net_rx_bytes_per_s', dim: 'eth0', value: 1234.5 },
        { metric: 'load1', dim: '', value: NaN }, // skipped
      ],
    },
  ],
  1_700_000_000_123,
);

test('toTimeSeries: sorted labels including __name__, the dimension label and the timestamp', () => {
  assert.deepEqual(series, [
    {
      labels: [
        { name: '__name__', value: 'grim_node_network_receive_bytes_per_second' },
        { name: 'env', value: 'prod' },
        { name: 'group', value: 'g' },
        { name: 'interface', value: 'eth0' },
        { name: 'node', value: 'n1' },
      ],
      samples: [{ value: 1234.5, timestamp: 1_700_000_000_123 }],
    },
  ]);
  assert.deepEqual(
    sortLabels([
      { name: 'b', value: '' },
      { name: '__name__', value: '' },
      { name: 'a', value: '' },
    ]).map((l) => l.name),
    ['__name__', 'a', 'b'],
  );
});

test('pushRemoteWrite posts snappy protobuf with the remote-write headers', async () => {
  const r = await receiver([204]);
  try {
    const res = await pushRemoteWrite(r.url, series, { headers: { Authorization: 'Bearer t' } });
    assert.equal(res.attempts, 1);
    assert.equal(r.got.length, 1);
    const h = r.got[0].headers;
    assert.equal(h['content-encoding'], 'snappy');
    assert.equal(h['content-type'], 'application/x-protobuf');
    assert.equal(h['x-prometheus-remote-write-version'], '0.1.0');
    assert.equal(h.authorization, 'Bearer t');
    assert.deepEqual(r.got[0].series, series);
  } finally {
    await r.close();
  }
});

test('pushRemoteWrite retries 5xx with exponential backoff, then succeeds', async () => {
  const r = await receiver([503, 500, 200]);
  const delays: number[] = [];
  try {
    const res = await pushRemoteWrite(r.url, series, {
      baseDelayMs: 100,
      sleep: async (ms) => void delays.push(ms),
    });
    assert.equal(res.attempts, 3);
    assert.deepEqual(delays, [100, 200]);
    assert.equal(r.got.length, 3);
  } finally {
    await r.close();
  }
});

test('pushRemoteWrite does not retry 4xx', async () => {
  const r = await receiver([400]);
  try {
    await assert.rejects(
      pushRemoteWrite(r.url, series, { sleep: async () => undefined }),
      (err: unknown) => err instanceof RemoteWriteError && err.status === 400 && err.attempts === 1,
    );
    assert.equal(r.got.length, 1);
  } finally {
    await r.close();
  }
});

test('pushRemoteWrite retries network errors and gives up after the configured attempts', async () => {
  const r = await receiver([200]);
  const url = r.url;
  await r.close(); // nothing listens there any more
  const delays: number[] = [];
  await assert.rejects(
    pushRemoteWrite(url, series, { attempts: 3, baseDelayMs: 10, sleep: async (ms) => void delays.push(ms) }),
    (err: unknown) => err instanceof RemoteWriteError && err.status === null && err.attempts === 3,
  );
  assert.deepEqual(delays, [10, 20]);
});

test('pushRemoteWrite gives up on persistent 5xx and reports the status', async () => {
  const r = await receiver([502]);
  try {
    await assert.rejects(
      pushRemoteWrite(r.url, series, { attempts: 2, sleep: async () => undefined }),
      /HTTP 502 status 502/,
    );
    assert.equal(r.got.length, 2);
  } finally {
    await r.close();
  }
});
