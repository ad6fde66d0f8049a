/**
 * OCI layout reader/writer, cross-checked with umoci in both directions.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { extractRuntimeConfig } from '../../src/oci/image-config.ts';
import { OciLayout, OciLayoutWriter } from '../../src/oci/layout.ts';
import { layerCompression, MEDIA_TYPE } from '../../src/oci/media-types.ts';
import { unpackLayers } from '../helpers/oci-unpack.ts';
import { buildBusyboxImage, buildIndex } from '../helpers/oci-image.ts';

const hasUmoci = existsSync('/usr/bin/umoci');
let work: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'grim-oci-layout-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

async function writeLayout(dir: string) {
  const amd = buildBusyboxImage(join(dir, '..', `${dir.split('/').pop()}-src`), 'amd64');
  const arm = buildBusyboxImage(join(dir, '..', `${dir.split('/').pop()}-src`), 'arm64');
  const writer = new OciLayoutWriter(dir);
  await writer.init();
  for (const image of [amd, arm]) {
    for (const l of image.layers) await writer.addBlob(l.data, l.descriptor.mediaType);
    await writer.addBlob(image.configBytes, MEDIA_TYPE.ociConfig);
    await writer.addBlob(image.manifestBytes, MEDIA_TYPE.ociManifest);
  }
  const index = buildIndex([arm, amd]);
  const indexDesc = await writer.addBlob(index.bytes, MEDIA_TYPE.ociIndex);
  await writer.tag(amd.manifestDescriptor, 'single');
  await writer.tag(indexDesc, 'multi');
  return { amd, arm, index };
}

test('writer + reader: pick by ref name, resolve index to platform, verify blobs', async () => {
  const dir = join(work, 'layout');
  const { amd, arm, index } = await writeLayout(dir);
  const layout = new OciLayout(dir);
  assert.deepEqual((await layout.refNames()).sort(), ['multi', 'single']);

  const single = await layout.resolveImage('single');
  assert.equal(single.manifestDigest, amd.manifestDescriptor.digest);
  assert.equal(single.indexDigest, undefined);
  assert.deepEqual(extractRuntimeConfig(single.config).argv, ['/bin/sh', '-c', 'echo hello']);

  const multi = await layout.resolveImage('multi');
  assert.equal(multi.indexDigest, index.digest);
  assert.equal(multi.manifestDigest, amd.manifestDescriptor.digest);
  const multiArm = await layout.resolveImage('multi', { os: 'linux', architecture: 'arm64' });
  assert.equal(multiArm.manifestDigest, arm.manifestDescriptor.digest);

  await assert.rejects(layout.resolveImage('nope'), /no image named "nope" \(have: single, multi\)/);
  await assert.rejects(layout.resolveImage(), /2 images in index.json/);
  await assert.rejects(new OciLayout(join(work, 'missing')).readIndex(), /is not an OCI layout/);

  // Tampered blob → verification error.
  const victim = layout.blobPath(amd.configDescriptor.digest);
  const original = readFileSync(victim);
  writeFileSync(victim, Buffer.from(original.toString().replace('amd64', 'AMD64')));
  await assert.rejects(layout.resolveImage('single'), /digest mismatch/);
  writeFileSync(victim, original);

  const root = join(work, 'rootfs-from-layout');
  const layerFiles = multi.layers.map((l) => ({
    path: layout.blobPath(l.digest),
    compression: layerCompression(l.mediaType),
  }));
  await unpackLayers(root, layerFiles);
  assert.equal(readFileSync(join(root, 'etc/arch'), 'utf8'), 'amd64\n');
  assert.equal(existsSync(join(root, 'etc/removed')), false);
});

test(
  'umoci reads our layout and applies the same whiteouts',
  { skip: hasUmoci ? false : 'umoci not installed' },
  async () => {
    const dir = join(work, 'layout-umoci');
    await writeLayout(dir);
    const umociRoot = join(work, 'umoci-rootfs');
    execFileSync('umoci', ['raw', 'unpack', '--image', `${dir}:single`, umociRoot], { stdio: 'pipe' });
    const ours = join(work, 'our-rootfs');
    const image = await new OciLayout(dir).resolveImage('single');
    await unpackLayers(
      ours,
      image.layers.map((l) => ({
        path: new OciLayout(dir).blobPath(l.digest),
        compression: 'gzip' as const,
      })),
    );
    const list = (root: string) =>
      execFileSync('find', ['.', '-printf', '%y %m %p %l\\n'], { cwd: root, encoding: 'utf8' })
        .split('\n')
        .sort();
    assert.deepEqual(list(ours), list(umociRoot));
  },
);

test('we read a layout built by umoci', { skip: hasUmoci ? false : 'umoci not installed' }, async () => {
  const dir = join(work, 'umoci-built');
  const src = join(work, 'umoci-src');
  mkdirSync(join(src, 'bin'), { recursive: true });
  writeFileSync(join(src, 'bin', 'hello'), 'hi\n');
  execFileSync('umoci', ['init', '--layout', dir]);
  execFileSync('umoci', ['new', '--image', `${dir}:v1`]);
  execFileSync('umoci', ['insert', '--image', `${dir}:v1`, join(src, 'bin'), '/bin']);
  execFileSync('umoci', [
    'config',
    '--image',
    `${dir}:v1`,
    '--config.cmd',
    '/bin/hello',
    '--config.env',
    'A=b',
    '--config.exposedports',
    '8080/tcp',
  ]);
  const layout = new OciLayout(dir);
  const image = await layout.resolveImage('v1');
  const rc = extractRuntimeConfig(image.config);
  assert.deepEqual(rc.cmd, ['/bin/hello']);
  assert.equal(rc.envMap.A, 'b');
  assert.deepEqual(rc.exposedPorts, [{ port: 8080, protocol: 'tcp' }]);
  const root = join(work, 'umoci-built-rootfs');
  await unpackLayers(
    root,
    image.layers.map((l) => ({
      path: layout.blobPath(l.digest),
      compression: layerCompression(l.mediaType),
    })),
  );
  assert.equal(readFileSync(join(root, 'bin/hello'), 'utf8'), 'hi\n');
});
