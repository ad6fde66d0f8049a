import { useState } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { bytes, type Dataset } from './storage-types.ts';

const inPool = (pool: string, name: string) =>
  name === pool || name.startsWith(`${pool}/`) || name.startsWith(`${pool}@`);

/**
 * A pool's datasets with their snapshots (exact bytes from `zfs get -Hp`), and the small actions: a new
 * dataset with a quota, a snapshot, a rollback. Each shows its command before it runs.
 */
export function PoolDatasets({
  node,
  pool,
  datasets,
  onDone,
}: {
  node: string;
  pool: string;
  datasets: Dataset[];
  onDone: () => void;
}) {
  const mine = datasets.filter((d) => inPool(pool, d.name));
  const filesystems = mine.filter((d) => d.type !== 'snapshot');
  const [form, setForm] = useState({ name: `${pool}/`, quota: '', compression: '' });
  const [command, setCommand] = useState<string | null>(null);
  const [snap, setSnap] = useState({ dataset: pool, name: '' });
  const [rollback, setRollback] = useState<string | null>(null);
  const act = useAction();
  const datasetBody = (dryRun: boolean) => ({
    name: form.name,
    ...(form.quota ? { quota: form.quota } : {}),
    ...(form.compression ? { compression: form.compression } : {}),
    dryRun,
  });
  const done = () => (setCommand(null), setRollback(null), onDone());
  return (
    <div aria-label={`Datasets of ${pool}`} role="group">
      <h3>Datasets and snapshots</h3>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Used</th>
            <th scope="col">Available</th>
            <th scope="col">Quota</th>
            <th scope="col">Compression</th>
            <th scope="col">Mountpoint</th>
          </tr>
        </thead>
        <tbody>
          {filesystems.map((d) => (
            <FilesystemRows
              key={d.name}
              fs={d}
              snapshots={mine.filter((s) => s.name.startsWith(`${d.name}@`))}
              onRollback={setRollback}
            />
          ))}
        </tbody>
      </table>
      {rollback && (
        <p>
          <code aria-label="Rollback command">zfs rollback {rollback}</code>{' '}
          <button
            type="button"
            disabled={act.busy}
            onClick={() =>
              void act.run(async () => {
                await call('snapshotAction', {
                  params: { node },
                  body: { action: 'rollback', name: rollback },
                });
                done();
              })
            }
          >
            Run rollback
          </button>{' '}
          <button type="button" onClick={() => setRollback(null)}>
            Cancel
          </button>
        </p>
      )}
      <form
        aria-label={`New dataset in ${pool}`}
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            setCommand((await call('createDataset', { params: { node }, body: datasetBody(true) })).command);
          });
        }}
      >
        <label>
          New dataset{' '}
          <input
            value={form.name}
            onChange={(e) => (setForm({ ...form, name: e.target.value }), setCommand(null))}
          />
        </label>{' '}
        <label>
          Quota{' '}
          <input
            value={form.quota}
            placeholder="e.g. 10Gi"
            size={8}
            onChange={(e) => (setForm({ ...form, quota: e.target.value }), setCommand(null))}
          />
        </label>{' '}
        <button type="submit" disabled={act.busy}>
          Show command
        </button>
        {command && (
          <>
            {' '}
            <code aria-label="Dataset command">{command}</code>{' '}
            <button
              type="button"
              disabled={act.busy}
              onClick={() =>
                void act.run(async () => {
                  await call('createDataset', { params: { node }, body: datasetBody(false) });
                  setForm({ name: `${pool}/`, quota: '', compression: '' });
                  done();
                })
              }
            >
              Create dataset
            </button>
          </>
        )}
      </form>
      <form
        aria-label={`Snapshot in ${pool}`}
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            await call('snapshotAction', {
              params: { node },
              body: { action: 'create', name: `${snap.dataset}@${snap.name}` },
            });
            setSnap({ ...snap, name: '' });
            done();
          });
        }}
      >
        <label>
          Snapshot of{' '}
          <select value={snap.dataset} onChange={(e) => setSnap({ ...snap, dataset: e.target.value })}>
            {filesystems.map((d) => (
              <option key={d.name}>{d.name}</option>
            ))}
          </select>
        </label>{' '}
        <label>
          named{' '}
          <input value={snap.name} onChange={(e) => setSnap({ ...snap, name: e.target.value })} size={12} />
        </label>{' '}
        <code>
          zfs snapshot {snap.dataset}@{snap.name}
        </code>{' '}
        <button type="submit" disabled={act.busy || !snap.name}>
          Take snapshot
        </button>
      </form>
      <ErrorMessage error={act.error} title="The dataset action failed." />
    </div>
  );
}

function FilesystemRows({
  fs,
  snapshots,
  onRollback,
}: {
  fs: Dataset;
  snapshots: Dataset[];
  onRollback: (name: string) => void;
}) {
  return (
    <>
      <tr>
        <td>{fs.name}</td>
        <td>{bytes(fs.usedBytes)}</td>
        <td>{bytes(fs.availableBytes)}</td>
        <td>{bytes(fs.quotaBytes)}</td>
        <td>{fs.compression}</td>
        <td>{fs.mountpoint}</td>
      </tr>
      {snapshots.map((s) => (
        <tr key={s.name} className="muted">
          <td>
            ↳ {s.name}{' '}
            <button type="button" onClick={() => onRollback(s.name)} aria-label={`Roll back to ${s.name}`}>
              Roll back…
            </button>
          </td>
          <td>{bytes(s.usedBytes)}</td>
          <td colSpan={4}>snapshot</td>
        </tr>
      ))}
    </>
  );
}
