import { useState, type FormEvent } from 'react';
import { call } from '../../api.ts';
import { useAction, useQuery } from '../../use-query.ts';
import { useCan } from '../../session.tsx';
import { formatBytes, formatCpu } from '../../format.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';

/** T-shirt sizes apps ask for; admins define them. */
export function SizesSection() {
  const isAdmin = useCan('admin');
  const q = useQuery((signal) => call('listSizes', {}, signal), []);
  const [name, setName] = useState('');
  const [cpu, setCpu] = useState('');
  const [memory, setMemory] = useState('');
  const [disk, setDisk] = useState('');
  const act = useAction();
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() =>
      call('putSize', { params: { name: name.trim() }, body: { cpu, memory, disk } }),
    );
    if (!r) return;
    setName('');
    setCpu('');
    setMemory('');
    setDisk('');
    q.reload();
  };
  let table;
  if (q.error) table = <ErrorMessage error={q.error} title="Could not load the sizes." />;
  else if (!q.data) table = <p className="muted">Loading…</p>;
  else if (q.data.sizes.length === 0) table = <EmptyState title="No sizes defined" />;
  else
    table = (
      <table className="table">
        <caption className="visually-hidden">Sizes</caption>
        <thead>
          <tr>
            <th scope="col">Size</th>
            <th scope="col">CPU</th>
            <th scope="col">Memory</th>
            <th scope="col">Disk</th>
            {isAdmin && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {q.data.sizes.map((s) => (
            <tr key={s.name}>
              <td>{s.name}</td>
              <td title={s.cpu}>{formatCpu(s.cpuMillis)}</td>
              <td title={s.memory}>{formatBytes(s.memoryBytes)}</td>
              <td title={s.disk}>{formatBytes(s.diskBytes)}</td>
              {isAdmin && (
                <td>
                  <ConfirmButton
                    label="Delete"
                    danger
                    question={`Delete size ${s.name}?`}
                    busy={act.busy}
                    onConfirm={async () => {
                      if (await act.run(() => call('deleteSize', { params: { name: s.name } }))) q.reload();
                    }}
                  />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    );
  return (
    <section className="panel" aria-labelledby="sizes-title">
      <h2 id="sizes-title">Sizes</h2>
      {table}
      {isAdmin && (
        <form className="inline-form" onSubmit={save} aria-label="Create or change a size">
          <div className="field field-narrow">
            <label htmlFor="size-name">Size name</label>
            <input
              id="size-name"
              required
              maxLength={32}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          <div className="field field-narrow">
            <label htmlFor="size-cpu">CPU</label>
            <input
              id="size-cpu"
              required
              placeholder="500m"
              value={cpu}
              onChange={(e) => setCpu(e.target.value)}
            />
          </div>
          <div className="field field-narrow">
            <label htmlFor="size-memory">Memory</label>
            <input
              id="size-memory"
              required
              placeholder="512Mi"
              value={memory}
              onChange={(e) => setMemory(e.target.value)}
            />
          </div>
          <div className="field field-narrow">
            <label htmlFor="size-disk">Disk</label>
            <input
              id="size-disk"
              required
              placeholder="10Gi"
              value={disk}
              onChange={(e) => setDisk(e.target.value)}
            />
          </div>
          <div className="field field-buttons">
            <button type="submit" className="button button-primary" disabled={act.busy}>
              Save size
            </button>
          </div>
        </form>
      )}
      <ErrorMessage error={act.error} title="The size was not saved." />
    </section>
  );
}
