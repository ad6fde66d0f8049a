// Node-side image cache scripts, run locally under dash and busybox ash in a temp state dir:
// container-check.sh, container-image-build.sh (whiteouts, once per digest, leftovers, bad uploads), container-user.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scriptFor } from '../../src/scripts/loader.ts';
import { buildBusyboxImage } from '../helpers/oci-image.ts';

const shells: [string, string[]][] = [
  ['dash', []],
  ['busybox', ['sh']],
];

function run(shell: string[], name: string, env: Record<string, string>) {
  const r = spawnSync(shell[0], [...shell.slice(1), '-s'], {
    input: scriptFor(name).body,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  const last = r.stdout.trimEnd().split('\n').pop() ?? '';
  return { status: r.status, json: JSON.parse(last) as Record<string, unknown>, stderr: r.stderr };
}

const hex = (digest: string) => digest.slice('sha256:'.length);

for (const [shell, prefix] of shells) {
  const sh = [shell, ...prefix];
  const label = sh.join(' ');

  test(`image cache scripts under ${label}: check, upload, build once per digest, reuse`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'grim-ctr-scripts-'));
    try {
      const image = buildBusyboxImage(join(dir, 'build'));
      const state = join(dir, 'state');
      const unpacker = join(state, 'lib', 'oci-unpack.sh');
      const imageId = hex(image.manifestDescriptor.digest);
      const blobs = [
        ...image.layers.map((l) => hex(l.descriptor.digest)),
        hex(image.configDescriptor.digest),
      ];
      const base = { STATE_DIR: state, IMAGE_ID: imageId, UNPACKER: unpacker };

      const first = run(sh, 'container-check', { ...base, BLOBS: blobs.join(' '), INSTANCE_ID: 'web-1' });
      assert.equal(first.status, 0, first.stderr);
      assert.deepEqual(first.json, { ok: true, image: false, missingBlobs: blobs, unpacker: false });
      assert.ok(existsSync(join(state, 'containers', 'web-1')), 'instance directory created');

      // "upload": what the driver sends with ctx.upload
      writeFileSync(unpacker, scriptFor('oci-unpack').body);
      const suffix = 'a1b2c3';
      image.layers.forEach((l) =>
        writeFileSync(join(state, 'blobs/sha256', `${hex(l.descriptor.digest)}.${suffix}`), l.data),
      );
      writeFileSync(
        join(state, 'blobs/sha256', `${hex(image.configDescriptor.digest)}.${suffix}`),
        image.configBytes,
      );
      // a half-finished earlier build whose builder is gone
      mkdirSync(join(state, 'images', `.build-${imageId}-999999999`, 'rootfs'), { recursive: true });
      writeFileSync(join(state, 'images', `.build-${imageId}-999999999`, 'pid'), '999999999\n');

      const build = {
        ...base,
        LAYERS: image.layers.map((l) => `${hex(l.descriptor.digest)}:gzip`).join(' '),
        CONFIG_BLOB: hex(image.configDescriptor.digest),
        UPLOAD_SUFFIX: suffix,
      };
      const built = run(sh, 'container-image-build', build);
      assert.equal(built.status, 0, JSON.stringify(built.json));
      assert.deepEqual(built.json, { ok: true, built: true, layers: 2 });
      const rootfs = join(state, 'images', imageId, 'rootfs');
      assert.ok(existsSync(join(rootfs, 'bin', 'busybox')));
      assert.ok(!existsSync(join(rootfs, 'etc', 'removed')), 'whiteout applied');
      assert.deepEqual(readdirSync(join(rootfs, 'data', 'opq')), ['new'], 'opaque directory applied');
      assert.deepEqual(readdirSync(join(state, 'images')), [imageId], 'no build leftovers');
      assert.deepEqual(
        readdirSync(join(state, 'blobs', 'sha256')).sort(),
        [...blobs].sort(),
        'uploads adopted',
      );

      const again = run(sh, 'container-image-build', build);
      assert.deepEqual(again.json, { ok: true, built: false, layers: 0 });
      const cached = run(sh, 'container-check', { ...base, BLOBS: blobs.join(' ') });
      assert.equal(cached.json.image, true);
      assert.deepEqual(cached.json.missingBlobs, []);
      assert.deepEqual(cached.json.config, image.config, 'the image config comes back from the node');

      const user = run(sh, 'container-user', { STATE_DIR: state, IMAGE_ID: imageId, IMAGE_USER: 'root' });
      assert.deepEqual(user.json, { ok: true, uid: 0, gid: 0, additionalGids: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`container-image-build under ${label} rejects an upload whose digest is wrong and removes it`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'grim-ctr-scripts-'));
    try {
      const image = buildBusyboxImage(join(dir, 'build'));
      const state = join(dir, 'state');
      mkdirSync(join(state, 'blobs', 'sha256'), { recursive: true });
      mkdirSync(join(state, 'images'), { recursive: true });
      const unpacker = join(dir, 'oci-unpack.sh');
      writeFileSync(unpacker, scriptFor('oci-unpack').body);
      const layer = hex(image.layers[0].descriptor.digest);
      const upload = join(state, 'blobs', 'sha256', `${layer}.zz9`);
      writeFileSync(upload, 'not the layer');
      writeFileSync(join(state, 'blobs', 'sha256', hex(image.configDescriptor.digest)), image.configBytes);
      const r = run(sh, 'container-image-build', {
        STATE_DIR: state,
        IMAGE_ID: hex(image.manifestDescriptor.digest),
        LAYERS: `${layer}:gzip`,
        CONFIG_BLOB: hex(image.configDescriptor.digest),
        UPLOAD_SUFFIX: 'zz9',
        UNPACKER: unpacker,
      });
      assert.equal(r.status, 1);
      assert.match(String(r.json.error), /uploaded blob .* has digest/);
      assert.ok(!existsSync(upload));
      assert.ok(!existsSync(join(state, 'images', hex(image.manifestDescriptor.digest))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`container-user under ${label} resolves names, groups and supplementary groups from the image`, () => {
    const state = mkdtempSync(join(tmpdir(), 'grim-ctr-user-'));
    try {
      const id = 'ab'.repeat(32);
      const etc = join(state, 'images', id, 'rootfs', 'etc');
      mkdirSync(etc, { recursive: true });
      writeFileSync(join(etc, 'passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\n');
      writeFileSync(
        join(etc, 'group'),
        'root:x:0:\napp:x:1001:\nweb:x:2000:app,other\nlog:x:3000:app\nstaff:x:50:\n',
      );
      const user = (spec: string) =>
        run(sh, 'container-user', { STATE_DIR: state, IMAGE_ID: id, IMAGE_USER: spec }).json;
      assert.deepEqual(user('app'), { ok: true, uid: 1000, gid: 1001, additionalGids: [2000, 3000] });
      assert.deepEqual(user('1000'), { ok: true, uid: 1000, gid: 1001, additionalGids: [2000, 3000] });
      assert.deepEqual(user('app:staff'), { ok: true, uid: 1000, gid: 50, additionalGids: [] });
      assert.deepEqual(user('4242'), { ok: true, uid: 4242, gid: 0, additionalGids: [] });
      assert.deepEqual(user('4242:77'), { ok: true, uid: 4242, gid: 77, additionalGids: [] });
      assert.match(String(user('nobody').error), /user nobody not found/);
      assert.match(String(user('app:nogroup').error), /group nogroup not found/);
      assert.match(String(user('a;b').error), /unsupported characters/);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
}

test('container-logs prints the tail and then the result line', async () => {
  const state = mkdtempSync(join(tmpdir(), 'grim-ctr-logs-'));
  try {
    mkdirSync(join(state, 'containers', 'web-1'), { recursive: true });
    writeFileSync(join(state, 'containers', 'web-1', 'output.log'), 'one\ntwo\nthree\n');
    const child = spawn('dash', ['-s'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        STATE_DIR: state,
        INSTANCE_ID: 'web-1',
        TAIL_LINES: '2',
      },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin.end(readFileSync(scriptFor('container-logs').path));
    await new Promise((r) => child.on('close', r));
    assert.equal(out, 'two\nthree\n\n{"ok":true}\n');
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
