// grim's Loki push client against the Loki push PROTOCOL DOUBLE (official push.proto via protobufjs, snappyjs):
// the encoding, the labels, Loki's answers (429 backs off and retries, 400 is never retried but counted and its
// cursors stored, 5xx/network retried), and over-long lines cut at a character boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushProtoMissing, startLokiPushDouble, parseSelector } from '../helpers/loki-push-double.ts';
import { pushToLoki, retryAfterMs } from '../../src/integrations/loki/push-client.ts';
import { formatLabels } from '../../src/integrations/loki/push-proto.ts';
import { limitLine, MAX_LINE_BYTES, TRUNCATION_MARK } from '../../src/domain/logs/line-limit.ts';
import { boundedLabels } from '../../src/domain/logs/streams.ts';
import { LogBatcher } from '../../src/services/logs/batcher.ts';
import { openSqlite } from '../../src/store/sqlite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { loadCursors } from '../../src/store/monitoring-repo.ts';

const skip = pushProtoMissing();

test(
  'push requests decode with the official push.proto and keep lines, metadata and nanosecond timestamps',
  { skip: skip ?? false },
  async (t) => {
    const loki = await startLokiPushDouble({ tenant: 'acme' });
    t.after(() => loki.close());
    const labels = formatLabels(
      boundedLabels({ env: 'prod', node: 'n"1\\', app: 'shop', stream: 'output', other: 'x' }),
    );
    const res = await pushToLoki({ url: loki.url, tenant: 'acme' }, [
      {
        labels,
        entries: [
          { tsNs: 1_700_000_000_123_456_789n, line: 'hello é', metadata: [['filename', '/var/log/x']] },
          { tsNs: 1_700_000_001_000_000_000n, line: '' },
        ],
      },
    ]);
    assert.equal(res.outcome, 'written');
    assert.deepEqual(loki.violations, []);
    assert.deepEqual(parseSelector(labels), { app: 'shop', env: 'prod', node: 'n"1\\', stream: 'output' });
    const got = loki.streams.get(labels)!;
    assert.deepEqual(
      got.map((e) => [e.tsNs, e.line, e.metadata]),
      [
        [1_700_000_000_123_456_789n, 'hello é', { filename: '/var/log/x' }],
        [1_700_000_001_000_000_000n, '', {}],
      ],
    );
    // Without the tenant header Loki (auth enabled) answers 401 "no org id": grim holds and retries, it never drops.
    const aborted = new AbortController();
    const retries: (number | null)[] = [];
    await assert.rejects(
      pushToLoki({ url: loki.url }, [{ labels, entries: [{ tsNs: 1n, line: 'x' }] }], {
        signal: aborted.signal,
        sleep: async () => {
          if (retries.length >= 2) aborted.abort(new Error('enough'));
        },
        onRetry: (status) => retries.push(status),
      }),
    );
    assert.deepEqual(retries, [401, 401]);
  },
);

test(
  '429 backs off (Retry-After honoured, else doubling) and 5xx/network errors retry; 400 is final',
  { skip: skip ?? false },
  async (t) => {
    const loki = await startLokiPushDouble();
    t.after(() => loki.close());
    const stream = [{ labels: '{app="a"}', entries: [{ tsNs: 10n, line: 'one' }] }];
    loki.script.push({ status: 429, retryAfter: '3' }, { status: 429 }, { status: 503 });
    const delays: number[] = [];
    const statuses: (number | null)[] = [];
    const ok = await pushToLoki({ url: loki.url }, stream, {
      baseDelayMs: 100,
      sleep: async (ms) => void delays.push(ms),
      onRetry: (s) => statuses.push(s),
    });
    assert.equal(ok.outcome, 'written');
    assert.equal(ok.attempts, 4);
    assert.deepEqual(statuses, [429, 429, 503]);
    assert.deepEqual(delays, [3000, 200, 400]);
    assert.equal(loki.streams.get('{app="a"}')!.length, 1);

    loki.script.push({
      status: 400,
      body: "entry with timestamp 2024-01-01 ignored, reason: 'entry out of order'",
    });
    const before = loki.requests.length;
    const rejected = await pushToLoki(
      { url: loki.url },
      [{ labels: '{app="a"}', entries: [{ tsNs: 20n, line: 'two' }] }],
      {
        sleep: async () => assert.fail('a 400 must not be retried'),
      },
    );
    assert.equal(rejected.outcome, 'rejected');
    assert.equal(loki.requests.length, before + 1);
    assert.match((rejected as { message: string }).message, /HTTP 400: entry with timestamp/);

    // network error: nothing listens there
    const net: (number | null)[] = [];
    const ctl = new AbortController();
    await assert.rejects(
      pushToLoki({ url: 'http://127.0.0.1:9' }, stream, {
        signal: ctl.signal,
        sleep: async () => void ctl.abort(new Error('stop')),
        onRetry: (s) => net.push(s),
      }),
    );
    assert.deepEqual(net, [null]);
    assert.equal(retryAfterMs('2'), 2000);
    assert.equal(retryAfterMs(new Date(Date.now() + 5000).toUTCString(), Date.now())! > 3000, true);
  },
);

test(
  'the batcher counts a 400, does not retry it, and moves the cursors on',
  { skip: skip ?? false },
  async (t) => {
    const loki = await startLokiPushDouble();
    const dir = mkdtempSync(join(tmpdir(), 'grim-batcher-'));
    const db = openSqlite(join(dir, 'grim.db'));
    await migrate(db);
    t.after(async () => {
      await loki.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const b = new LogBatcher(db, {
      target: { url: loki.url },
      batchBytes: 1_000_000,
      batchWaitMs: 50,
      log: () => {},
    });
    b.start();
    t.after(() => b.stop());
    const cursor = (offset: number) => ({
      sourceKey: 'k',
      node: 'n1',
      path: '/l',
      inode: '7',
      offset,
      skip: false,
    });
    loki.script.push({ status: 400, body: 'max entry size exceeded' });
    await b.submit([
      {
        stream: '{app="a"}',
        entries: [
          { tsNs: 1n, line: 'a' },
          { tsNs: 2n, line: 'b' },
        ],
        bytes: 10,
        cursor: cursor(4),
      },
    ]);
    assert.equal(b.stats.rejectedBatches, 1);
    assert.equal(b.stats.rejectedLines, 2);
    assert.match(b.stats.lastRejection ?? '', /HTTP 400/);
    assert.equal(loki.requests.length, 1);
    assert.equal((await loadCursors(db, 'n1')).get('k')?.offset, 4);
    await b.submit([
      { stream: '{app="a"}', entries: [{ tsNs: 3n, line: 'c' }], bytes: 5, cursor: cursor(6) },
    ]);
    assert.equal(b.stats.lines, 1);
    assert.equal((await loadCursors(db, 'n1')).get('k')?.offset, 6);
  },
);

test('lines over 256 KB are cut at a UTF-8 boundary and marked', () => {
  const long = 'é'.repeat(200_000); // 400 000 bytes
  const l = limitLine(long);
  assert.ok(l.truncated);
  assert.ok(Buffer.byteLength(l.line) <= MAX_LINE_BYTES);
  assert.ok(l.line.endsWith(TRUNCATION_MARK));
  assert.ok(!l.line.includes('\uFFFD'));
  assert.equal(l.bytes, 400_000);
  assert.deepEqual(limitLine('short'), { line: 'short', truncated: false, bytes: 5 });
  assert.ok(limitLine('cut by the node', MAX_LINE_BYTES, true).truncated);
});
