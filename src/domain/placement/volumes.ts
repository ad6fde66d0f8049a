/**
 * Placement of an app with local volumes (a pure extension of place()). Its data lives on the nodes that hold
 * its volumes, so:
 *
 * - a stateful app has at most one instance per node (each instance owns its node's copy of the volumes);
 * - new instances return to ready holder nodes first (least allocated, then name);
 * - while a holder node without an instance is not ready, no instance goes to a node without data: the
 *   placement fails with code `pinned` (grim never moves an instance without its data; the user brings the node
 *   back, or restores a backup elsewhere and abandons the old copy);
 * - a node without data takes an instance only when the volumes fit in its free space; otherwise the placement
 *   fails with code `no-space` and every node's numbers.
 */
import { formatBytes } from '../units.ts';

/** Free space for people: exact when short ("2Gi"), else 3 significant digits ("71.7Gi"). */
export function approxBytes(bytes: number): string {
  const exact = formatBytes(bytes);
  if (exact.length <= 6 || bytes < 1024) return exact;
  const units = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toPrecision(3)}${units[u]}`;
}
import { allocationAfter, compareNodes } from './spread.ts';
import type { CpuMemory, SnapshotNode, VolumeNodeVerdict, VolumePlacement } from './types.ts';

export type StatefulChoice =
  | { ok: true; targets: SnapshotNode[]; verdicts: VolumeNodeVerdict[] }
  | { ok: false; code: 'pinned' | 'no-space'; message: string; verdicts: VolumeNodeVerdict[] };

/** Least allocated after one more instance, then name/id: the same order spread uses among equal counts. */
function byAllocation(per: CpuMemory) {
  return (a: SnapshotNode, b: SnapshotNode) => {
    const d = allocationAfter(a, 1, per) - allocationAfter(b, 1, per);
    return d !== 0 && !Number.isNaN(d) ? d : compareNodes(a, b);
  };
}

export function volumeInputProblems(nodes: readonly SnapshotNode[], v: VolumePlacement): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(v.bytesPerInstance) || v.bytesPerInstance <= 0)
    problems.push(`volumes.bytesPerInstance must be a positive whole number, got ${v.bytesPerInstance}`);
  if (v.abandon !== undefined && !Array.isArray(v.abandon)) problems.push('volumes.abandon must be a list');
  for (const n of nodes) {
    if (typeof n !== 'object' || n === null) continue;
    if (
      n.volumeFreeBytes !== undefined &&
      (!Number.isSafeInteger(n.volumeFreeBytes) || n.volumeFreeBytes < 0)
    )
      problems.push(
        `node "${n.id}": volumeFreeBytes must be a non-negative whole number, got ${n.volumeFreeBytes}`,
      );
    if (n.volumeHolder !== undefined && typeof n.volumeHolder !== 'boolean')
      problems.push(`node "${n.id}": volumeHolder must be true or false`);
  }
  return problems;
}

/** Which nodes get the `added` new instances of a stateful app, or why none can. `nodes` are sorted by name. */
export function chooseStatefulNodes(
  app: string,
  nodes: readonly SnapshotNode[],
  added: number,
  per: CpuMemory,
  v: VolumePlacement,
): StatefulChoice {
  const need = v.bytesPerInstance;
  const abandoned = new Set(v.abandon ?? []);
  const holds = (n: SnapshotNode) => n.volumeHolder === true && !abandoned.has(n.id);
  const verdicts = new Map<string, VolumeNodeVerdict>();
  const say = (n: SnapshotNode, verdict: VolumeNodeVerdict['verdict'], message: string) =>
    verdicts.set(n.id, {
      nodeId: n.id,
      nodeName: n.name,
      verdict,
      message,
      ...(n.volumeFreeBytes !== undefined ? { freeBytes: n.volumeFreeBytes } : {}),
    });

  const returning: SnapshotNode[] = [];
  const stranded: SnapshotNode[] = [];
  const fresh: SnapshotNode[] = [];
  for (const n of nodes) {
    if (n.appInstances > 0) say(n, 'runs', `already runs an instance of ${app} on its data`);
    else if (holds(n) && n.state === 'ready') returning.push(n);
    else if (holds(n)) {
      stranded.push(n);
      say(n, 'stranded', `holds ${app}'s data but is ${n.state}`);
    } else if (n.state !== 'ready') say(n, 'not-ready', `is ${n.state}`);
    else if (n.volumeFreeBytes === undefined)
      say(n, 'unknown-space', `needs ${formatBytes(need)} for new volumes; its free space is unknown`);
    else if (n.volumeFreeBytes < need)
      say(
        n,
        'no-space',
        `needs ${formatBytes(need)} for new volumes, has ${approxBytes(n.volumeFreeBytes)} free`,
      );
    else fresh.push(n);
  }
  const order = byAllocation(per);
  returning.sort(order);
  fresh.sort(order);
  const targets = returning.slice(0, Math.max(0, added));
  for (const n of targets) say(n, 'returns', `holds ${app}'s data: an instance returns to it`);
  const remaining = added - targets.length;
  const list = () => nodes.map((n) => verdicts.get(n.id)).filter((x): x is VolumeNodeVerdict => !!x);
  if (remaining > 0 && stranded.length > 0) {
    return {
      ok: false,
      code: 'pinned',
      message:
        `${stranded.length} instance(s) of ${app} keep their data on nodes that are not ready: ` +
        stranded.map((n) => `${n.name} (${n.state})`).join(', ') +
        '. grim does not move an instance without its data: bring the node back, or restore the latest backup ' +
        'onto another node (grim volume restore) and abandon the old copy',
      verdicts: list(),
    };
  }
  if (remaining > fresh.length) {
    return {
      ok: false,
      code: 'no-space',
      message:
        `${app} needs ${remaining} more node(s) with ${formatBytes(need)} free for its volumes ` +
        `(one instance per node), and only ${fresh.length} can take them: ` +
        nodes
          .map(
            (n) =>
              verdicts.get(n.id) ?? {
                nodeName: n.name,
                message: `has ${approxBytes(n.volumeFreeBytes ?? 0)} free`,
              },
          )
          .map((x) => `${x.nodeName} ${x.message}`)
          .join('; '),
      verdicts: nodes.map(
        (n) =>
          verdicts.get(n.id) ?? {
            nodeId: n.id,
            nodeName: n.name,
            verdict: 'new' as const,
            message: `could take new volumes: ${approxBytes(n.volumeFreeBytes ?? 0)} free`,
            freeBytes: n.volumeFreeBytes,
          },
      ),
    };
  }
  for (const n of fresh.slice(0, Math.max(0, remaining))) {
    targets.push(n);
    say(n, 'new', `gets new volumes (${formatBytes(need)} of ${approxBytes(n.volumeFreeBytes ?? 0)} free)`);
  }
  return { ok: true, targets, verdicts: list() };
}
