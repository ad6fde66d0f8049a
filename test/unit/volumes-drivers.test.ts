// How each runtime attaches volumes: the container's OCI spec gets read-write bind mounts; microVMs get the ext4
// image as a drive and a grim-meta/volumes list the guest init mounts by UUID; Firecracker's boot plan (jailed
// or not) carries one read-write drive per volume, every request valid against the official v1.16.1 API spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeSpec } from '../../src/drivers/container/runtime-spec.ts';
import { buildMetadataTar } from '../../src/drivers/vm-image/metadata.ts';
import { volumeDrives } from '../../src/drivers/vm-image/volumes.ts';
import { planFile, vmLayout } from '../../src/drivers/firecracker/vm-layout.ts';
import { SCRIPTS_DIR } from '../../src/scripts/loader.ts';
import { bootPlan } from '../../src/drivers/firecracker/boot-plan.ts';
import { volumeFsUuid } from '../../src/services/volumes/volume-service.ts';
import type { InstanceSpec } from '../../src/drivers/driver.ts';
import type { HostCommand } from '../../src/drivers/firecracker/host-command.ts';
import { loadSharedSpec, formatIssues, type OpenApiDocument } from '../helpers/openapi-validator.ts';

const loaded = await loadSharedSpec('firecracker-v1.16.1.yaml');
const fcSkip = typeof loaded === 'string' ? loaded : false;
if (fcSkip) console.log(`# skipping the Firecracker spec check: ${fcSkip}`);

const uuid = volumeFsUuid('db', 'data');

