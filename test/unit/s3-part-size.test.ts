// The multipart part size: S3's 5 MiB minimum is enforced, and a huge file's parts grow so that it fits in
// S3's 10 000 parts. (The upload itself runs against a real SeaweedFS S3 in test/integration/backup-s3.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PART_BYTES, MIN_PART_BYTES, partSizeFor } from '../../src/integrations/s3/client.ts';

test('part size: at least 5 MiB, 64 MiB by default, grown to fit 10 000 parts', () => {
  assert.throws(() => partSizeFor(100, MIN_PART_BYTES - 1), /at least 5242880 bytes/);
  assert.throws(() => partSizeFor(100, MIN_PART_BYTES + 0.5), /at least/);
  assert.equal(partSizeFor(10 * 1024 ** 3), DEFAULT_PART_BYTES);
  const huge = 5 * 1024 ** 4; // S3's largest object, 5 TiB
  const part = partSizeFor(huge);
  assert.ok(Math.ceil(huge / part) <= 10_000 && part > DEFAULT_PART_BYTES, String(part));
  assert.equal(partSizeFor(MIN_PART_BYTES * 3, MIN_PART_BYTES), MIN_PART_BYTES);
});
