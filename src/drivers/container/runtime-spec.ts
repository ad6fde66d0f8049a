/**
 * Pure builder of an instance's OCI runtime config (config.json) from the image config, the app's env and
 * ports, and the size. `linux.resources` uses the OCI fields runc/crun translate to cgroup v1
 * (memory.limit_in_bytes, cpu.cfs_quota_us, pids.max) and to cgroup v2 (memory.max, cpu.max, pids.max).
 */
import type { RuntimeConfig as ImageRuntime } from '../../oci/image-config.ts';
import type { InstanceVolume, PortMapping, Resources } from '../driver.ts';

export interface ContainerUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface LinuxResources {
  devices: { allow: boolean; access: string }[];
  memory: { limit: number; swap: number };
  cpu: { shares: number; quota: number; period: number };
  pids: { limit: number };
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface OciRuntimeSpec {
  ociVersion: string;
  process: {
    terminal: false;
    user: ContainerUser;
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
    noNewPrivileges: true;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    cgroupsPath: string;
    resources: LinuxResources;
    namespaces: { type: string; path?: string }[];
    sysctl: Record<string, string>;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

export interface RuntimeSpecInput {
  instanceId: string;
  image: ImageRuntime;
  /** App env (secrets included): wins over the image's env and the PORT variables. */
  appEnv: Record<string, string>;
  ports: PortMapping[];
  resources: Resources;
  user: ContainerUser;
  /** Absolute instance directory on the node (rootfs/, etc/hosts, etc/hostname, etc/resolv.conf). */
  instanceDir: string;
  netnsPath: string;
  cgroupsPath: string;
  pidsLimit: number;
  /** Replaces Entrypoint + Cmd. */
  command?: string[];
  readonlyRootfs?: boolean;
  /** Persistent volumes: each node directory is bind-mounted read-write at its mount point. */
  volumes?: InstanceVolume[];
}

export const CPU_PERIOD_US = 100_000;
/** The smallest CFS quota the kernel accepts. */
const MIN_CPU_QUOTA_US = 1_000;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's default capability set: what common images expect (setuid to a service user, chown, bind <1024). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Size → cgroup limits: memory without swap, CFS quota from millicores (period 100 ms), weight, pids. */
export function linuxResources(resources: Resources, pidsLimit: number): LinuxResources {
  const { cpuMillis, memoryBytes } = resources;
  if (!Number.isInteger(cpuMillis) || cpuMillis <= 0)
    throw new Error(`cpuMillis must be a positive integer, got ${cpuMillis}`);
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes < 4 * 1024 * 1024) {
    throw new Error(`memoryBytes must be an integer of at least 4 MiB, got ${memoryBytes}`);
  }
  if (!Number.isInteger(pidsLimit) || pidsLimit < 1)
    throw new Error(`pidsLimit must be a positive integer, got ${pidsLimit}`);
  return {
    devices: [{ allow: false, access: 'rwm' }],
    // swap == limit: memory+swap may not exceed the limit, i.e. no swap (memory.memsw on v1, memory.swap.max=0 on v2).
    memory: { limit: memoryBytes, swap: memoryBytes },
    cpu: {
      shares: Math.max(2, Math.round((cpuMillis * 1024) / 1000)),
      quota: Math.max(MIN_CPU_QUOTA_US, Math.round((cpuMillis * CPU_PERIOD_US) / 1000)),
      period: CPU_PERIOD_US,
    },
    pids: { limit: pidsLimit },
  };
}

function envName(portName: string): string {
  return portName.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Image env, then HOSTNAME and PORT / PORT_<NAME> (container side), then the app's env; later names win. */
export function containerEnv(
  imageEnv: Record<string, string>,
  appEnv: Record<string, string>,
  ports: PortMapping[],
  hostname: string,
): string[] {
  const merged = new Map<string, string>();
  merged.set('PATH', DEFAULT_PATH);
  for (const [k, v] of Object.entries(imageEnv)) merged.set(k, v);
  merged.set('HOSTNAME', hostname);
  if (ports.length > 0) merged.set('PORT', String(ports[0].port));
  for (const p of ports) if (p.name) merged.set(`PORT_${envName(p.name)}`, String(p.port));
  for (const [k, v] of Object.entries(appEnv)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new Error(`invalid environment variable name ${JSON.stringify(k)}`);
    if (v.includes('\0')) throw new Error(`environment variable ${k} contains a NUL byte`);
    merged.set(k, v);
  }
  return [...merged].map(([k, v]) => `${k}=${v}`);
}

/** `uid:gid` numeric specs (and the empty spec = root) need no lookup in the image's /etc/passwd. */
export function numericUser(spec: string): ContainerUser | undefined {
  if (spec === '' || spec === 'root' || spec === '0') return { uid: 0, gid: 0 };
  const match = /^(\d+):(\d+)$/.exec(spec);
  return match ? { uid: Number(match[1]), gid: Number(match[2]) } : undefined;
}

export function buildRuntimeSpec(input: RuntimeSpecInput): OciRuntimeSpec {
  const args = input.command ?? input.image.argv;
  if (args.length === 0)
    throw new Error('the image has neither Entrypoint nor Cmd, and no command was given');
  const cwd = input.image.workingDir || '/';
  if (!cwd.startsWith('/')) throw new Error(`WorkingDir must be absolute, got ${JSON.stringify(cwd)}`);
  const caps = DEFAULT_CAPABILITIES;
  // Like Docker: a non-root user keeps the bounding set but starts without effective capabilities.
  const granted = input.user.uid === 0 ? caps : [];
  const etc = `${input.instanceDir}/etc`;
  const bind = (file: string): OciMount => ({
    destination: `/etc/${file}`,
    type: 'bind',
    source: `${etc}/${file}`,
    options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
  });
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
    bind('hosts'),
    bind('hostname'),
    bind('resolv.conf'),
  ];
  for (const v of input.volumes ?? []) {
    if (!v.mount.startsWith('/') || !v.hostPath.startsWith('/'))
      throw new Error(`volume ${v.name}: mount and node path must be absolute`);
    mounts.push({
      destination: v.mount,
      type: 'bind',
      source: v.hostPath,
      options: ['rbind', 'rw', 'nosuid', 'nodev'],
    });
  }
  if (input.readonlyRootfs) {
    for (const dir of ['/tmp', '/run']) {
      mounts.push({
        destination: dir,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'mode=1777'],
      });
    }
  }
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: {
        uid: input.user.uid,
        gid: input.user.gid,
        ...(input.user.additionalGids?.length ? { additionalGids: input.user.additionalGids } : {}),
      },
      args,
      env: containerEnv(input.image.envMap, input.appEnv, input.ports, input.instanceId),
      cwd,
      capabilities: { bounding: caps, effective: granted, permitted: granted, inheritable: [], ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: `${input.instanceDir}/rootfs`, readonly: input.readonlyRootfs ?? false },
    hostname: input.instanceId,
    mounts,
    linux: {
      cgroupsPath: input.cgroupsPath,
      resources: linuxResources(input.resources, input.pidsLimit),
      namespaces: [
        { type: 'pid' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'cgroup' },
        { type: 'network', path: input.netnsPath },
      ],
      // Per network namespace: a non-root app may bind ports below 1024 (as with Docker).
      sysctl: { 'net.ipv4.ip_unprivileged_port_start': '0' },
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
        '/sys/firmware',
        '/sys/devices/virtual/powercap',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
