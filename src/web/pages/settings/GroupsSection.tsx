import { useState, type FormEvent } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { useCan } from '../../session.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import type { Environment, Group, NodeView } from '../../types.ts';

function GroupNodesEditor({
  group,
  nodes,
  onDone,
}: {
  group: Group;
  nodes: NodeView[];
  onDone(saved: boolean): void;
}) {
  const [picked, setPicked] = useState(new Set(group.nodes));
  const act = useAction();
  const candidates = nodes.filter((n) => n.environment === group.environment);
  return (
    <div className="group-editor">
      <fieldset className="checks">
        <legend>Nodes in {group.name}</legend>
        {candidates.length === 0 && <p className="muted">No nodes in {group.environment}.</p>}
        {candidates.map((n) => (
          <label key={n.name} className="check">
            <input
              type="checkbox"
              checked={picked.has(n.name)}
              onChange={(e) => {
                const next = new Set(picked);
                if (e.target.checked) next.add(n.name);
                else next.delete(n.name);
                setPicked(next);
              }}
            />
            <span>{n.name}</span>
          </label>
        ))}
      </fieldset>
      <button
        type="button"
        className="button button-primary"
        disabled={act.busy}
        onClick={async () => {
          const r = await act.run(() =>
            call('setGroupNodes', { params: { name: group.name }, body: { nodes: [...picked] } }),
          );
          if (r) onDone(true);
        }}
      >
        Save nodes
      </button>
      <button type="button" className="button button-quiet" onClick={() => onDone(false)}>
        Cancel
      </button>
      <ErrorMessage error={act.error} title="The group was not changed." />
    </div>
  );
}

export function GroupsSection({
  groups,
  envs,
  nodes,
  onChange,
}: {
  groups: Group[];
  envs: Environment[];
  nodes: NodeView[];
  onChange(): void;
}) {
  const isAdmin = useCan('admin');
  const [name, setName] = useState('');
  const [env, setEnv] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const act = useAction();
  const chosenEnv = env || envs[0]?.name || '';
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() =>
      call('createGroup', { body: { name: name.trim(), environment: chosenEnv } }),
    );
    if (!r) return;
    setName('');
    onChange();
  };
  return (
    <section className="panel" aria-labelledby="groups-title">
      <h2 id="groups-title">Groups</h2>
      {groups.length === 0 ? (
        <EmptyState title="No groups yet">
          <p>Groups name sets of nodes (web, db) to run commands and updates on.</p>
        </EmptyState>
      ) : (
        <table className="table">
          <caption className="visually-hidden">Groups</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Environment</th>
              <th scope="col">Nodes</th>
              {isAdmin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.name}>
                <td>{g.name}</td>
                <td>{g.environment}</td>
                <td>
                  {editing === g.name ? (
                    <GroupNodesEditor
                      group={g}
                      nodes={nodes}
                      onDone={(saved) => {
                        setEditing(null);
                        if (saved) onChange();
                      }}
                    />
                  ) : (
                    g.nodes.join(', ') || <span className="muted">none</span>
                  )}
                </td>
                {isAdmin && (
                  <td className="row-actions">
                    <button type="button" className="button" onClick={() => setEditing(g.name)}>
                      Set nodes
                    </button>
                    <ConfirmButton
                      label="Delete"
                      danger
                      question={`Delete group ${g.name}? Its nodes stay.`}
                      busy={act.busy}
                      onConfirm={async () => {
                        if (await act.run(() => call('deleteGroup', { params: { name: g.name } })))
                          onChange();
                      }}
                    />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {isAdmin && envs.length > 0 && (
        <form className="inline-form" onSubmit={create} aria-label="Create a group">
          <div className="field">
            <label htmlFor="group-name">Group name</label>
            <input
              id="group-name"
              required
              maxLength={63}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="group-env">In environment</label>
            <select id="group-env" value={chosenEnv} onChange={(e) => setEnv(e.target.value)}>
              {envs.map((x) => (
                <option key={x.name} value={x.name}>
                  {x.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field field-buttons">
            <button type="submit" className="button button-primary" disabled={act.busy}>
              Create group
            </button>
          </div>
        </form>
      )}
      <ErrorMessage error={act.error} title="The change was not made." />
    </section>
  );
}
