/** Nodes: states, the heartbeat state machine, label selectors and allocatable capacity. Pure. */
export const NODE_STATES = ['ready', 'unreachable', 'maintenance', 'host-key-mismatch'] as const;
export type NodeState = (typeof NODE_STATES)[number];
export const NODE_ROLES = ['compute', 'storage'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export type ProbeOutcome = 'ok' | 'unreachable' | 'host-key-mismatch';

/**
 * What a node's state becomes after a probe. Maintenance is the admin's to end; a host-key mismatch
 * sticks until an admin re-pins the key: nothing runs on such a node meanwhile.
 */
export function stateAfterProbe(maintenance: boolean, current: NodeState, outcome: ProbeOutcome): NodeState {
  if (outcome === 'host-key-mismatch' || current === 'host-key-mismatch') return 'host-key-mismatch';
  if (maintenance) return 'maintenance';
  return outcome === 'ok' ? 'ready' : 'unreachable';
}

/** May grim run commands on a node in this state? */
export function runnable(state: NodeState): boolean {
  return state !== 'host-key-mismatch';
}

export interface LabelTerm {
  key: string;
  value: string;
}

const LABEL_KEY = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$|^$/;

export function labelProblems(labels: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k))
      out.push(`label key "${k}" must be lowercase letters, digits, . _ / - (at most 63)`);
    if (typeof v !== 'string' || !LABEL_VALUE.test(v))
      out.push(`label "${k}" has an invalid value (letters, digits, . _ -; at most 63)`);
  }
  return out;
}

/** `key=value,key2=value2`: every term must match. Nothing else: no expressions, no negation. */
export function parseSelector(text: string): { terms: LabelTerm[]; problems: string[] } {
  const terms: LabelTerm[] = [];
  const problems: string[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = /^([^=]+)=(.*)$/.exec(part);
    if (!m) {
      problems.push(`"${part}" is not key=value`);
      continue;
    }
    const [key, value] = [m[1].trim(), m[2].trim()];
    const p = labelProblems({ [key]: value });
    if (p.length) problems.push(...p);
    else terms.push({ key, value });
  }
  return { terms, problems };
}

export function matchesSelector(labels: Record<string, string>, terms: LabelTerm[]): boolean {
  return terms.every((t) => labels[t.key] === t.value);
}

export interface Capacity {
  cpuMillis: number;
  memoryBytes: number;
}

/** Allocatable = what the node has (facts) minus what the admin reserves for the OS. */
export function allocatable(facts: { cpuCount?: number; memoryBytes?: number }, reserve: Capacity): Capacity {
  return {
    cpuMillis: Math.max(0, (facts.cpuCount ?? 0) * 1000 - reserve.cpuMillis),
    memoryBytes: Math.max(0, (facts.memoryBytes ?? 0) - reserve.memoryBytes),
  };
}
