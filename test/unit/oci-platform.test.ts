import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizePlatform, parsePlatform, selectPlatformManifest } from '../../src/oci/platform.ts';
import type { Descriptor, ImageIndex } from '../../src/oci/types.ts';

const d = (
  n: number,
  platform?: Descriptor['platform'],
  annotations?: Record<string, string>,
): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 100 + n,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
});

const index: ImageIndex = {
  schemaVersion: 2,
  manifests: [
    d(1, { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
    d(2, { os: 'linux', architecture: 'arm', variant: 'v6' }),
    d(3, { os: 'linux', architecture: 'arm', variant: 'v7' }),
    d(4, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    d(5, { os: 'linux', architecture: 'amd64' }),
    d(6, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' }),
    d(7),
  ],
};

test('default platform is linux/amd64', () => {
  assert.equal(selectPlatformManifest(index).size, 105);
});

test('arch aliases and arm64 v8 equivalence', () => {
  assert.equal(selectPlatformManifest(index, { os: 'linux', architecture: 'x86_64' }).size, 105);
  assert.equal(selectPlatformManifest(index, { os: 'linux', architecture: 'aarch64' }).size, 104);
  assert.equal(selectPlatformManifest(index, parsePlatform('linux/arm64/v8')).size, 104);
  assert.equal(selectPlatformManifest(index, { os: 'windows', architecture: 'amd64' }).size, 106);
});

test('variant selection', () => {
  assert.equal(selectPlatformManifest(index, parsePlatform('linux/arm/v7')).size, 103);
  assert.equal(selectPlatformManifest(index, parsePlatform('linux/arm/v6')).size, 102);
  assert.equal(
    selectPlatformManifest(index, { os: 'linux', architecture: 'arm' }).size,
    102,
    'first listed when no variant asked',
  );
  assert.throws(
    () => selectPlatformManifest(index, parsePlatform('linux/arm/v5')),
    /no manifest for platform linux\/arm\/v5/,
  );
});

test('attestations and entries without platform are never picked; error lists what exists', () => {
  assert.throws(
    () => selectPlatformManifest(index, { os: 'unknown', architecture: 'unknown' }),
    /available: linux\/arm\/v6, linux\/arm\/v7, linux\/arm64, linux\/amd64, windows\/amd64/,
  );
  assert.throws(() => selectPlatformManifest({ schemaVersion: 2, manifests: [] }), /available: none/);
});

test('parsePlatform / normalizePlatform', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('Linux/ARM64/v8'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'armhf' }), {
    os: 'linux',
    architecture: 'arm',
    variant: 'v7',
  });
  assert.throws(() => parsePlatform('linux'), /expected os\/architecture/);
  assert.throws(() => parsePlatform('linux/amd64/v1/x'), /invalid platform/);
});
