/** How the app service is put together with the rest of grim (secret box, metrics usage and providers). */
import type { Db } from '../../store/db.ts';
import { type SshPool } from '../../ssh/index.ts';
import { openSecretBox } from '../../secrets/secret-box.ts';
import type { JobStore } from '../jobs.ts';
import type { MetricsService } from '../metrics.ts';
import type { LeaseManager } from '../leases.ts';
import type { Tracer } from '../tracing/tracer.ts';
import { AppService } from './app-service.ts';
import { instanceCgroupsOn, instanceVmmMetricsOn } from './instance-cgroups.ts';
import { builtinDrivers, DriverSet, microvmDrivers } from '../../drivers/driver-set.ts';
import { appExists } from '../../store/apps-repo.ts';
import { instanceApp, instanceIdsOf, requestedPerNode } from '../../store/instances-repo.ts';
import { nodeCtx } from './node-ctx.ts';
import type { GuestKernelSpec } from '../../drivers/vm-image/kernel.ts';
import type { RuntimeImage } from '../../drivers/vm-image/pipeline.ts';
import { vmNetworkFor } from './vm-network.ts';
import { netboxSettingsFromEnv, type NetboxSettings } from '../../integrations/netbox/settings.ts';

/** `netbox`: the server config's NetBox settings (null: not configured); when absent, read from GRIM_NETBOX_*. */
export function createAppService(d: {
  db: Db;
  pool: SshPool;
  jobs: JobStore;
  dataDir: string;
  netbox?: NetboxSettings | null;
  leases?: LeaseManager;
  tracer?: Tracer;
}): AppService {
  const drivers = new DriverSet(builtinDrivers());
  const apps = new AppService({
    db: d.db,
    jobs: d.jobs,
    box: openSecretBox(d.dataDir),
    drivers,
    nodes: (node, log, signal) => nodeCtx(d.pool, node, log, signal),
    leases: d.leases,
    ...(d.tracer ? { tracer: d.tracer } : {}),
  });
  const netbox = d.netbox === undefined ? netboxSettingsFromEnv(process.env) : (d.netbox ?? undefined);
  const vms = microvmDrivers({
    network: vmNetworkFor(d.db, apps.ipam, { netbox }),
    qemuKernel: kernelFromEnv(process.env.GRIM_VM_KERNEL, process.env.GRIM_VM_KERNEL_MODULES),
    firecrackerKernel: kernelFromEnv(process.env.GRIM_FC_KERNEL),
    accel: accelFromEnv(process.env.GRIM_VM_ACCEL),
    runtimes: runtimesFromEnv(process.env.GRIM_VM_RUNTIMES),
  });
  for (const v of vms) drivers.register(v);
  return apps;
}

/**
 * A guest kernel from the environment: the path of a kernel image on the nodes (a bzImage such as
 * /var/lib/grim/vm/boot/vmlinuz-6.1.0-28-amd64, or a vmlinux) and, for a distro kernel, its modules directory.
 */
function kernelFromEnv(image: string | undefined, modulesDir?: string): GuestKernelSpec | undefined {
  if (!image) return undefined;
  const base = image.slice(image.lastIndexOf('/') + 1).replace(/^vmlinu[xz]-?/, '');
  const name = base.replace(/[^A-Za-z0-9._-]/g, '-') || 'default';
  return { name, image, ...(modulesDir ? { modulesDir } : {}) };
}

function accelFromEnv(v: string | undefined): 'auto' | 'kvm' | 'tcg' | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'auto' || v === 'kvm' || v === 'tcg') return v;
  throw new Error(`GRIM_VM_ACCEL must be auto, kvm or tcg, got "${v}"`);
}

/**
 * Recent usage from the metrics service for overcommit warnings; instance cgroups, requested resources and app
 * membership back.
 */
export function connectAppsToMetrics(apps: AppService, metrics: MetricsService, db: Db): void {
  // Only the group's nodes, and no detour back into the apps' requested resources.
  apps.setUsage((nodes) => metrics.recentUsage(nodes));
  metrics.setProviders({
    instanceCgroups: (node) => instanceCgroupsOn(db, apps.drivers, node),
    instanceVmmMetrics: (node) => instanceVmmMetricsOn(db, apps.drivers, node),
    requested: async (node) =>
      (await requestedPerNode(db, { nodes: [node] })).get(node) ?? { cpuMillis: 0, memoryBytes: 0 },
    instanceApp: (id) => instanceApp(db, id),
    appInstances: async (app) => ((await appExists(db, app)) ? instanceIdsOf(db, app) : null),
  });
}

/**
 * Runtimes tarball apps may name, from GRIM_VM_RUNTIMES: `name=version:/path/rootfs.tar.gz`, comma separated
 * (e.g. `alpine=3.20:/srv/grim/alpine-minirootfs-3.20.3-x86_64.tar.gz`); the tarballs are on the control node.
 */
export function runtimesFromEnv(v: string | undefined): Record<string, RuntimeImage> | undefined {
  if (!v) return undefined;
  const out: Record<string, RuntimeImage> = {};
  for (const item of v.split(',').filter(Boolean)) {
    const m = /^([a-z0-9][a-z0-9._-]*)=([A-Za-z0-9._-]+):(\/.+)$/.exec(item.trim());
    if (!m) throw new Error(`GRIM_VM_RUNTIMES: expected name=version:/path/rootfs.tar.gz, got "${item}"`);
    out[m[1]] = { name: m[1], version: m[2], tarball: m[3] };
  }
  return out;
}
