/**
 * App runtimes, declared once (the API schema, the CLI, the drivers and placement derive from this list), and
 * what a node must offer to run each one, read from the node's recorded facts (scripts/node/facts.sh). Pure.
 */
export const RUNTIMES = ['script', 'container', 'qemu-microvm', 'firecracker'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** MicroVM runtimes: their instances get a network mode (nat: private subnet + published ports; bridged: LAN IP). */
export const VM_RUNTIMES: readonly Runtime[] = ['qemu-microvm', 'firecracker'];

/**
 * Runtimes whose app shares the node's network: it listens on the host ports grim gives it. The others have their
 * own network (a container's namespace, a VM) and listen on their declared ports, published on the host ports.
 */
export const listensOnHostPorts = (runtime: Runtime): boolean => runtime === 'script';

export const isRuntime = (v: unknown): v is Runtime => (RUNTIMES as readonly unknown[]).includes(v);

/** What facts.sh reports that decides which runtimes can run on a node (older facts may lack fields). */
export interface RuntimeFacts {
  /** /dev/kvm exists (older facts: the only KVM field). */
  kvm?: boolean;
  /**
   * KVM really works: /dev/kvm opens read-write and, where QEMU is installed on the node, a test guest ran under
   * KVM (kvmCheck "guest"); with kvmCheck "open" only the open was checked. Older facts: the open check only.
   */
  kvmUsable?: boolean;
  kvmCheck?: 'guest' | 'open' | 'none';
  /** Why KVM is not usable, as facts.sh found it ("" when it is). */
  kvmProblem?: string;
  tools?: Partial<Record<string, boolean>>;
  /** /dev/fuse is there (FUSE mounts work). */
  fuse?: boolean;
  /** ZFS pools imported on the node, with free space. */
  zpools?: Array<{ name: string; freeBytes: number }>;
}

export type RuntimeSupport = { ok: true } | { ok: false; reason: string };

const tool = (f: RuntimeFacts, name: string) => f.tools?.[name] === true;

/**
 * Can `runtime` run on a node with these facts? Unknown facts (never collected) are not a "no": the driver's
 * fingerprint still checks the node before anything is created there.
 */
export function runtimeSupport(runtime: Runtime, facts: RuntimeFacts | undefined): RuntimeSupport {
  if (!facts || facts.tools === undefined) return { ok: true };
  switch (runtime) {
    case 'script':
      return { ok: true };
    case 'container':
      return tool(facts, 'crun') || tool(facts, 'runc')
        ? { ok: true }
        : { ok: false, reason: 'neither crun nor runc is installed' };
    case 'qemu-microvm':
      return tool(facts, 'qemu-system-x86_64')
        ? { ok: true }
        : { ok: false, reason: 'qemu-system-x86_64 is not installed' };
    case 'firecracker': {
      const missing: string[] = [];
      if (!tool(facts, 'firecracker')) missing.push('firecracker is not installed');
      if (!(facts.kvmUsable ?? facts.kvm))
        missing.push(facts.kvmProblem ? `no usable KVM: ${facts.kvmProblem}` : 'no usable /dev/kvm (KVM)');
      return missing.length ? { ok: false, reason: missing.join(' and ') } : { ok: true };
    }
  }
}

/** Every runtime's support on one node: what is recorded per node and shown with it. */
export function runtimesOn(facts: RuntimeFacts | undefined): Record<Runtime, RuntimeSupport> {
  return Object.fromEntries(RUNTIMES.map((r) => [r, runtimeSupport(r, facts)])) as Record<
    Runtime,
    RuntimeSupport
  >;
}
