import { useQuery } from '../../use-query.ts';
import { Link } from '../../router.tsx';
import { formatTime } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { Meter } from '../../components/Meter.tsx';
import { bytes, storageNodeList, zfsStateClass, type Health } from './storage-types.ts';

/** Storage nodes (role "storage", or read before) with their pools' state and capacity. */
export function StoragePage() {
  const q = useQuery((signal) => storageNodeList(signal), []);
  let body;
  if (q.error) body = <ErrorMessage error={q.error} title="Could not load the storage nodes." />;
  else if (!q.data) body = <p className="muted">Loading…</p>;
  else if (q.data.length === 0)
    body = (
      <EmptyState title="No storage nodes yet">
        <p>Give a node the role “storage” (Nodes → node → roles) and its disks and ZFS pools show here.</p>
      </EmptyState>
    );
  else
    body = (
      <table className="table">
        <caption className="visually-hidden">Storage nodes</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">ZFS</th>
            <th scope="col">Pools</th>
            <th scope="col">Checked</th>
          </tr>
        </thead>
        <tbody>
          {q.data.map(({ name, state }) => (
            <tr key={name}>
              <td>
                <Link to={`/storage/${name}`}>{name}</Link>
              </td>
              <td>
                {(state?.capabilities as { implementation?: string } | null)?.implementation ??
                  'not read yet'}
              </td>
              <td>
                {((state?.health ?? []) as Health[]).map((h) => (
                  <div key={h.name} className="capacity-row">
                    <span className="capacity-label">{h.name}</span>
                    <span className={zfsStateClass(h.state)}>{h.state}</span>
                    <Meter
                      label={`${h.name} capacity`}
                      value={h.capacityPercent}
                      max={100}
                      text={`${h.capacityPercent}% of ${bytes(h.sizeBytes)}`}
                    />
                  </div>
                ))}
              </td>
              <td className="nowrap">{formatTime(state?.checkedAt ?? null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  return <Page title="Storage">{body}</Page>;
}
