// The `firecracker` runtime driver: the shared image pipeline and VM networking, Firecracker driven
// through its API socket (boot plan: machine-config, boot-source, drives, network-interfaces with a
// stable MAC, optional MMDS, InstanceStart; stop plan: SendCtrlAltDel, grace, SIGKILL, cleanup),
// optionally under the jailer. Each VM runs as a supervised node-side service (supervise.sh runs the
// run.sh rendered here, which execs firecracker or the jailer in the foreground).
import type { InstanceHandle, InstanceSpec, InstanceStatus, OpCtx, RuntimeDriver } from '../driver.ts';
import type { RegistryClient } from '../../oci/registry-client.ts';
import { macAddressForInstance } from '../../domain/ipam.ts';
import { shellQuote } from '../../ssh/quote.ts';
import type { ApiRequest, InstanceInfo } from './api-types.ts';
import { FirecrackerApiError } from './api-client.ts';
import { bootPlan, runBootPlan, type MicroVmBootSpec } from './boot-plan.ts';
import type { HostCommand } from './host-command.ts';
import {
  chrootStagingPlan,
  jailCleanupPlan,
  jailerArgv,
  jailIdFor,
  pickJailId,
  type JailerHostConfig,
} from './jailer.ts';
import { runStopPlan, stopPlan, type StopOutcome } from './stop-plan.ts';
import { guestKernelArgs, prepareKernel, type GuestKernelSpec } from '../vm-image/kernel.ts';
import { buildMetadataTar } from '../vm-image/metadata.ts';
import { appDefinitionForTarball } from '../vm-image/app-definition.ts';
import { DEFAULT_VM_ROOT, guestHostname, tapNameForInstance } from '../vm-image/node-layout.ts';
import { runJson, stageDir } from '../vm-image/node-ops.ts';
import { planInstanceNetwork, publishedPorts, type VmNetworkOptions } from '../vm-image/network.ts';
import {
  ensureAppDrive,
  ensureOciRootfs,
  ensureRuntimeRootfs,
  type RuntimeImage,
} from '../vm-image/pipeline.ts';

/** What the driver needs from a Firecracker API endpoint (FirecrackerApiClient fits). */
export interface FirecrackerApi {
  send(request: ApiRequest): Promise<unknown>;
  describeInstance(): Promise<InstanceInfo>;
}

export interface FirecrackerDriverOptions {
  registry: RegistryClient;
  /** Needs virtio-mmio, virtio-blk, virtio-net and ext4 built in (Firecracker's guest configs). */
  kernel: GuestKernelSpec;
  network: VmNetworkOptions;
  runtimes?: Record<string, RuntimeImage>;
  vmRoot?: string;
  headroomMb?: number;
  firecrackerPath?: string; // default /usr/local/bin/firecracker
  /** Run every VM under the jailer (on by default where the admin configured it). */
  jailer?: JailerHostConfig;
  /**
   * How to reach a VM's API socket. Default: through the node (scripts/node/vm-fc-api.sh, curl
   * --unix-socket over SSH). Tests pass a client on a local socket.
   */
  api?: (socketPath: string, ctx: OpCtx) => FirecrackerApi;
  gracePeriodMs?: number;
  /** Metadata for MMDS (V2), when guests should read it over HTTP instead of the metadata drive. */
  mmds?: (spec: InstanceSpec) => Record<string, unknown> | undefined;
}

export interface FirecrackerHandleData {
  vmRoot: string;
  dir: string;
  tap: string;
  mac: string;
  mode: 'nat' | 'bridged';
  address: string;
  prefixLength: number;
  gateway: string;
  ports: string;
  apiSocket: string;
  rootKey: string;
  rootCached: boolean;
  imageDigest?: string;
  jailId?: string;
  uid?: number;
  boot: MicroVmBootSpec;
}

