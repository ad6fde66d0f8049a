/**
 * grim's traces against an OTLP/HTTP receiver that is a PROTOCOL DOUBLE: it decodes every export with
 * protobufjs from the official opentelemetry-proto files in GRIM_SHARED_DIR/specs/otlp (not grim's encoder)
 * and refuses anything that does not re-encode to the same bytes. Checked: span trees of deploys (a span per
 * instance and step, the failed step and the revert marked), attribute types, 429 retried / 400 dropped, and
 * OTEL_EXPORTER_OTLP_ENDPOINT + OTEL_SERVICE_NAME injected into app instances.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FakeNodes,
  fakeEngine,
  scriptWebApp,
  secretKey,
  seedNodes,
  settleEngine,
} from '../helpers/fake-engine.ts';
import { storeCases } from '../helpers/stores.ts';
import { otlpProtoMissing, spanTree, startTraceDouble } from '../helpers/otlp-trace-double.ts';
import { step, Tracer, tracingFromEnv } from '../../src/services/tracing/tracer.ts';

const skip = otlpProtoMissing() ?? false;

test(
  'spans, attributes of every type, events and error status decode with the official protos',
  { skip },
  async (t) => {
    const rx = await startTraceDouble();
    t.after(() => rx.close());
    const tracer = new Tracer(tracingFromEnv({ GRIM_OTLP_ENDPOINT: `${rx.url}/`, GRIM_OTLP_TENANT: 'ops' }));
    const root = tracer.start('deploy shop', { 'grim.app': 'shop', 'grim.release': 7 });
    await step(root, 'create', { zero: 0, no: false, ratio: 0.5, neg: -3, empty: '' }, async (s) => {
      s.event('pulled', { bytes: 1234 });
    });
    await assert.rejects(
      step(root, 'health', {}, async () => {
        throw new Error('connection refused');
      }),
    );
    root.end();
    root.end(new Error('ignored: ended twice'));
    await tracer.flush();
    assert.deepEqual(rx.violations, []);
    assert.equal(rx.requests[0]?.headers['x-scope-orgid'], 'ops');
    assert.deepEqual(spanTree(rx.spans, 'deploy shop'), ['deploy shop', '  create', '  health [error]']);
    const [create, health, deploy] = ['create', 'health', 'deploy shop'].map((n) =>
      rx.spans.find((s) => s.name === n)!,
    );
    assert.deepEqual(create.attributes, { zero: 0, no: false, ratio: 0.5, neg: -3, empty: '' });
    assert.deepEqual(create.events, [{ name: 'pulled', attributes: { bytes: 1234 } }]);
    assert.deepEqual(health.status, { code: 2, message: 'connection refused' });
    assert.deepEqual(deploy.status, { code: 1, message: '' });
    assert.deepEqual(deploy.attributes, { 'grim.app': 'shop', 'grim.release': 7 });
    assert.equal(deploy.resource['service.name'], 'grim');
    assert.equal(deploy.kind, 1);
    for (const s of rx.spans) {
      assert.equal(s.traceId, deploy.traceId);
      assert.ok(
        s.endNs >= s.startNs && s.startNs > 1_600_000_000_000_000_000n,
        `${s.name}: times in unix ns`,
      );
    }
    assert.ok(create.startNs >= deploy.startNs && health.endNs <= deploy.endNs, 'children inside the parent');
    assert.deepEqual(tracer.stats, { exportedSpans: 3, droppedSpans: 0, failedExports: 0 });
  },
);

test(
  'a 429 is retried, a 400 is not (spans dropped and counted); no endpoint: no-op',
  { skip },
  async (t) => {
    const rx = await startTraceDouble();
    t.after(() => rx.close());
    const tracer = new Tracer({ endpoint: rx.url });
    rx.script.push(429);
    tracer.start('a').end();
    await tracer.flush();
    assert.deepEqual(
      rx.requests.map((r) => r.status),
      [429, 200],
    );
    rx.script.push(400);
    tracer.start('b').end();
    await tracer.flush();
    assert.deepEqual(
      rx.requests.map((r) => r.status),
      [429, 200, 400],
    );
    assert.deepEqual(tracer.stats, { exportedSpans: 1, droppedSpans: 1, failedExports: 2 });
    const off = new Tracer(tracingFromEnv({}));
    assert.equal(off.settings, null);
    off.start('nothing').end();
    await off.flush();
    assert.throws(() => tracingFromEnv({ GRIM_OTLP_ENDPOINT: 'ftp://x' }), /must be http/);
  },
);

const sqlite = storeCases[0];

const settle = settleEngine;

test(
  'deploys are traces: a span per instance and step; a failed deploy marks the step and the revert',
  { skip },
  async (t) => {
    const rx = await startTraceDouble();
    t.after(() => rx.close());
    const { db, cleanup } = await sqlite.open();
    t.after(cleanup);
    await seedNodes(db, 2);
    const nodes = new FakeNodes();
    const tracer = new Tracer(
      tracingFromEnv({ GRIM_OTLP_ENDPOINT: rx.url, GRIM_APP_OTLP_ENDPOINT: 'http://tempo.lan:4318' }),
    );
    const e = fakeEngine(db, nodes, secretKey(), 'script', { tracer });
    await e.apps.create(
      {
        ...scriptWebApp(),
        ports: [{ name: 'http', port: 8080 }],
        health: { type: 'command', command: 'true', intervalSec: 1, timeoutSec: 1, retries: 2 },
        maxParallel: 1,
      },
      'tester',
    );
    await e.apps.deploy(
      'web',
      { changes: { env: { GREETING: 'one', OTEL_SERVICE_NAME: 'web-frontend' } } },
      'tester',
    );
    await settle(e);
    await tracer.flush();
    assert.deepEqual(rx.violations, []);
    const ok = spanTree(rx.spans, 'deploy web');
    assert.equal(ok[0], 'deploy web');
    assert.deepEqual(
      ok.filter((l) => !l.includes('instance')),
      ['deploy web', ...Array(2).fill(['    create', '    start', '    health']).flat()],
    );
    assert.equal(ok.filter((l) => /^ {2}instance web-\d+-[a-z0-9]{5}$/.test(l)).length, 2);
    const instanceSpans = rx.spans.filter((s) => s.name.startsWith('instance '));
    assert.deepEqual(instanceSpans.map((s) => s.attributes['grim.node']).sort(), ['n1', 'n2']);

    // Every instance got the OTLP endpoint; the app's own service name wins over the injected one.
    for (const m of nodes.on.values())
      for (const inst of m.values()) {
        assert.equal(inst.env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://tempo.lan:4318');
        assert.equal(inst.env.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf');
        assert.equal(inst.env.OTEL_SERVICE_NAME, 'web-frontend');
        assert.match(
          inst.env.OTEL_RESOURCE_ATTRIBUTES,
          /^deployment\.environment=e,service\.version=\d+,service\.instance\.id=web-/,
        );
      }

    rx.spans.length = 0;
    e.driver.breakAt('start', { which: (id) => id.startsWith('web-2-') });
    await e.apps.deploy('web', { changes: { env: { GREETING: 'two' } } }, 'tester');
    await settle(e);
    await tracer.flush();
    const failed = spanTree(rx.spans, 'deploy web');
    assert.equal(failed[0], 'deploy web [error]');
    assert.ok(failed.includes('    start [error]'), failed.join('\n'));
    assert.ok(
      failed.some((l) => /^ {2}instance web-2-\w+ \[error\]$/.test(l)),
      failed.join('\n'),
    );
    assert.ok(failed.includes('  stop and revert'), failed.join('\n'));
    const start = rx.spans.find((s) => s.name === 'start' && s.status.code === 2)!;
    assert.match(start.status.message, /fake start failure/);
  },
);

test(
  'shutdown ends the spans still open as interrupted and sends them; a dead receiver cannot hold it up',
  { skip },
  async (t) => {
    const rx = await startTraceDouble();
    t.after(() => rx.close());
    const tracer = new Tracer({ endpoint: rx.url });
    const rollout = tracer.start('deploy shop');
    rollout.child('create').end();
    rollout.child('health', { 'grim.node': 'n1' }); // still waiting when grim stops
    await tracer.shutdown();
    assert.deepEqual(rx.violations, []);
    assert.deepEqual(spanTree(rx.spans, 'deploy shop'), [
      'deploy shop [error]',
      '  create',
      '  health [error]',
    ]);
    const health = rx.spans.find((s) => s.name === 'health')!;
    const root = rx.spans.find((s) => s.name === 'deploy shop')!;
    assert.deepEqual(root.status, { code: 2, message: 'interrupted: grim stopped' });
    assert.ok(health.endNs <= root.endNs, 'the parent ends after its interrupted step');

    // a receiver that never answers: shutdown returns after its deadline
    const dead = new Tracer({ endpoint: 'http://127.0.0.1:9' }); // discard port: connection refused
    dead.start('os update').end();
    const t0 = Date.now();
    await dead.shutdown(300);
    assert.ok(Date.now() - t0 < 2000, `shutdown took ${Date.now() - t0} ms`);
  },
);
