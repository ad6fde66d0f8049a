// The `qemu-microvm` runtime driver: each instance is a QEMU `-M microvm` VM (KVM when usable, TCG
// otherwise) run by a node-side supervisor (supervise.sh -> run.sh -> exec qemu), controlled over its
// QMP socket. Root disks come from the shared image pipeline, networking from vm-image/network.ts.
// Every step is a node script through OpCtx, and every method is idempotent.
import type {
  DriverCapabilities,
  DriverFingerprint,
  InstanceHandle,
  InstanceSpec,
  InstanceStatus,
  OpCtx,
  RuntimeDriver,
} from '../driver.ts';
import { vmEndpoint } from '../driver.ts';
import type { RegistryClient } from '../../oci/registry-client.ts';
import { macAddressForInstance } from '../../domain/ipam.ts';
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
  type BuiltDisk,
  type RuntimeImage,
} from '../vm-image/pipeline.ts';

export interface QemuMicrovmDriverOptions {
  registry: RegistryClient;
  kernel: GuestKernelSpec;
  network: VmNetworkOptions;
  /** Runtimes for tarball apps by name; "alpine" is the default base. */
  runtimes?: Record<string, RuntimeImage>;
  vmRoot?: string;
  headroomMb?: number;
  accel?: 'auto' | 'kvm' | 'tcg';
  /** Extra kernel arguments (no secrets: the command line is visible on the node). */
  extraKernelArgs?: string;
  /** Seconds the guest gets between Ctrl-Alt-Del and QMP quit/SIGTERM in stop(); default from timeoutMs. */
  defaultStopTimeoutMs?: number;
}

/** What a qemu-microvm handle persists (InstanceHandle.data). */
export interface QemuHandleData {
  vmRoot: string;
  tap: string;
  mac: string;
  mode: 'nat' | 'bridged';
  bridge: string;
  poolId: string;
  address: string;
  prefixLength: number;
  gateway: string;
  ports: string;
  rootKey: string;
  rootCached: boolean;
  imageDigest?: string;
}

function dataOf(h: InstanceHandle): QemuHandleData {
  return h.data as unknown as QemuHandleData;
}

const MIB = 1024 * 1024;

