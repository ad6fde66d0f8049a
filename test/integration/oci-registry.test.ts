/**
 * Real registry round trip: docker-registry (distribution 2.8) on loopback, images built in the test with
 * the system tar, pushed with RegistryClient, pulled back (tag, and OCI index with two platforms),
 * verified, unpacked with the TS unpacker and scripts/node/oci-unpack.sh, cross-checked with skopeo.
 * Token auth: docker-registry `auth: token:` against an in-test JWT token server.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sha256Digest } from '../../src/oci/digest.ts';
import { extractRuntimeConfig } from '../../src/oci/image-config.ts';
import { MEDIA_TYPE } from '../../src/oci/media-types.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { RegistryClient, RegistryError } from '../../src/oci/registry-client.ts';
import { unpackLayers } from '../helpers/oci-unpack.ts';
import { buildBusyboxImage, buildIndex, pushImage } from '../helpers/oci-image.ts';
import {
  registryBinaryAvailable,
  startRegistry,
  startTokenServer,
  type LocalRegistry,
  type TokenServer,
} from '../helpers/registry.ts';

const SCRIPT = new URL('../../scripts/node/oci-unpack.sh', import.meta.url).pathname;
const skipReason = registryBinaryAvailable()
  ? false
  : 'docker-registry not installed (apt-get install docker-registry)';
if (skipReason) console.log(`# skipping oci-registry integration tests: ${skipReason}`);
const hasSkopeo = existsSync('/usr/bin/skopeo');

function checkRootfs(rootfs: string, architecture: string): void {
  assert.equal(readFileSync(join(rootfs, 'bin/busybox')).equals(readFileSync('/bin/busybox')), true);
  assert.equal(readlinkSync(join(rootfs, 'bin/sh')), 'busybox');
  assert.equal(readFileSync(join(rootfs, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n');
  assert.equal(readFileSync(join(rootfs, 'etc/arch'), 'utf8'), `${architecture}\n`);
  assert.equal(existsSync(join(rootfs, 'etc/removed')), false, 'whiteout removed etc/removed');
  assert.equal(existsSync(join(rootfs, 'etc/.wh.removed')), false, 'marker not left behind');
  assert.deepEqual(
    execFileSync('ls', ['-A', join(rootfs, 'data/opq')], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean),
    ['new'],
  );
  assert.equal(readFileSync(join(rootfs, 'data/keep'), 'utf8'), 'keep\n');
  // The unpacked busybox actually runs.
  assert.equal(execFileSync(join(rootfs, 'bin/busybox'), ['echo', 'ran'], { encoding: 'utf8' }), 'ran\n');
}

describe('OCI registry client against docker-registry', { skip: skipReason }, () => {
  let registry: LocalRegistry;
  let work: string;
  const client = new RegistryClient({ userAgent: 'grim-test' });

  before(async () => {
    registry = await startRegistry();
    work = mkdtempSync(join(tmpdir(), 'grim-oci-it-'));
  });
  after(async () => {
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('ping reports API v2 without auth', async () => {
    const ping = await client.ping(registry.host);
    assert.equal(ping.status, 200);
    assert.equal(ping.apiVersion, 'registry/2.0');
    assert.deepEqual(ping.challenges, []);
  });

  test('push, pull by tag, verify, unpack (TS and sh), skopeo sees it', async () => {
    const image = buildBusyboxImage(join(work), 'amd64');
    const ref = parseImageReference(`${registry.host}/grim/busybox:1`);
    const pushedDigest = await pushImage(client, ref, image);
    assert.equal(pushedDigest, image.manifestDescriptor.digest);
    assert.equal(await client.blobExists(ref, image.layers[0].descriptor.digest), true);
    assert.equal(await client.blobExists(ref, sha256Digest('nope')), false);

    const resolved = await client.resolveImage(ref);
    assert.equal(resolved.manifestDigest, image.manifestDescriptor.digest);
    assert.equal(resolved.indexDigest, undefined);
    assert.deepEqual(resolved.config, image.config);
    assert.deepEqual(
      resolved.layers.map((l) => l.digest),
      image.layers.map((l) => l.descriptor.digest),
    );
    const runtime = extractRuntimeConfig(resolved.config);
    assert.deepEqual(runtime.argv, ['/bin/sh', '-c', 'echo hello']);
    assert.deepEqual(runtime.exposedPorts, [
      { port: 53, protocol: 'udp' },
      { port: 8080, protocol: 'tcp' },
    ]);

    const files = [];
    for (const [i, layer] of resolved.layers.entries()) {
      const path = join(work, `layer-${i}.tar.gz`);
      await client.downloadBlob(ref, layer, path);
      assert.equal(sha256Digest(readFileSync(path)), layer.digest);
      files.push(path);
    }
    const tsRoot = join(work, 'rootfs-ts');
    await unpackLayers(
      tsRoot,
      files.map((path) => ({ path, compression: 'gzip' as const })),
    );
    checkRootfs(tsRoot, 'amd64');

    const shRoot = join(work, 'rootfs-sh');
    for (const path of files) {
      const out = execFileSync('dash', [SCRIPT], {
        env: { PATH: process.env.PATH, ROOTFS: shRoot, LAYER: path, LAYER_MEDIA: 'gzip' },
        encoding: 'utf8',
      });
      assert.equal(JSON.parse(out.trim().split('\n').at(-1) as string).ok, true);
    }
    checkRootfs(shRoot, 'amd64');

    if (!hasSkopeo) {
      console.log('# skopeo not installed: skipping skopeo cross-check');
      return;
    }
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/grim/busybox:1`], {
        encoding: 'utf8',
      }),
    );
    assert.equal(inspected.Digest, image.manifestDescriptor.digest);
    assert.deepEqual(
      inspected.Layers,
      image.layers.map((l) => l.descriptor.digest),
    );
    assert.equal(inspected.Architecture, 'amd64');
    assert.ok(inspected.Env.includes('GRIM_TEST=1'));
  });

  test('OCI index with two platforms: amd64 picked by default, arm64 on request', async () => {
    const amd = buildBusyboxImage(join(work, 'amd'), 'amd64');
    const arm = buildBusyboxImage(join(work, 'arm'), 'arm64');
    const ref = parseImageReference(`${registry.host}/grim/multi:1`);
    await pushImage(client, ref, amd, amd.manifestDescriptor.digest);
    await pushImage(client, ref, arm, arm.manifestDescriptor.digest);
    const index = buildIndex([arm, amd]);
    const { digest } = await client.pushManifest(ref, index.bytes, MEDIA_TYPE.ociIndex);
    assert.equal(digest, index.digest);

    const fetched = await client.getManifest(ref);
    assert.equal(fetched.isIndex, true);
    assert.equal(fetched.digest, index.digest);

    const resolved = await client.resolveImage(ref);
    assert.equal(resolved.indexDigest, index.digest);
    assert.equal(resolved.manifestDigest, amd.manifestDescriptor.digest);
    assert.equal(resolved.config.architecture, 'amd64');
    const layerPath = join(work, 'multi-top.tar.gz');
    await client.downloadBlob(ref, resolved.layers[1], layerPath);
    const root = join(work, 'rootfs-multi');
    execFileSync('dash', [SCRIPT], {
      env: { PATH: process.env.PATH, ROOTFS: root, LAYER: layerPath, LAYER_MEDIA: 'gzip' },
    });
    assert.equal(readFileSync(join(root, 'etc/arch'), 'utf8'), 'amd64\n');

    const armResolved = await client.resolveImage(ref, { os: 'linux', architecture: 'arm64' });
    assert.equal(armResolved.manifestDigest, arm.manifestDescriptor.digest);
    assert.equal(armResolved.config.architecture, 'arm64');
    await assert.rejects(
      client.resolveImage(ref, { os: 'linux', architecture: 's390x' }),
      /no manifest for platform linux\/s390x.*arm64.*amd64/,
    );

    // Pull by digest reference.
    const byDigest = await client.resolveImage(`${registry.host}/grim/multi@${index.digest}`);
    assert.equal(byDigest.manifestDigest, amd.manifestDescriptor.digest);

    if (hasSkopeo) {
      const raw = JSON.parse(
        execFileSync(
          'skopeo',
          ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/grim/multi:1`],
          {
            encoding: 'utf8',
          },
        ),
      );
      assert.equal(raw.mediaType, MEDIA_TYPE.ociIndex);
      const inspected = JSON.parse(
        execFileSync(
          'skopeo',
          [
            'inspect',
            '--override-arch',
            'arm64',
            '--tls-verify=false',
            `docker://${registry.host}/grim/multi:1`,
          ],
          { encoding: 'utf8' },
        ),
      );
      assert.equal(inspected.Architecture, 'arm64');
      assert.equal(inspected.Digest, index.digest);
    }
  });

  test('missing tag and missing blob give RegistryError 404', async () => {
    const ref = parseImageReference(`${registry.host}/grim/busybox:nope`);
    await assert.rejects(
      client.getManifest(ref),
      (err: unknown) => err instanceof RegistryError && err.status === 404,
    );
    await assert.rejects(
      client.fetchBlob(ref, { digest: sha256Digest('absent') }),
      (err: unknown) => err instanceof RegistryError && err.status === 404,
    );
  });
});

describe(
  'docker-registry with token auth (auth: token:, JWT from an in-test token server)',
  { skip: skipReason },
  () => {
    let registry: LocalRegistry;
    let tokens: TokenServer;
    let work: string;

    before(async () => {
      tokens = await startTokenServer({ pusher: 's3cret' });
      registry = await startRegistry({
        tokenAuth: {
          realm: tokens.realm,
          service: tokens.service,
          issuer: tokens.issuer,
          rootCertBundlePath: tokens.certPath,
        },
      });
      work = mkdtempSync(join(tmpdir(), 'grim-oci-auth-'));
    });
    after(async () => {
      await registry?.stop();
      await tokens?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    test('ping shows the bearer challenge', async () => {
      const ping = await new RegistryClient().ping(registry.host);
      assert.equal(ping.status, 401);
      assert.equal(ping.challenges[0].scheme, 'bearer');
      assert.equal(ping.challenges[0].params.realm, tokens.realm);
      assert.equal(ping.challenges[0].params.service, tokens.service);
    });

    test('push with credentials, tokens cached per scope; anonymous pull works, anonymous push is refused', async () => {
      const client = new RegistryClient({
        credentials: { [registry.host]: { username: 'pusher', password: 's3cret' } },
      });
      const image = buildBusyboxImage(work, 'amd64');
      const ref = parseImageReference(`${registry.host}/secure/busybox:1`);
      await pushImage(client, ref, image);
      const pushRequests = tokens.requests.filter((r) => r.scopes.some((s) => s.includes('push')));
      assert.ok(pushRequests.length >= 1);
      assert.equal(pushRequests[0].user, 'pusher');
      assert.equal(pushRequests[0].service, tokens.service);
      // docker-registry lists the actions of its challenge in no fixed order ("pull,push" or "push,pull").
      const [scope] = pushRequests[0].scopes;
      assert.equal(pushRequests[0].scopes.length, 1);
      assert.match(scope, /^repository:secure\/busybox:/);
      assert.deepEqual(scope.split(':')[2].split(',').sort(), ['pull', 'push']);
      const before = client.tokenRequests;
      // More pushes/pulls reuse the cached tokens: at most one new token (the pull scope).
      await pushImage(client, ref, image);
      await client.resolveImage(ref);
      await client.resolveImage(ref);
      assert.ok(
        client.tokenRequests - before <= 1,
        `token requests grew by ${client.tokenRequests - before}`,
      );

      const anonymous = new RegistryClient();
      const resolved = await anonymous.resolveImage(ref);
      assert.equal(resolved.manifestDigest, image.manifestDescriptor.digest);
      const layer = await anonymous.fetchBlob(ref, resolved.layers[1]);
      assert.equal(sha256Digest(layer), resolved.layers[1].digest);
      await assert.rejects(
        anonymous.pushBlob(ref, Buffer.from('anonymous data')),
        (err: unknown) => err instanceof RegistryError && err.status === 401,
      );

      const wrong = new RegistryClient({
        credentials: { [registry.host]: { username: 'pusher', password: 'wrong' } },
      });
      await assert.rejects(wrong.resolveImage(ref), /token request .* failed \(401\)/);
    });
  },
);
