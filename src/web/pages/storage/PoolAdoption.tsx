import { useState } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';

interface Importable {
  name: string;
  id: string;
  state: string;
  status: string;
  action: string;
}

/** Destroying a pool: the command is shown, and it runs only once the pool's name is typed. */
export function DestroyPool({ node, pool, onDone }: { node: string; pool: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const act = useAction();
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Destroy…
      </button>
    );
  return (
    <div className="card" role="group" aria-label={`Destroy ${pool}`}>
      <p>
        grim will run on {node}: <code>zpool destroy {pool}</code>. Every dataset and snapshot in it is lost.
      </p>
      <label>
        Type the pool's name to destroy it{' '}
        <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
      </label>{' '}
      <button
        type="button"
        className="button-danger"
        disabled={typed !== pool || act.busy}
        onClick={() =>
          void act.run(async () => {
            await call('destroyPool', { params: { node, pool }, body: { confirm: typed } });
            onDone();
          })
        }
      >
        Destroy pool {pool}
      </button>{' '}
      <button type="button" onClick={() => (setOpen(false), setTyped(''))}>
        Cancel
      </button>
      <ErrorMessage error={act.error} title="Destroying the pool failed." />
    </div>
  );
}

/** Pools on the node's disks that are not imported (exported, or from another machine): import and adopt. */
export function ImportPools({ node, onDone }: { node: string; onDone: () => void }) {
  const [dir, setDir] = useState('/dev/disk/by-id');
  const [found, setFound] = useState<{ command: string; pools: Importable[] } | null>(null);
  const act = useAction();
  const body = (pool?: string) => ({ ...(dir ? { dir } : {}), ...(pool ? { pool } : {}) });
  const search = () =>
    act.run(async () => {
      const r = await call('importPool', { params: { node }, body: body() });
      setFound({ command: r.command, pools: (r.result as { importable: Importable[] }).importable });
    });
  return (
    <section className="card" aria-labelledby="import-title">
      <h2 id="import-title">Import existing pools</h2>
      <label>
        Search in{' '}
        <input value={dir} onChange={(e) => (setDir(e.target.value), setFound(null))} maxLength={255} />
      </label>{' '}
      <button type="button" disabled={act.busy} onClick={() => void search()}>
        Look for pools
      </button>
      {found && (
        <>
          <p className="muted">
            Ran <code>{found.command}</code>: {found.pools.length} pool{found.pools.length === 1 ? '' : 's'}{' '}
            can be imported.
          </p>
          <ul aria-label="Importable pools">
            {found.pools.map((p) => (
              <li key={p.id || p.name}>
                <strong>{p.name}</strong> (id {p.id}) <span className="muted">{p.state}</span>{' '}
                {p.status && <small>{p.status} </small>}
                <code>
                  zpool import{dir ? ` -d ${dir}` : ''} {p.name}
                </code>{' '}
                <button
                  type="button"
                  disabled={act.busy}
                  onClick={() =>
                    void act.run(async () => {
                      await call('importPool', { params: { node }, body: body(p.name) });
                      setFound(null);
                      onDone();
                    })
                  }
                >
                  Import {p.name}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <ErrorMessage error={act.error} title="Import failed." />
    </section>
  );
}
