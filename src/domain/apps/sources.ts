/**
 * What an app is made from and how it is reached, declared once: the API schema (src/api/routes/apps.ts, with a
 * compile-time check both ways), the CLI's choices and the app validation derive from these lists. Pure.
 */
import type { Runtime } from '../runtimes.ts';

/** An app's source: a script (script runtime), an OCI image, or a tarball unpacked onto a runtime image (VMs). */
export const APP_SOURCE_KINDS = ['script', 'image', 'tarball'] as const;
export type AppSourceKind = (typeof APP_SOURCE_KINDS)[number];

/** Which sources each runtime takes, the first one being what the CLI assumes when only the runtime is given. */
export const SOURCES_BY_RUNTIME: Readonly<Record<Runtime, readonly AppSourceKind[]>> = {
  script: ['script'],
  container: ['image'],
  'qemu-microvm': ['image', 'tarball'],
  firecracker: ['image', 'tarball'],
};

/** The runtime an app gets when its source is given without one (a tarball runs in a qemu-microvm). */
export const DEFAULT_RUNTIME_BY_SOURCE: Readonly<Record<AppSourceKind, Runtime>> = {
  script: 'script',
  image: 'container',
  tarball: 'qemu-microvm',
};

/** MicroVM network modes: nat (private subnet, ports published on the node) or bridged (LAN address from IPAM). */
export const NETWORK_MODES = ['nat', 'bridged'] as const;
export type VmNetworkMode = (typeof NETWORK_MODES)[number];

/** What happens when an instance's node is lost: report it, or run the instance on another node. */
export const FAILOVER_MODES = ['report', 'reschedule'] as const;
export type Failover = (typeof FAILOVER_MODES)[number];

export const HEALTH_CHECK_TYPES = ['http', 'tcp', 'command'] as const;
export type HealthCheckType = (typeof HEALTH_CHECK_TYPES)[number];
