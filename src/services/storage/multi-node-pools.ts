// The same pool layout on several storage nodes in one call: every node is read and planned first, and
// nothing is created unless every plan holds. Disks are either the same by-id paths everywhere or chosen
// per node by role and count (`take`: "all free disks as data, one spare"), since by-id names differ.
import type { ErrorDetail } from '../../domain/errors.ts';
import { chooseDisks, type DiskCounts } from '../../domain/storage/disk-choice.ts';
import type { PoolPlan, PoolPlanRequest } from '../../domain/storage/pool-plan.ts';
import { fail, type StorageService } from './storage-service.ts';

export type MultiPoolRequest = Omit<PoolPlanRequest, 'disks'> & { disks?: string[]; take?: DiskCounts };

export interface NodePoolResult {
  node: string;
  plan: PoolPlan;
  ran: boolean;
  pool?: unknown;
  health?: unknown;
  /** Why creating failed on this node (the other nodes' pools stay). */
  error?: string;
}

const ROLE_LISTS = ['disks', 'log', 'cache', 'special', 'spares'] as const;

/** The pool request for one node: the shared options with that node's disks. */
function requestFor(req: MultiPoolRequest, inventory: Parameters<typeof chooseDisks>[0]) {
  const { take, ...rest } = req;
  if (!take) return { ok: true as const, request: { ...rest, disks: rest.disks ?? [] } };
  const chosen = chooseDisks(inventory, take);
  if (!chosen.ok) return chosen;
  const lists = Object.fromEntries(
    ROLE_LISTS.map((role) => [role, chosen.chosen[role]]).filter(([, l]) => l.length),
  );
  return { ok: true as const, request: { ...rest, disks: [], ...lists } };
}

/** Every node's plan, or a 4xx naming every problem of every node (path `nodes/<node>/...`). */
export async function planOnNodes(
  s: StorageService,
  nodes: string[],
  req: MultiPoolRequest,
): Promise<{ node: string; plan: PoolPlan }[]> {
  const problems: ErrorDetail[] = [];
  if (nodes.length === 0) problems.push({ path: 'nodes', message: 'pick at least one storage node' });
  const twice = nodes.filter((n, i) => nodes.indexOf(n) !== i);
  if (twice.length)
    problems.push({ path: 'nodes', message: `listed twice: ${[...new Set(twice)].join(', ')}` });
  if (req.take)
    for (const role of ROLE_LISTS)
      if (req[role]?.length)
        problems.push({
          path: role,
          message: `give ${role} by path or by count (take), not both`,
        });
  if (problems.length) throw fail(problems);
  const unique = [...new Set(nodes)];
  const outcomes = await Promise.all(
    unique.map(async (node) => {
      try {
        const state = await s.refresh(node);
        const r = requestFor(req, state.disks);
        return r.ok ? s.planAgainst(node, state, r.request) : r;
      } catch (err) {
        return { ok: false as const, problems: [{ path: 'node', message: (err as Error).message }] };
      }
    }),
  );
  outcomes.forEach((o, i) => {
    if (!o.ok)
      for (const p of o.problems)
        problems.push({ path: `nodes/${unique[i]}/${p.path}`, message: `${unique[i]}: ${p.message}` });
  });
  if (problems.length) throw fail(problems);
  return outcomes.map((o, i) => ({ node: unique[i], plan: (o as { plan: PoolPlan }).plan }));
}

/** Plans on every node; with confirm, creates on all of them (in parallel) once every plan holds. */
export async function createOnNodes(
  s: StorageService,
  nodes: string[],
  req: MultiPoolRequest,
  confirm: boolean,
): Promise<NodePoolResult[]> {
  const plans = await planOnNodes(s, nodes, req);
  if (!confirm) return plans.map((p) => ({ ...p, ran: false }));
  return Promise.all(
    plans.map(async ({ node, plan }): Promise<NodePoolResult> => {
      try {
        return { node, plan, ...(await s.runCreate(node, plan)) };
      } catch (err) {
        return { node, plan, ran: false, error: (err as Error).message };
      }
    }),
  );
}
