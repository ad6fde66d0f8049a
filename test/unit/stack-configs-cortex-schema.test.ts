// Generated Cortex configs against Cortex's official JSON schema (GRIM_SHARED_DIR/specs/cortex/): ajv (draft
// 2020-12) plus a walk that rejects keys the schema does not declare. The schema's own example configs pass the
// same check, and a misspelt key fails it (so the check can fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sharedDir } from '../helpers/openapi-validator.ts';
import { validateStrict } from '../helpers/json-schema-strict.ts';
import { cortexConfig } from '../../src/integrations/stack/cortex-config.ts';

const schemaPath = join(sharedDir(), 'specs', 'cortex', 'cortex-config-schema.json');
const skip = existsSync(schemaPath) ? false : `${schemaPath} missing: set GRIM_SHARED_DIR`;

test('generated Cortex configs (filesystem and S3) validate against the official schema', { skip }, () => {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  for (const example of ['single-process-config-blocks-local.yaml', 'single-process-config-blocks-s3.yaml'])
    assert.deepEqual(
      validateStrict(schema, parse(readFileSync(join(sharedDir(), 'specs', 'cortex', example), 'utf8'))),
      [],
      example,
    );
  const fs = cortexConfig({
    httpPort: 9009,
    grpcPort: 9095,
    dataDir: '/var/lib/cortex',
    storage: { kind: 'filesystem', dir: '/var/lib/cortex/blocks' },
  });
  assert.deepEqual(validateStrict(schema, fs), []);
  const s3 = cortexConfig({
    httpPort: 9009,
    grpcPort: 9095,
    dataDir: '/var/lib/cortex',
    alertmanagerUrl: 'http://127.0.0.1:9093',
    storage: {
      kind: 's3',
      endpoint: '10.0.0.5:8333',
      bucket: 'grim-cortex',
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
      insecure: true,
    },
  });
  assert.deepEqual(validateStrict(schema, s3), []);
  const typo = structuredClone(s3) as any;
  typo.blocks_storage.s3.bucketname = 'x';
  typo.server.http_listen_port = 'not a number';
  assert.deepEqual(validateStrict(schema, typo).sort(), [
    '/blocks_storage/s3/bucketname: not in the schema',
    '/server/http_listen_port must be number',
  ]);
});
