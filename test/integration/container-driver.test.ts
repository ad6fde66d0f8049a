// The container runtime on a Debian lab node, against a real local registry and an image built here: create
// (image streamed to the node, unpacked once per digest), start, HTTP through the published port, the size's
// limits in the instance's cgroup (v1 here), graceful stop, cache reuse, and a destroy that leaves nothing.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createContainerDriver, containerInstanceDir } from '../../src/drivers/container/index.ts';
import type { InstanceHandle, InstanceSpec, OpCtx } from '../../src/drivers/driver.ts';
import { execInNode } from '../../src/lab/node-control.ts';
import { nodeInitPid } from '../../src/lab/processes.ts';
import type { LabNode, LabState } from '../../src/lab/state.ts';
import { sha256Digest } from '../../src/oci/digest.ts';
import { MEDIA_TYPE } from '../../src/oci/media-types.ts';
import { parseImageReference } from '../../src/oci/reference.ts';
import { RegistryClient } from '../../src/oci/registry-client.ts';
import type { ImageConfig, ImageManifest } from '../../src/oci/types.ts';
import { scriptCommand } from '../../src/scripts/loader.ts';
import { withLab } from '../helpers/lab.ts';
import { freePort, registryBinaryAvailable, startRegistry } from '../helpers/registry.ts';
import { tarDirectory } from '../helpers/oci-image.ts';

const MiB = 1024 * 1024;

/** OpCtx on a lab node without SSH: scripts run with the node's /bin/sh inside all its namespaces (nsenter). */
function labCtx(node: LabNode, logs: string[]): OpCtx {
  async function enter(argv: string[], input: Buffer | NodeJS.ReadableStream | string) {
    const pid = await nodeInitPid(node);
    if (!pid) throw new Error(`lab node ${node.name} is not running`);
    const child = spawn('nsenter', ['-t', String(pid), '-a', '-r', '-w', '--', ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const done = new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 128));
    });
    child.stdin.on('error', () => {});
    if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else (input as Readable).pipe(child.stdin);
    const exitCode = await done;
    return { exitCode, stdout, stderr };
  }
  return {
    node: node.name,
    log: (line) => logs.push(line),
    async runScript(name, env, opts) {
      const cmd = scriptCommand(name, env);
      const started = Date.now();
      const envArgs = Object.entries(cmd.env).map(([k, v]) => `${k}=${v}`);
      const r = await enter(['env', ...envArgs, '/bin/sh', '-s'], `{\n${cmd.script}\n}\n`);
      const last = r.stdout.trimEnd().split('\n').pop() ?? '';
      let json: unknown;
      try {
        json = JSON.parse(last);
      } catch {
        json = undefined;
      }
      if (r.exitCode !== 0 || json === undefined) {
        throw new Error(
          `${name} failed on ${node.name} (exit ${r.exitCode}): ${last} ${r.stderr.slice(-500)}`,
        );
      }
      void opts;
      return { json, result: { ...r, durationMs: Date.now() - started, timedOut: false, json } };
    },
    async upload(path, data, mode = 0o600) {
      const r = await enter(
        [
          '/bin/sh',
          '-c',
          'umask 077 && cat >"$1.part" && chmod "$2" "$1.part" && mv -f "$1.part" "$1"',
          'sh',
          path,
          mode.toString(8),
        ],
        data,
      );
      if (r.exitCode !== 0) throw new Error(`upload of ${path} failed: ${r.stderr}`);
    },
  };
}

/**
 * What a real node has and a lab node lacks: the cgroup hierarchies its init (systemd, OpenRC) mounts, and a
 * writable /proc/sys/net (the lab binds it read-only, although it belongs to the node's own network namespace).
 */
async function prepareLabNode(lab: LabState): Promise<void> {
  await execInNode(
    lab,
    1,
    `mount -o remount,bind,rw /proc/sys/net
     mountpoint -q /sys/fs/cgroup/memory && exit 0
     mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
     for c in cpu cpuacct cpuset memory devices freezer blkio pids; do mkdir -p /sys/fs/cgroup/$c && mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c; done
     mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
     mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
     mount -t cgroup2 none /sys/fs/cgroup/unified`,
  );
}

