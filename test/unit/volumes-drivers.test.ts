// How each runtime attaches volumes: the container's OCI spec gets read-write bind mounts; microVMs get the ext4
// image as a drive and a grim-meta/volumes list the guest init mounts by UUID; Firecracker's boot plan (jailed
// or not) carries one read-write drive per volume, every request valid against the official v1.16.1 API spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeSpec } from '../../src/drivers/container/runtime-spec.ts';
import { buildMetadataTar } from '../../src/drivers/vm-image/metadata.ts';
import { volumeDrives } from '../../src/drivers/vm-image/volumes.ts';
import { vmLayout } from '../../src/drivers/firecracker/vm-layout.ts';
import { bootPlan } from '../../src/drivers/firecracker/boot-plan.ts';
import { volumeFsUuid } from '../../src/services/volumes/volume-service.ts';
import type { InstanceSpec } from '../../src/drivers/driver.ts';
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
    // Jailed: the volume image is hard-linked into the chroot (the VM writes the volume itself, not a copy).
    const links = jailedLayout.run.filter((l) => l.startsWith("'ln' '-f'") && l.includes('volume'));
    assert.equal(links.length, 2, jailedLayout.run.join('\n'));
  },
);
