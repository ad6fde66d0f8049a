import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { Link } from '../../router.tsx';
import { formatBytes, formatDuration } from '../../format.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';

/** How long ago the last good backup finished; "never" when there is none. */
function backupAge(at: number | null, now: number): string {
  return at === null ? 'never' : `${formatDuration(now - at)} ago`;
}

/** Every copy of every app volume on the nodes: size, use, snapshots, last good backup; orphans flagged. */
export function VolumesPage() {
  const q = useQuery(async (signal) => (await call('listVolumes', { query: {} }, signal)).volumes, []);
  const now = Date.now();
  let body;
  if (q.error) body = <ErrorMessage error={q.error} title="Could not load the volumes." />;
  else if (!q.data) body = <p className="muted">Loading…</p>;
  else if (q.data.length === 0)
    body = (
      <EmptyState title="No volumes yet">
        <p>Apps get persistent volumes from their spec (for example --volume data:10Gi:/var/lib/app).</p>
      </EmptyState>
    );
  else
    body = (
      <table className="table">
        <caption className="visually-hidden">Volumes</caption>
        <thead>
          <tr>
            <th scope="col">App</th>
            <th scope="col">Volume</th>
            <th scope="col">Node</th>
            <th scope="col">Kind</th>
            <th scope="col" className="num">
              Size
            </th>
            <th scope="col" className="num">
              Used
            </th>
            <th scope="col">Snapshots</th>
            <th scope="col">Last good backup</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {q.data.map((v) => (
            <tr key={`${v.app}/${v.volume}/${v.node}`} data-orphaned={v.orphaned ? 'yes' : undefined}>
              <td>{v.orphaned ? v.app : <Link to={`/apps/${v.app}`}>{v.app}</Link>}</td>
              <td>{v.volume}</td>
              <td>{v.node}</td>
              <td>
                {v.kind} ({v.backend})
              </td>
              <td className="num">{formatBytes(v.sizeBytes)}</td>
              <td className="num">{formatBytes(v.usedBytes)}</td>
              <td>{v.snapshots.map((s) => `${s.name} (${formatBytes(s.bytes)})`).join(', ') || '—'}</td>
              <td>{v.kind === 'local' ? backupAge(v.lastGoodBackupAt, now) : '—'}</td>
              <td>{v.orphaned ? <strong>orphaned: its app was deleted</strong> : v.state}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  return (
    <Page title="Volumes">
      <section className="panel">{body}</section>
      <p className="muted small">
        Orphaned volumes are kept until you delete them (grim volume delete APP VOLUME --node NODE). Back up
        with grim volume backup; restore onto any node with grim volume restore.
      </p>
    </Page>
  );
}
