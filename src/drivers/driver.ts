/**
 * The one interface every app runtime implements (in the spirit of Nomad's task drivers).
 * Drivers never own an SSH client: they act on a node only through `ctx`, by running the
 * node-side scripts in scripts/ (one readable POSIX sh file per action). Every method is
 * idempotent: calling it again after a crash or a retry converges on the same state.
 */
import type { ExecResult } from '../ssh/index.ts';

import type { Runtime } from '../domain/runtimes.ts';

/** The runtimes, declared once in the domain. */
export type RuntimeKind = Runtime;

export interface Resources {
  cpuMillis: number;
  memoryBytes: number;
  diskBytes: number;
}

export interface PortMapping {
  name?: string;
  /** Port the app listens on (inside its container/VM; for `script` the same as hostPort). */
  port: number;
  /** Port published on the node's address. */
  hostPort: number;
  protocol: 'tcp';
}

export type AppSource =
  | { kind: 'image'; image: string } // OCI reference, pulled by the control node's registry client
  | { kind: 'tarball'; tarball: string; runtime: string; command: string[] } // app tarball + named runtime image
  | { kind: 'script'; start: string; stop?: string; status?: string }; // user's own sh scripts

/** A volume as a driver attaches it: already created on the node by grim's volume service. */
export interface InstanceVolume {
  name: string;
  kind: 'local' | 'shared';
  /** Where the app sees it (containers: bind mount target; microVMs: mounted by the guest init). */
  mount: string;
  /** The directory on the node (ZFS dataset mountpoint, plain directory, or the node's weed mount). */
  hostPath: string;
  /** Local volumes of microVMs: the ext4 image attached as a drive, and the UUID the guest finds it by. */
  image?: string;
  fsUuid?: string;
}

export interface InstanceSpec {
  instanceId: string; // short, [a-z0-9-], unique; safe in file names, unit names, cgroup names
  app: string;
  environment: string;
  release: number;
  resources: Resources;
  /** Environment for the app, secrets included (decrypted only for this call; never logged). */
  env: Record<string, string>;
  ports: PortMapping[];
  source: AppSource;
  /** Persistent volumes, created on the node before the driver is called. */
  volumes?: InstanceVolume[];
}

/** What a driver persists to find its instance again after a grim restart (RecoverTask). */
export interface InstanceHandle {
  driver: RuntimeKind;
  instanceId: string;
  node: string;
  /** Driver-specific, JSON-serialisable (paths, pids, MACs, IPs, image digest...). */
  data: Record<string, unknown>;
}

export type InstanceState = 'running' | 'starting' | 'stopped' | 'failed' | 'missing';

export interface InstanceStatus {
  state: InstanceState;
  /** Restarts done by the node-side supervisor since creation. */
  restarts?: number;
  pid?: number;
  /** e.g. the guest IP of a VM, the cgroup path of a container. */
  detail?: Record<string, unknown>;
  message?: string;
}

export interface DriverCapabilities {
  logs: boolean;
  exec: boolean;
  /** cgroup (or VMM) limits enforce the size. */
  enforcesLimits: boolean;
}

export interface DriverFingerprint {
  available: boolean;
  reason?: string; // why not, e.g. "runc not installed"
  details?: Record<string, unknown>;
}

export interface OpCtx {
  node: string;
  /** Run scripts/<name>.sh on the node with parameters as environment variables; returns its JSON result. */
  runScript(
    name: string,
    env: Record<string, string>,
    opts?: { timeoutMs?: number; stdin?: never },
  ): Promise<{ json: unknown; result: ExecResult }>;
  /**
   * Copy bytes to a file on the node: one SSH channel with the data on stdin, written to a temporary file,
   * checked against `sha256` (hex or "sha256:<hex>"; computed when absent, buffering a stream), then renamed.
   */
  upload(path: string, data: Buffer | NodeJS.ReadableStream, mode?: number, sha256?: string): Promise<void>;
  log(line: string): void;
  signal?: AbortSignal;
}

/** Where grim looks at a running instance; services ask the driver instead of reading `handle.data`. */
export interface InstanceObservation {
  /** cgroup paths (relative to the cgroup root, as metrics.sh takes them) holding the instance's processes. */
  cgroups: string[];
  /** The VMM's metrics file on the node (Firecracker). */
  vmmMetricsFile?: string;
  /** Set when the app answers on its own ports at another address than the node's (a bridged microVM). */
  endpoint?: { address: string };
  /** The file on the node where the app's stdout and stderr land (a VM's serial console); log shipping tails it. */
  logFile?: string;
  /** Where the app's stderr lands when the driver keeps it apart (logFile then holds stdout): stream="stderr". */
  stderrLogFile?: string;
}

/** A bridged microVM answers on its own LAN address (recorded in the handle by the VM drivers). */
export function vmEndpoint(h: InstanceHandle): InstanceObservation['endpoint'] {
  return h.data.mode === 'bridged' && typeof h.data.address === 'string'
    ? { address: h.data.address }
    : undefined;
}

export interface RuntimeDriver {
  readonly kind: RuntimeKind;
  capabilities(): DriverCapabilities;
  fingerprint(ctx: OpCtx): Promise<DriverFingerprint>;
  /** Prepare everything (image, rootfs, unit/supervisor files, network) without starting. */
  create(spec: InstanceSpec, ctx: OpCtx): Promise<InstanceHandle>;
  start(h: InstanceHandle, ctx: OpCtx): Promise<void>;
  stop(h: InstanceHandle, ctx: OpCtx, timeoutMs: number): Promise<void>;
  /** Stop if needed and remove every trace: files, cgroups, TAPs, ports, addresses. */
  destroy(h: InstanceHandle, ctx: OpCtx): Promise<void>;
  inspect(h: InstanceHandle, ctx: OpCtx): Promise<InstanceStatus>;
  /** Where its usage and health are read (cgroups, VMM metrics file, endpoint); no I/O. */
  observe(h: InstanceHandle): InstanceObservation;
  /** The tail of the instance's output. */
  logs?(h: InstanceHandle, ctx: OpCtx, tailLines: number): Promise<string>;
  /**
   * The handle of an instance from what is on its node: after a control-node restart, for a row whose handle
   * was never stored, or for a stray. undefined when the node has nothing of it.
   */
  recover(instanceId: string, ctx: OpCtx): Promise<InstanceHandle | undefined>;
}
