import { useState, type FormEvent } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { useCan } from '../../session.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import type { Environment } from '../../types.ts';

export function EnvironmentsSection({ envs, onChange }: { envs: Environment[]; onChange(): void }) {
  const isAdmin = useCan('admin');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const act = useAction();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() => call('createEnvironment', { body: { name: name.trim(), description } }));
    if (!r) return;
    setName('');
    setDescription('');
    onChange();
  };
  return (
    <section className="panel" aria-labelledby="envs-title">
      <h2 id="envs-title">Environments</h2>
      {envs.length === 0 ? (
        <EmptyState title="No environments yet">
          <p>An environment (prod, staging, lab) holds nodes and groups.</p>
        </EmptyState>
      ) : (
        <table className="table">
          <caption className="visually-hidden">Environments</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col" className="num">
                Nodes
              </th>
              <th scope="col" className="num">
                Groups
              </th>
              {isAdmin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {envs.map((env) => (
              <tr key={env.name}>
                <td>{env.name}</td>
                <td>{env.description || '—'}</td>
                <td className="num">{env.nodes}</td>
                <td className="num">{env.groups}</td>
                {isAdmin && (
                  <td>
                    <ConfirmButton
                      label="Delete"
                      danger
                      question={`Delete environment ${env.name}?`}
                      busy={act.busy}
                      onConfirm={async () => {
                        if (await act.run(() => call('deleteEnvironment', { params: { name: env.name } })))
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
      {isAdmin && (
        <form className="inline-form" onSubmit={create} aria-label="Create an environment">
          <div className="field">
            <label htmlFor="env-name">Environment name</label>
            <input
              id="env-name"
              required
              maxLength={63}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="env-description">Description</label>
            <input
              id="env-description"
              maxLength={256}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
          </div>
          <div className="field field-buttons">
            <button type="submit" className="button button-primary" disabled={act.busy}>
              Create environment
            </button>
          </div>
        </form>
      )}
      <ErrorMessage error={act.error} title="The change was not made." />
    </section>
  );
}
