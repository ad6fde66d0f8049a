// The monitoring stack plan (src/domain/monitoring/stack.ts): with S3 storage every component names its own
// bucket and key, the Cortex config still validates against Cortex's official JSON schema (GRIM_SHARED_DIR),
// a preview never shows a secret, every listener is bound to the node's address, and bad input is listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sharedDir } from '../helpers/openapi-validator.ts';
import { validateStrict } from '../helpers/json-schema-strict.ts';
import { planStack, redactPlan, type StackInput } from '../../src/domain/monitoring/stack.ts';
import { stackEnv } from '../../src/services/monitoring/stack-wiring.ts';

const rel = (entry: string) => ({ version: '1.0', sha256: 'a'.repeat(64), entry });
const s3 = (bucket: string, key: string) => ({
  kind: 's3' as const,
  endpoint: '10.0.0.9:8333',
  bucket,
  accessKeyId: `AK${key}`,
  secretAccessKey: `SECRET-${key}`,
  insecure: true,
});
const input: StackInput = {
  environment: 'prod',
  node: { name: 'm1', address: '10.0.0.5' },
  nodeDir: '/var/lib/grim/monitoring',
  tenant: 'prod',
  releases: {
    cortex: rel('cortex'),
    loki: rel('loki'),
    tempo: rel('tempo'),
    grafana: rel('grafana-v11.3.0/bin/grafana'),
  },
  s3: {
    cortex: s3('grim-monitoring-cortex', 'C'),
    loki: s3('grim-monitoring-loki', 'L'),
    tempo: s3('grim-monitoring-tempo', 'T'),
  },
  grafanaAdminPassword: 'GRAFANA-PW',
  lokiSchemaFrom: '2026-12-06',
};

test('S3 plan: own bucket and key per component, Cortex config valid, preview shows no secret', () => {
  const plan = planStack(input);
  assert.deepEqual(plan.problems, []);
  const file = (c: string) => parse(plan.components.find((x) => x.component === c)!.files[0].content);
  const cortex = file('cortex');
  assert.deepEqual(
    [cortex.blocks_storage.s3.bucket_name, cortex.blocks_storage.s3.access_key_id],
    ['grim-monitoring-cortex', 'AKC'],
  );
  assert.equal(file('loki').common.storage.s3.bucketnames, 'grim-monitoring-loki');
  assert.equal(file('tempo').storage.trace.s3.bucket, 'grim-monitoring-tempo');
  const schemaPath = join(sharedDir(), 'specs', 'cortex', 'cortex-config-schema.json');
  if (existsSync(schemaPath))
    assert.deepEqual(validateStrict(JSON.parse(readFileSync(schemaPath, 'utf8')), cortex), []);
  else console.log(`# ${schemaPath} missing (set GRIM_SHARED_DIR): schema check not run`);
  const grafana = plan.components.find((c) => c.component === 'grafana')!;
  assert.equal(grafana.workdir, 'grafana-v11.3.0', "Grafana runs from its release's home");
  assert.ok(!grafana.args.join(' ').includes('GRAFANA-PW'), 'no secret on a command line');
  // Cortex advertises the node's address, not eth0's, and its querier finds its frontend there
  const cortexArgs = plan.components.find((c) => c.component === 'cortex')!.args;
  for (const flag of [
    '-ingester.lifecycler.addr=10.0.0.5',
    '-distributor.ring.instance-addr=10.0.0.5',
    '-querier.frontend-address=10.0.0.5:9095',
  ])
    assert.ok(cortexArgs.includes(flag), `${flag} in ${cortexArgs.join(' ')}`);

  const preview = JSON.stringify(redactPlan(plan, ['GRAFANA-PW', 'SECRET-C', 'SECRET-L', 'SECRET-T']));
  for (const secret of ['GRAFANA-PW', 'SECRET-C', 'SECRET-L', 'SECRET-T'])
    assert.ok(!preview.includes(secret), secret);
  assert.ok(preview.includes('<sealed>'));
  assert.deepEqual(plan.endpoints, {
    remoteWriteUrl: 'http://10.0.0.5:9009/api/v1/push',
    cortexQueryUrl: 'http://10.0.0.5:9009/prometheus',
    lokiUrl: 'http://10.0.0.5:3100',
    otlpEndpoint: 'http://10.0.0.5:4318',
    grafanaUrl: 'http://10.0.0.5:3000',
    tenant: 'prod',
  });
});

test('plan problems: a wildcard address, a bad tenant, no component', () => {
  const plan = planStack({ ...input, node: { name: 'm1', address: '0.0.0.0' }, tenant: 'a b', releases: {} });
  assert.equal(plan.problems.length, 3, plan.problems.join('; '));
});

test('wiring: the stack is the default target, an explicit setting wins', () => {
  const e = planStack(input).endpoints;
  const env = stackEnv(e, { GRIM_LOKI_URL: 'http://elsewhere:3100' });
  assert.equal(env.GRIM_REMOTE_WRITE_URL, e.remoteWriteUrl);
  assert.equal(env.GRIM_REMOTE_WRITE_TENANT, 'prod');
  assert.equal(env.GRIM_LOKI_URL, 'http://elsewhere:3100');
  assert.equal(env.GRIM_LOKI_TENANT, undefined);
  assert.equal(env.GRIM_OTLP_ENDPOINT, e.otlpEndpoint);
  assert.deepEqual(stackEnv(null, {}), {});
});