/** Default API transport: each request is a vm-fc-api.sh run on the node. */
export function nodeApi(socketPath: string, ctx: OpCtx): FirecrackerApi {
  const send = async (request: ApiRequest): Promise<unknown> => {
    const r = await runJson<{ status: number; body: unknown }>(ctx, 'vm-fc-api', {
      SOCKET: socketPath,
      METHOD: request.method,
      API_PATH: request.path,
      BODY: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
    if (r.status < 200 || r.status > 299) {
      const fault = (r.body as { fault_message?: string } | null)?.fault_message ?? JSON.stringify(r.body);
      throw new FirecrackerApiError(request, r.status, fault);
    }
    return r.body ?? undefined;
  };
  return { send, describeInstance: async () => (await send({ method: 'GET', path: '/' })) as InstanceInfo };
}

function script(lines: string[]): string {
  return `#!/bin/sh\n# written by grim's firecracker driver\ncd "$(dirname "$0")" || exit 1\n${lines.join('\n')}\n`;
}

function commandLine(c: HostCommand): string {
  const cmd = c.argv.map(shellQuote).join(' ');
  return c.ignoreFailure ? `${cmd} 2>/dev/null || true` : `${cmd} || exit 1`;
}

const MIB = 1024 * 1024;

export function createFirecrackerDriver(opts: FirecrackerDriverOptions): RuntimeDriver {
  const vmRoot = opts.vmRoot ?? DEFAULT_VM_ROOT;
  const pipe = { vmRoot, headroomMb: opts.headroomMb ?? 64 };
  const firecracker = opts.firecrackerPath ?? '/usr/local/bin/firecracker';
  const apiFor = opts.api ?? nodeApi;
  const usedUids = new Map<string, number>();

  async function waitForApi(api: FirecrackerApi, timeoutMs = 15_000): Promise<InstanceInfo> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await api.describeInstance();
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`Firecracker API did not come up: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async function vmmPid(h: InstanceHandle, ctx: OpCtx): Promise<number | null> {
    const s = await runJson<{ qemuPid: number | null }>(ctx, 'vm-instance-status', {
      INSTANCE: h.instanceId,
      VM_ROOT: vmRoot,
    });
    return s.qemuPid;
  }

  return {
    kind: 'firecracker',
    capabilities: () => ({ logs: true, exec: false, enforcesLimits: opts.jailer !== undefined }),

    async fingerprint(ctx) {
      const f = await runJson<Record<string, unknown>>(ctx, 'vm-fingerprint', {});
      if (f.firecracker === null && f.jailer === null)
        return { available: false, reason: 'firecracker is not installed', details: f };
      if (f.kvm !== true)
        return { available: false, reason: 'Firecracker needs a usable /dev/kvm', details: f };
      if (f.mkfsExt4 !== true || f.nft !== true)
        return { available: false, reason: 'mkfs.ext4 and nft are needed', details: f };
      return { available: true, details: f };
    },

    async create(spec, ctx) {
      const kernel = await prepareKernel(ctx, vmRoot, opts.kernel);
      const source = spec.source;
      let root;
      let app;
      let digest: string | undefined;
      if (source.kind === 'image') {
        root = await ensureOciRootfs(ctx, opts.registry, source.image, pipe);
        digest = root.manifestDigest;
      } else if (source.kind === 'tarball') {
        const runtime = opts.runtimes?.[source.runtime];
        if (runtime === undefined)
          throw new Error(`runtime "${source.runtime}" is not in this node's catalog`);
        root = await ensureRuntimeRootfs(ctx, runtime, pipe);
        app = await ensureAppDrive(ctx, source.tarball, pipe);
      } else
        throw new Error(`the firecracker driver runs images and tarball apps, not ${source.kind} sources`);
      const net = await planInstanceNetwork(ctx, spec, opts.network);
      const fp = await runJson<{ cpuKhz?: number }>(ctx, 'vm-fingerprint', {});
      const tap = tapNameForInstance(spec.instanceId);
      const mac = macAddressForInstance(spec.instanceId);
      const dir = `${vmRoot}/instances/${spec.instanceId}`;
      const stage = await stageDir(ctx, vmRoot, `meta-${spec.instanceId}`);
      await ctx.upload(
        `${stage}/meta.tar`,
        buildMetadataTar({
          hostname: guestHostname(spec.instanceId),
          env: spec.env,
          network: { ...net.ip, dns: opts.network.dns },
          app: source.kind === 'tarball' ? appDefinitionForTarball(source.command) : undefined,
        }),
        0o600,
      );
      const bootArgs = guestKernelArgs({ tscKhz: fp.cpuKhz });
      const mmds = opts.mmds?.(spec);
      const base = {
        instanceId: spec.instanceId,
        size: {
          cpu: `${Math.max(1, spec.resources.cpuMillis)}m`,
          memoryMib: Math.max(64, Math.ceil(spec.resources.memoryBytes / MIB)),
        },
        network: { hostDevName: tap, guestIp: net.ip },
        mmds: mmds === undefined ? undefined : { data: mmds },
      };
      let boot: MicroVmBootSpec;
      let run: string[];
      let cleanup: HostCommand[];
      let apiSocket: string;
      let jailId: string | undefined;
      let uid: number | undefined;
      if (opts.jailer !== undefined) {
        const host = { ...opts.jailer, daemonize: false }; // the supervisor keeps it in the foreground
        jailId = jailIdFor(host, spec.instanceId);
        uid = pickJailId(host, usedUids.values());
        usedUids.set(spec.instanceId, uid);
        const staged = chrootStagingPlan(host, {
          jailId,
          uid,
          kernelPath: kernel.vmlinux,
          initrdPath: kernel.initramfs ?? undefined,
          rootfsPath: `${dir}/disk.ext4`,
          dataDrivePath: app === undefined ? undefined : `${dir}/app.ext4`,
          metadataDrivePath: `${dir}/meta.tar`,
          tap: { name: tap },
        });
        apiSocket = staged.jailPaths.hostApiSocket;
        boot = {
          ...base,
          kernel: { path: staged.jailPaths.kernel, bootArgs, initrdPath: staged.jailPaths.initrd },
          rootfs: { path: staged.jailPaths.rootfs },
          dataDrive: staged.jailPaths.data === undefined ? undefined : { path: staged.jailPaths.data },
          metadataDrive: { path: staged.jailPaths.metadata as string },
          metricsPath: staged.jailPaths.metrics,
        };
        run = [
          ...staged.commands.map(commandLine),
          `ip link set ${shellQuote(tap)} master ${shellQuote(net.bridge)} up || exit 1`,
          'echo $$ >qemu.pid',
          `exec ${jailerArgv(host, { jailId, uid, cpu: base.size.cpu, memoryMib: base.size.memoryMib }).map(shellQuote).join(' ')}`,
        ];
        cleanup = jailCleanupPlan(host, { jailId, tap: { name: tap } });
      } else {
        apiSocket = `${dir}/api.sock`;
        boot = {
          ...base,
          kernel: { path: kernel.vmlinux, bootArgs, initrdPath: kernel.initramfs ?? undefined },
          rootfs: { path: `${dir}/disk.ext4` },
          dataDrive: app === undefined ? undefined : { path: `${dir}/app.ext4` },
          metadataDrive: { path: `${dir}/meta.tar` },
        };
        run = [
          'rm -f api.sock',
          `ip link show ${shellQuote(tap)} >/dev/null 2>&1 || ip tuntap add dev ${shellQuote(tap)} mode tap || exit 1`,
          `ip link set ${shellQuote(tap)} master ${shellQuote(net.bridge)} up || exit 1`,
          'echo $$ >qemu.pid',
          `exec ${[firecracker, '--api-sock', apiSocket, '--id', spec.instanceId].map(shellQuote).join(' ')} >serial.log 2>&1`,
        ];
        cleanup = [
          { description: 'delete the TAP device', argv: ['ip', 'link', 'del', tap], ignoreFailure: true },
        ];
      }
      await ctx.upload(`${stage}/run.sh`, Buffer.from(script(run)), 0o755);
      await ctx.upload(`${stage}/cleanup.sh`, Buffer.from(script(cleanup.map(commandLine))), 0o755);
      await runJson(ctx, 'vm-instance-create', {
        INSTANCE: spec.instanceId,
        BASE_DISK: root.disk,
        APP_DISK: app?.disk,
        META_TAR: `${stage}/meta.tar`,
        KERNEL: kernel.vmlinux,
        INITRD: kernel.initramfs ?? undefined,
        APPEND: bootArgs,
        MEMORY_MIB: String(base.size.memoryMib),
        VCPUS: String(Math.ceil(spec.resources.cpuMillis / 1000) || 1),
        TAP: tap,
        BRIDGE: net.bridge,
        MAC: mac,
        RUN_SCRIPT: `${stage}/run.sh`,
        CLEANUP_SCRIPT: `${stage}/cleanup.sh`,
        VM_ROOT: vmRoot,
      });
      await runJson(ctx, 'vm-stage-dir', {
        NAME: `meta-${spec.instanceId}`,
        ACTION: 'remove',
        VM_ROOT: vmRoot,
      });
      const data: FirecrackerHandleData = {
        vmRoot,
        dir,
        tap,
        mac,
        mode: net.mode,
        address: net.ip.address,
        prefixLength: net.ip.prefixLength,
        gateway: net.ip.gateway,
        ports: publishedPorts(spec, net),
        apiSocket,
        rootKey: root.key,
        rootCached: root.cached,
        imageDigest: digest,
        jailId,
        uid,
        boot,
      };
      return { driver: 'firecracker', instanceId: spec.instanceId, node: ctx.node, data: { ...data } };
    },

    async start(h, ctx) {
      const d = h.data as unknown as FirecrackerHandleData;
      await runJson(ctx, 'vm-instance-start', {
        INSTANCE: h.instanceId,
        PORTS: d.ports || undefined,
        VM_ROOT: vmRoot,
      });
      const api = apiFor(d.apiSocket, ctx);
      await waitForApi(api);
      await runBootPlan(api, bootPlan(d.boot)); // measures first: a running VM is left alone
    },

    async stop(h, ctx, timeoutMs) {
      await stopVm(h, ctx, timeoutMs);
    },

    async destroy(h, ctx) {
      await stopVm(h, ctx, opts.gracePeriodMs ?? 10_000);
      const d = h.data as unknown as FirecrackerHandleData;
      await runJson(ctx, 'vm-instance-destroy', { INSTANCE: h.instanceId, TAP: d.tap, VM_ROOT: vmRoot });
      await opts.network.ipam.release(h.instanceId);
      usedUids.delete(h.instanceId);
    },

    async inspect(h, ctx): Promise<InstanceStatus> {
      const d = h.data as unknown as FirecrackerHandleData;
      const s = await runJson<{ state: InstanceStatus['state']; qemuPid: number | null; restarts: number }>(
        ctx,
        'vm-instance-status',
        { INSTANCE: h.instanceId, VM_ROOT: vmRoot },
      );
      let vmState: string | undefined;
      if (s.state === 'running')
        vmState = await apiFor(d.apiSocket, ctx)
          .describeInstance()
          .then(
            (i) => i.state,
            () => undefined,
          );
      return {
        state: s.state,
        restarts: s.restarts,
        pid: s.qemuPid ?? undefined,
        detail: {
          ip: d.address,
          mode: d.mode,
          mac: d.mac,
          tap: d.tap,
          vmState,
          jailId: d.jailId,
          imageDigest: d.imageDigest,
        },
      };
    },

    async logs(h, ctx, tailLines) {
      const r = await runJson<{ base64: string }>(ctx, 'vm-instance-logs', {
        INSTANCE: h.instanceId,
        LINES: String(tailLines),
        VM_ROOT: vmRoot,
      });
      return Buffer.from(r.base64, 'base64').toString('utf8');
    },
  };

  async function stopVm(h: InstanceHandle, ctx: OpCtx, timeoutMs: number): Promise<StopOutcome> {
    const d = h.data as unknown as FirecrackerHandleData;
    if ((await vmmPid(h, ctx)) === null) {
      await runJson(ctx, 'vm-instance-stop', { INSTANCE: h.instanceId, TIMEOUT_S: '1', VM_ROOT: vmRoot });
      await runJson(ctx, 'vm-instance-cleanup', { INSTANCE: h.instanceId, VM_ROOT: vmRoot });
      return { graceful: true, killed: false };
    }
    const api = apiFor(d.apiSocket, ctx);
    const waitForExit = async (ms: number): Promise<boolean> => {
      const deadline = Date.now() + ms;
      for (;;) {
        if ((await vmmPid(h, ctx)) === null) return true;
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    // The supervisor must not restart a VM that is being stopped: mark the stop first.
    await runJson(ctx, 'vm-instance-stop', { INSTANCE: h.instanceId, MARK_ONLY: '1', VM_ROOT: vmRoot });
    const outcome = await runStopPlan(stopPlan({ gracePeriodMs: timeoutMs, cleanup: [] }), {
      send: (r) => api.send(r),
      waitForExit,
      signal: async () => {
        await runJson(ctx, 'vm-instance-stop', { INSTANCE: h.instanceId, TIMEOUT_S: '1', VM_ROOT: vmRoot });
      },
      runCleanup: async () => {
        await runJson(ctx, 'vm-instance-stop', { INSTANCE: h.instanceId, TIMEOUT_S: '1', VM_ROOT: vmRoot });
        await runJson(ctx, 'vm-instance-cleanup', { INSTANCE: h.instanceId, VM_ROOT: vmRoot });
      },
    });
    return outcome;
  }
}
