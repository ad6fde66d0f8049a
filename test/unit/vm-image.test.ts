// The VM image pipeline pieces: the app definition and metadata drive the guest init reads (checked
// by running them under busybox sh / busybox tar, as the guest does), the node scripts that build
// disks and kernels (run for real on temp dirs), and vm-fc-api.sh against the Firecracker double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  renderAppDefinition,
  appDefinitionFromImage,
  appDefinitionForTarball,
} from '../../src/drivers/vm-image/app-definition.ts';
import { buildMetadataTar } from '../../src/drivers/vm-image/metadata.ts';
import { imageKey, tapNameForInstance, guestHostname } from '../../src/drivers/vm-image/node-layout.ts';
import { guestKernelArgs } from '../../src/drivers/vm-image/kernel.ts';
import { extractRuntimeConfig } from '../../src/oci/image-config.ts';
import { SCRIPTS_DIR, scriptFor } from '../../src/scripts/loader.ts';
import { FirecrackerDouble } from '../helpers/firecracker-double.ts';
import { loadSharedSpec, type OpenApiDocument } from '../helpers/openapi-validator.ts';

const BUSYBOX = '/bin/busybox';
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'grim-vmimg-'));
  return d;
};

function nodeScript(
  name: string,
  env: Record<string, string>,
): { json: any; status: number | null; stderr: string } {
  const r = spawnSync('dash', ['-s'], {
    input: scriptFor(name).body,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { json: last.startsWith('{') ? JSON.parse(last) : undefined, status: r.status, stderr: r.stderr };
}

test(
  'the app definition keeps argv, Env, WorkingDir and User exactly, whatever the quoting (read by the guest lib)',
  { skip: !existsSync(BUSYBOX) && 'busybox-static missing' },
  () => {
    const config = extractRuntimeConfig({
      config: {
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: [`echo "it's" $HOME; rm -rf / ; \`x\``],
        Env: ['PATH=/usr/bin:/bin', 'QUOTE=a\'b"c$d'],
        WorkingDir: '/srv/app',
        User: '1000:1000',
      },
    });
    const dir = tmp();
    writeFileSync(join(dir, 'app'), renderAppDefinition(appDefinitionFromImage(config)));
    // The guest init's own reader (scripts/lib/app-definition.sh), under busybox sh as in the guest.
    const lib = readFileSync(`${SCRIPTS_DIR}lib/app-definition.sh`, 'utf8');
    const out = execFileSync(
      BUSYBOX,
      [
        'sh',
        '-c',
        `${lib}
        f=$1
        echo "$(app_value "$f" workdir)|$(app_value "$f" user)|$(app_value "$f" stop_grace)"
        (app_env "$f"; printf '%s|%s\\n' "$PATH" "$QUOTE")
        app_exec "$f" sh -c 'for a in "$@"; do printf "<%s>" "$a"; done; echo' argv`,
        'x',
        join(dir, 'app'),
      ],
      { encoding: 'utf8' },
    );
    rmSync(dir, { recursive: true });
    const [meta, env, argv] = out.trim().split('\n');
    assert.equal(argv, `</bin/sh><-c><echo "it's" $HOME; rm -rf / ; \`x\`>`);
    assert.equal(meta, '/srv/app|1000:1000|10');
    assert.equal(env, `/usr/bin:/bin|a'b"c$d`);
    assert.throws(() => renderAppDefinition({ argv: [], env: {}, workingDir: '/', user: '' }), /no command/);
    assert.equal(appDefinitionForTarball(['/app/run']).workingDir, '/app');
  },
);

test(
  'the metadata drive is a tar busybox reads from a raw device; secrets stay in its environment file',
  { skip: !existsSync(BUSYBOX) && 'busybox-static missing' },
  () => {
    const tar = buildMetadataTar({
      hostname: 'web-1',
      env: { SECRET: "p'w d", PLAIN: 'x' },
      network: { address: '10.0.0.5', prefixLength: 24, gateway: '10.0.0.1', dns: ['10.0.0.53'] },
      app: appDefinitionForTarball(['/app/bin/server', '--port', '80']),
    });
    assert.equal(tar.length % 4096, 0);
    const dir = tmp();
    writeFileSync(join(dir, 'disk'), tar);
    const list = execFileSync(BUSYBOX, ['tar', '-tf', join(dir, 'disk')], { encoding: 'utf8' });
    assert.match(list, /^grim-meta\/$/m);
    execFileSync(BUSYBOX, ['tar', '-xf', join(dir, 'disk'), '-C', dir]);
    assert.equal(
      readFileSync(join(dir, 'grim-meta/network'), 'utf8'),
      'ADDRESS=10.0.0.5/24\nGATEWAY=10.0.0.1\nIFACE=eth0\n',
    );
    assert.equal(readFileSync(join(dir, 'grim-meta/resolv.conf'), 'utf8'), 'nameserver 10.0.0.53\n');
    const env = execFileSync(
      BUSYBOX,
      [
        'sh',
        '-c',
        `${readFileSync(`${SCRIPTS_DIR}lib/env.sh`, 'utf8')}\nload_env "$1"; printf '%s|%s' "$SECRET" "$PLAIN"`,
        'x',
        join(dir, 'grim-meta/environment'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(env, "p'w d|x");
    rmSync(dir, { recursive: true });
    assert.throws(() => buildMetadataTar({ hostname: 'Bad_Name', env: {} }), /not a valid host name/);
    assert.doesNotMatch(guestKernelArgs({ tscKhz: 2_500_000 }), /SECRET/);
    assert.match(guestKernelArgs({ tscKhz: 2_500_000 }), /tsc_early_khz=2500000 lpj=10000000 tsc=reliable/);
  },
);

/** Like nodeScript, but without blocking the event loop (the double answers from this process). */
function nodeScriptAsync(name: string, env: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn('dash', ['-s'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(out.trim().split('\n').pop() ?? 'null')));
    child.stdin.end(scriptFor(name).body);
  });
}

test('node layout names: digests, TAPs within IFNAMSIZ, hostnames', () => {
  assert.equal(imageKey(`sha256:${'a'.repeat(64)}`), `sha256-${'a'.repeat(64)}`);
  assert.throws(() => imageKey('latest'), /not a content digest/);
  const tap = tapNameForInstance('some-very-long-instance-id-0001');
  assert.match(tap, /^gvt[0-9a-f]{10}$/);
  assert.equal(tapNameForInstance('some-very-long-instance-id-0001'), tap);
  assert.notEqual(tapNameForInstance('a'), tapNameForInstance('b'));
  assert.equal(guestHostname('Web_1'), 'web-1');
});

test(
  'vm-image-build.sh: injects init + busybox, builds a labelled ext4, caches by key',
  { skip: !existsSync('/usr/sbin/mkfs.ext4') && 'e2fsprogs missing' },
  () => {
    const root = tmp();
    const src = join(root, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc/os-release'), 'ID=test\n');
    writeFileSync(
      join(root, 'app'),
      renderAppDefinition({ argv: ['/bin/true'], env: {}, workingDir: '/', user: '' }),
    );
    const env = {
      KEY: 'sha256-abc',
      SOURCE_DIR: src,
      GUEST_INIT: `${SCRIPTS_DIR}guest/init.sh`,
      APP_DEF: join(root, 'app'),
      VM_ROOT: root,
      HEADROOM_MB: '8',
    };
    const first = nodeScript('vm-image-build', env);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.json.cached, false);
    assert.ok(!existsSync(src), 'the unpacked tree is consumed');
    const disk = first.json.disk as string;
    assert.match(
      execFileSync('/usr/sbin/dumpe2fs', ['-h', disk], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
      /Filesystem volume name:\s+grim-root/,
    );
    const ls = execFileSync('/usr/sbin/debugfs', ['-R', 'ls -l /grim', disk], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    assert.match(ls, / app\n/);
    assert.match(
      execFileSync('/usr/sbin/debugfs', ['-R', 'stat /sbin/grim-init', disk], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
      /Mode:\s+0755/,
    );
    const again = nodeScript('vm-image-build', { KEY: 'sha256-abc', VM_ROOT: root });
    assert.equal(again.json.cached, true, 'the second build of the same key reuses the disk');
    assert.equal(nodeScript('vm-image-status', { KEY: 'sha256-abc', VM_ROOT: root }).json.cached, true);
    assert.equal(nodeScript('vm-image-build', { KEY: '../x', VM_ROOT: root }).json.ok, false);
    rmSync(root, { recursive: true, force: true });
  },
);

test(
  'vm-kernel-prepare.sh: extracts the ELF from a bzImage and builds the module initramfs in dependency order',
  { skip: !existsSync('/boot') && 'no /boot' },
  (t) => {
    const version = execFileSync('ls', ['/boot'], { encoding: 'utf8' })
      .split('\n')
      .find((f) => f.startsWith('vmlinuz-'))
      ?.slice(8);
    if (!version || !existsSync(`/lib/modules/${version}/modules.dep`))
      return t.skip('no distro kernel installed (apt-get install linux-image-amd64)');
    const root = tmp();
    const r = nodeScript('vm-kernel-prepare', {
      KERNEL_NAME: version,
      KERNEL_IMAGE: `/boot/vmlinuz-${version}`,
      INITRAMFS_INIT: `${SCRIPTS_DIR}guest/initramfs-init.sh`,
      MODULES_DIR: `/lib/modules/${version}`,
      VM_ROOT: root,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(r.json.vmlinux).subarray(0, 4).toString('latin1'), '\x7fELF');
    const order = execFileSync(
      'sh',
      ['-c', 'gzip -dc "$1" | cpio -i --to-stdout lib/modules/order 2>/dev/null', 'x', r.json.initramfs],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n');
    const at = (m: string) => order.indexOf(`${m}.ko`);
    for (const m of ['virtio_mmio', 'virtio_blk', 'virtio_net', 'ext4', 'jbd2'])
      assert.ok(at(m) >= 0, `${m} is in the initramfs`);
    assert.ok(
      at('virtio') < at('virtio_mmio') && at('virtio_mmio') < at('virtio_blk'),
      'dependencies load first',
    );
    assert.ok(at('jbd2') < at('ext4') && at('mbcache') < at('ext4'));
    assert.equal(
      nodeScript('vm-kernel-prepare', {
        KERNEL_NAME: version,
        KERNEL_IMAGE: `/boot/vmlinuz-${version}`,
        INITRAMFS_INIT: `${SCRIPTS_DIR}guest/initramfs-init.sh`,
        MODULES_DIR: `/lib/modules/${version}`,
        VM_ROOT: root,
      }).json.rebuilt,
      false,
    );
    rmSync(root, { recursive: true, force: true });
  },
);

test('vm-fc-api.sh carries requests to a Firecracker API socket (checked by the spec double)', async (t) => {
  const loaded = await loadSharedSpec('firecracker-v1.16.1.yaml');
  if (typeof loaded === 'string') return t.skip(loaded);
  const double = await FirecrackerDouble.start(loaded as OpenApiDocument);
  t.after(() => double.close());
  const put = await nodeScriptAsync('vm-fc-api', {
    SOCKET: double.socketPath,
    METHOD: 'PUT',
    API_PATH: '/machine-config',
    BODY: JSON.stringify({ vcpu_count: 2, mem_size_mib: 256, smt: false }),
  });
  assert.deepEqual(put, { status: 204, body: null });
  const get = await nodeScriptAsync('vm-fc-api', {
    SOCKET: double.socketPath,
    METHOD: 'GET',
    API_PATH: '/machine-config',
  });
  assert.equal(get.status, 200);
  assert.equal(get.body.vcpu_count, 2);
  const bad = await nodeScriptAsync('vm-fc-api', {
    SOCKET: double.socketPath,
    METHOD: 'PUT',
    API_PATH: '/machine-config',
    BODY: '{"vcpu_count":"two"}',
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.fault_message, /deserializ/);
  assert.equal(double.invalidRequests().length, 1, 'only the deliberately bad request broke the spec');
});
