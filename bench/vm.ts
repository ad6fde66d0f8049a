// MicroVM benchmark (run as root): npm run bench:vm
// On one Debian lab node, through grim's SSH pool: layer upload rate and image -> root disk build time for a
// ~50 MB OCI image, cold (with the old chunked upload path and the new one-channel path, in the same run) and cached;
// boot-to-healthy (first HTTP 200 from the host) for qemu-microvm under TCG; per-VM memory overhead
// of the VMM on the node (QEMU anonymous memory outside the guest-RAM mapping). Firecracker cannot boot
// here (no nested KVM), so its published figures are quoted for comparison.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labUp, execInNode } from '../src/lab/lab.ts';
import { createQemuMicrovmDriver } from '../src/drivers/qemu/driver.ts';
import { ensureOciRootfs } from '../src/drivers/vm-image/pipeline.ts';
import type { InstanceSpec, OpCtx } from '../src/drivers/driver.ts';
import { SshPool, runScript, uploadFile, type SshTarget } from '../src/ssh/index.ts';
import { withChunkedUpload } from './old-upload.ts';
import { RegistryClient } from '../src/oci/registry-client.ts';
import { parseImageReference } from '../src/oci/reference.ts';
import { IpamStore } from '../src/services/ipam-store.ts';
import { openSqlite } from '../src/store/sqlite.ts';
import { migrate } from '../src/store/migrate.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { pushImage } from '../test/helpers/oci-image.ts';
import { buildAlpineHttpImage, labOpCtx, waitForHttp } from '../test/integration/vm-support.ts';

const ALPINE =
  process.env.GRIM_ALPINE_ROOTFS ?? '/work/shared/fixtures/alpine/alpine-minirootfs-3.20.3-x86_64.tar.gz';
