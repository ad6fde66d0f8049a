/**
 * grim's Loki read client (query_range) against RECORDED Loki answers: the golden JSON files of Loki's own
 * tests (GRIM_SHARED_DIR/fixtures/loki/*.golden.json) served from loopback, byte for byte. The request grim
 * sends is checked too (path, parameters, tenant header). A LIVE suite runs when GRIM_TEST_LOKI_URL names a
 * real Loki (GRIM_TEST_LOKI_TENANT for its X-Scope-OrgID): a line pushed with grim's push client comes back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sharedDir } from '../helpers/openapi-validator.ts';
import { LokiQueryError, queryRange, selector } from '../../src/integrations/loki/query.ts';
import { pushToLoki } from '../../src/integrations/loki/push-client.ts';

const dir = join(sharedDir(), 'fixtures', 'loki');
const skip = existsSync(join(dir, 'query_range_streams_response.golden.json'))
  ? false
  : `${dir} missing: set GRIM_SHARED_DIR`;

async function serve(status: number, body: string, type = 'application/json') {
  const seen: { url: string; tenant: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', tenant: req.headers['x-scope-orgid'] as string | undefined });
    res.writeHead(status, { 'Content-Type': type }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test(
  "query_range: Loki's recorded streams answer is read exactly; the request carries range, limit and tenant",
  { skip },
  async (t) => {
    const golden = readFileSync(join(dir, 'query_range_streams_response.golden.json'), 'utf8');
    const loki = await serve(200, golden);
    t.after(loki.close);
    const query = selector({ app: 'shop', stream: 'output' });
    const got = await queryRange(
      { url: `${loki.url}/`, tenant: 'prod' },
      { query, startNs: 1_000_000_000n, endNs: 2_000_000_000n, limit: 100 },
    );
    const expected = (
      JSON.parse(golden).data.result as { stream: Record<string, string>; values: [string, string][] }[]
    ).map((r) => ({ labels: r.stream, values: r.values.map(([ts, line]) => ({ tsNs: BigInt(ts), line })) }));
    assert.deepEqual(got, expected);
    assert.equal(got[0].values[0].tsNs, 123456789012345n, 'nanosecond timestamps kept exact (bigint)');
    assert.equal(loki.seen.length, 1);
    const u = new URL(loki.seen[0].url, 'http://x');
    assert.equal(u.pathname, '/loki/api/v1/query_range');
    assert.deepEqual(Object.fromEntries(u.searchParams), {
      query: '{app="shop", stream="output"}',
      start: '1000000000',
      end: '2000000000',
      limit: '100',
      direction: 'backward',
    });
    assert.equal(loki.seen[0].tenant, 'prod');
  },
);

test(
  'query_range: recorded matrix and vector answers (a metric query) and error bodies are refused clearly',
  { skip },
  async (t) => {
    for (const [file, type] of [
      ['query_matrix_response.golden.json', 'matrix'],
      ['query_vector_response.golden.json', 'vector'],
    ]) {
      const loki = await serve(200, readFileSync(join(dir, file), 'utf8'));
      t.after(loki.close);
      await assert.rejects(
        queryRange({ url: loki.url }, { query: 'rate({app="x"}[1m])', startNs: 1n, endNs: 2n, limit: 1 }),
        (err: LokiQueryError) => err instanceof LokiQueryError && err.message.includes(`success, ${type}`),
      );
    }
    // Loki answers a bad query with 400 and a text body (Go http.Error): the message is passed on.
    const bad = await serve(
      400,
      'parse error at line 1, col 7: syntax error: unexpected IDENTIFIER\n',
      'text/plain',
    );
    t.after(bad.close);
    await assert.rejects(
      queryRange({ url: bad.url }, { query: '{app=x}', startNs: 1n, endNs: 2n, limit: 1 }),
      (err: LokiQueryError) => err.status === 400 && /HTTP 400: parse error at line 1/.test(err.message),
    );
    const noTenant = await serve(401, 'no org id\n', 'text/plain');
    t.after(noTenant.close);
    await assert.rejects(
      queryRange({ url: noTenant.url }, { query: '{app="x"}', startNs: 1n, endNs: 2n, limit: 1 }),
      (err: LokiQueryError) => err.status === 401 && /no org id/.test(err.message),
    );
  },
);

test('LIVE Loki (GRIM_TEST_LOKI_URL): a pushed line comes back from query_range', async (t) => {
  const url = process.env.GRIM_TEST_LOKI_URL;
  if (!url)
    return t.skip('live Loki suite: set GRIM_TEST_LOKI_URL (and GRIM_TEST_LOKI_TENANT when auth is on)');
  const target = {
    url,
    ...(process.env.GRIM_TEST_LOKI_TENANT ? { tenant: process.env.GRIM_TEST_LOKI_TENANT } : {}),
  };
  const run = randomBytes(6).toString('hex');
  const labels = { env: 'grim-test', app: `live-${run}`, stream: 'output' };
  const tsNs = BigInt(Date.now()) * 1_000_000n;
  const pushed = await pushToLoki(target, [
    {
      labels: selector(labels),
      entries: [{ tsNs, line: `hello from grim ${run}`, metadata: [['file', 'x.log']] }],
    },
  ]);
  assert.equal(pushed.outcome, 'written', JSON.stringify(pushed));
  for (let i = 0; ; i++) {
    const got = await queryRange(target, {
      query: selector(labels),
      startNs: tsNs - 60_000_000_000n,
      endNs: tsNs + 60_000_000_000n,
      limit: 10,
    });
    const lines = got.flatMap((s) => s.values.map((v) => v.line));
    if (lines.includes(`hello from grim ${run}`)) break;
    if (i > 60) assert.fail(`not read back after 30 s: ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
});
