/**
 * place(snapshot, request): the pure placement function (no I/O). It reads an immutable snapshot of one node group
 * and returns a plan. Applying the plan (checking the snapshot is still current) is the caller's job.
 *
 * - Only ready nodes take instances; the others are listed in `skipped` with the reason. Ready nodes that cannot
 *   run the app's runtime (`cannotRun`) are listed in `excluded` with theirs, and a refusal names every one.
 * - Spread first, then least allocated, then node name (see placement/spread.ts). Deterministic and independent of
 *   the order of the nodes in the snapshot.
 * - `replicas` is the desired total: instances already in the snapshot count toward it and toward spread.
 * - Overcommit is a warning with numbers, not an error: without acceptOvercommit the plan is held
 *   (`placements` empty, `proposed` filled); with it the placements are returned and the warnings kept for audit.
 * - With `request.volumes` (local volumes) the app is stateful: one instance per node, pinned to the nodes that
 *   hold its data, new data only where it fits (placement/volumes.ts). Without it nothing changes.
 */
import { checkPlacementInput } from './placement/validate.ts';
import { compareNodes, spreadInstances } from './placement/spread.ts';
import { describeOvercommit, findOvercommit } from './placement/overcommit.ts';
import { chooseStatefulNodes, volumeInputProblems } from './placement/volumes.ts';
import type {
  Placement,
  PlacementPlan,
  PlacementRequest,
  PlacementResult,
  PlacementSnapshot,
  ExcludedNode,
  SkippedNode,
  SnapshotNode,
} from './placement/types.ts';

export type * from './placement/types.ts';
export { NODE_STATES } from './placement/types.ts';
export { MAX_REPLICAS } from './placement/validate.ts';
export { allocationAfter } from './placement/spread.ts';

const SKIP_REASONS: Record<SkippedNode['state'], string> = {
  unreachable: 'node is unreachable over SSH',
  maintenance: 'node is in maintenance',
  'host-key-mismatch': 'node presented an SSH host key that does not match the recorded one',
};

function skippedNode(node: SnapshotNode): SkippedNode {
  const state = node.state as SkippedNode['state'];
  return {
    nodeId: node.id,
    nodeName: node.name,
    state,
    reason: SKIP_REASONS[state],
    appInstances: node.appInstances,
  };
}

export function place(snapshot: PlacementSnapshot, request: PlacementRequest): PlacementResult {
  const problems = checkPlacementInput(snapshot, request);
  if (request.volumes !== undefined && problems.length === 0)
    problems.push(...volumeInputProblems(snapshot.nodes, request.volumes));
  if (problems.length > 0)
    return {
      ok: false,
      code: 'invalid',
      message: `invalid placement input: ${problems[0]}`,
      problems,
      skipped: [],
      excluded: [],
    };

  const nodes = [...snapshot.nodes].sort(compareNodes);
  const usable = nodes.filter((n) => n.state === 'ready' && !n.cannotRun);
  const skipped = nodes.filter((n) => n.state !== 'ready').map(skippedNode);
  const excluded: ExcludedNode[] = nodes
    .filter((n) => n.state === 'ready' && n.cannotRun)
    .map((n) => ({
      nodeId: n.id,
      nodeName: n.name,
      reason: n.cannotRun as string,
      appInstances: n.appInstances,
    }));
  const existing = nodes.reduce((sum, n) => sum + n.appInstances, 0);
  const added = request.replicas - existing;

  if (added < 0) {
    const message =
      `app "${request.app}" already has ${existing} instances, more than the ${request.replicas} replicas asked for; ` +
      'scaling down removes instances and is not a placement';
    return { ok: false, code: 'invalid', message, problems: [message], skipped, excluded };
  }
  let adds: number[];
  let volumeNodes: PlacementPlan['volumeNodes'];
  if (request.volumes !== undefined) {
    // Nodes that cannot run the app are left out (and listed in `excluded`) before the volumes are weighed.
    const runnable = nodes.filter((n) => !n.cannotRun);
    const choice = chooseStatefulNodes(request.app, runnable, added, request.resources, request.volumes);
    if (!choice.ok)
      return {
        ok: false,
        code: choice.code,
        message: choice.message,
        problems: [
          ...choice.verdicts.map((v) => `${v.nodeName}: ${v.message}`),
          ...excluded.map((e) => `${e.nodeName}: ${e.reason}`),
        ],
        skipped,
        excluded,
        volumeNodes: choice.verdicts,
      };
    const chosen = new Set(choice.targets.map((n) => n.id));
    adds = usable.map((n) => (chosen.has(n.id) ? 1 : 0));
    volumeNodes = choice.verdicts;
  } else if (added > 0 && usable.length === 0) {
    const why = [
      ...skipped.map((s) => `${s.nodeName} (${s.state})`),
      ...excluded.map((e) => `${e.nodeName} (${e.reason})`),
    ];
    const message =
      nodes.length === 0
        ? `no nodes in the group to place app "${request.app}" on`
        : excluded.length === 0
          ? `no ready node in the group to place app "${request.app}" on: ${why.join(', ')}`
          : `no node in the group can run app "${request.app}": ${why.join(', ')}`;
    const problems = [
      message,
      ...skipped.map((s) => `${s.nodeName}: ${s.reason}`),
      ...excluded.map((e) => `${e.nodeName}: ${e.reason}`),
    ];
    return {
      ok: false,
      code: 'unavailable',
      message,
      problems: nodes.length === 0 || excluded.length === 0 ? [message] : problems,
      skipped,
      excluded,
    };
  } else adds = spreadInstances(usable, added, request.resources);
  const proposed: Placement[] = [];
  usable.forEach((node, i) => {
    if (adds[i] > 0)
      proposed.push({
        nodeId: node.id,
        nodeName: node.name,
        add: adds[i],
        totalAfter: node.appInstances + adds[i],
      });
  });

  const nodesById = new Map(usable.map((n) => [n.id, n]));
  const overcommitted = findOvercommit(proposed, nodesById, request.resources, !request.acceptOvercommit);
  const held = overcommitted.length > 0 && !request.acceptOvercommit;
  const warnings = overcommitted.map(describeOvercommit);
  if (excluded.length > 0)
    warnings.push(
      `app "${request.app}" is placed only on nodes that can run it; left out: ` +
        excluded.map((e) => `${e.nodeName} (${e.reason})`).join(', '),
    );
  const elsewhere = skipped.filter((s) => s.appInstances > 0);
  if (elsewhere.length > 0)
    warnings.push(
      `${elsewhere.reduce((sum, s) => sum + s.appInstances, 0)} existing instances of app "${request.app}" are on ` +
        `nodes that are not ready and still count toward the ${request.replicas} replicas: ` +
        elsewhere.map((s) => `${s.nodeName} (${s.state}, ${s.appInstances})`).join(', '),
    );

  return {
    ok: true,
    app: request.app,
    existing,
    added,
    proposed,
    placements: held ? [] : [...proposed],
    held,
    overcommit: { held, nodes: overcommitted },
    skipped,
    excluded,
    warnings,
    ...(volumeNodes ? { volumeNodes } : {}),
  };
}
