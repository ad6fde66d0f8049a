import type { NodeView } from '../../types.ts';

/** The facts grim gathered (facts.sh), read defensively: an old or partial record shows '—'. */
export interface NodeFacts {
  os: string;
  kernel: string;
  arch: string;
  hostname: string;
  cpus: number | null;
  memoryBytes: number | null;
  disks: Array<{ name: string; sizeBytes: number; rotational: boolean; model: string; serial: string }>;
  /** /dev/kvm is there. */
  kvm: boolean | null;
  /** KVM really works (facts.sh boots a test guest where QEMU is installed); null for old facts. */
  kvmUsable: boolean | null;
  /** Why KVM is not usable ('' when it is, or unknown). */
  kvmProblem: string;
  cgroup: string;
  init: string;
  tools: Record<string, boolean>;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function nodeFacts(n: Pick<NodeView, 'facts'>): NodeFacts {
  const f = n.facts ?? {};
  const os = (f.os ?? {}) as Record<string, unknown>;
  const disks = Array.isArray(f.disks) ? (f.disks as Record<string, unknown>[]) : [];
  const tools = f.tools && typeof f.tools === 'object' ? (f.tools as Record<string, boolean>) : {};
  return {
    os: str(os.prettyName) || [str(os.id), str(os.version)].filter(Boolean).join(' '),
    kernel: str(f.kernel),
    arch: str(f.arch),
    hostname: str(f.hostname),
    cpus: num(f.cpus),
    memoryBytes: num(f.memoryBytes),
    disks: disks.map((d) => ({
      name: str(d.name),
      sizeBytes: num(d.sizeBytes) ?? 0,
      rotational: d.rotational === true,
      model: str(d.model),
      serial: str(d.serial),
    })),
    kvm: typeof f.kvm === 'boolean' ? f.kvm : null,
    kvmUsable: typeof f.kvmUsable === 'boolean' ? f.kvmUsable : null,
    kvmProblem: str(f.kvmProblem),
    cgroup: str(f.cgroup),
    init: str(f.init),
    tools,
  };
}

/** KVM as the node page shows it: whether it really works, with the reason when not (old facts: device only). */
export function kvmText(f: Pick<NodeFacts, 'kvm' | 'kvmUsable' | 'kvmProblem'>): string {
  if (f.kvmUsable !== null)
    return f.kvmUsable ? 'usable' : `not usable${f.kvmProblem ? `: ${f.kvmProblem}` : ''}`;
  if (f.kvm === null) return '—';
  return f.kvm ? 'available' : 'not available';
}
