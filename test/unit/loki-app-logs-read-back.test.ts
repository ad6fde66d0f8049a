/**
 * `grim app logs` and the UI's log view (both GET /api/apps/:name/logs) read from Loki when it is configured:
 * appLogsFromLoki against a loopback Loki that answers in the format of Loki's RECORDED query_range answer
 * (GRIM_SHARED_DIR/fixtures/loki/query_range_streams_response.golden.json: its envelope and value encoding,
 * with grim's stream labels in place of the golden's). Checked: the one query grim sends ({app="web"},
 * backward, a limit per instance), lines grouped per instance with stdout and stderr merged in time order,
 * the newest `tail` kept, and a Loki error shown per instance instead of failing the request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from '../helpers/openapi-validator.ts';
import {
  FakeNodes,
  fakeEngine,
  scriptWebApp,
  secretKey,
  seedNodes,
  settleEngine,
} from '../helpers/fake-engine.ts';
import { storeCases } from '../helpers/stores.ts';
import { appLogsFromLoki } from '../../src/services/logs/read-back.ts';

const golden = join(sharedDir(), 'fixtures', 'loki', 'query_range_streams_response.golden.json');
const skip = existsSync(golden) ? false : `${golden} missing: set GRIM_SHARED_DIR`;

test(
  'app logs come from Loki query_range: per instance, stdout and stderr in time order, newest kept',
  { skip },
  async (t) => {
    const { db, cleanup } = await storeCases[0].open();
    t.after(cleanup);
    await seedNodes(db, 2);
    const e = fakeEngine(db, new FakeNodes(), secretKey(), 'script');
    await e.apps.create({ ...scriptWebApp(), maxParallel: 2 }, 'tester');
    await e.apps.deploy('web', {}, 'tester');
    await settleEngine(e);
    const ids = (
      await db.all<{ id: string }>("SELECT id FROM app_instances WHERE app = 'web' ORDER BY id")
    ).map((r) => r.id);
    assert.equal(ids.length, 2);

    // Loki's recorded answer, its streams replaced by grim's: two streams for the first instance, one for the other
    const envelope = JSON.parse(readFileSync(golden, 'utf8')) as {
      status: string;
      data: { resultType: string; result: { stream: Record<string, string>; values: [string, string][] }[] };
    };
    assert.equal(envelope.data.resultType, 'streams');
    const labels = (instance: string, stream: string) => ({
      app: 'web',
      env: 'e',
      group: 'g',
      instance,
      node: 'n1',
      stream,
    });
    envelope.data.result = [
      {
        stream: labels(ids[0], 'stdout'),
        values: [
          ['1700000000000000300', 'out 3'],
          ['1700000000000000100', 'out 1'],
        ],
      },
      { stream: labels(ids[0], 'stderr'), values: [['1700000000000000200', 'err 2']] },
      { stream: labels(ids[1], 'stdout'), values: [['1700000000000000050', 'other']] },
    ];
    const seen: string[] = [];
    let answer = JSON.stringify(envelope);
    let status = 200;
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res
        .writeHead(status, { 'Content-Type': status === 200 ? 'application/json' : 'text/plain' })
        .end(answer);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const target = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };

    const now = 1_700_000_001_000;
    const got = await appLogsFromLoki(db, target, 'web', 2, now);
    assert.deepEqual(
      got.map((g) => [g.instance, g.text, g.error]),
      [
        [ids[0], 'err 2\nout 3\n', ''],
        [ids[1], 'other\n', ''],
      ],
    );
    assert.equal(seen.length, 1, 'one query for the whole app');
    const q = new URL(seen[0], 'http://x');
    assert.equal(q.pathname, '/loki/api/v1/query_range');
    assert.equal(q.searchParams.get('query'), '{app="web"}');
    assert.equal(q.searchParams.get('direction'), 'backward');
    assert.equal(q.searchParams.get('limit'), '4');
    assert.equal(q.searchParams.get('end'), String(BigInt(now) * 1_000_000n));

    // Loki failing: every instance says why, the request itself does not fail
    status = 500;
    answer = 'too many outstanding requests\n';
    const failed = await appLogsFromLoki(db, target, 'web', 2, now);
    assert.ok(failed.every((f) => f.text === '' && /HTTP 500: too many outstanding requests/.test(f.error)));
    await assert.rejects(appLogsFromLoki(db, target, 'nope', 2, now), /app nope/);
  },
);
