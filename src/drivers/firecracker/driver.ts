// The `firecracker` runtime driver: the shared image pipeline and VM networking, Firecracker driven
// through its API socket, optionally under the jailer (on by default on nodes where it is installed).
// Each VM is a supervised node-side service like every grim app (scripts/node/supervisor.sh, a systemd unit
// or an OpenRC service): the supervisor runs scripts/node/vm-fc-run.sh, which starts the VMM (run.sh),
// sends the boot plan written on the node (machine-config, boot-source, drives, network-interfaces with a
// stable MAC, optional MMDS, InstanceStart) through the API socket, waits, and cleans up after the VMM.
// So VMs survive control-node downtime, are booted again after their app exits, start at node boot, and the
// reconciler's app-list.sh sees them. Stop: vm-fc-stop.sh sends SendCtrlAltDel and waits a grace period,
// then the supervisor ends the session (TERM, then KILL) and the driver runs the cleanup.
import type { InstanceHandle, InstanceSpec, InstanceStatus, OpCtx, RuntimeDriver } from '../driver.ts';
import { vmEndpoint } from '../driver.ts';
import type { RegistryClient } from '../../oci/registry-client.ts';
import { macAddressForInstance } from '../../domain/ipam.ts';
import { scriptFor } from '../../scripts/loader.ts';
import type { ApiRequest, InstanceInfo } from './api-types.ts';
import { FirecrackerApiError } from './api-client.ts';
import { bootPlan, type MicroVmBootSpec } from './boot-plan.ts';
import { bootPlanFile } from './boot-file.ts';
import { pickJailId, VMM_MEMORY_OVERHEAD_MIB, type JailerHostConfig } from './jailer.ts';
import { argvFile, planFile, vmLayout } from './vm-layout.ts';
import { guestKernelArgs, prepareKernel, type GuestKernelSpec } from '../vm-image/kernel.ts';
import { buildMetadataTar } from '../vm-image/metadata.ts';
import { volumeDrives } from '../vm-image/volumes.ts';
import { appDefinitionForTarball } from '../vm-image/app-definition.ts';
import { DEFAULT_VM_ROOT, guestHostname, tapNameForInstance, vmSerialLog } from '../vm-image/node-layout.ts';
import { runJson, stageDir } from '../vm-image/node-ops.ts';
import { planInstanceNetwork, publishedPorts, type VmNetworkOptions } from '../vm-image/network.ts';
import {
  ensureAppDrive,
  ensureOciRootfs,
  ensureRuntimeRootfs,
  type RuntimeImage,
} from '../vm-image/pipeline.ts';
import { supervised } from '../supervised/supervised.ts';

/** What the driver needs from a Firecracker API endpoint (FirecrackerApiClient fits). */
export interface FirecrackerApi {
  send(request: ApiRequest): Promise<unknown>;
  describeInstance(): Promise<InstanceInfo>;
}

/** uids (and equal gids) for jailed VMs when the admin sets none. */
export const DEFAULT_JAIL_ID_RANGE = { first: 900_000, count: 100_000 };

