// Volumes of container and qemu-microvm apps on a Debian lab: each app counts its starts in a file on its
// volume; after a redeploy the count goes on (the data survived the old instance). The container sees the
// volume as a bind mount; the microVM as an ext4 drive (a sparse file on the node) that grim's guest init
// mounts at the volume's mount point by its UUID.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execInNode } from '../../src/lab/node-control.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import type { ImageConfig } from '../../src/oci/types.ts';
import { startTestApp } from '../helpers/app.ts';
import { addLab, fetchText, waitJob } from '../helpers/apps-lab.ts';
import { withLab } from '../helpers/lab.ts';
import { assembleImage, gzipLayer, pushImage, tarDirectory } from '../helpers/oci-image.ts';
import { registryBinaryAvailable, startRegistry } from '../helpers/registry.ts';
import { labOpCtx } from './vm-support.ts';

const ALPINE =
  process.env.GRIM_ALPINE_ROOTFS ?? '/work/shared/fixtures/alpine/alpine-minirootfs-3.20.3-x86_64.tar.gz';

/** Counts its starts on the volume and serves "count N on <device> <fstype>". */
const COUNTER = `#!/bin/sh
d=\${GRIM_VOLUME_DATA:?}
n=$(cat "$d/counter" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$d/counter"
sync
mkdir -p /srv/www
echo "count $n on $(awk -v m="$d" '$2 == m { print $1, $3 }' /proc/mounts)" > /srv/www/index.html
/usr/local/bin/busybox httpd -f -p "$PORT" -h /srv/www &
pid=$!
trap 'kill $pid; wait $pid; exit 0' TERM
wait $pid
`;

function counterImage(work: string) {
  const dir = join(work, 'app-layer');
  mkdirSync(join(dir, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(dir, 'app'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'usr/local/bin/busybox'));
  writeFileSync(join(dir, 'app/start.sh'), COUNTER, { mode: 0o755 });
  const layers = [gzipLayer(readFileSync(ALPINE), true), gzipLayer(tarDirectory(dir))];
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: ['/bin/sh', '/app/start.sh'],
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'],
      User: '0:0',
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
  return assembleImage(layers, config);
}

function kernelVersion(): string | undefined {
  if (!existsSync('/boot')) return undefined;
  return readdirSync('/boot')
    .find((f) => f.startsWith('vmlinuz-'))
    ?.slice('vmlinuz-'.length);
}

function missing(vm: boolean): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (lab nodes)';
  if (!registryBinaryAvailable()) return 'docker-registry is not installed';
  if (!existsSync(ALPINE)) return `Alpine minirootfs not found at ${ALPINE} (set GRIM_ALPINE_ROOTFS)`;
  if (!vm)
    return existsSync('/usr/sbin/runc') || existsSync('/usr/bin/runc') ? undefined : 'runc is not installed';
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed';
  const k = kernelVersion();
  if (k === undefined || !existsSync(`/lib/modules/${k}/modules.dep`))
    return 'no guest kernel (linux-image-amd64)';
  return undefined;
}

function skipIf(t: TestContext, why: string | undefined): boolean {
  if (why === undefined) return false;
  if (process.env.CI) assert.fail(`CI cannot run this test: ${why}`);
  console.log(`# skip: ${why}`);
  t.skip(why);
  return true;
}

function withEnv(t: TestContext, vars: Record<string, string>) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  t.after(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
}

for (const runtime of ['container', 'qemu-microvm'] as const) {
  test(`${runtime} app keeps its volume's data across a redeploy`, { timeout: 900_000 }, async (t) => {
    const vm = runtime === 'qemu-microvm';
    if (skipIf(t, missing(vm))) return;
    const work = mkdtempSync(join(tmpdir(), 'grim-vol-rt-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const image = `${registry.host}/grim-test/counter:1`;
    await pushImage(new RegistryClient(), parseImageReference(image), counterImage(work));
    const lab = await withLab(t, { nodes: 1, os: 'debian' });
    if (!lab) return;
    const node = lab.nodes[0];
    if (vm) {
      execFileSync('ip', ['netns', 'exec', node.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      const k = kernelVersion() as string;
      const kernelPath = `/var/lib/grim/vm/boot/vmlinuz-${k}`;
      await labOpCtx(lab, node).upload(kernelPath, createReadStream(`/boot/vmlinuz-${k}`), 0o644);
      withEnv(t, {
        GRIM_VM_KERNEL: kernelPath,
        GRIM_VM_KERNEL_MODULES: `/lib/modules/${k}`,
        GRIM_VM_ACCEL: 'tcg',
      });
    }
    const a = await startTestApp(t);
    await addLab(a, lab, 'solo');
    const call = (m: string, u: string, body?: unknown) => a.call(m, u, { token: a.adminToken, body });
    const name = `${vm ? 'vv' : 'cv'}${randomBytes(3).toString('hex')}`;
    const created = await call('POST', '/api/apps', {
      name,
      environment: 'lab',
      group: 'solo',
      cpu: vm ? '1' : '250m',
      memory: vm ? '128Mi' : '64Mi',
      disk: '256Mi',
      runtime,
      ...(vm ? { network: 'nat' } : {}),
      source: { kind: 'image', image },
      ports: [{ name: 'http', port: 8080 }],
      health: { type: 'http', path: '/', intervalSec: 2, timeoutSec: 2, retries: vm ? 200 : 30 },
      volumes: [{ name: 'data', size: '64Mi', mount: '/data' }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const deploy = async () => {
      const r = await call('POST', `/api/apps/${name}/deploy`, {});
      assert.equal(r.status, 202, JSON.stringify(r.json));
      const j = await waitJob(a, r.json.jobId, 600_000);
      assert.equal(j.status, 'succeeded', JSON.stringify(j));
      const inst = (await call('GET', `/api/apps/${name}`)).json.app.instances[0];
      return fetchText(`http://${inst.address}:${inst.ports.http}/`);
    };
    const first = await deploy();
    const second = await deploy();
    console.log(`# ${runtime}: ${first.trim()} / ${second.trim()}`);
    const vol = `/var/lib/grim/volumes/${name}/data`;
    if (vm) {
      assert.match(first, /^count 1 on \/dev\/vd[a-z] ext4\n$/);
      assert.match(second, /^count 2 on \/dev\/vd[a-z] ext4\n$/, "the second VM found the first one's data");
      const onNode = await execInNode(
        lab,
        1,
        `ls -ls ${vol}/volume.ext4; dumpe2fs -h ${vol}/volume.ext4 2>/dev/null | grep -i 'volume name'`,
      );
      assert.match(onNode.stdout, /grim-vol/);
    } else {
      assert.match(first, /^count 1 on \S+ \S+\n$/);
      assert.match(second, /^count 2 on /);
      assert.equal(
        (await execInNode(lab, 1, `cat ${vol}/counter`)).stdout.trim(),
        '2',
        'the bind mount is the node directory',
      );
    }
    const del = await call('DELETE', `/api/apps/${name}?deleteVolumes=true`);
    assert.equal((await waitJob(a, del.json.jobId)).status, 'succeeded');
    assert.equal(
      (await execInNode(lab, 1, `test -e ${vol}; echo $?`)).stdout.trim(),
      '1',
      '--delete-volumes removed it',
    );
  });
}
