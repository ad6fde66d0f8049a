import { call } from '../../api.ts';
import { useQuery } from '../../use-query.ts';
import { Link } from '../../router.tsx';
import { Page } from '../../components/Page.tsx';
import { OptionalList } from '../../components/OptionalList.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { ChainStatus } from '../audit/ChainStatus.tsx';
import { AuditTable } from '../audit/AuditTable.tsx';
import { NoNodes, NO_NODES_TITLE } from '../nodes/NoNodes.tsx';
import { NODE_COLUMNS } from '../nodes/node-columns.ts';

function RecentActivity() {
  const q = useQuery((signal) => call('listAudit', { query: { limit: 8 } }, signal), []);
  if (q.error) return <ErrorMessage error={q.error} title="Could not load recent activity." />;
  if (!q.data) return <p className="muted">Loading…</p>;
  if (q.data.entries.length === 0) return <EmptyState title="No activity yet" />;
  return <AuditTable entries={q.data.entries} compact />;
}

export function OverviewPage() {
  return (
    <Page title="Overview">
      <section className="panel" aria-labelledby="ov-nodes">
        <div className="panel-head">
          <h2 id="ov-nodes">Nodes</h2>
          <Link to="/nodes">All nodes</Link>
        </div>
        <OptionalList
          operation="listNodes"
          listKey="nodes"
          columns={NODE_COLUMNS}
          caption="Nodes"
          emptyTitle={NO_NODES_TITLE}
          empty={<NoNodes />}
        />
      </section>
      <section className="panel" aria-labelledby="ov-activity">
        <div className="panel-head">
          <h2 id="ov-activity">Recent activity</h2>
          <Link to="/audit">Audit log</Link>
        </div>
        <ChainStatus />
        <RecentActivity />
      </section>
    </Page>
  );
}