export interface FirecrackerDriverOptions {
  registry: RegistryClient;
  /** Needs virtio-mmio, virtio-blk, virtio-net and ext4 built in (Firecracker's guest configs). */
  kernel: GuestKernelSpec;
  network: VmNetworkOptions;
  runtimes?: Record<string, RuntimeImage>;
  vmRoot?: string;
  headroomMb?: number;
  /** Unjailed VMs: default the firecracker the node has on its PATH. */
  firecrackerPath?: string;
  /**
   * 'auto' (default): under the jailer on every node where it is installed, unless the node has
   * /etc/grim/firecracker-no-jailer; 'off': never; settings: always, with these paths and uid range.
   */
  jailer?: JailerHostConfig | 'auto' | 'off';
  /**
   * How to reach a VM's API socket. Default: through the node (scripts/node/vm-fc-api.sh, curl
   * --unix-socket over SSH). Tests pass a client on a local socket.
   */
  api?: (socketPath: string, ctx: OpCtx) => FirecrackerApi;
  /** Seconds between the supervisor's TERM and KILL (default 10), after the graceful Ctrl-Alt-Del. */
  stopTimeoutSec?: number;
  /** How long start() waits for the VM to reach Running (default 30 s). */
  bootTimeoutMs?: number;
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
  /** The VMM's metrics file on the node (one JSON line per flush). */
  metricsFile: string;
  /** The VMM's cgroup relative to the cgroup root (grim/<id>, or the jailer's). */
  cgroup: string;
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

const MIB = 1024 * 1024;

interface NodeFingerprint {
  firecracker?: string | null;
  jailer?: string | null;
  jailerOff?: boolean;
  cpuKhz?: number;
}

/** What the supervisor runs and how it stops the VM: readable files in scripts/node/. */
const runCommand = () => scriptFor('vm-fc-run').body;
const stopCommand = () => scriptFor('vm-fc-stop').body;

export function createFirecrackerDriver(opts: FirecrackerDriverOptions): RuntimeDriver {
  const vmRoot = opts.vmRoot ?? DEFAULT_VM_ROOT;
  const pipe = { vmRoot, headroomMb: opts.headroomMb ?? 64 };
  const apiFor = opts.api ?? nodeApi;
  const bootTimeoutMs = opts.bootTimeoutMs ?? 30_000;

  /** The jailer settings for this node, or undefined to run Firecracker unjailed. */
  function jailerFor(fp: NodeFingerprint): JailerHostConfig | undefined {
    const j = opts.jailer ?? 'auto';
    if (j === 'off') return undefined;
    if (j !== 'auto') return j;
    if (fp.jailerOff === true || !fp.jailer || !fp.firecracker) return undefined;
    return { jailerPath: fp.jailer, firecrackerPath: fp.firecracker, idRange: DEFAULT_JAIL_ID_RANGE };
  }

  /** A uid no other jailed VM on the node holds (the node lists them: grim may have restarted). */
  async function freeJailUid(host: JailerHostConfig, ctx: OpCtx): Promise<number> {
    const { uids } = await runJson<{ uids: number[] }>(ctx, 'vm-jail-uids', { VM_ROOT: vmRoot });
    return pickJailId(host, uids);
  }

  const dataOf = (h: InstanceHandle) => h.data as unknown as FirecrackerHandleData;

  /** Polls the API until the VM runs; vm-fc-run.sh on the node configures and starts it. */
  async function waitRunning(h: InstanceHandle, ctx: OpCtx): Promise<void> {
    const api = apiFor(dataOf(h).apiSocket, ctx);
    const deadline = Date.now() + bootTimeoutMs;
    let last: string;
    for (;;) {
      try {
        const info = await api.describeInstance();
        if (info.state === 'Running') return;
        last = `state ${info.state}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(
          `${h.instanceId}: the microVM did not reach Running within ${bootTimeoutMs / 1000} s (${last}); ` +
            'see its log (vm-fc-run.sh reports boot-plan errors there)',
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  return supervised({
    kind: 'firecracker',
    // vCPUs and memory by machine-config; fractional CPU and the VMM's memory by a cgroup (jailer or supervisor).
    capabilities: () => ({ logs: true, exec: false, enforcesLimits: true }),

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

    async prepare(spec, ctx) {
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
      const fp = await runJson<NodeFingerprint>(ctx, 'vm-fingerprint', {});
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
          volumes: volumeDrives(spec).map((v) => ({ fsUuid: v.fsUuid, mount: v.mount })),
        }),
        0o600,
      );
      const bootArgs = guestKernelArgs({ tscKhz: fp.cpuKhz });
      const mmds = opts.mmds?.(spec);
      const jailHost = jailerFor(fp);
      const uid = jailHost === undefined ? undefined : await freeJailUid(jailHost, ctx);
      const layout = vmLayout({
        instanceId: spec.instanceId,
        dir,
        kernel: { vmlinux: kernel.vmlinux, initramfs: kernel.initramfs ?? undefined, bootArgs },
        hasAppDrive: app !== undefined,
        volumeImages: volumeDrives(spec).map((v) => v.image),
        tap,
        bridge: net.bridge,
        base: {
          instanceId: spec.instanceId,
          size: {
            cpu: `${Math.max(1, spec.resources.cpuMillis)}m`,
            memoryMib: Math.max(64, Math.ceil(spec.resources.memoryBytes / MIB)),
          },
          network: { hostDevName: tap, guestIp: net.ip },
          mmds: mmds === undefined ? undefined : { data: mmds },
        },
        firecrackerPath: opts.firecrackerPath ?? fp.firecracker ?? '/usr/local/bin/firecracker',
        jail: jailHost === undefined ? undefined : { host: jailHost, uid: uid as number },
      });
      const plan = bootPlanFile(bootPlan(layout.boot)); // validates the plan before anything runs
      // run.sh and cleanup.sh are the static vm-fc-vmm.sh and vm-fc-cleanup.sh; what they run is data.
      await ctx.upload(`${stage}/run.sh`, Buffer.from(scriptFor('vm-fc-vmm').body), 0o755);
      await ctx.upload(`${stage}/cleanup.sh`, Buffer.from(scriptFor('vm-fc-cleanup').body), 0o755);
      await runJson(ctx, 'vm-instance-create', {
        INSTANCE: spec.instanceId,
        BASE_DISK: root.disk,
        APP_DISK: app?.disk,
        META_TAR: `${stage}/meta.tar`,
        KERNEL: kernel.vmlinux,
        INITRD: kernel.initramfs ?? undefined,
        APPEND: bootArgs,
        MEMORY_MIB: String(layout.boot.size.memoryMib),
        VCPUS: String(Math.ceil(spec.resources.cpuMillis / 1000) || 1),
        TAP: tap,
        BRIDGE: net.bridge,
        MAC: mac,
        RUN_SCRIPT: `${stage}/run.sh`,
        CLEANUP_SCRIPT: `${stage}/cleanup.sh`,
        VM_ROOT: vmRoot,
      });
      // MMDS data may hold secrets: the plan is readable by root only, like the metadata drive.
      await ctx.upload(`${dir}/boot-plan`, Buffer.from(plan), 0o600);
      await ctx.upload(`${dir}/run-plan`, Buffer.from(planFile(layout.prepare)), 0o600);
      await ctx.upload(`${dir}/vmm-argv`, Buffer.from(argvFile(layout.vmm)), 0o600);
      await ctx.upload(`${dir}/cleanup-plan`, Buffer.from(planFile(layout.cleanup)), 0o600);
      if (uid !== undefined) await ctx.upload(`${dir}/jail-uid`, Buffer.from(`${uid}\n`), 0o644);
      await runJson(ctx, 'vm-stage-dir', {
        NAME: `meta-${spec.instanceId}`,
        ACTION: 'remove',
        VM_ROOT: vmRoot,
      });
      const ports = publishedPorts(spec, net);
      const data: FirecrackerHandleData = {
        vmRoot,
        dir,
        tap,
        mac,
        mode: net.mode,
        address: net.ip.address,
        prefixLength: net.ip.prefixLength,
        gateway: net.ip.gateway,
        ports,
        apiSocket: layout.apiSocket,
        metricsFile: layout.metricsFile,
        cgroup: layout.cgroup,
        rootKey: root.key,
        rootCached: root.cached,
        imageDigest: digest,
        jailId: layout.jailId,
        uid,
        boot: layout.boot,
      };
      return {
        handle: { driver: 'firecracker', instanceId: spec.instanceId, node: ctx.node, data: { ...data } },
        // The app's environment and secrets live on the metadata drive; the supervisor needs none of them.
        service: {
          run: runCommand(),
          stop: stopCommand(),
          // Unjailed, the supervisor runs the VMM in grim/<id> with the size's limits (fractional CPU included),
          // as the jailer would; jailed, the jailer applies them in its own cgroup.
          cgroup:
            jailHost === undefined
              ? {
                  memoryBytes: (layout.boot.size.memoryMib + VMM_MEMORY_OVERHEAD_MIB) * MIB,
                  cpuMillis: spec.resources.cpuMillis,
                }
              : { memoryBytes: 0, cpuMillis: 0 },
          env: { GRIM_VM_DIR: dir, GRIM_VM_API_SOCKET: layout.apiSocket, GRIM_VM_PORTS: ports },
          stopTimeoutSec: opts.stopTimeoutSec,
        },
      };
    },

    started: (h, ctx) => waitRunning(h, ctx),

    /**
     * The supervisor ran vm-fc-stop.sh (SendCtrlAltDel, grace period), then TERM and KILL to the session;
     * vm-fc-run.sh cleans up after the VMM. The node scripts then finish what a killed session left:
     * a stray VMM, the published ports, the TAP device and the jail.
     */
    async stopped(h, ctx) {
      await runJson(ctx, 'vm-instance-stop', { INSTANCE: h.instanceId, TIMEOUT_S: '1', VM_ROOT: vmRoot });
      await runJson(ctx, 'vm-instance-cleanup', { INSTANCE: h.instanceId, VM_ROOT: vmRoot });
    },

    async remove(h, ctx) {
      await this.stopped!(h, ctx);
      await runJson(ctx, 'vm-instance-destroy', {
        INSTANCE: h.instanceId,
        TAP: typeof h.data.tap === 'string' ? h.data.tap : undefined,
        VM_ROOT: vmRoot,
      });
      await opts.network.ipam.release(h.instanceId);
    },

    observe(h) {
      return {
        cgroups: typeof h.data.cgroup === 'string' ? [h.data.cgroup] : [],
        ...(typeof h.data.metricsFile === 'string' ? { vmmMetricsFile: h.data.metricsFile } : {}),
        endpoint: vmEndpoint(h),
        // the guest's console (kernel, grim-init, the app): the VMM's stdout, which vm-fc-vmm.sh sends there
        logFile: vmSerialLog(vmRoot, h.instanceId),
      };
    },

    async inspect(h, ctx): Promise<InstanceStatus> {
      const d = dataOf(h);
      const vm = await runJson<{ vmmPid: number | null }>(ctx, 'vm-instance-status', {
        INSTANCE: h.instanceId,
        VM_ROOT: vmRoot,
      });
      let vmState: string | undefined;
      if (vm.vmmPid !== null && d.apiSocket !== undefined)
        vmState = await apiFor(d.apiSocket, ctx)
          .describeInstance()
          .then(
            (i) => i.state,
            () => undefined,
          );
      return {
        state: vmState === 'Running' ? 'running' : 'stopped',
        pid: vm.vmmPid ?? undefined,
        detail: {
          ip: d.address,
          mode: d.mode,
          mac: d.mac,
          tap: d.tap,
          vmState,
          jailId: d.jailId,
          imageDigest: d.imageDigest,
          cgroup: d.cgroup,
        },
      };
    },
    // The VM runs = running; the supervisor up while the VMM (re)starts or boots = starting.
    state: 'booted',

    async logs(h, ctx, tailLines) {
      const r = await runJson<{ base64: string }>(ctx, 'vm-instance-logs', {
        INSTANCE: h.instanceId,
        LINES: String(tailLines),
        VM_ROOT: vmRoot,
      });
      return Buffer.from(r.base64, 'base64').toString('utf8');
    },
  });
}