export function createQemuMicrovmDriver(opts: QemuMicrovmDriverOptions): RuntimeDriver {
  const vmRoot = opts.vmRoot ?? DEFAULT_VM_ROOT;
  const pipe = { vmRoot, headroomMb: opts.headroomMb ?? 64 };

  async function rootDisk(
    spec: InstanceSpec,
    ctx: OpCtx,
  ): Promise<{ root: BuiltDisk; app?: BuiltDisk; digest?: string }> {
    const source = spec.source;
    if (source.kind === 'image') {
      const r = await ensureOciRootfs(ctx, opts.registry, source.image, pipe);
      return { root: r, digest: r.manifestDigest };
    }
    if (source.kind === 'tarball') {
      const runtime = opts.runtimes?.[source.runtime];
      if (runtime === undefined) {
        const known = Object.keys(opts.runtimes ?? {}).join(', ') || 'none';
        throw new Error(`runtime "${source.runtime}" is not in this node's catalog (known: ${known})`);
      }
      const root = await ensureRuntimeRootfs(ctx, runtime, pipe);
      const app = await ensureAppDrive(ctx, source.tarball, pipe);
      return { root, app };
    }
    throw new Error(`the qemu-microvm driver runs images and tarball apps, not ${source.kind} sources`);
  }

  return {
    kind: 'qemu-microvm',

    capabilities(): DriverCapabilities {
      return { logs: true, exec: false, enforcesLimits: true };
    },

    async fingerprint(ctx): Promise<DriverFingerprint> {
      const f = await runJson<Record<string, unknown>>(ctx, 'vm-fingerprint', {});
      const missing: string[] = [];
      if (f.qemu === null) missing.push('qemu-system-x86_64 (qemu-system-x86)');
      if (f.mkfsExt4 !== true) missing.push('mkfs.ext4 (e2fsprogs)');
      if (f.nft !== true) missing.push('nft (nftables)');
      if (f.socat !== true) missing.push('socat (QMP control)');
      if (f.staticBusybox !== true) missing.push('a static /bin/busybox (busybox-static)');
      return missing.length > 0
        ? { available: false, reason: `missing: ${missing.join(', ')}`, details: f }
        : { available: true, details: { ...f, accel: f.kvm === true ? 'kvm' : 'tcg' } };
    },

    async create(spec, ctx): Promise<InstanceHandle> {
      const kernel = await prepareKernel(ctx, vmRoot, opts.kernel);
      const { root, app, digest } = await rootDisk(spec, ctx);
      const net = await planInstanceNetwork(ctx, spec, opts.network);
      const fp = await runJson<{ cpuKhz?: number }>(ctx, 'vm-fingerprint', {});
      const tap = tapNameForInstance(spec.instanceId);
      const mac = macAddressForInstance(spec.instanceId);
      const meta = buildMetadataTar({
        hostname: guestHostname(spec.instanceId),
        env: spec.env,
        network: { ...net.ip, dns: opts.network.dns },
        app: spec.source.kind === 'tarball' ? appDefinitionForTarball(spec.source.command) : undefined,
        volumes: volumeDrives(spec).map((v) => ({ fsUuid: v.fsUuid, mount: v.mount })),
      });
      const stage = await stageDir(ctx, vmRoot, `meta-${spec.instanceId}`);
      await ctx.upload(`${stage}/meta.tar`, meta, 0o600);
      const memoryMib = Math.max(64, Math.ceil(spec.resources.memoryBytes / MIB));
      const vcpus = Math.max(1, Math.ceil(spec.resources.cpuMillis / 1000));
      await runJson(ctx, 'vm-instance-create', {
        INSTANCE: spec.instanceId,
        BASE_DISK: root.disk,
        APP_DISK: app?.disk,
        META_TAR: `${stage}/meta.tar`,
        KERNEL: kernel.vmlinux,
        INITRD: kernel.initramfs ?? undefined,
        APPEND: guestKernelArgs({ tscKhz: fp.cpuKhz, extra: opts.extraKernelArgs }),
        MEMORY_MIB: String(memoryMib),
        VCPUS: String(vcpus),
        TAP: tap,
        BRIDGE: net.bridge,
        MAC: mac,
        ACCEL: opts.accel ?? 'auto',
        VM_ROOT: vmRoot,
        VOLUME_DISKS:
          volumeDrives(spec)
            .map((v) => v.image)
            .join('\n') || undefined,
      });
      await runJson(ctx, 'vm-stage-dir', {
        NAME: `meta-${spec.instanceId}`,
        ACTION: 'remove',
        VM_ROOT: vmRoot,
      });
      const data: QemuHandleData = {
        vmRoot,
        tap,
        mac,
        mode: net.mode,
        bridge: net.bridge,
        poolId: net.poolId,
        address: net.ip.address,
        prefixLength: net.ip.prefixLength,
        gateway: net.ip.gateway,
        ports: publishedPorts(spec, net),
        rootKey: root.key,
        rootCached: root.cached,
        imageDigest: digest,
      };
      return { driver: 'qemu-microvm', instanceId: spec.instanceId, node: ctx.node, data: { ...data } };
    },

    async start(h, ctx): Promise<void> {
      const d = dataOf(h);
      await runJson(ctx, 'vm-instance-start', {
        INSTANCE: h.instanceId,
        PORTS: d.ports || undefined,
        VM_ROOT: d.vmRoot,
      });
    },

    async stop(h, ctx, timeoutMs): Promise<void> {
      const d = dataOf(h);
      const seconds = Math.max(1, Math.ceil((timeoutMs || opts.defaultStopTimeoutMs || 20_000) / 1000));
      await runJson(
        ctx,
        'vm-instance-stop',
        { INSTANCE: h.instanceId, TIMEOUT_S: String(seconds), VM_ROOT: d.vmRoot },
        seconds * 1000 + 60_000,
      );
    },

    async destroy(h, ctx): Promise<void> {
      const d = dataOf(h);
      await runJson(
        ctx,
        'vm-instance-stop',
        { INSTANCE: h.instanceId, TIMEOUT_S: '10', VM_ROOT: d.vmRoot },
        90_000,
      );
      await runJson(ctx, 'vm-instance-destroy', { INSTANCE: h.instanceId, TAP: d.tap, VM_ROOT: d.vmRoot });
      await opts.network.ipam.release(h.instanceId);
    },

    observe(h) {
      return {
        cgroups: [],
        endpoint: vmEndpoint(h),
        logFile: vmSerialLog(dataOf(h).vmRoot ?? vmRoot, h.instanceId),
      };
    },

    async inspect(h, ctx): Promise<InstanceStatus> {
      const d = dataOf(h);
      const s = await runJson<{
        state: InstanceStatus['state'];
        vmmPid: number | null;
        restarts: number;
        lastExit: number | null;
      }>(ctx, 'vm-instance-status', { INSTANCE: h.instanceId, VM_ROOT: d.vmRoot });
      return {
        state: s.state,
        restarts: s.restarts,
        pid: s.vmmPid ?? undefined,
        detail: {
          ip: d.address,
          mode: d.mode,
          mac: d.mac,
          tap: d.tap,
          lastExit: s.lastExit,
          imageDigest: d.imageDigest,
        },
      };
    },

    async logs(h, ctx, tailLines): Promise<string> {
      const d = dataOf(h);
      const r = await runJson<{ base64: string }>(ctx, 'vm-instance-logs', {
        INSTANCE: h.instanceId,
        LINES: String(Math.max(1, Math.floor(tailLines))),
        VM_ROOT: d.vmRoot,
      });
      return Buffer.from(r.base64, 'base64').toString('utf8');
    },

    /** The VM's directory follows from its id; the node says whether it is there (its TAP and address stay unknown). */
    async recover(instanceId, ctx): Promise<InstanceHandle | undefined> {
      const s = await runJson<{ exists: boolean }>(ctx, 'vm-instance-status', {
        INSTANCE: instanceId,
        VM_ROOT: vmRoot,
      });
      return s.exists ? { driver: 'qemu-microvm', instanceId, node: ctx.node, data: { vmRoot } } : undefined;
    },
  };
}