const BOOTS = Number(process.env.VM_BENCH_BOOTS ?? 3);
const ms = (n: number) => `${Math.round(n)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const version = readdirSync('/boot')
    .find((f) => f.startsWith('vmlinuz-'))
    ?.slice(8);
  if (!version) throw new Error('no /boot/vmlinuz-*: apt-get install linux-image-amd64');
  const work = mkdtempSync(join(tmpdir(), 'grim-vmbench-'));
  const registry = await startRegistry();
  const labName = `vb${Date.now().toString(36).slice(-4)}`;
  try {
    const client = new RegistryClient();
    const ref = parseImageReference(`${registry.host}/bench/alpine-50m:1`);
    const image = buildAlpineHttpImage(work, ALPINE, 44 * 1024 * 1024);
    await pushImage(client, ref, image);
    const imageBytes = image.layers.reduce((s, l) => s + l.descriptor.size, 0);
    const lab = await labUp({ name: labName, nodes: 1, os: 'debian' });
    const node = lab.nodes[0];
    execFileSync('ip', ['netns', 'exec', node.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const ctx = labOpCtx(lab, node);
    // grim's own path to the node: the pooled SSH connection, scripts and uploads as the server runs them.
    const pool = new SshPool({ privateKey: readFileSync(lab.clientKeyPath, 'utf8') });
    const target: SshTarget = {
      nodeId: node.name,
      address: node.address,
      port: 22,
      user: 'root',
      hostKeyFingerprint: node.hostKeyFingerprint,
    };
    const newCtx: OpCtx = {
      node: node.name,
      log: () => {},
      runScript: (name, env, opts) =>
        runScript(pool, target, name, env, { timeoutMs: opts?.timeoutMs ?? 300_000 }),
      upload: async (path, data, mode, sha256) => {
        await uploadFile(pool, target, path, data, { mode, sha256 });
      },
    };
    const oldCtx = withChunkedUpload(newCtx);
    const imageRef = `${registry.host}/bench/alpine-50m:1`;

    // Layer upload: the largest layer, both ways (warm connection: one small script first).
    await newCtx.runScript('app-list', {});
    const layer = [...image.layers].sort((a, b) => b.descriptor.size - a.descriptor.size)[0];
    const rate = async (c: OpCtx, path: string) => {
      const t0 = performance.now();
      await c.upload(path, layer.data, 0o600, layer.descriptor.digest);
      const s = (performance.now() - t0) / 1000;
      return { s, mbps: layer.descriptor.size / 1e6 / s };
    };
    const oldUpload = await rate(oldCtx, '/var/lib/grim/bench/layer-old');
    const newUpload = await rate(newCtx, '/var/lib/grim/bench/layer-new');
    await execInNode(lab, 1, 'rm -rf /var/lib/grim/bench');

    // Image -> root disk, cold: each path builds into its own (empty) VM root, so neither finds the other's cache.
    let t = performance.now();
    const coldOld = await ensureOciRootfs(oldCtx, client, imageRef, {
      vmRoot: '/var/lib/grim/vm-old',
      headroomMb: 64,
    });
    const coldOldMs = performance.now() - t;
    await execInNode(lab, 1, 'rm -rf /var/lib/grim/vm-old');
    const pipe = { vmRoot: '/var/lib/grim/vm', headroomMb: 64 };
    t = performance.now();
    const cold = await ensureOciRootfs(newCtx, client, imageRef, pipe);
    const coldMs = performance.now() - t;
    t = performance.now();
    const warm = await ensureOciRootfs(newCtx, client, imageRef, pipe);
    const warmMs = performance.now() - t;
    pool.close();
    if (coldOld.cached || cold.cached || !warm.cached)
      throw new Error('cache did not behave (cold must build, second must hit)');

    const db = openSqlite(join(work, 'grim.db'));
    await migrate(db);
    const ipam = new IpamStore(db);
    await ipam.savePool({
      id: 'nat-n1',
      cidr: '172.31.0.0/24',
      gateway: '172.31.0.1',
      scope: { kind: 'node', id: 'n1' },
    });
    const kernelPath = `/var/lib/grim/vm/boot/vmlinuz-${version}`;
    await ctx.upload(kernelPath, createReadStream(`/boot/vmlinuz-${version}`), 0o644);
    const driver = createQemuMicrovmDriver({
      registry: client,
      kernel: { name: version, image: kernelPath, modulesDir: `/lib/modules/${version}` },
      network: { ipam },
      accel: 'tcg',
    });
    const boots: number[] = [];
    const initAt: number[] = [];
    const overheads: number[] = [];
    const rss: number[] = [];
    const tcgCache: number[] = [];
    for (let i = 0; i < BOOTS; i++) {
      const spec: InstanceSpec = {
        instanceId: `bench-${i}`,
        app: 'bench',
        environment: 'bench',
        release: 1,
        resources: { cpuMillis: 1000, memoryBytes: 128 * 1024 * 1024, diskBytes: 0 },
        env: { GREETING: 'bench', SECRET: 'x' },
        ports: [{ port: 80, hostPort: 19080 + i, protocol: 'tcp' }],
        source: { kind: 'image', image: `${registry.host}/bench/alpine-50m:1` },
      };
      const h = await driver.create(spec, ctx);
      const started = performance.now();
      await driver.start(h, ctx);
      await waitForHttp(`http://${node.address}:${19080 + i}/`, 120_000);
      boots.push(performance.now() - started);
      const log = await driver.logs!(h, ctx, 400);
      const m = /grim-init: started at uptime ([0-9.]+)/.exec(log);
      if (m) initAt.push(Number(m[1]) * 1000);
      // Anonymous (private) memory of the QEMU process outside the guest-RAM mapping (128 MiB): the VMM's own cost.
      // The translation cache (tb-size=32 MiB) is TCG-only; the mmapped vmlinux is shared page cache.
      const smaps = `pid=$(cat /var/lib/grim/vm/instances/bench-${i}/qemu.pid); awk '/^[0-9a-f]+-[0-9a-f]+ / { size = -1 } /^Size:/ { size = $2 } /^Rss:/ { total += $2; if (size == 131072) guest += $2 } /^Anonymous:/ { if (size != 131072) priv += $2; if (size == 32768 || size == 32764) tcg += $2 } END { print total, guest, priv, tcg }' /proc/$pid/smaps`;
      const mem = await execInNode(lab, 1, smaps);
      const [total, , priv, tcg] = mem.stdout.trim().split(/\s+/).map(Number);
      rss.push(total / 1024);
      overheads.push(priv / 1024);
      tcgCache.push(tcg / 1024);
      await driver.stop(h, ctx, 20_000);
      await driver.destroy(h, ctx);
    }
    const mib = (n: number) => `${n.toFixed(1)} MiB`;
    console.log(
      `\n## grim microVM benchmark (${new Date().toISOString()}, ${execFileSync('nproc').toString().trim()} cores, QEMU TCG: no usable KVM here)\n`,
    );
    console.log('| measure | grim here | Firecracker published |');
    console.log('|---|---|---|');
    console.log(
      `| layer upload to the lab node, old path (one exec per 48 KiB, base64; ${(layer.descriptor.size / 1e6).toFixed(1)} MB) | ${oldUpload.mbps.toFixed(1)} MB/s (${oldUpload.s.toFixed(2)} s) | - |`,
    );
    console.log(
      `| layer upload to the lab node, new path (one SSH channel, sha256 checked) | ${newUpload.mbps.toFixed(1)} MB/s (${newUpload.s.toFixed(2)} s) | - |`,
    );
    console.log(
      `| image -> root disk, cold, old upload path (${(imageBytes / 1e6).toFixed(1)} MB compressed, ${(cold.contentBytes / 1e6).toFixed(1)} MB unpacked, disk ${(cold.sizeBytes / 1e6).toFixed(0)} MB) | ${ms(coldOldMs)} | - |`,
    );
    console.log(`| image -> root disk, cold, new upload path | ${ms(coldMs)} | - |`);
    console.log(`| image -> root disk, cached (same digest) | ${ms(warmMs)} | - |`);
    console.log(
      `| qemu-microvm (TCG) start -> guest init (guest uptime at PID 1, median of ${initAt.length}) | ${ms(median(initAt))} | <= 125 ms to guest init (KVM) |`,
    );
    console.log(
      `| qemu-microvm (TCG) start -> first HTTP 200 from the host (median of ${boots.length}) | ${ms(median(boots))} (${boots.map(ms).join(', ')}) | - |`,
    );
    console.log(
      `| VMM memory overhead per VM (private anonymous memory outside guest RAM; 128 MiB guest) | ${mib(median(overheads))}, of which TCG translation cache ${mib(median(tcgCache))} (total RSS ${mib(median(rss))}, incl. shared page cache of the mmapped vmlinux) | <= 5 MiB |`,
    );
    console.log(
      '| firecracker driver boot | not measurable here: Firecracker needs KVM; the driver is tested against the API double | - |',
    );
  } finally {
    await labDown(labName).catch(() => {});
    await registry.stop();
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

await main();