test('ext4 UUIDs are stable per app volume and well formed', () => {
  assert.equal(volumeFsUuid('db', 'data'), uuid);
  assert.notEqual(volumeFsUuid('db', 'logs'), uuid);
  assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('containers get each volume as a read-write bind mount', () => {
  const spec = buildRuntimeSpec({
    instanceId: 'db-1-abcde',
    image: { argv: ['/bin/sh'], envMap: {}, workingDir: '/', user: '', exposedPorts: [] } as any,
    appEnv: {},
    ports: [],
    resources: { cpuMillis: 100, memoryBytes: 64 * 1024 * 1024, diskBytes: 0 },
    user: { uid: 0, gid: 0 },
    instanceDir: '/var/lib/grim/containers/db-1-abcde',
    netnsPath: '/run/netns/x',
    cgroupsPath: '/grim/x',
    pidsLimit: 100,
    volumes: [
      { name: 'data', kind: 'local', mount: '/var/lib/db', hostPath: '/var/lib/grim/volumes/db/data' },
      { name: 'media', kind: 'shared', mount: '/srv/media', hostPath: '/srv/grim-shared/lab/db/media' },
    ],
  });
  const binds = spec.mounts.filter(
    (m) => m.source.startsWith('/var/lib/grim/volumes') || m.source.startsWith('/srv'),
  );
  assert.deepEqual(binds, [
    {
      destination: '/var/lib/db',
      type: 'bind',
      source: '/var/lib/grim/volumes/db/data',
      options: ['rbind', 'rw', 'nosuid', 'nodev'],
    },
    {
      destination: '/srv/media',
      type: 'bind',
      source: '/srv/grim-shared/lab/db/media',
      options: ['rbind', 'rw', 'nosuid', 'nodev'],
    },
  ]);
});

test('microVMs: the metadata drive lists the volumes to mount; a shared volume cannot be a drive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grim-meta-'));
  try {
    const tar = buildMetadataTar({
      hostname: 'db-1',
      env: {},
      volumes: [{ fsUuid: uuid, mount: '/var/lib/db' }],
    });
    writeFileSync(join(dir, 'meta.tar'), tar);
    const listed = execFileSync('tar', ['-xOf', join(dir, 'meta.tar'), 'grim-meta/volumes'], {
      encoding: 'utf8',
    });
    assert.equal(listed, `${uuid} /var/lib/db\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() =>
    buildMetadataTar({ hostname: 'x', env: {}, volumes: [{ fsUuid: 'nope', mount: '/d' }] }),
  );
  assert.throws(() =>
    buildMetadataTar({ hostname: 'x', env: {}, volumes: [{ fsUuid: uuid, mount: '/a/../etc' }] }),
  );
  const spec = (volumes: InstanceSpec['volumes']) => ({ volumes }) as InstanceSpec;
  assert.deepEqual(
    volumeDrives(
      spec([
        { name: 'data', kind: 'local', mount: '/d', hostPath: '/v', image: '/v/volume.ext4', fsUuid: uuid },
      ]),
    ),
    [{ image: '/v/volume.ext4', fsUuid: uuid, mount: '/d' }],
  );
  assert.throws(
    () => volumeDrives(spec([{ name: 'm', kind: 'shared', mount: '/m', hostPath: '/srv/x' }])),
    /block devices only/,
  );
});

test(
  'Firecracker boot plans carry one read-write drive per volume, valid against the API spec',
  { skip: fcSkip },
  () => {
    const fcSpec = loaded as OpenApiDocument;
    const base = {
      instanceId: 'db-1-abcde',
      size: { cpu: '500m', memoryMib: 128 },
      network: {
        hostDevName: 'gvtabc',
        guestIp: { address: '10.0.0.2', prefixLength: 24, gateway: '10.0.0.1' },
      },
    };
    const input = {
      instanceId: 'db-1-abcde',
      dir: '/var/lib/grim/vm/instances/db-1-abcde',
      kernel: { vmlinux: '/boot/vmlinux', bootArgs: 'console=ttyS0' },
      hasAppDrive: false,
      volumeImages: [
        '/var/lib/grim/volumes/db/data/volume.ext4',
        '/var/lib/grim/volumes/db/logs/volume.ext4',
      ],
      tap: 'gvtabc',
      bridge: 'br0',
      base,
      firecrackerPath: '/usr/local/bin/firecracker',
    };
    const plain = bootPlan(vmLayout(input).boot);
    const jailedLayout = vmLayout({
      ...input,
      jail: {
        host: {
          jailerPath: '/usr/local/bin/jailer',
          firecrackerPath: '/usr/local/bin/firecracker',
          idRange: { first: 900000, count: 100 },
        } as any,
        uid: 900001,
      },
    });
    const jailed = bootPlan(jailedLayout.boot);
    for (const [plan, paths] of [
      [plain, input.volumeImages],
      [jailed, ['/volume-0.ext4', '/volume-1.ext4']],
    ] as const) {
      const drives = plan.filter((r) => r.path.startsWith('/drives/volume'));
      assert.deepEqual(
        drives.map((r) => [
          r.method,
          r.path,
          (r.body as any).path_on_host,
          (r.body as any).is_read_only,
          (r.body as any).is_root_device,
        ]),
        paths.map((p, i) => ['PUT', `/drives/volume${i}`, p, false, false]),
      );
      for (const r of plan) {
        const { issues } = fcSpec.validateRequest(
          { method: r.method, url: r.path, body: r.body },
          { forbidUnknownProperties: true },
        );
        assert.deepEqual(issues, [], `${r.method} ${r.path}: ${formatIssues(issues)}`);
      }
    }
    // Jailed: each volume drive is bind-mounted into the chroot (never hard-linked: a ZFS dataset is another
    // filesystem), owned by the VM user; the cleanup unmounts it before it removes the jail directory.
    const root = '/srv/jailer/firecracker/db-1-abcde/root';
    const steps = jailedLayout.prepare.map((c) => `${c.ignoreFailure ? 'may' : 'must'} ${c.argv.join(' ')}`);
    assert.ok(!steps.some((l) => l.startsWith('must ln') && l.includes('volume')));
    input.volumeImages.forEach((image, i) => {
      const at = `${root}/volume-${i}.ext4`;
      const mount = steps.indexOf(`must mount --bind ${image} ${at}`);
      assert.ok(mount > 0, planFile(jailedLayout.prepare));
      assert.ok(steps.indexOf(`must chown 900001:900001 ${at}`) > mount);
    });
    const cleanup = jailedLayout.cleanup.map((c) => c.argv.join(' '));
    assert.deepEqual(cleanup.slice(0, 2), [`umount ${root}/volume-0.ext4`, `umount ${root}/volume-1.ext4`]);
    assert.match(cleanup.at(-1) as string, /^rm -rf -- \/srv\/jailer\/firecracker\/db-1-abcde$/);
  },
);

test(
  "jailed volume drives for real: a bind mount crosses filesystems where a hard link fails, the jailer's recursive bind sees it, cleanup leaves the data",
  { skip: process.getuid?.() === 0 || process.env.CI ? false : 'needs root (mount)' },
  () => {
    // The volume lives on tmpfs (like a ZFS dataset: not the chroot base's filesystem).
    const volDir = mkdtempSync('/dev/shm/grim-vol-');
    const base = mkdtempSync(join(tmpdir(), 'grim-jail-'));
    try {
      const image = join(volDir, 'volume.ext4');
      writeFileSync(image, 'volume data\n');
      const layout = vmLayout({
        instanceId: 'db-1-abcde',
        dir: base,
        kernel: { vmlinux: image, bootArgs: '' },
        hasAppDrive: false,
        volumeImages: [image],
        tap: 'gvtabc',
        bridge: 'br0',
        base: { instanceId: 'db-1-abcde', size: { cpu: '500m', memoryMib: 128 } } as any,
        firecrackerPath: '/usr/local/bin/firecracker',
        jail: {
          host: {
            jailerPath: '/j',
            firecrackerPath: '/usr/local/bin/firecracker',
            chrootBaseDir: base,
            idRange: { first: 65534, count: 1 },
          } as any,
          uid: 65534,
        },
      });
      const root = join(base, 'firecracker', 'db-1-abcde', 'root');
      const sh = (lines: string[]) => execFileSync('sh', ['-c', lines.join('\n')], { encoding: 'utf8' });
      // Plans run as on the node: through scripts/lib/plan.sh (run_plan), argv as data.
      const runPlan = (commands: HostCommand[]) => {
        writeFileSync(join(base, 'plan'), planFile(commands));
        const lib = readFileSync(`${SCRIPTS_DIR}lib/plan.sh`, 'utf8');
        execFileSync('sh', ['-c', `${lib}\nrun_plan "$1"`, 'plan', join(base, 'plan')], { encoding: 'utf8' });
      };
      assert.throws(
        () => execFileSync('ln', ['-f', image, join(base, 'x')], { stdio: 'pipe' }),
        /Invalid cross-device link/,
      );
      // The staging lines for the jail root and the volume (kernel links and the TAP are beside the point here).
      const staging = layout.prepare.filter(
        (c) => c.argv.includes(`${root}/volume-0.ext4`) || (c.argv[0] === 'mkdir' && c.argv[1] === '-p'),
      );
      runPlan(staging);
      runPlan(staging); // re-run before a restart: the stale mount is replaced, not stacked
      const inJail = join(root, 'volume-0.ext4');
      assert.equal(
        execFileSync('grep', ['-c', ` ${inJail} `, '/proc/self/mounts'], { encoding: 'utf8' }),
        '1\n',
      );
      // What the jailer does (jailer.md): a new mount namespace, chroot_dir bound onto itself with MS_REC.
      const seen = execFileSync(
        'unshare',
        [
          '-m',
          '--propagation',
          'slave',
          'sh',
          '-c',
          `mount --rbind "$0" "$0" && cat "$0/volume-0.ext4"`,
          root,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(seen, 'volume data\n');
      sh([`printf 'written by the VM\\n' >> ${inJail}`]);
      assert.equal(execFileSync('stat', ['-c', '%u %a', image], { encoding: 'utf8' }), '65534 600\n');
      runPlan(layout.cleanup.filter((c) => c.argv[0] === 'umount' || c.argv[0] === 'rm'));
      assert.equal(execFileSync('cat', [image], { encoding: 'utf8' }), 'volume data\nwritten by the VM\n');
      assert.ok(!execFileSync('cat', ['/proc/self/mounts'], { encoding: 'utf8' }).includes(inJail));
    } finally {
      execFileSync('sh', [
        '-c',
        `umount "$0"/firecracker/*/root/volume-* 2>/dev/null; rm -rf "$0" "$1"`,
        base,
        volDir,
      ]);
    }
  },
);
