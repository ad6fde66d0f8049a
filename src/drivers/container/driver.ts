/**
 * The `container` runtime: OCI images run with runc (or crun) on the node, no daemon. The control node resolves
 * the image and streams only the blobs the node lacks; the node unpacks them once per manifest digest
 * (scripts/node/oci-unpack.sh), and each instance gets a bundle (config.json built here), a network namespace on
 * a private /30 with its ports DNAT-published on the node, and cgroup limits from its size.
 */
import { createHash, randomBytes } from 'node:crypto';
import { extractRuntimeConfig } from '../../oci/image-config.ts';
import { layerCompression } from '../../oci/media-types.ts';
import type { PlatformSpec } from '../../oci/platform.ts';
import { RegistryClient } from '../../oci/registry-client.ts';
import type { ImageConfig } from '../../oci/types.ts';
import { scriptFor } from '../../scripts/loader.ts';
import type {
  DriverCapabilities,
  DriverFingerprint,
  InstanceHandle,
  InstanceSpec,
  InstanceState,
  InstanceStatus,
  OpCtx,
  RuntimeDriver,
} from '../driver.ts';
import { resolveImageSource } from './image-source.ts';
import { netnsName, netTag, parsePool, portPairs } from './network.ts';
import { buildRuntimeSpec, numericUser, type ContainerUser } from './runtime-spec.ts';

export interface ContainerDriverOptions {
  /** Registry client used for image references (default: a new anonymous client). */
  registry?: RegistryClient;
  platform?: PlatformSpec;
  /** grim's directory on nodes (default /var/lib/grim). */
  stateDir?: string;
  /** Per-node pool the instances' /30 networks come from (default 10.253.0.0/16). */
  addressPool?: string;
  runtime?: 'auto' | 'runc' | 'crun';
  firewall?: 'auto' | 'nft' | 'iptables';
  rootfs?: 'auto' | 'overlay' | 'copy';
  /** pids.max of every instance (default 1024). */
  pidsLimit?: number;
  /**
   * 'driver' (default): start() launches container-run.sh detached. 'external': a node-side supervisor runs
   * scripts/node/container-supervised-run.sh with GRIM_CONTAINER_DIR=containerInstanceDir(handle); start() does nothing, stop() still stops the container in the runtime.
   */
  supervision?: 'driver' | 'external';
  startTimeoutMs?: number;
  /** Grace between the stop signal and KILL when destroying a running instance (default 5000). */
  destroyGraceMs?: number;
  /** Build-on-node timeout (default 10 min). */
  buildTimeoutMs?: number;
}

export interface ContainerHandleData {
  [key: string]: unknown;
  image: string;
  imageDigest: string;
  instanceDir: string;
  stateDir: string;
  netTag: string;
  netns: string;
  ip: string;
  hostIp: string;
  runtime: string;
  firewall: string;
  rootfs: string;
  hostPorts: number[];
  /** The instance's cgroup, relative to the cgroup root (as runc/crun got it in config.json). */
  cgroupsPath: string;
}

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const STATE_DIR = /^\/[A-Za-z0-9/_.-]*$/;

function hex(digest: string): string {
  const [algorithm, value] = digest.split(':');
  if (algorithm !== 'sha256' || !/^[0-9a-f]{64}$/.test(value ?? ''))
    throw new Error(`unsupported digest ${digest}`);
  return value;
}

function asObject(json: unknown, script: string): Record<string, unknown> {
  if (!json || typeof json !== 'object') throw new Error(`${script}: no JSON object in its result`);
  const obj = json as Record<string, unknown>;
  if (obj.ok !== true) throw new Error(`${script}: ${String(obj.error ?? 'failed')}`);
  return obj;
}

function data(h: InstanceHandle): ContainerHandleData {
  if (h.driver !== 'container')
    throw new Error(`handle of instance ${h.instanceId} belongs to the ${h.driver} driver`);
  return h.data as ContainerHandleData;
}

/** The cgroup every container instance runs in, relative to the cgroup root of each hierarchy. */
export function containerCgroupsPath(instanceId: string): string {
  return `/grim/${instanceId}`;
}

/** The instance's directory on the node (container-run.sh, instance.env, config.json, rootfs). */
export function containerInstanceDir(h: InstanceHandle): string {
  const dir = data(h).instanceDir;
  if (!STATE_DIR.test(dir)) throw new Error(`unsafe instance directory ${dir}`);
  return dir;
}

