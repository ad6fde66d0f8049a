import { call } from '../api.ts';
import { useQuery } from '../use-query.ts';
import { byName } from '../format.ts';
import type { Target } from '../types.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { StateBadge } from './StateBadge.tsx';
import { EmptyState } from './EmptyState.tsx';
import { NoNodes, NO_NODES_TITLE } from '../pages/nodes/NoNodes.tsx';

function toggle(list: string[] | undefined, item: string, on: boolean): string[] {
  const rest = (list ?? []).filter((x) => x !== item);
  return on ? [...rest, item] : rest;
}

/** Is anything picked? (The API refuses an empty target.) */
export function targetIsEmpty(t: Target): boolean {
  return !t.nodes?.length && !t.groups?.length && !t.selector?.trim();
}

/** The API's target: only the parts that were filled in. */
export function targetBody(t: Target): Target {
  const out: Target = {};
  if (t.nodes?.length) out.nodes = t.nodes;
  if (t.groups?.length) out.groups = t.groups;
  if (t.selector?.trim()) out.selector = t.selector.trim();
  return out;
}

/** Pick nodes, groups and/or a label selector: what a run or an update acts on. */
export function TargetPicker({
  value,
  onChange,
  idPrefix,
}: {
  value: Target;
  onChange(t: Target): void;
  idPrefix: string;
}) {
  const q = useQuery(async (signal) => {
    const [n, g] = await Promise.all([call('listNodes', {}, signal), call('listGroups', {}, signal)]);
    return { nodes: byName(n.nodes), groups: byName(g.groups) };
  }, []);
  if (q.error) return <ErrorMessage error={q.error} title="Could not load the nodes and groups." />;
  if (!q.data) return <p className="muted">Loading nodes…</p>;
  if (q.data.nodes.length === 0)
    return (
      <EmptyState title={`${NO_NODES_TITLE}: there is nothing to run on`}>
        <NoNodes />
      </EmptyState>
    );
  return (
    <div className="target-picker">
      <fieldset className="checks">
        <legend>Nodes</legend>
        {q.data.nodes.map((n) => (
          <label key={n.name} className="check">
            <input
              type="checkbox"
              checked={value.nodes?.includes(n.name) ?? false}
              onChange={(e) => onChange({ ...value, nodes: toggle(value.nodes, n.name, e.target.checked) })}
            />
            <span>{n.name}</span> <StateBadge state={n.state} />
          </label>
        ))}
      </fieldset>
      <fieldset className="checks">
        <legend>Groups</legend>
        {q.data.groups.length === 0 && <p className="muted">No groups (create them in Settings).</p>}
        {q.data.groups.map((g) => (
          <label key={g.name} className="check">
            <input
              type="checkbox"
              checked={value.groups?.includes(g.name) ?? false}
              onChange={(e) => onChange({ ...value, groups: toggle(value.groups, g.name, e.target.checked) })}
            />
            <span>
              {g.name} <span className="muted small">({g.nodes.length} nodes)</span>
            </span>
          </label>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${idPrefix}-selector`}>Label selector</label>
        <input
          id={`${idPrefix}-selector`}
          placeholder="tier=web,zone=a"
          maxLength={512}
          value={value.selector ?? ''}
          onChange={(e) => onChange({ ...value, selector: e.target.value })}
        />
      </div>
    </div>
  );
}
