/**
 * Reconcile diff (pure): what grim wants on one node versus what the node reports, as repair actions.
 * Instances of apps with a rollout under way are left to the rollout.
 */
import type { AppInstanceState } from './states.ts';
import { wantedOnNode } from './states.ts';

export type DesiredInstance = { id: string; app: string; state: AppInstanceState };

/** One instance as the node's list script reports it. */
export type ReportedInstance = {
  id: string;
  app: string;
  release: number;
  /** Is its supervisor (unit, OpenRC service or sh supervisor) running? */
  supervised: boolean;
  /** Is the app's process alive right now (it may be between restarts)? */
  appAlive: boolean;
  restarts: number;
};

export type NodeRepairs = {
  /** Present and supervised: refresh their state. */
  ok: ReportedInstance[];
  /** Files present but nothing supervises them (died, node rebooted without an init system): start again. */
  restart: string[];
  /** Wanted but absent from the node: create and start again. */
  recreate: string[];
  /** On the node but not wanted (stray, or marked for removal): destroy. */
  remove: string[];
  /** Marked for removal and already gone from the node: drop the row. */
  forget: string[];
};

export function diffNode(
  desired: readonly DesiredInstance[],
  reported: readonly ReportedInstance[],
  busyApps: ReadonlySet<string> = new Set(),
): NodeRepairs {
  const out: NodeRepairs = { ok: [], restart: [], recreate: [], remove: [], forget: [] };
  const want = new Map(desired.filter((d) => !busyApps.has(d.app)).map((d) => [d.id, d]));
  const seen = new Set<string>();
  for (const r of reported) {
    if (busyApps.has(r.app)) continue;
    seen.add(r.id);
    const d = want.get(r.id);
    if (!d || !wantedOnNode(d.state)) {
      out.remove.push(r.id); // a stray, or an instance marked for removal
      continue;
    }
    if (r.supervised) out.ok.push(r);
    else out.restart.push(r.id);
  }
  for (const d of want.values()) if (!seen.has(d.id) && wantedOnNode(d.state)) out.recreate.push(d.id);
  for (const d of want.values()) if (!seen.has(d.id) && !wantedOnNode(d.state)) out.forget.push(d.id);
  out.restart.sort();
  out.recreate.sort();
  out.remove.sort();
  out.forget.sort();
  return out;
}