const STATES: InstanceState[] = ['running', 'starting', 'stopped', 'failed', 'missing'];

export function createContainerDriver(opts: ContainerDriverOptions = {}): RuntimeDriver {
  const registry = opts.registry ?? new RegistryClient();
  const stateDir = opts.stateDir ?? '/var/lib/grim';
  if (!STATE_DIR.test(stateDir))
    throw new Error(`stateDir must be an absolute path of [A-Za-z0-9/_.-], got ${stateDir}`);
  const pool = parsePool(opts.addressPool ?? '10.253.0.0/16');
  const pidsLimit = opts.pidsLimit ?? 1024;
  const unpacker = scriptFor('oci-unpack').body;
  const unpackerPath = `${stateDir}/lib/oci-unpack-${createHash('sha256').update(unpacker).digest('hex').slice(0, 12)}.sh`;

  async function run(ctx: OpCtx, name: string, env: Record<string, string>, timeoutMs = 60_000) {
    const { json } = await ctx.runScript(name, env, { timeoutMs });
    return asObject(json, name);
  }

  /** Makes sure the node has the image unpacked; returns its config. */
  async function ensureImage(
    spec: InstanceSpec,
    image: string,
    ctx: OpCtx,
  ): Promise<{ digest: string; config: ImageConfig }> {
    const source = await resolveImageSource(image, registry, opts.platform);
    const imageId = hex(source.manifestDigest);
    const blobs = [...source.layers, source.config];
    const check = await run(ctx, 'container-check', {
      STATE_DIR: stateDir,
      IMAGE_ID: imageId,
      BLOBS: blobs.map((b) => hex(b.digest)).join(' '),
      UNPACKER: unpackerPath,
      INSTANCE_ID: spec.instanceId,
    });
    if (check.image === true) {
      ctx.log(`image ${source.label} (${source.manifestDigest}) is cached on ${ctx.node}`);
      return { digest: source.manifestDigest, config: check.config as ImageConfig };
    }
    const configBytes = await source.readConfig();
    if (check.unpacker !== true) await ctx.upload(unpackerPath, Buffer.from(unpacker), 0o755);
    const missing = new Set(check.missingBlobs as string[]);
    const suffix = randomBytes(6).toString('hex');
    for (const blob of blobs) {
      const h = hex(blob.digest);
      if (!missing.has(h)) continue;
      const path = `${stateDir}/blobs/sha256/${h}.${suffix}`;
      if (blob === source.config) await ctx.upload(path, configBytes, 0o600);
      else {
        ctx.log(`sending layer ${blob.digest} (${blob.size} bytes) to ${ctx.node}`);
        await ctx.upload(path, await source.openBlob(blob), 0o600);
      }
    }
    const built = await run(
      ctx,
      'container-image-build',
      {
        STATE_DIR: stateDir,
        IMAGE_ID: imageId,
        LAYERS: source.layers.map((l) => `${hex(l.digest)}:${layerCompression(l.mediaType)}`).join(' '),
        CONFIG_BLOB: hex(source.config.digest),
        UPLOAD_SUFFIX: suffix,
        UNPACKER: unpackerPath,
      },
      opts.buildTimeoutMs ?? 600_000,
    );
    ctx.log(
      `image ${source.label} ${built.built ? `unpacked (${String(built.layers)} layers)` : 'was built meanwhile'} on ${ctx.node}`,
    );
    return { digest: source.manifestDigest, config: JSON.parse(configBytes.toString('utf8')) as ImageConfig };
  }

  async function resolveUser(spec: string, imageId: string, ctx: OpCtx): Promise<ContainerUser> {
    const numeric = numericUser(spec);
    if (numeric) return numeric;
    const r = await run(ctx, 'container-user', { STATE_DIR: stateDir, IMAGE_ID: imageId, IMAGE_USER: spec });
    return { uid: Number(r.uid), gid: Number(r.gid), additionalGids: (r.additionalGids as number[]) ?? [] };
  }

  const driver: RuntimeDriver = {
    kind: 'container',

    capabilities(): DriverCapabilities {
      return { logs: true, exec: false, enforcesLimits: true };
    },

    async fingerprint(ctx: OpCtx): Promise<DriverFingerprint> {
      const f = await run(ctx, 'container-fingerprint', {});
      const problems: string[] = [];
      const wanted = opts.runtime ?? 'auto';
      if (wanted === 'auto' ? !f.runc && !f.crun : !f[wanted])
        problems.push(
          wanted === 'auto' ? 'neither runc nor crun is installed' : `${wanted} is not installed`,
        );
      if (f.cgroup === 'none') problems.push('no cgroup hierarchy is mounted under /sys/fs/cgroup');
      else {
        const controllers = String(f.controllers).split(' ');
        const lacking = ['memory', 'cpu', 'pids'].filter((c) => !controllers.includes(c));
        if (lacking.length) problems.push(`cgroup controllers missing: ${lacking.join(', ')}`);
      }
      const fw = opts.firewall ?? 'auto';
      if (fw === 'auto' ? !f.nft && !f.iptables : !f[fw])
        problems.push(
          fw === 'auto' ? 'neither nft nor iptables can set NAT rules' : `${fw} cannot set NAT rules`,
        );
      for (const [tool, ok] of Object.entries(f.tools as Record<string, boolean>))
        if (!ok) problems.push(`${tool} is missing`);
      return {
        available: problems.length === 0,
        ...(problems.length ? { reason: problems.join('; ') } : {}),
        details: f,
      };
    },

    async create(spec: InstanceSpec, ctx: OpCtx): Promise<InstanceHandle> {
      if (!ID.test(spec.instanceId))
        throw new Error(`instance id must match ${ID}, got ${JSON.stringify(spec.instanceId)}`);
      if (spec.source.kind !== 'image') {
        throw new Error(
          `the container runtime runs OCI images (source kind "image"), got "${spec.source.kind}"`,
        );
      }
      const ports = portPairs(spec.ports);
      const image = spec.source.image;
      const { digest, config } = await ensureImage(spec, image, ctx);
      const runtime = extractRuntimeConfig(config);
      const user = await resolveUser(runtime.user, hex(digest), ctx);
      const instanceDir = `${stateDir}/containers/${spec.instanceId}`;
      const runtimeSpec = buildRuntimeSpec({
        instanceId: spec.instanceId,
        image: runtime,
        appEnv: spec.env,
        ports: spec.ports,
        resources: spec.resources,
        user,
        instanceDir,
        netnsPath: `/run/netns/${netnsName(spec.instanceId)}`,
        cgroupsPath: containerCgroupsPath(spec.instanceId),
        pidsLimit,
        volumes: spec.volumes,
      });
      await ctx.upload(
        `${instanceDir}/config.json.new`,
        Buffer.from(JSON.stringify(runtimeSpec, null, 1)),
        0o600,
      );
      for (const name of ['container-run', 'container-net']) {
        await ctx.upload(`${instanceDir}/${name}.sh`, Buffer.from(scriptFor(name).body), 0o700);
      }
      const stopSignal = (runtime.stopSignal ?? 'TERM').toUpperCase().replace(/^SIG/, '');
      const created = await run(
        ctx,
        'container-create',
        {
          STATE_DIR: stateDir,
          INSTANCE_ID: spec.instanceId,
          IMAGE_ID: hex(digest),
          NET_TAG: netTag(spec.instanceId),
          NET_BASE: String(pool.base),
          NET_SLOTS: String(pool.slots),
          PORTS: ports,
          RUNTIME: opts.runtime ?? 'auto',
          FIREWALL: opts.firewall ?? 'auto',
          ROOTFS_MODE: opts.rootfs ?? 'auto',
          STOP_SIGNAL: /^[A-Z0-9]+$/.test(stopSignal) ? stopSignal : 'TERM',
        },
        300_000,
      );
      const handleData: ContainerHandleData = {
        image,
        imageDigest: digest,
        instanceDir,
        stateDir,
        netTag: netTag(spec.instanceId),
        netns: netnsName(spec.instanceId),
        ip: String(created.ip),
        hostIp: String(created.hostIp),
        runtime: String(created.runtime),
        firewall: String(created.firewall),
        rootfs: String(created.rootfs),
        hostPorts: spec.ports.map((p) => p.hostPort),
        cgroupsPath: containerCgroupsPath(spec.instanceId),
      };
      ctx.log(
        `container ${spec.instanceId} created on ${ctx.node}: ${handleData.runtime}, ${handleData.ip}, ${handleData.rootfs} rootfs`,
      );
      return { driver: 'container', instanceId: spec.instanceId, node: ctx.node, data: handleData };
    },

    async start(h: InstanceHandle, ctx: OpCtx): Promise<void> {
      const d = data(h);
      if (opts.supervision === 'external') return;
      const waitMs = opts.startTimeoutMs ?? 30_000;
      const r = await run(
        ctx,
        'container-start',
        { STATE_DIR: d.stateDir, INSTANCE_ID: h.instanceId, WAIT_SECONDS: String(Math.ceil(waitMs / 1000)) },
        waitMs + 30_000,
      );
      ctx.log(
        `container ${h.instanceId} ${r.started ? 'started' : 'was already running'} (pid ${String(r.pid)})`,
      );
    },

    async stop(h: InstanceHandle, ctx: OpCtx, timeoutMs: number): Promise<void> {
      const d = data(h);
      const grace = Math.max(0, Math.ceil(timeoutMs / 1000));
      const r = await run(
        ctx,
        'container-stop',
        { STATE_DIR: d.stateDir, INSTANCE_ID: h.instanceId, GRACE_SECONDS: String(grace) },
        timeoutMs + 30_000,
      );
      if (r.wasRunning)
        ctx.log(
          `container ${h.instanceId} stopped ${r.graceful ? 'gracefully' : 'with KILL'} (exit ${String(r.exitCode)})`,
        );
    },

    async destroy(h: InstanceHandle, ctx: OpCtx): Promise<void> {
      const d = data(h);
      await driver.stop(h, ctx, opts.destroyGraceMs ?? 5000);
      await run(ctx, 'container-net', {
        ACTION: 'down',
        INSTANCE_ID: h.instanceId,
        NET_TAG: netTag(h.instanceId),
      });
      await run(ctx, 'container-destroy', { STATE_DIR: d.stateDir, INSTANCE_ID: h.instanceId });
    },

    observe(h: InstanceHandle) {
      const path =
        typeof h.data.cgroupsPath === 'string' ? h.data.cgroupsPath : containerCgroupsPath(h.instanceId);
      // container-run.sh appends the container's stdout and its stderr to these two files
      return {
        cgroups: [path],
        logFile: `${containerInstanceDir(h)}/output.log`,
        stderrLogFile: `${containerInstanceDir(h)}/stderr.log`,
      };
    },

    async inspect(h: InstanceHandle, ctx: OpCtx): Promise<InstanceStatus> {
      const d = data(h);
      const r = await run(ctx, 'container-inspect', { STATE_DIR: d.stateDir, INSTANCE_ID: h.instanceId });
      const state = STATES.includes(r.state as InstanceState) ? (r.state as InstanceState) : 'failed';
      const status: InstanceStatus = {
        state,
        restarts: Number(r.restarts ?? 0),
        detail: { runtimeStatus: r.status, ip: r.ip, netns: r.netns, lastExit: r.lastExit, cgroup: r.cgroup },
      };
      if (typeof r.pid === 'number') status.pid = r.pid;
      if (state === 'failed') status.message = `the container exited with status ${String(r.lastExit)}`;
      return status;
    },

    async logs(h: InstanceHandle, ctx: OpCtx, tailLines: number): Promise<string> {
      const d = data(h);
      const lines = Math.max(1, Math.floor(tailLines));
      const { result } = await ctx.runScript(
        'container-logs',
        { STATE_DIR: d.stateDir, INSTANCE_ID: h.instanceId, TAIL_LINES: String(lines) },
        { timeoutMs: 30_000 },
      );
      const out = result.stdout;
      const end = out.lastIndexOf('\n{"ok":true}');
      return end >= 0 ? out.slice(0, end) : out;
    },

    /** The instance's directory follows from its id; the node says whether it is there. */
    async recover(instanceId: string, ctx: OpCtx): Promise<InstanceHandle | undefined> {
      const h: InstanceHandle = {
        driver: 'container',
        instanceId,
        node: ctx.node,
        data: { stateDir, instanceDir: `${stateDir}/containers/${instanceId}` },
      };
      return (await driver.inspect(h, ctx)).state === 'missing' ? undefined : h;
    },
  };
  return driver;
}