const RUN_SH = `#!/bin/sh
# The test app: serves /www and its environment; stops cleanly on TERM.
mkdir -p /tmp/www && cp /www/* /tmp/www/
env > /tmp/www/env.txt
echo "uid=$(busybox id -u) gid=$(busybox id -g) cwd=$(pwd)" > /tmp/www/whoami.txt
echo "starting as $(busybox id -u) on port $PORT"
busybox httpd -f -p "$PORT" -h /tmp/www &
pid=$!
trap 'echo "graceful stop"; kill $pid; wait $pid; exit 0' TERM
wait $pid
`;

/** Two-layer web image: busybox + users + files; layer 2 adds the app and whites out /www/secret.txt. */
function buildWebImage(work: string) {
  const l1 = join(work, 'l1');
  for (const d of ['bin', 'etc', 'www', 'tmp']) mkdirSync(join(l1, d), { recursive: true });
  chmodSync(join(l1, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(l1, 'bin', 'busybox'));
  symlinkSync('busybox', join(l1, 'bin', 'sh'));
  writeFileSync(
    join(l1, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/www:/bin/sh\n',
  );
  writeFileSync(join(l1, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nweb:x:2000:app\n');
  writeFileSync(join(l1, 'www', 'index.html'), 'hello from a grim container\n');
  writeFileSync(join(l1, 'www', 'secret.txt'), 'removed by layer 2\n');
  const l2 = join(work, 'l2');
  mkdirSync(join(l2, 'www'), { recursive: true });
  mkdirSync(join(l2, 'app'), { recursive: true });
  writeFileSync(join(l2, 'www', '.wh.secret.txt'), '');
  writeFileSync(join(l2, 'app', 'run.sh'), RUN_SH, { mode: 0o755 });
  const layers = [tarDirectory(l1), tarDirectory(l2)].map((tar) => {
    const data = gzipSync(tar);
    return {
      data,
      diffId: sha256Digest(tar),
      descriptor: { mediaType: MEDIA_TYPE.ociLayerGzip, digest: sha256Digest(data), size: data.length },
    };
  });
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: ['/bin/sh'],
      Cmd: ['/app/run.sh'],
      Env: ['PATH=/bin', 'GREETING=from-image', 'IMAGE_ONLY=1'],
      WorkingDir: '/www',
      User: 'app',
      ExposedPorts: { '8080/tcp': {} },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, digest: sha256Digest(configBytes), size: configBytes.length },
    layers: layers.map((l) => l.descriptor),
  };
  return { layers, configBytes, manifest };
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function skipUnless(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return false;
  console.log(`# skip: ${reason}`);
  t.skip(reason);
  return true;
}

test(
  'container driver on a lab node: registry image, published port, cgroup limits, graceful stop, cache, clean destroy',
  { timeout: 600_000 },
  async (t) => {
    if (skipUnless(t, process.getuid?.() === 0, 'needs root (lab nodes, runc)')) return;
    if (
      skipUnless(
        t,
        registryBinaryAvailable(),
        'docker-registry is not installed (apt-get install docker-registry)',
      )
    )
      return;
    if (skipUnless(t, existsSync('/usr/sbin/runc') || existsSync('/usr/bin/runc'), 'runc is not installed'))
      return;
    const lab = await withLab(t, { nodes: 1, os: 'debian' });
    if (!lab) return;
    const node = lab.nodes[0];
    await prepareLabNode(lab);

    const registry = await startRegistry();
    t.after(() => registry.stop());
    const work = mkdtempSync(join(tmpdir(), 'grim-container-test-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const image = buildWebImage(work);
    const pusher = new RegistryClient();
    const ref = parseImageReference(`${registry.host}/grim-test/web:1`);
    for (const l of image.layers) await pusher.pushBlob(ref, l.data, l.descriptor.mediaType);
    await pusher.pushBlob(ref, image.configBytes, MEDIA_TYPE.ociConfig);
    await pusher.pushManifest(ref, Buffer.from(JSON.stringify(image.manifest)), MEDIA_TYPE.ociManifest, '1');

    const blobGets: string[] = [];
    const counting: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if ((init?.method ?? 'GET') === 'GET' && url.includes('/blobs/sha256:')) blobGets.push(url);
      return fetch(input, init);
    };
    const client = new RegistryClient({ fetch: counting });
    const logs: string[] = [];
    const ctx = labCtx(node, logs);
    const driver = createContainerDriver({ registry: client, runtime: 'runc', firewall: 'nft' });

    const fp = await driver.fingerprint(ctx);
    assert.equal(fp.available, true, `fingerprint: ${fp.reason}`);

    const hostPort = await freePort();
    const spec: InstanceSpec = {
      instanceId: 'web-1',
      app: 'web',
      environment: 'test',
      release: 1,
      resources: { cpuMillis: 250, memoryBytes: 96 * MiB, diskBytes: 256 * MiB },
      env: { GREETING: 'from-app', SECRET_TOKEN: 's3cr3t value' },
      ports: [{ name: 'http', port: 8080, hostPort, protocol: 'tcp' }],
      source: { kind: 'image', image: `${registry.host}/grim-test/web:1` },
    };
    const handles: InstanceHandle[] = [];
    const figures: Record<string, number> = {};
    async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
      const started = Date.now();
      const result = await fn();
      figures[what] = Date.now() - started;
      return result;
    }
    t.after(async () => {
      for (const h of handles) await driver.destroy(h, ctx).catch(() => {});
    });

    const h1 = await timed('create (image sent and unpacked)', () => driver.create(spec, ctx));
    handles.push(h1);
    assert.equal(h1.driver, 'container');
    assert.equal(blobGets.length, 3, `two layers and the config fetched once: ${blobGets.join(', ')}`);
    const before = await driver.inspect(h1, ctx);
    assert.equal(before.state, 'stopped');
    assert.equal(containerInstanceDir(h1), h1.data.instanceDir);

    await timed('start', () => driver.start(h1, ctx));
    await driver.start(h1, ctx); // idempotent
    const running = await driver.inspect(h1, ctx);
    assert.equal(running.state, 'running', JSON.stringify(running));
    assert.ok(running.pid && running.pid > 1);
    const cg = running.detail?.cgroup as Record<string, unknown>;
    assert.equal(cg.version, 1);
    assert.equal(cg.path, '/grim/web-1');
    assert.equal(cg.memoryLimitBytes, 96 * MiB);
    assert.equal(cg.cpuQuotaUs, 25_000);
    assert.equal(cg.cpuPeriodUs, 100_000);
    assert.equal(cg.pidsMax, 1024);
    // Read back independently of the driver's script.
    const limits = await execInNode(
      lab,
      1,
      'cat /sys/fs/cgroup/memory/grim/web-1/memory.limit_in_bytes /sys/fs/cgroup/cpu/grim/web-1/cpu.cfs_quota_us /sys/fs/cgroup/pids/grim/web-1/pids.max',
    );
    assert.deepEqual(limits.stdout.trim().split('\n'), [String(96 * MiB), '25000', '1024']);

    const base = `http://${node.address}:${hostPort}`;
    const index = await httpGet(`${base}/index.html`);
    assert.equal(index.status, 200);
    assert.equal(index.body, 'hello from a grim container\n');
    assert.equal((await httpGet(`${base}/secret.txt`)).status, 404, 'the whiteout removed /www/secret.txt');
    const env = (await httpGet(`${base}/env.txt`)).body;
    assert.match(env, /^GREETING=from-app$/m, 'app env wins over image env');
    assert.match(env, /^IMAGE_ONLY=1$/m);
    assert.match(env, /^PORT=8080$/m);
    assert.match(env, /^PORT_HTTP=8080$/m);
    assert.match(env, /^SECRET_TOKEN=s3cr3t value$/m);
    assert.match(env, /^HOSTNAME=web-1$/m);
    assert.equal(
      (await httpGet(`${base}/whoami.txt`)).body,
      'uid=1000 gid=1000 cwd=/www\n',
      'image user "app" resolved from its /etc/passwd',
    );
    const local = await execInNode(lab, 1, `wget -qO- http://127.0.0.1:${hostPort}/index.html`);
    assert.equal(local.stdout, 'hello from a grim container\n', 'published on the node loopback too');

    await timed('graceful stop', () => driver.stop(h1, ctx, 10_000));
    const stopped = await driver.inspect(h1, ctx);
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.detail?.lastExit, 0, 'the app handled TERM and exited 0 (no KILL)');
    const out = await driver.logs!(h1, ctx, 50);
    assert.match(out, /starting as 1000 on port 8080/);
    assert.match(out, /graceful stop/);
    await assert.rejects(fetch(`${base}/index.html`, { signal: AbortSignal.timeout(2000) }));

    // Restart after stop works (network and rootfs are re-ensured by container-run.sh).
    await driver.start(h1, ctx);
    assert.equal((await httpGet(`${base}/index.html`)).status, 200);
    const restarted = await driver.inspect(h1, ctx);
    assert.equal(restarted.restarts, 1);

    // Second instance of the same digest, with crun and iptables: no blob is downloaded again.
    const fetchedBefore = blobGets.length;
    const driver2 = createContainerDriver({ registry: client, runtime: 'crun', firewall: 'iptables' });
    const hostPort2 = await freePort();
    const h2 = await timed('create (cached image, crun, iptables)', () =>
      driver2.create(
        { ...spec, instanceId: 'web-2', ports: [{ port: 8080, hostPort: hostPort2, protocol: 'tcp' }] },
        ctx,
      ),
    );
    handles.push(h2);
    assert.equal(blobGets.length, fetchedBefore, 'the cached image is reused: no blob fetched');
    assert.ok(logs.some((l) => l.includes('is cached on')));
    assert.notEqual(h2.data.ip, h1.data.ip);
    await driver2.start(h2, ctx);
    assert.equal((await httpGet(`http://${node.address}:${hostPort2}/index.html`)).status, 200);
    const s2 = await driver2.inspect(h2, ctx);
    assert.equal((s2.detail?.cgroup as Record<string, unknown>).memoryLimitBytes, 96 * MiB);
    const images = await execInNode(lab, 1, 'ls /var/lib/grim/images');
    assert.equal(images.stdout.trim().split('\n').length, 1, 'one unpacked image on the node');

    // An overlay rootfs where the state dir allows one (the lab node's root is an overlay itself: copies above).
    await execInNode(
      lab,
      1,
      'mkdir -p /srv/grim-tmpfs && mount -t tmpfs -o size=64m grim-test /srv/grim-tmpfs',
    );
    const driver3 = createContainerDriver({
      registry: client,
      stateDir: '/srv/grim-tmpfs',
      addressPool: '10.254.0.0/24',
      rootfs: 'overlay',
    });
    const hostPort3 = await freePort();
    const h3 = await driver3.create(
      { ...spec, instanceId: 'web-3', ports: [{ port: 8080, hostPort: hostPort3, protocol: 'tcp' }] },
      ctx,
    );
    handles.push(h3);
    assert.equal(h1.data.rootfs, 'copy');
    assert.equal(h3.data.rootfs, 'overlay');
    assert.equal(h3.data.ip, '10.254.0.2');
    await driver3.start(h3, ctx);
    assert.equal((await httpGet(`http://${node.address}:${hostPort3}/index.html`)).status, 200);

    await timed('destroy', () => driver.destroy(h1, ctx));
    await driver2.destroy(h2, ctx);
    await driver2.destroy(h2, ctx); // idempotent
    await driver3.destroy(h3, ctx);
    handles.length = 0;
    assert.equal((await driver.inspect(h1, ctx)).state, 'missing');
    t.diagnostic(`milliseconds: ${JSON.stringify(figures)}`);
    const leftovers = await execInNode(
      lab,
      1,
      `ip netns list; ip -o link show | grep -o 'gv[0-9a-f]*' ; nft list ruleset | grep -i grim; iptables -w -t nat -S | grep -i grim; iptables -w -S | grep -i grim
     ls /var/lib/grim/containers /var/lib/grim/net/slots /srv/grim-tmpfs/containers /srv/grim-tmpfs/net/slots /run/grim/runc /run/grim/crun 2>/dev/null
     ls -d /sys/fs/cgroup/*/grim/web-[123]/ 2>/dev/null; grep -e /var/lib/grim -e /srv/grim-tmpfs/containers /proc/self/mounts; true`,
    );
    assert.equal(
      leftovers.stdout.replace(/^\S+:$/gm, '').trim(),
      '',
      `nothing left behind:\n${leftovers.stdout}`,
    );
  },
);
