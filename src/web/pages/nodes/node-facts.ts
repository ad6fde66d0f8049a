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
  kvm: boolean | null;
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
    cgroup: str(f.cgroup),
    init: str(f.init),
    tools,
  };
}
