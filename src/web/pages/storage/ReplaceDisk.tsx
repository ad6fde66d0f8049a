import { useState } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { bytes, type Disk, type Vdev } from './storage-types.ts';

/** Replace a failed device: pick a free disk, see the exact `zpool replace`, then run it. */
export function ReplaceDisk({
  node,
  pool,
  vdev,
  disks,
  onDone,
}: {
  node: string;
  pool: string;
  vdev: Vdev;
  disks: Disk[];
  onDone: () => void;
}) {
  const free = disks.filter((d) => !d.inUse);
  const [disk, setDisk] = useState(free[0]?.path ?? '');
  const [command, setCommand] = useState<string | null>(null);
  const act = useAction();
  const device = vdev.wasPath ?? (vdev.name.startsWith('/') ? vdev.name : `/dev/${vdev.name}`);
  const body = (confirm: boolean) => ({ action: 'replace' as const, device, newDevice: disk, confirm });
  return (
    <section className="card" aria-label={`Replace ${vdev.name}`}>
      <h3>
        Replace {vdev.name} ({vdev.state}) in {pool}
      </h3>
      {free.length === 0 ? (
        <p>No free disk on {node}: add one first.</p>
      ) : (
        <>
          <label>
            New disk{' '}
            <select value={disk} onChange={(e) => (setDisk(e.target.value), setCommand(null))}>
              {free.map((d) => (
                <option key={d.path} value={d.path}>
                  {d.path} ({bytes(d.sizeBytes)})
                </option>
              ))}
            </select>
          </label>{' '}
          <button
            type="button"
            onClick={() =>
              void act.run(async () => {
                const r = await call('poolDevice', { params: { node, pool }, body: body(false) });
                setCommand(r.command);
              })
            }
          >
            Show command
          </button>
          {command && (
            <>
              <pre className="command" aria-label="Replace command">
                {command}
              </pre>
              <button
                type="button"
                disabled={act.busy}
                onClick={() =>
                  void act.run(async () => {
                    await call('poolDevice', { params: { node, pool }, body: body(true) });
                    onDone();
                  })
                }
              >
                Run zpool replace
              </button>
            </>
          )}
        </>
      )}
      <ErrorMessage error={act.error} title="Replace failed." />
    </section>
  );
}
